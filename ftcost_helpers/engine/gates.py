"""Stage gates: a programme that may stop before it launches.

A programme given as stages (``programme.stages``: a pilot, the data, an evaluation gate, the
full training...) reaches gate *k* only if every earlier gate passed; at gate *k* it has spent
the share *fₖ* of its programme cost *C* (cumulative, rising) and passes with chance *pₖ*.
Stopping there costs *fₖ·C* and launches nothing. With *Rₖ* = *p₁·…·pₖ₋₁* the chance of
reaching gate *k* (*R₁* = 1) and *L* = *p₁·…·pₙ* the chance of launching:

* stopping at gate *k* has chance *Rₖ·(1 − pₖ)*;
* the expected programme cost is Σₖ *Rₖ(1 − pₖ)·fₖ·C* + *L·C* (a decision tree's expected
  value, e.g. Clemen & Reilly, *Making Hard Decisions*, ch. 4);
* the expected cost to the first decision is *f₁·C*, spent whatever the gate decides;
* the chance of having paid back by month *M* is *L* × the chance given a launch (a programme
  that stops never pays back);
* the expected cumulative cash in month *M* is *L·cash(M)* − Σₖ *Rₖ(1 − pₖ)·fₖ·C*, whose
  first month at or above zero is the break-even month counting the chance of never launching.

Every function takes floats or numpy arrays (``programme_usd`` may be one value per draw).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ftcost_helpers.engine.headline import Headline
from ftcost_helpers.engine.model import roi
from ftcost_helpers.engine.schema import Params
from ftcost_helpers.engine.uncertainty import Simulation


@dataclass(frozen=True)
class Gate:
    """One stage's decision: its name, the chance it passes and the share of the programme
    cost spent by the time it is decided (0–1, cumulative)."""

    name: str
    chance_of_passing: float
    spent_fraction: float


def reach_chances(gates: Sequence[Gate]) -> np.ndarray:
    """*Rₖ*: the chance of reaching each gate (1 for the first; the product of the earlier
    gates' chances of passing for the others)."""
    passing = np.array([gate.chance_of_passing for gate in gates], dtype=float)
    return np.concatenate([[1.0], np.cumprod(passing)[:-1]])


def stop_chances(gates: Sequence[Gate]) -> np.ndarray:
    """*Rₖ(1 − pₖ)*: the chance the programme stops at each gate."""
    passing = np.array([gate.chance_of_passing for gate in gates], dtype=float)
    return reach_chances(gates) * (1.0 - passing)


def launch_chance(gates: Sequence[Gate]) -> float:
    """*L*: the chance every gate passes and the programme launches."""
    return float(np.prod([gate.chance_of_passing for gate in gates]))


def spent_fractions(gates: Sequence[Gate]) -> np.ndarray:
    """*fₖ* for each gate."""
    return np.array([gate.spent_fraction for gate in gates], dtype=float)


def expected_stopped_cost(gates: Sequence[Gate], programme_usd: Any) -> Any:
    """Σₖ *Rₖ(1 − pₖ)·fₖ·C*: what the stopped outcomes cost, weighted by their chances (USD)."""
    return float(np.dot(stop_chances(gates), spent_fractions(gates))) * np.asarray(programme_usd, dtype=float)


def expected_programme_cost(gates: Sequence[Gate], programme_usd: Any) -> Any:
    """Σₖ *Rₖ(1 − pₖ)·fₖ·C* + *L·C* (USD): the programme's expected cost when it may stop."""
    cost = np.asarray(programme_usd, dtype=float)
    return expected_stopped_cost(gates, cost) + launch_chance(gates) * cost


def cost_to_gate(gates: Sequence[Gate], programme_usd: Any) -> np.ndarray:
    """*fₖ·C* for each gate (USD): what stopping there costs, and what is spent before its
    decision whatever it is (shape ``(gates,) + shape(C)``)."""
    return np.multiply.outer(spent_fractions(gates), np.asarray(programme_usd, dtype=float))


def chance_paid_back_by_month(gates: Sequence[Gate], chance_given_launch: Sequence[float]) -> np.ndarray:
    """P(paid back by month *m*) counting the chance of never launching: *L* × the chance
    given a launch, month by month."""
    return launch_chance(gates) * np.asarray(chance_given_launch, dtype=float)


def expected_cash_flow(gates: Sequence[Gate], cash_flow: Any, programme_usd: float) -> np.ndarray:
    """*L·cash(M)* − Σₖ *Rₖ(1 − pₖ)·fₖ·C* for each month 0..horizon (USD): the cumulative cash
    a launched programme has (``cash_flow``) weighted by its chance, less the expected cost of
    the outcomes that stop."""
    launched = launch_chance(gates) * np.asarray(cash_flow, dtype=float)
    return launched - expected_stopped_cost(gates, programme_usd)


def expected_break_even_month(gates: Sequence[Gate], cash_flow: Any, programme_usd: float) -> int | None:
    """The first month whose expected cumulative cash (:func:`expected_cash_flow`) is ≥ 0, or
    None within the horizon."""
    return roi.month_or_none(float(roi.break_even_month(expected_cash_flow(gates, cash_flow, programme_usd))))


def budget_to_production(programme_draws: Any, percentile: float = 90.0) -> float:
    """The budget that takes the programme to production in ``percentile`` % of the simulated
    programmes that launch (USD): the percentile of the full programme's cost."""
    return float(np.percentile(np.asarray(programme_draws, dtype=float), percentile))


@dataclass(frozen=True)
class StagedOutcome:
    """A staged programme's figures on the headline's basis (USD; months from the start)."""

    gates: tuple[Gate, ...]
    programme_usd: float
    budget_to_production_p90_usd: float | None
    break_even_month: int | None
    chance_by_month: tuple[float, ...]

    @property
    def launch_chance(self) -> float:
        return launch_chance(self.gates)

    @property
    def expected_programme_usd(self) -> float:
        return float(expected_programme_cost(self.gates, self.programme_usd))

    def as_dict(self) -> dict[str, Any]:
        """``summary.json``'s ``stages`` object."""
        reach, stop = reach_chances(self.gates), stop_chances(self.gates)
        costs = cost_to_gate(self.gates, self.programme_usd)
        return {
            "gates": [
                {
                    "name": gate.name,
                    "chance_of_passing": gate.chance_of_passing,
                    "chance_of_reaching": round(float(reach[k]), 4),
                    "chance_of_stopping_here": round(float(stop[k]), 4),
                    "cost_if_stopped_here_usd": round(float(costs[k]), 2),
                }
                for k, gate in enumerate(self.gates)
            ],
            "chance_of_launch": round(self.launch_chance, 4),
            "expected_cost_to_first_decision_usd": round(float(costs[0]), 2),
            "expected_programme_usd": round(self.expected_programme_usd, 2),
            "budget_to_production_p90_usd": None
            if self.budget_to_production_p90_usd is None
            else round(self.budget_to_production_p90_usd, 2),
            "break_even_month_with_stopping": self.break_even_month,
            "chance_of_break_even_by_month": [round(float(p), 4) for p in self.chance_by_month] or None,
        }


def staged_outcome(
    gates: Sequence[Gate],
    programme_usd: float,
    cash_flow: Any,
    chance_given_launch: Sequence[float],
    programme_draws: Any | None = None,
) -> StagedOutcome:
    """The staged figures of a plan whose headline programme cost is ``programme_usd``, whose
    cumulative cash if it launches is ``cash_flow`` (months 0..horizon) and whose chance of
    having paid back by each month, given a launch, is ``chance_given_launch``."""
    gates = tuple(gates)
    budget = None if programme_draws is None else budget_to_production(programme_draws)
    chance = chance_paid_back_by_month(gates, chance_given_launch) if len(chance_given_launch) else ()
    return StagedOutcome(
        gates=gates,
        programme_usd=float(programme_usd),
        budget_to_production_p90_usd=budget,
        break_even_month=expected_break_even_month(gates, cash_flow, programme_usd),
        chance_by_month=tuple(float(p) for p in chance),
    )


def plan_gates(params: Params) -> tuple[Gate, ...]:
    """The client file's ``programme.stages`` as gates (none when it gives no stages)."""
    return tuple(
        Gate(stage.name, float(stage.chance_of_passing), float(stage.spent_fraction))
        for stage in params.programme.stages
    )


def plan_staged_outcome(params: Params, headline: Headline, simulation: Simulation | None) -> StagedOutcome | None:
    """The staged figures of a plan on its headline's basis, or None when it has no stages."""
    gates = plan_gates(params)
    if not gates:
        return None
    draws = None if simulation is None else simulation.programme_total
    return staged_outcome(gates, headline.programme_usd, headline.cash_flow, headline.chance_by_month, draws)
