"""Scenario comparison: the plan as filed beside the alternatives its client file names.

How a scenario's plan is built (overrides, booked rates, hours) is
:mod:`ftcost_helpers.engine.overrides`; this module evaluates and audits each plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftcost_helpers.engine.audit import audit
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.feasibility import Feasibility, feasibility
from ftcost_helpers.engine.fit import plan_fit
from ftcost_helpers.engine.fx import in_currency
from ftcost_helpers.engine.model.guards import FigureOutOfRange
from ftcost_helpers.engine.model.roi import month_or_none
from ftcost_helpers.engine.money import amounts_in
from ftcost_helpers.engine.overrides import hours_factor, plan_run_for_hours, scenario_params
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import base_value
from ftcost_helpers.engine.schema import Params

__all__ = [
    "BASE_PLAN_NAME",
    "ScenarioResult",
    "cheapest_that_can_run",
    "compare_scenarios",
    "hours_factor",
    "scenario_params",
]

BASE_PLAN_NAME = "Plan as filed"


@dataclass(frozen=True)
class ScenarioResult:
    """One plan's headline figures, base case (USD)."""

    name: str
    compute_usd: float
    programme_total_usd: float
    monthly_usd: float
    """Running cost per month in steady state: eval + serving + maintenance."""
    break_even_month: int | None
    tco_usd: float
    alternative_monthly_usd: float
    description: str
    method: str
    gpu: str
    tier: str
    gpus_per_run: int
    hours_per_run: float
    fits: bool
    """Whether the model fits the scenario's GPUs: the fit verdict is not "does not fit"."""
    warnings: list[str]
    """Codes of the audit's findings for this plan."""
    feasibility: Feasibility
    """Whether the plan can run as specified, and why not (:mod:`~ftcost_helpers.engine.feasibility`)."""
    params: Params = field(repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        """The figures as plain values (no parameters), e.g. for a table."""
        row = {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "params"}
        return row | {"feasibility": self.feasibility.as_dict()}


def _result(name: str, description: str, params: Params, book: PriceBook) -> ScenarioResult:
    book = in_currency(book, params.currency, params.start_date)
    run = evaluate(params, book)
    month = float(run.break_even_month)
    t = params.training
    with amounts_in(params.currency):
        findings = audit(params, book, run)
    return ScenarioResult(
        name=name,
        compute_usd=float(run.area_total("compute")),
        programme_total_usd=float(run.programme_total),
        monthly_usd=float(sum(run.ongoing_monthly.values())),
        break_even_month=month_or_none(month),
        tco_usd=float(run.tco),
        alternative_monthly_usd=float(run.alternative_monthly),
        description=description,
        method=t.method,
        gpu=t.gpu,
        tier=t.tier,
        gpus_per_run=t.gpus_per_run,
        hours_per_run=base_value(t.hours_per_run),
        fits=plan_fit(params, book, run).fits,
        warnings=[finding.code for finding in findings],
        feasibility=feasibility(params, book, run, findings),
        params=params,
    )


def compare_scenarios(params: Params, book: PriceBook, source: str | Path = "<parameters>") -> list[ScenarioResult]:
    """The plan as filed, then each of its scenarios, side by side (base case).

    A scenario whose merged plan breaks the schema raises :class:`ParamsError` naming the
    scenario and the key; one whose figures the model cannot produce (hours scaled past
    every bound, a speed near zero) raises :class:`FigureOutOfRange`, named the same way."""
    try:
        results = [_result(BASE_PLAN_NAME, "the client file's own plan", params, book)]
    except FigureOutOfRange as error:
        raise error.in_file(source) from None
    plan_run = None  # the plan's run each scenario's hours scale against: worked out once
    for index, scenario in enumerate(params.scenarios):
        try:
            if plan_run is None:
                plan_run = plan_run_for_hours(params, book)
            plan = scenario_params(params, book, scenario, index, source, plan_run)
            results.append(_result(scenario.name, scenario.description, plan, book))
        except FigureOutOfRange as error:
            raise error.in_file(source, f"scenarios.{index} ({scenario.name})") from None
    return results


def cheapest_that_can_run(results: Sequence[ScenarioResult], figure: str = "tco_usd") -> ScenarioResult | None:
    """The result lowest in ``figure`` (a USD field: ``tco_usd`` by default, or
    ``programme_total_usd``) among those that can run as specified; None when none can. A plan
    that cannot run is never the cheapest, however low its figures: they cost a plan that
    would not happen as written. Ties keep the first listed (the plan as filed first)."""
    feasible = [result for result in results if result.feasibility.feasible]
    return min(feasible, key=lambda result: float(getattr(result, figure)), default=None)
