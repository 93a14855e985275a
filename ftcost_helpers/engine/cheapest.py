"""Which option wins, and how often: every plan of a comparison drawn on the same random
streams, and the share of draws in which each is the cheapest over the horizon.

**Common random numbers.** The plan as filed and each scenario are separate plans, each with
its own ranges. Drawn independently, two plans that share a GPU rate would each get their own
draw of it and the comparison would mix the difference between the plans with the noise of
two unrelated draws. Here one uniform number per input *path* and draw is shared by every plan
that has that input (``pricebook.gpu_rates_usd_per_gpu_hour.h100_sxm.neocloud_spot``,
``training.runs``...): draw *j* of every plan sees the same world, and a plan that gives the
same input a different range maps the same uniform number through its own range (the same
quantile). The uniform numbers come from one generator seeded as the plan's Monte Carlo
(:func:`~ftcost_helpers.engine.uncertainty.draw_inputs`), one row per path: the plan's own
paths first, in their order, then each scenario's new paths. The plan's draws are therefore
exactly those of its own simulation.

**The cheapest.** In each draw the plan lowest in cost of ownership over the horizon among
those that can run as specified (:mod:`~ftcost_helpers.engine.feasibility`) wins; a tie splits
that draw evenly between the tied plans, so the shares always sum to 1 when any plan can run.
A plan that cannot run is never the cheapest (its share is 0), as in
:func:`~ftcost_helpers.engine.scenarios.cheapest_that_can_run`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.model.run import ModelRun
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import Range
from ftcost_helpers.engine.scenarios import ScenarioResult
from ftcost_helpers.engine.schema import Params
from ftcost_helpers.engine.uncertainty import inverse_cdf, picker_from_draws, uncertain_inputs


def shared_paths(plans: Sequence[Params], book: PriceBook) -> dict[str, int]:
    """Each range input's path → its row of uniform numbers: the first plan's paths first, in
    its order, then every later plan's paths not seen before."""
    return _rows([uncertain_inputs(plan, book) for plan in plans])


def _rows(ranges: Sequence[dict[str, Range]]) -> dict[str, int]:
    """:func:`shared_paths` of the plans whose range inputs are ``ranges`` (one mapping per plan)."""
    rows: dict[str, int] = {}
    for plan_ranges in ranges:
        for path in plan_ranges:
            rows.setdefault(path, len(rows))
    return rows


def plan_draws(ranges: dict[str, Range], uniforms: np.ndarray, rows: dict[str, int]) -> dict[str, np.ndarray]:
    """One plan's draws of its ``ranges`` from the shared ``uniforms`` (one row per path of
    ``rows``): each range's own inverse distribution function at its path's row."""
    if not ranges:
        return {}
    values = list(ranges.values())
    lows = np.array([r.low for r in values], dtype=float)
    highs = np.array([r.high for r in values], dtype=float)
    modes = np.array([np.nan if r.mode is None else r.mode for r in values], dtype=float)
    picked = uniforms[[rows[path] for path in ranges]]
    return dict(zip(ranges, inverse_cdf(lows, highs, modes, picked), strict=True))


def common_draws(plans: Sequence[Params], book: PriceBook, draws: int, seed: int) -> list[dict[str, np.ndarray]]:
    """Each plan's draws of its range inputs, by path, every plan drawn on the same random
    streams (see the module's notes): the one place that decides the streams."""
    ranges = [uncertain_inputs(plan, book) for plan in plans]
    rows = _rows(ranges)
    uniforms = np.random.default_rng(seed).random((len(rows), draws))
    return [plan_draws(plan_ranges, uniforms, rows) for plan_ranges in ranges]


def common_runs(
    plans: Sequence[Params], book: PriceBook, draws: int, seed: int
) -> list[tuple[dict[str, np.ndarray], ModelRun]]:
    """Each plan's draws of its inputs and its model run on them, every plan drawn on the same
    random streams (:func:`common_draws`)."""
    return [
        (inputs, evaluate(plan, book, picker_from_draws(inputs)))
        for plan, inputs in zip(plans, common_draws(plans, book, draws, seed), strict=True)
    ]


def common_tco_draws(plans: Sequence[Params], book: PriceBook, draws: int, seed: int) -> np.ndarray:
    """USD of cost of ownership over each plan's horizon, one row per plan and one column per
    draw, every plan drawn on the same random streams (see the module's notes)."""
    out = np.empty((len(plans), draws))
    for index, (_, run) in enumerate(common_runs(plans, book, draws, seed)):
        out[index] = np.broadcast_to(np.asarray(run.tco, dtype=float), (draws,))
    return out


def probability_cheapest(costs: np.ndarray, can_run: Sequence[bool] | np.ndarray | None = None) -> np.ndarray:
    """The share of draws in which each option (a row of ``costs``, USD per draw) is the
    cheapest of those that ``can_run`` (all, by default). A tie splits its draw evenly; an
    option that cannot run gets 0; with none that can run every share is 0.

    Two options costing 1 and 2 in every draw: (1.0, 0.0). Two options with the same cost in
    every draw: (0.5, 0.5)."""
    costs = np.atleast_2d(np.asarray(costs, dtype=float))
    allowed = np.ones(costs.shape[0], dtype=bool) if can_run is None else np.asarray(can_run, dtype=bool)
    if not allowed.any() or costs.shape[1] == 0:
        return np.zeros(costs.shape[0])
    masked = np.where(allowed[:, None], costs, np.inf)
    lowest = masked.min(axis=0)
    winners = (masked == lowest[None, :]) & allowed[:, None]
    return (winners / winners.sum(axis=0, keepdims=True)).mean(axis=1)


@dataclass(frozen=True)
class OptionOdds:
    """One option's cost of ownership over its draws and how often it is the cheapest."""

    name: str
    can_run: bool
    probability_cheapest: float
    tco_p10_usd: float
    tco_p50_usd: float
    tco_p90_usd: float

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "can_run": self.can_run,
            "probability_cheapest": round(self.probability_cheapest, 4),
            "tco_usd": {
                "p10": round(self.tco_p10_usd, 2),
                "p50": round(self.tco_p50_usd, 2),
                "p90": round(self.tco_p90_usd, 2),
            },
        }


def option_odds(
    names: Sequence[str], plans: Sequence[Params], can_run: Sequence[bool], book: PriceBook, draws: int, seed: int
) -> list[OptionOdds]:
    """Each plan's P10/P50/P90 cost of ownership and its probability of being the cheapest
    that can run, all drawn on the same random streams."""
    return odds_of(names, common_tco_draws(plans, book, draws, seed), can_run)


def odds_of(names: Sequence[str], costs: np.ndarray, can_run: Sequence[bool]) -> list[OptionOdds]:
    """Each option's P10/P50/P90 of ``costs`` (USD, one row per option, one column per draw)
    and its probability of being the cheapest of those that ``can_run``."""
    shares = probability_cheapest(costs, can_run)
    p10, p50, p90 = np.percentile(costs, [10.0, 50.0, 90.0], axis=1)
    return [
        OptionOdds(name, bool(ok), float(share), float(low), float(mid), float(high))
        for name, ok, share, low, mid, high in zip(names, can_run, shares, p10, p50, p90, strict=True)
    ]


def scenario_odds(results: Sequence[ScenarioResult], book: PriceBook, draws: int, seed: int) -> list[OptionOdds]:
    """:func:`option_odds` of the compared plans (the plan as filed and its scenarios,
    :func:`~ftcost_helpers.engine.scenarios.compare_scenarios`), a plan that cannot run as
    specified never the cheapest."""
    return option_odds(
        [result.name for result in results],
        [result.params for result in results],
        [result.feasibility.feasible for result in results],
        book,
        draws,
        seed,
    )
