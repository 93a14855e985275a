"""Actual spend against the forecast, and the programme re-forecast from it (issue 23,
``ftcost track``).

**The forecast.** Month by month and area by area, the headline's schedule
(:mod:`~ftcost_helpers.engine.headline`): each programme area's base-case lines spread over
the build by ``programme.spend_profile`` (:func:`~ftcost_helpers.engine.model.run.programme_spend`),
scaled to the headline's programme cost; each running cost (continuous evaluation, serving,
maintenance) in the months it runs, scaled to the headline's running cost, with the serving
shortfall the audit costs counted in serving. What the headline spends in month 0 (the
programme's start) is counted in month 1, the first calendar month, which is where an
invoice for it falls. The areas' forecasts add up to the headline's programme spend and
running cost, month by month.

**The variance** of an area over the months tracked, actual − forecast, is split into
*rate* (the price per unit moved) and *volume* (more or fewer units) where the units are
known — GPU-hours, for compute (the split issue 23 asks for):

* rate = (actual rate − planned rate) × actual units,
* volume = (actual units − planned units) × planned rate,

with the planned rate the plan's price per GPU-hour and the planned units the forecast ÷ the
planned rate; the two add up to the variance. Without units (every other area, or compute
without measured GPU-hours) the whole variance is counted as volume.

**The re-forecast** re-runs the Monte Carlo (:mod:`~ftcost_helpers.engine.uncertainty`: the
same draws of every range input, the same seed) with the months tracked fixed at their
actual spend: each draw's programme is the programme's actual spend to date plus that draw's
programme spend in the months to come, and likewise for the cost of ownership and the
cumulative cash from which the break-even month follows. What is spent no longer varies, so
the P10–P90 range narrows as the programme goes on.

**Money.** Every amount is in the plan's currency (``currency`` in the figures; a cost
export in another is refused where it is read); the ``_usd`` in key names is historical, as
in client files (:mod:`~ftcost_helpers.engine.fx`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ftcost_helpers.engine.breakdown import Breakdown
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.headline import Headline, add_months, plan_headline
from ftcost_helpers.engine.model import roi
from ftcost_helpers.engine.model.guards import UNPLACED
from ftcost_helpers.engine.model.lines import AREAS, Line
from ftcost_helpers.engine.model.run import ModelRun
from ftcost_helpers.engine.money import usd
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.readers.cost_exports import Actuals, check_month, programme_month
from ftcost_helpers.engine.readers.errors import ParamsError
from ftcost_helpers.engine.schema import Params
from ftcost_helpers.engine.uncertainty import PERCENTILES, draw_inputs, picker_from_draws, simulate

RUNNING_AREAS: tuple[str, ...] = ("continuous_eval", "serving", "maintenance")
"""Running costs as tracked areas: ``evaluation.continuous_usd_per_month``, serving, maintenance."""

TRACKED_AREAS: tuple[str, ...] = (*AREAS, *RUNNING_AREAS)
"""Every area actual spend is booked to: the programme's areas, then the running costs."""

UNITS = {"compute": "GPU-hours"}
"""Areas whose units a cost export or ``--gpu-hours`` can measure."""


def fold_outlay(by_month: np.ndarray) -> np.ndarray:
    """USD for months 1..horizon from USD for months 0..horizon (last axis): month 0, the
    programme's start, counted in month 1."""
    by_month = np.asarray(by_month, dtype=float)
    folded = by_month[..., 1:].copy()
    folded[..., 0] += by_month[..., 0]
    return folded


def programme_by_area(p: Params, lines: list[Line]) -> dict[str, np.ndarray]:
    """USD of each programme area in months 1..horizon (last axis; month 0 folded into 1),
    spread as :func:`~ftcost_helpers.engine.model.run.programme_spend` spreads it."""
    build, profile = p.programme.build_months, p.programme.spend_profile
    schedules = {}
    for area in AREAS:
        usd = sum((line.value for line in lines if line.area == area), start=0.0)
        weights = roi.build_weights(build, profile.get(area, "even") if isinstance(profile, dict) else profile)
        schedules[area] = fold_outlay(roi.programme_spend_by_month({area: usd}, {area: weights}, p.horizon_months))
    return schedules


def running_by_area(p: Params, run: ModelRun, shortfall_usd_per_month: float = 0.0) -> dict[str, np.ndarray]:
    """USD of each running cost in months 1..horizon (last axis): evaluation and serving
    from launch, maintenance in its months (as
    :func:`~ftcost_helpers.engine.model.run.running_costs_by_month`), serving with the
    audit's shortfall (USD a month from launch)."""
    operating = roi.operating_months(p.programme.build_months, p.horizon_months)
    maintained = np.asarray(run.maintained_by_month, dtype=float)

    def monthly(value: Any, months: np.ndarray) -> np.ndarray:
        return np.asarray(value, dtype=float)[..., None] * months

    return {
        "continuous_eval": monthly(run.ongoing_monthly["eval"], operating),
        "serving": monthly(run.ongoing_monthly["serving"], operating) + shortfall_usd_per_month * operating,
        "maintenance": monthly(run.ongoing_monthly["maintenance"], maintained),
    }


def forecast_by_area(
    p: Params,
    base: ModelRun,
    programme_scale: float = 1.0,
    running_scale: float = 1.0,
    shortfall_usd_per_month: float = 0.0,
) -> np.ndarray:
    """USD forecast for each of :data:`TRACKED_AREAS` (rows) in months 1..horizon
    (columns): the base case's schedule with the programme areas × ``programme_scale`` and
    the running costs × ``running_scale`` (the headline's factors), plus the shortfall."""
    programme = programme_by_area(p, base.lines)
    running = running_by_area(p, base)
    rows = [programme[area] * programme_scale for area in AREAS]
    rows += [running[area] * running_scale for area in RUNNING_AREAS]
    forecast = np.array(rows, dtype=float)
    forecast[TRACKED_AREAS.index("serving")] += shortfall_usd_per_month * roi.operating_months(
        p.programme.build_months, p.horizon_months
    )
    return forecast


def tabulate(months: np.ndarray, areas: np.ndarray, amounts: np.ndarray, horizon: int) -> np.ndarray:
    """USD by tracked area (rows, indices into :data:`TRACKED_AREAS`) and month 1..horizon
    (columns): the sum of ``amounts`` in each (area, month)."""
    table = np.zeros((len(TRACKED_AREAS), horizon))
    np.add.at(
        table, (np.asarray(areas, dtype=int), np.asarray(months, dtype=int) - 1), np.asarray(amounts, dtype=float)
    )
    return table


def split_variance(
    actual: float, forecast: float, actual_units: float | None, planned_rate: float | None
) -> tuple[float, float]:
    """(rate, volume) USD of ``actual − forecast``. With units: rate = (actual rate −
    planned rate) × actual units = actual − planned rate × actual units; volume = (actual
    units − planned units) × planned rate = planned rate × actual units − forecast (planned
    units = forecast ÷ planned rate, actual rate = actual ÷ actual units). Without units or a
    planned rate: (0, actual − forecast), all volume."""
    if actual_units is None or planned_rate is None or planned_rate <= 0:
        return 0.0, actual - forecast
    return actual - planned_rate * actual_units, planned_rate * actual_units - forecast


@dataclass(frozen=True)
class DrawnSchedule:
    """The Monte Carlo's programme month by month: one row per draw (USD, months 1..horizon)."""

    programme: np.ndarray
    running: np.ndarray
    alternative: np.ndarray
    """USD a month of what the fine-tune replaces, one per draw (0 without an alternative)."""
    operating: np.ndarray
    """1.0 for each month 1..horizon after launch."""
    has_alternative: bool


def drawn_schedule(
    p: Params, book: PriceBook, draws: int, seed: int, shortfall_usd_per_month: float = 0.0
) -> DrawnSchedule:
    """The model on ``draws`` draws of every range input (the draws :func:`simulate` makes
    with the same ``seed``), as month-by-month programme and running spend per draw."""
    run = evaluate(p, book, picker_from_draws(draw_inputs(p, book, draws, seed)))
    shape = (draws, p.horizon_months)
    programme = sum(programme_by_area(p, run.lines).values(), start=np.zeros(shape))
    running = sum(running_by_area(p, run, shortfall_usd_per_month).values(), start=np.zeros(shape))
    alternative = np.broadcast_to(np.asarray(run.alternative_monthly, dtype=float), (draws,)).copy()
    has_alternative = p.alternative.kind != "none"
    return DrawnSchedule(
        programme=np.broadcast_to(programme, shape).copy(),
        running=np.broadcast_to(running, shape).copy(),
        alternative=alternative if has_alternative else np.zeros(draws),
        operating=roi.operating_months(p.programme.build_months, p.horizon_months),
        has_alternative=has_alternative,
    )


def _band(values: np.ndarray) -> dict[str, float]:
    return {name: round(float(np.percentile(values, q)), 2) for name, q in PERCENTILES.items()}


def _months_band(months: np.ndarray) -> dict[str, int | None]:
    """P10/P50/P90 of break-even months (nan: not within the horizon, counted as latest)."""
    later = np.where(np.isnan(months), np.inf, months)
    band = {name: float(np.percentile(later, q, method="lower")) for name, q in PERCENTILES.items()}
    return {name: None if np.isinf(value) else int(value) for name, value in band.items()}


def reforecast(
    schedule: DrawnSchedule, actual_programme: np.ndarray, actual_running: np.ndarray, months_to_date: int
) -> dict[str, Any]:
    """P10/P50/P90 of the programme, the cost of ownership and the break-even month, each
    draw's first ``months_to_date`` months replaced by the actual spend (USD a month,
    months 1..horizon: ``actual_programme`` in the programme's areas, ``actual_running`` in
    the running costs). ``months_to_date`` 0 gives the original Monte Carlo."""
    m = int(months_to_date)
    programme = schedule.programme.copy()
    running = schedule.running.copy()
    programme[:, :m] = np.asarray(actual_programme, dtype=float)[:m]
    running[:, :m] = np.asarray(actual_running, dtype=float)[:m]
    out: dict[str, Any] = {
        "programme_usd": _band(programme.sum(axis=1)),
        "tco_usd": _band(programme.sum(axis=1) + running.sum(axis=1)),
        "break_even_month": None,
    }
    if schedule.has_alternative:
        saving = schedule.alternative[:, None] * schedule.operating - running - programme
        cash = np.concatenate([np.zeros((saving.shape[0], 1)), np.cumsum(saving, axis=1)], axis=1)
        out["break_even_month"] = _months_band(np.asarray(roi.break_even_month(cash), dtype=float))
    return out


def width(band: dict[str, float]) -> float:
    """P90 − P10 of a band (USD)."""
    return band["p90"] - band["p10"]


def period(start: dt.date, month: int) -> str:
    """The calendar month ``YYYY-MM`` of programme month ``month`` (1: the start's month)."""
    return add_months(dt.date(start.year, start.month, 1), month - 1).strftime("%Y-%m")


def _scale(level: float, base: float) -> float:
    return level / base if base > 0 else 1.0


def _usd(value: float) -> float:
    return round(float(value), 2)


def track(
    breakdown: Breakdown,
    headline: Headline,
    actual: np.ndarray,
    months_to_date: int,
    schedule: DrawnSchedule,
    gpu_hours_to_date: float | None = None,
) -> dict[str, Any]:
    """Forecast against ``actual`` (USD by :data:`TRACKED_AREAS` × months 1..horizon, from
    :func:`tabulate`) over months 1..``months_to_date``, the variance split by area, and the
    re-forecast (see the module's notes); ``gpu_hours_to_date``: measured compute GPU-hours."""
    p, base, m = breakdown.params, breakdown.base, int(months_to_date)
    shortfall = headline.serving_shortfall_usd_per_month
    forecast = forecast_by_area(
        p,
        base,
        _scale(headline.programme_usd, headline.base_case_programme_usd),
        _scale(headline.running_usd_per_month - shortfall, float(sum(breakdown.ongoing_monthly_usd.values()))),
        shortfall,
    )
    actual = np.asarray(actual, dtype=float)
    planned_rate = None if p.training.provider == "managed" else float(base.compute.rate_usd_per_gpu_hour)
    areas, notes, rates, volumes = [], [], [], []
    for index, area in enumerate(TRACKED_AREAS):
        f, a = float(forecast[index, :m].sum()), float(actual[index, :m].sum())
        units = gpu_hours_to_date if area in UNITS else None
        rate = planned_rate if area in UNITS else None
        rate_usd, volume_usd = split_variance(a, f, units, rate)
        known = units is not None and rate is not None and rate > 0
        rates.append(rate_usd)
        volumes.append(volume_usd)
        areas.append(
            {
                "area": area,
                "forecast_usd": _usd(f),
                "actual_usd": _usd(a),
                "variance_usd": _usd(a - f),
                "rate_usd": _usd(rate_usd),
                "volume_usd": _usd(volume_usd),
                "units": UNITS.get(area) if known else None,
                "planned_units": round(f / rate, 2) if known else None,
                "actual_units": round(units, 2) if known else None,
                "planned_usd_per_unit": round(rate, 4) if known else None,
                "actual_usd_per_unit": round(a / units, 4) if known and units > 0 else None,
            }
        )
        if area in UNITS and not known and (a or f):
            why = "a managed service bills tokens" if rate is None else "no GPU-hours measured (--gpu-hours)"
            notes.append(f"{area}: {why}, so its whole variance is counted as volume")
    if any(row["variance_usd"] for row in areas if row["area"] not in UNITS):
        notes.append("areas other than compute have no units: their whole variance is counted as volume")
    total_f, total_a = float(forecast[:, :m].sum()), float(actual[:, :m].sum())
    n_programme = len(AREAS)
    actual_programme = actual[:n_programme].sum(axis=0)
    actual_running = actual[n_programme:].sum(axis=0)
    to_come = float(forecast[:n_programme, m:].sum())
    short = float(forecast[:n_programme, :m].sum() - actual_programme[:m].sum())
    if to_come <= 0 and short > 0:
        notes.append(
            f"the plan schedules no programme spend after month {m}, so the {usd(short, p.currency)} of programme "
            "forecast not yet invoiced is not in the re-forecast; a late invoice moves it"
        )
    original = reforecast(schedule, actual_programme, actual_running, 0)
    again = reforecast(schedule, actual_programme, actual_running, m)
    again["narrower"] = width(again["tco_usd"]) < width(original["tco_usd"])
    again["plan_basis"] = {
        "programme_usd": _usd(actual_programme[:m].sum() + forecast[:n_programme, m:].sum()),
        "tco_usd": _usd(total_a + forecast[:, m:].sum()),
    }
    again["original"] = original
    return {
        "basis": headline.basis,
        "currency": p.currency,
        "months_tracked": m,
        "through": period(p.start_date, m) if m else None,
        "actual_to_date_usd": _usd(total_a),
        "forecast_to_date_usd": _usd(total_f),
        "variance_usd": {
            "total": _usd(total_a - total_f),
            "rate": _usd(sum(rates)),
            "volume": _usd(sum(volumes)),
        },
        "by_month": [
            {
                "month": month,
                "period": period(p.start_date, month),
                "forecast_usd": _usd(forecast[:, month - 1].sum()),
                "actual_usd": _usd(actual[:, month - 1].sum()),
                "variance_usd": _usd(actual[:, month - 1].sum() - forecast[:, month - 1].sum()),
                "by_area": {
                    area: {"forecast_usd": _usd(forecast[i, month - 1]), "actual_usd": _usd(actual[i, month - 1])}
                    for i, area in enumerate(TRACKED_AREAS)
                    if forecast[i, month - 1] or actual[i, month - 1]
                },
            }
            for month in range(1, m + 1)
        ],
        "by_area": areas,
        "reforecast": again,
        "notes": notes,
    }


# ---------------------------------------------------------------- a cost export against a plan
# The glue ``ftcost track`` (report/track.py) and notebook 06 (views/tracking_views.py) share.


def in_plan(file: Any, row: int, column: str, year: int, month: int, plan: Params) -> int:
    """The programme month of calendar month (``year``, ``month``); :class:`ParamsError`
    (``file``, row, column) when it falls before the plan's start or after its horizon."""
    start = plan.start_date
    at = programme_month(start.year, start.month, year, month)
    return check_month(file, row, column, at, plan.horizon_months, start.isoformat())


def placed(actuals: Actuals, plan: Params, area_tag: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(programme months, indices into :data:`TRACKED_AREAS`, amounts) of every row of
    ``actuals``; :class:`ParamsError` (one line) for a file with no rows of spend (a FOCUS
    export: none with the ``area_tag`` tag) or a row outside the plan's months."""
    if not actuals.rows:
        tagged = f" with a {area_tag!r} tag" if actuals.format == "focus" else ""
        raise ParamsError(actuals.file, "", f"no rows of spend{tagged}: nothing to track")
    column = "BillingPeriodStart" if actuals.format == "focus" else "month"
    months = [in_plan(actuals.file, row.row, column, row.year, row.month, plan) for row in actuals.rows]
    areas = [TRACKED_AREAS.index(row.area) for row in actuals.rows]
    return np.array(months, dtype=int), np.array(areas, dtype=int), np.array([r.amount for r in actuals.rows])


def measured_gpu_hours(actuals: Actuals) -> float | None:
    """GPU-hours the export's compute rows measure, summed (None when no row says)."""
    measured = [row.gpu_hours for row in actuals.rows if row.area == "compute" and row.gpu_hours is not None]
    return float(sum(measured)) if measured else None


def spend_to_date(
    breakdown: Breakdown,
    basis: str,
    actuals: Actuals,
    rows: tuple[np.ndarray, np.ndarray, np.ndarray],
    gpu_hours_to_date: float | None,
    area_tag: str,
    source: str | Path = UNPLACED,
) -> dict[str, Any]:
    """What ``ftcost track --json`` prints for a plan already estimated (``breakdown``):
    :func:`track` over the ``rows`` :func:`placed` made of ``actuals``, on the headline's
    ``basis``, re-forecast on the plan's own draws and seed, with notes on the rows left
    out and the months without spend. Amounts in the plan's currency (``currency``)."""
    plan, book = breakdown.params, breakdown.book
    months, areas, amounts = rows
    months_to_date = int(months.max())
    headline = plan_headline(breakdown, simulate(plan, book, source=source), basis)
    draws, seed = plan.uncertainty.draws, plan.uncertainty.seed
    schedule = drawn_schedule(plan, book, draws, seed, headline.serving_shortfall_usd_per_month)
    actual = tabulate(months, areas, amounts, plan.horizon_months)
    figures = track(breakdown, headline, actual, months_to_date, schedule, gpu_hours_to_date)
    figures["reforecast"].update({"draws": draws, "seed": seed})
    if actuals.untagged_rows:
        figures["notes"].append(
            f"{actuals.untagged_rows} row{'s' if actuals.untagged_rows > 1 else ''} without a {area_tag!r} "
            "tag left out (other spending in the same account)"
        )
    missing = sorted(set(range(1, months_to_date + 1)) - set(months.tolist()))
    if missing:
        said = f"month{'s' if len(missing) > 1 else ''} {', '.join(map(str, missing))}"
        figures["notes"].append(f"no spend reported for {said}: counted as zero")
    return {"format": actuals.format, **figures}
