"""The headline: every figure a reader sees first, on one stated basis, from one function.

A consultancy budgets a programme on a *basis*: the median of the simulated outcomes
(``p50``, the default), a prudent figure that four programmes in five stay within (``p80``),
or the plan's line items as written (``base_case``). :func:`headline` derives every headline
figure — programme cost, running cost per month, the alternative's cost, net saving,
break-even month and date, cost of ownership, and the chance of having paid back by each
month — from that basis and from each other, so a reader who adds page 1's figures gets
page 1's totals:

* programme cost = the basis percentile of the simulated programme totals (the base case's
  line items plus a *contingency* that takes them to that percentile);
* running cost per month = the basis percentile of the simulated steady-state running cost,
  plus what the plan's serving is short of its load (:mod:`~ftcost_helpers.engine.corrections`:
  a figure the audit calls wrong is never a headline);
* the alternative's cost = its value at the mirrored percentile (P50 → P50; P80, prudent on
  both sides → the 20th percentile of what the fine-tune saves);
* month by month, the base case's schedule (when the build spends, when serving and
  maintenance start) scaled to those levels; cumulative cash, break-even and cost of
  ownership follow by addition (:mod:`~ftcost_helpers.engine.model.roi`);
* the chance of having paid back by month M: the share of simulated programmes whose
  cumulative cash, with the same serving correction, is at or above zero by month M.

Months count from the programme's start: month 1 is its first month; a cash position "in
month M" is the position at the end of month M (month 0 is the start itself, where a
programme without a build period pays its outlay). Dates follow from ``start_date``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ftcost_helpers.engine.breakdown import Breakdown
from ftcost_helpers.engine.corrections import shortfall_usd_per_month
from ftcost_helpers.engine.finance import Discounted, discounted
from ftcost_helpers.engine.model import roi
from ftcost_helpers.engine.model.run import programme_spend
from ftcost_helpers.engine.schema import Params
from ftcost_helpers.engine.uncertainty import Simulation

Basis = Literal["p50", "p80", "base_case"]
BASES: tuple[str, ...] = ("p50", "p80", "base_case")
DEFAULT_BASIS: Basis = "p50"

BASIS_NAMES = {
    "p50": "P50, the median of the simulated programmes",
    "p80": "P80, a budget four programmes in five stay within",
    "base_case": "base case, the plan's line items as written",
}
"""How a document names each basis, once, where it states the basis."""

BASIS_SHORT = {"p50": "P50", "p80": "P80", "base_case": "base case"}
"""The basis as a label beside a figure ("Programme cost (P50)")."""

COST_PERCENTILE = {"p50": 50.0, "p80": 80.0}
"""Percentile of a cost (programme, running) on each simulated basis."""

VALUE_PERCENTILE = {"p50": 50.0, "p80": 20.0}
"""Percentile of the alternative's cost (what the fine-tune saves) on each simulated basis:
prudent on the value side means the lower end."""


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole calendar months (the day of month clipped to the month's
    length: 31 January + 1 month is 28 or 29 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    next_month = dt.date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_month - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last_day))


def month_start(start: dt.date, month: int) -> dt.date:
    """The first day of programme month ``month`` (month 1 begins on ``start``)."""
    return add_months(start, month - 1)


def month_end(start: dt.date, month: int) -> dt.date:
    """The last day of programme month ``month``: the day before month ``month + 1`` begins."""
    return add_months(start, month) - dt.timedelta(days=1)


def _percentile(values: np.ndarray, q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q))


def _scale(level: float, base: float) -> float:
    """The factor that takes a schedule whose level is ``base`` to ``level`` (1 when the
    base is zero: a cost the plan does not have stays absent)."""
    return level / base if base > 0 else 1.0


def chance_of_break_even(cash_flow_draws: np.ndarray, extra_running_by_month: np.ndarray) -> np.ndarray:
    """P(paid back by month m), m = 1..horizon: the share of draws whose cumulative cash
    (shape (draws, horizon + 1), month 0 first), less the cumulative ``extra_running_by_month``
    (USD each month 1..horizon), is at or above zero in some month ≤ m."""
    extra = np.concatenate([[0.0], np.cumsum(np.asarray(extra_running_by_month, dtype=float))])
    months = roi.break_even_month(np.asarray(cash_flow_draws, dtype=float) - extra)
    horizon = np.arange(1, extra.size)
    return (np.asarray(months)[..., None] <= horizon).mean(axis=0)


@dataclass(frozen=True)
class Headline:
    """Every headline figure on one basis (USD; months from the programme's start)."""

    basis: str
    start_date: dt.date
    horizon_months: int
    build_months: int
    programme_usd: float
    base_case_programme_usd: float
    running_usd_per_month: float
    """Steady state: evaluation, serving and maintenance once all have started."""
    running_by_month: np.ndarray
    """USD each month 1..horizon."""
    spend_by_month: np.ndarray
    """Programme USD each month 0..horizon."""
    alternative_usd_per_month: float | None
    cash_flow: np.ndarray
    """Cumulative USD, month 0..horizon."""
    maintenance_from_month: int | None
    serving_shortfall_usd_per_month: float
    chance_by_month: tuple[float, ...]
    """P(paid back by month m), m = 1..horizon (empty without an alternative)."""
    discount_rate: float | None = None
    """The client's annual discount rate (``finance.discount_rate``; None: no discounting)."""

    @property
    def contingency_usd(self) -> float:
        """What takes the base case's line items to the headline programme cost."""
        return self.programme_usd - self.base_case_programme_usd

    @property
    def net_saving_usd_per_month(self) -> float | None:
        """The alternative's monthly cost minus the steady-state running cost."""
        if self.alternative_usd_per_month is None:
            return None
        return self.alternative_usd_per_month - self.running_usd_per_month

    @property
    def break_even_month(self) -> int | None:
        """First month whose cumulative cash is ≥ 0, or None (none within the horizon)."""
        if self.alternative_usd_per_month is None:
            return None
        return roi.month_or_none(float(roi.break_even_month(self.cash_flow)))

    @property
    def tco_usd(self) -> float:
        """Programme plus every month's running cost to the horizon."""
        return self.programme_usd + float(self.running_by_month.sum())

    @property
    def launch_month(self) -> int:
        """The first month in service (the month after the build)."""
        return self.build_months + 1

    @property
    def discounted(self) -> Discounted:
        """NPV, discounted payback and IRR of this cash flow at the plan's discount rate
        (:func:`~ftcost_helpers.engine.finance.discounted`: one function for every output)."""
        return discounted(self.cash_flow, self.discount_rate, self.alternative_usd_per_month is not None)

    def running_in_month(self, month: int) -> float:
        """USD of running cost in programme month ``month`` (1..horizon)."""
        return float(self.running_by_month[month - 1])

    def chance_by(self, month: int | None) -> float | None:
        """The chance of having paid back by the end of ``month`` (None without one)."""
        if month is None or not self.chance_by_month:
            return None
        return self.chance_by_month[min(max(month, 1), self.horizon_months) - 1]

    def first_month_with_chance(self, level: float) -> int | None:
        """The first month by which the chance of having paid back reaches ``level``."""
        return next((m for m, p in enumerate(self.chance_by_month, start=1) if p >= level), None)

    def date_of_month_start(self, month: int | None) -> dt.date | None:
        return None if month is None else month_start(self.start_date, month)

    def date_of_month_end(self, month: int | None) -> dt.date | None:
        return None if month is None else month_end(self.start_date, month)

    def as_dict(self) -> dict[str, Any]:
        """``summary.json``'s ``headline`` object (USD to the cent, dates ISO)."""

        def cents(value: float | None) -> float | None:
            return None if value is None else round(float(value), 2)

        break_even = self.break_even_month
        maintenance = self.maintenance_from_month
        chance = self.chance_by(break_even)
        return {
            "basis": self.basis,
            "programme_usd": cents(self.programme_usd),
            "base_case_programme_usd": cents(self.base_case_programme_usd),
            "contingency_usd": cents(self.contingency_usd),
            "running_usd_per_month": cents(self.running_usd_per_month),
            "alternative_usd_per_month": cents(self.alternative_usd_per_month),
            "net_saving_usd_per_month": cents(self.net_saving_usd_per_month),
            "break_even_month": break_even,
            "break_even_date": _iso(self.date_of_month_end(break_even)),
            "break_even_chance": None if chance is None else round(float(chance), 4),
            "tco_usd": cents(self.tco_usd),
            "horizon_months": self.horizon_months,
            "launch_month": self.launch_month,
            "launch_date": _iso(self.date_of_month_start(self.launch_month)),
            "maintenance_from_month": maintenance,
            "maintenance_from_date": _iso(self.date_of_month_start(maintenance)),
            "serving_shortfall_usd_per_month": cents(self.serving_shortfall_usd_per_month),
            "chance_of_break_even_by_month": [round(float(p), 4) for p in self.chance_by_month] or None,
        }


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def _maintenance_from(breakdown: Breakdown) -> int | None:
    maintained = np.asarray(breakdown.base.maintained_by_month, dtype=float)
    upkeep = breakdown.ongoing_monthly_usd["maintenance"]
    if upkeep <= 0 or not maintained.any():
        return None
    return int(np.argmax(maintained > 0)) + 1


def resolve_basis(params: Params, firm_default: str | None = None) -> str:
    """The plan's basis: the client file's ``report.basis``, else the firm's default, else P50."""
    return params.report.basis or firm_default or DEFAULT_BASIS


def plan_headline(breakdown: Breakdown, simulation: Simulation | None, basis: str = DEFAULT_BASIS) -> Headline:
    """:func:`headline` with the corrections the audit costs carried into it (serving short
    of its load: :func:`~ftcost_helpers.engine.corrections.shortfall_usd_per_month`)."""
    shortfall = shortfall_usd_per_month(breakdown.params, breakdown.book, breakdown.base)
    return headline(breakdown, simulation, basis, shortfall)


def headline(
    breakdown: Breakdown,
    simulation: Simulation | None,
    basis: str = DEFAULT_BASIS,
    serving_shortfall_usd_per_month: float = 0.0,
) -> Headline:
    """Every headline figure of a plan on ``basis`` (``p50``, ``p80`` or ``base_case``),
    with ``serving_shortfall_usd_per_month`` (USD a month from launch,
    :func:`~ftcost_helpers.engine.corrections.serving_shortfall`) added to the running cost.
    Without a ``simulation`` only the base case can be stated, with no chances."""
    if basis not in BASES:
        raise ValueError(f"basis must be one of {', '.join(BASES)}, got {basis!r}")
    if simulation is None and basis != "base_case":
        raise ValueError(f"the {basis} basis needs a Monte Carlo simulation")
    p, base = breakdown.params, breakdown.base
    has_alternative = p.alternative.kind != "none"
    base_programme = breakdown.programme_total
    base_running = float(sum(breakdown.ongoing_monthly_usd.values()))
    base_alternative = float(base.alternative_monthly)
    if basis == "base_case":
        programme, running, alternative = base_programme, base_running, base_alternative
    else:
        programme = _percentile(simulation.programme_total, COST_PERCENTILE[basis])
        running = _percentile(simulation.running_monthly, COST_PERCENTILE[basis])
        alternative = _percentile(simulation.alternative_monthly, VALUE_PERCENTILE[basis])
    operating = roi.operating_months(p.programme.build_months, p.horizon_months)
    extra = serving_shortfall_usd_per_month * operating
    spend = programme_spend(p, base.lines) * _scale(programme, base_programme)
    running_by_month = np.asarray(base.running_by_month, dtype=float) * _scale(running, base_running) + extra
    saving = roi.monthly_net_saving(alternative if has_alternative else 0.0, running_by_month, operating)
    chance: Sequence[float] = ()
    if has_alternative and simulation is not None:
        chance = tuple(float(x) for x in chance_of_break_even(simulation.cash_flow, extra))
    return Headline(
        basis=basis,
        start_date=p.start_date,
        horizon_months=p.horizon_months,
        build_months=p.programme.build_months,
        programme_usd=float(programme),
        base_case_programme_usd=base_programme,
        running_usd_per_month=float(running) + serving_shortfall_usd_per_month,
        running_by_month=running_by_month,
        spend_by_month=spend,
        alternative_usd_per_month=float(alternative) if has_alternative else None,
        cash_flow=roi.cumulative_cash_flow(spend, saving),
        maintenance_from_month=_maintenance_from(breakdown),
        serving_shortfall_usd_per_month=float(serving_shortfall_usd_per_month),
        chance_by_month=tuple(chance),
        discount_rate=p.finance.discount_rate,
    )
