"""Leave one source out: the utilisation band refitted without each publication in turn, and
that publication's error under the band the others give (issue 22, item 9).

The constants the asserted table sets are the utilisation band's bounds (params/pricebook.yaml
``utilisation_defaults``: below and from ``utilisation_size_threshold_billion``; adapters and
full training share a band at each size). No memory constant is set from the table (the
CUDA context, fragmentation and framework overhead come from the sources the price book
cites), so a publication's memory error is the same in and out of sample.

The fitting rule, the same in sample and out: each timed row's *implied utilisation* is the
utilisation at which the engine's base case takes the measured time (the base case evaluated
on a grid of utilisations, interpolated; time falls monotonically as utilisation rises);
a size group's band is the 10th to 90th percentile of its rows' implied utilisations. A
held-out row's predicted time is the base case at the band's middle (the P50 of a uniform
draw), and its error is that over the measured time, less one.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

import numpy as np

from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.pricebook import PriceBook

from .runs import Outcome, plan_for

GRID = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
"""Utilisations the base case is evaluated at (the implied utilisation is interpolated)."""
QUANTILES = (10.0, 90.0)
"""The band's bounds: these percentiles of the fitting rows' implied utilisations."""


@dataclass(frozen=True)
class TimedRow:
    id: str
    publication: str
    large: bool
    measured: float
    seconds: tuple[float, ...]
    """Base-case seconds per step at each utilisation of :data:`GRID`."""

    def implied(self) -> float:
        """The utilisation at which the base case takes the measured time (clipped to the grid)."""
        seconds = np.asarray(self.seconds)  # falls as utilisation rises
        return float(np.interp(-self.measured, -seconds, np.asarray(GRID)))

    def at(self, utilisation: float) -> float:
        return float(np.interp(utilisation, np.asarray(GRID), np.asarray(self.seconds)))


def _seconds_at(row: dict[str, Any], book: PriceBook, utilisation: float) -> float:
    row = {**row, "training": {**row["training"], "utilisation": utilisation}}
    params, row_book = plan_for(row, book)
    return float(evaluate(params, row_book).compute.physics_hours_per_run) * 3600.0


def timed_rows(results: list[Outcome], book: PriceBook) -> list[TimedRow]:
    """Every row with a measured time, with its base case on :data:`GRID`."""
    threshold = book.training_physics.utilisation_size_threshold_billion
    rows = []
    for outcome in results:
        if outcome.measured_seconds_per_step is None:
            continue
        size = outcome.row["model"]["parameters_billion"]
        rows.append(
            TimedRow(
                id=outcome.id,
                publication=outcome.publication,
                large=float(size) >= threshold,
                measured=outcome.measured_seconds_per_step,
                seconds=tuple(_seconds_at(outcome.row, book, u) for u in GRID),
            )
        )
    return rows


def fit_band(rows: list[TimedRow], large: bool, fallback: tuple[float, float]) -> tuple[float, float]:
    """The band of one size group from these rows (:data:`QUANTILES` of their implied
    utilisations), or ``fallback`` when the group has no row."""
    implied = [row.implied() for row in rows if row.large == large]
    if not implied:
        return fallback
    low, high = np.percentile(implied, QUANTILES)
    return float(low), float(high)


@dataclass(frozen=True)
class HeldOut:
    publication: str
    small_band: tuple[float, float]
    large_band: tuple[float, float]
    time_errors: list[float]
    memory_errors: list[float]


def _middle(band: tuple[float, float]) -> float:
    return (band[0] + band[1]) / 2.0


def leave_one_out(results: list[Outcome], book: PriceBook, timed: list[TimedRow] | None = None) -> list[HeldOut]:
    """One entry per publication: the band the others give, and this publication's time
    errors under it and memory errors."""
    timed = timed if timed is not None else timed_rows(results, book)
    u = book.utilisation_defaults
    fallbacks = ((u.adapters_small.low, u.adapters_small.high), (u.adapters_large.low, u.adapters_large.high))
    publications = sorted({outcome.publication for outcome in results})
    held = []
    for publication in publications:
        others = [row for row in timed if row.publication != publication]
        small, large = fit_band(others, False, fallbacks[0]), fit_band(others, True, fallbacks[1])
        mine = [row for row in timed if row.publication == publication]
        time_errors = [row.at(_middle(large if row.large else small)) / row.measured - 1.0 for row in mine]
        memory_errors = [o.memory_error for o in results if o.publication == publication and o.memory_error is not None]
        held.append(HeldOut(publication, small, large, time_errors, memory_errors))
    return held


def median_absolute(errors: list[float]) -> float | None:
    return statistics.median(abs(e) for e in errors) if errors else None


def in_sample(timed: list[TimedRow], book: PriceBook) -> tuple[tuple[float, float], tuple[float, float]]:
    """The band every source together gives (small, large)."""
    u = book.utilisation_defaults
    return (
        fit_band(timed, False, (u.adapters_small.low, u.adapters_small.high)),
        fit_band(timed, True, (u.adapters_large.low, u.adapters_large.high)),
    )
