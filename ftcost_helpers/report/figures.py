"""The numbers of one client's report, computed by the package (never scraped from a
notebook): the estimate, the Monte Carlo range and the ``summary.json`` mapping."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ftcost_helpers.engine.breakdown import Breakdown, estimate
from ftcost_helpers.engine.loading import display_path, load_params
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.schema import Params
from ftcost_helpers.engine.summary import percentile_of, summarise
from ftcost_helpers.engine.uncertainty import Simulation


@dataclass(frozen=True)
class ClientFigures:
    """One client's validated parameters, estimate and summary."""

    source: Path
    params: Params
    breakdown: Breakdown
    summary: dict[str, Any]
    simulation: Simulation | None = None


def uncertainty_figures(params: Params, book: PriceBook) -> tuple[dict[str, float], list[float], Simulation]:
    """From the seeded Monte Carlo run: P10/P50/P90 of the programme total (USD), the
    probability of having broken even by month 1..horizon, and the run itself."""
    from ftcost_helpers.engine.uncertainty import simulate  # numpy-heavy: imported when a report is written

    simulation = simulate(params, book)
    return simulation.range_usd(), simulation.break_even_probability().tolist(), simulation


def client_figures(source: Path, book: PriceBook, today: dt.date, generated_at: str) -> ClientFigures:
    """Load ``source`` and compute everything a report shows.

    ``summary`` holds the report contract's keys plus ``source_file``, ``report_date`` and
    ``generated_at`` (the only values that change when a report is re-run unchanged).
    """
    params = load_params(source, book)
    breakdown = estimate(params, book, today=today)
    span, chance, simulation = uncertainty_figures(params, book)
    percentile = percentile_of(breakdown.programme_total, simulation.programme_total)
    summary = summarise(breakdown, span, chance, percentile)
    summary.update(source_file=display_path(source), report_date=today.isoformat(), generated_at=generated_at)
    return ClientFigures(source, params, breakdown, summary, simulation)
