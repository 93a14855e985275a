"""The plan as filed beside its scenarios, worked out once for every output that compares
them: each plan's base case and audit (:func:`~ftcost_helpers.engine.scenarios.compare_scenarios`)
and, given the plan's Monte Carlo run, each plan's cost of ownership and net value per draw on
common random numbers (:mod:`~ftcost_helpers.engine.cheapest`). The cheapest-plan odds
(``summary.json``'s ``scenarios``), the value of information and the client document's
alternatives all read one :class:`Comparison`.

**Which plans are drawn, and on which streams** (the one rule, :func:`draw_comparison`): every
compared plan, the plan as filed first and then each scenario in the client file's order,
*whether or not it can run as specified*; the rows of uniform numbers are
:func:`~ftcost_helpers.engine.cheapest.common_draws`'s (the plan's own paths first, then each
scenario's new paths, in that order). A scenario that cannot run is drawn and keeps its rows,
so the draws of the scenarios after it do not depend on which plans can run; it is never the
cheapest and is no option of the value of information. The plan's draws are its own
simulation's (the first rows are exactly the uniforms its simulation drew), so the plan is
not run again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ftcost_helpers.engine.cheapest import OptionOdds, common_draws, odds_of
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.loading import ParamsError
from ftcost_helpers.engine.model.guards import UNPLACED, FigureOutOfRange
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.scenarios import ScenarioResult, compare_scenarios
from ftcost_helpers.engine.schema import Params
from ftcost_helpers.engine.uncertainty import Simulation, picker_from_draws


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class Comparison:
    """The compared plans (the plan as filed first), base case, and with a simulation each
    plan's figures per draw on common random numbers (USD)."""

    results: tuple[ScenarioResult, ...]
    draws: int = 0
    """Draws per plan (0 without a simulation)."""
    seed: int | None = None
    tco: np.ndarray | None = field(default=None, repr=False)
    """Cost of ownership over each plan's horizon, shape (plans, draws); None without a simulation."""
    final_cash: np.ndarray | None = field(default=None, repr=False)
    """Cumulative cash at each plan's last month (its net value over the horizon), shape
    (plans, draws); None without a simulation."""
    inputs: tuple[dict[str, np.ndarray], ...] = field(default=(), repr=False)
    """Each plan's draws of its range inputs, by path (empty without a simulation)."""

    @property
    def names(self) -> list[str]:
        return [result.name for result in self.results]

    @property
    def can_run(self) -> list[bool]:
        """Whether each plan can run as specified (:mod:`~ftcost_helpers.engine.feasibility`)."""
        return [result.feasibility.feasible for result in self.results]

    @property
    def drawn(self) -> bool:
        return self.tco is not None

    def odds(self) -> list[OptionOdds] | None:
        """Each plan's P10/P50/P90 cost of ownership and its probability of being the
        cheapest that can run (None without a simulation)."""
        if self.tco is None:
            return None
        return odds_of(self.names, self.tco, self.can_run)


def _per_draw(value: object, draws: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=float), (draws,))


def draw_comparison(
    results: Sequence[ScenarioResult], book: PriceBook, simulation: Simulation, source: str | Path = UNPLACED
) -> Comparison:
    """``results`` (the plan as filed first, then its scenarios) with every plan drawn on the
    same random streams, the plan's own figures taken from ``simulation`` (its Monte Carlo
    run: same draws and seed). See the module's notes for the rule. A scenario's draw whose
    figures the model cannot produce raises :class:`FigureOutOfRange` naming ``source`` (the
    plan's file) and the scenario."""
    plans = [result.params for result in results]
    draws, seed = simulation.draws, simulation.seed
    inputs = common_draws(plans, book, draws, seed)
    tco, final_cash = np.empty((len(plans), draws)), np.empty((len(plans), draws))
    tco[0], final_cash[0] = simulation.tco, np.asarray(simulation.cash_flow)[:, -1]
    inputs[0] = dict(simulation.inputs)
    for index in range(1, len(plans)):
        try:
            run = evaluate(plans[index], book, picker_from_draws(inputs[index]))
        except FigureOutOfRange as error:
            raise error.in_file(source, f"scenarios.{index - 1} ({results[index].name})") from None
        tco[index] = _per_draw(run.tco, draws)
        final_cash[index] = _per_draw(np.asarray(run.cash_flow, dtype=float)[..., -1], draws)
    return Comparison(tuple(results), draws, seed, tco, final_cash, tuple(inputs))


def compare(
    params: Params, book: PriceBook, simulation: Simulation | None = None, source: str | Path = UNPLACED
) -> Comparison:
    """The plan and its scenarios compared (:func:`~ftcost_helpers.engine.scenarios.compare_scenarios`)
    and, with the plan's ``simulation``, drawn on common random numbers (:func:`draw_comparison`)."""
    results = compare_scenarios(params, book, source)
    return Comparison(tuple(results)) if simulation is None else draw_comparison(results, book, simulation, source)


def plan_comparison(
    params: Params, book: PriceBook, simulation: Simulation | None = None, source: str | Path = UNPLACED
) -> Comparison | None:
    """:func:`compare`, or None when the scenarios cannot be merged over the plan and there
    is no simulation (the summary then lists no scenarios). With a simulation such a plan
    raises, as the value of information cannot be stated without its options. The loader
    refuses such a client file (:func:`~ftcost_helpers.engine.overrides.load_plan`), so only
    a plan built in code meets this."""
    try:
        results = compare_scenarios(params, book, source)
    except (ParamsError, FigureOutOfRange):
        if simulation is not None:
            raise
        return None
    return Comparison(tuple(results)) if simulation is None else draw_comparison(results, book, simulation, source)
