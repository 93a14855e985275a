"""``ftcost track PLAN --actuals FILE``: actual spend against the forecast, by month and area,
the variance split into rate and volume, and the programme re-forecast from what is spent
(:mod:`~ftcost_helpers.engine.tracking`; the files: :mod:`~ftcost_helpers.engine.readers.cost_exports`).

Nothing is written: the command prints a table, or with ``--json`` the figures. A file it
cannot use is one line (file, row or column, problem) and exit status 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any

import numpy as np

from ftcost_helpers.engine.readers.cost_exports import (
    Actuals,
    check_month,
    programme_month,
    read_actuals,
    read_gpu_hours,
)
from ftcost_helpers.engine.readers.errors import ParamsError
from ftcost_helpers.engine.schema import Params


def _in_plan(file: Any, row: int, column: str, year: int, month: int, plan: Params) -> int:
    """The programme month of calendar month (``year``, ``month``), refused outside the plan."""
    start = plan.start_date
    at = programme_month(start.year, start.month, year, month)
    return check_month(file, row, column, at, plan.horizon_months, start.isoformat())


def _placed(actuals: Actuals, plan: Params) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(programme months, area indices, amounts) of every row, each month within the plan."""
    from ftcost_helpers.engine.tracking import TRACKED_AREAS

    column = "BillingPeriodStart" if actuals.format == "focus" else "month"
    months = [_in_plan(actuals.file, row.row, column, row.year, row.month, plan) for row in actuals.rows]
    areas = [TRACKED_AREAS.index(row.area) for row in actuals.rows]
    return np.array(months, dtype=int), np.array(areas, dtype=int), np.array([r.amount for r in actuals.rows])


def _gpu_hours(args: argparse.Namespace, actuals: Actuals, plan: Params, months_to_date: int) -> float | None:
    """Compute GPU-hours to date: ``--gpu-hours`` (a number, or a file by month), else the
    GPU-hours the cost export's compute rows give (None when nothing says)."""
    if args.gpu_hours is not None:
        given = read_gpu_hours(args.gpu_hours)
        if isinstance(given, float):
            return given
        total = 0.0
        for (year, month), (row, hours) in given.items():
            if _in_plan(args.gpu_hours, row, "month", year, month, plan) > months_to_date:
                raise ParamsError(
                    args.gpu_hours,
                    f"row {row}, month",
                    f"{year:04d}-{month:02d} is after the last month of spend in --actuals; "
                    "give GPU-hours for the months tracked",
                )
            total += hours
        return total
    measured = [row.gpu_hours for row in actuals.rows if row.area == "compute" and row.gpu_hours is not None]
    return float(sum(measured)) if measured else None


def track_figures(args: argparse.Namespace) -> dict[str, Any]:
    """The figures ``track`` prints (see :func:`~ftcost_helpers.engine.tracking.track`)."""
    from ftcost_helpers.engine.breakdown import estimate
    from ftcost_helpers.engine.firm import load_firm
    from ftcost_helpers.engine.headline import plan_headline, resolve_basis
    from ftcost_helpers.engine.loading import load_price_book
    from ftcost_helpers.engine.overrides import load_plan
    from ftcost_helpers.engine.tracking import TRACKED_AREAS, drawn_schedule, tabulate, track
    from ftcost_helpers.engine.uncertainty import simulate

    book = load_price_book(args.price_book, args.rates)
    plan = load_plan(args.file, book)
    actuals = read_actuals(args.actuals, TRACKED_AREAS, plan.currency, args.area_tag)
    if not actuals.rows:
        tagged = f" with a {args.area_tag!r} tag" if actuals.format == "focus" else ""
        raise ParamsError(args.actuals, "", f"no rows of spend{tagged}: nothing to track")
    months, areas, amounts = _placed(actuals, plan)
    months_to_date = int(months.max())
    gpu_hours = _gpu_hours(args, actuals, plan, months_to_date)
    breakdown = estimate(plan, book, today=dt.date.today(), source=args.file)
    simulation = simulate(plan, book, source=args.file)
    headline = plan_headline(breakdown, simulation, resolve_basis(plan, load_firm().default_basis))
    draws, seed = plan.uncertainty.draws, plan.uncertainty.seed
    schedule = drawn_schedule(plan, book, draws, seed, headline.serving_shortfall_usd_per_month)
    actual = tabulate(months, areas, amounts, plan.horizon_months)
    figures = track(breakdown, headline, actual, months_to_date, schedule, gpu_hours)
    figures["reforecast"].update({"draws": draws, "seed": seed})
    if actuals.untagged_rows:
        figures["notes"].append(
            f"{actuals.untagged_rows} row{'s' if actuals.untagged_rows > 1 else ''} without a {args.area_tag!r} "
            "tag left out (other spending in the same account)"
        )
    missing = sorted(set(range(1, months_to_date + 1)) - set(months.tolist()))
    if missing:
        months_said = f"month{'s' if len(missing) > 1 else ''} {', '.join(map(str, missing))}"
        figures["notes"].append(f"no spend reported for {months_said}: counted as zero")
    return {"plan": str(args.file), "actuals": str(args.actuals), "format": actuals.format, **figures}


def _money(value: float) -> str:
    return f"{value:,.0f}" if value >= 0 else f"-{-value:,.0f}"


def _between(band: dict[str, float]) -> str:
    return f"USD {_money(band['p10'])}–{_money(band['p90'])} (P50 {_money(band['p50'])})"


def break_even_band_words(band: dict[str, int | None] | None) -> str:
    if band is None:
        return "no alternative to pay back against"

    def one(month: int | None) -> str:
        return "beyond the horizon" if month is None else f"month {month}"

    return f"{one(band['p50'])} (P10 {one(band['p10'])}, P90 {one(band['p90'])})"


def track_text(figures: dict[str, Any]) -> str:
    """The table ``track`` prints."""
    v, again = figures["variance_usd"], figures["reforecast"]
    lines = [
        f"Forecast ({figures['basis']} basis) against actual spend, months 1–{figures['months_tracked']} "
        f"(to {figures['through']}), USD",
        "",
        f"{'Month':<12}{'forecast':>12}{'actual':>12}{'variance':>12}",
    ]
    for row in figures["by_month"]:
        lines.append(
            f"{row['month']:>2} {row['period']:<9}{_money(row['forecast_usd']):>12}"
            f"{_money(row['actual_usd']):>12}{_money(row['variance_usd']):>12}"
        )
    lines += ["", f"{'Area':<16}{'forecast':>12}{'actual':>12}{'variance':>12}{'rate':>10}{'volume':>10}"]
    for row in figures["by_area"]:
        if not (row["forecast_usd"] or row["actual_usd"]):
            continue
        lines.append(
            f"{row['area']:<16}{_money(row['forecast_usd']):>12}{_money(row['actual_usd']):>12}"
            f"{_money(row['variance_usd']):>12}{_money(row['rate_usd']):>10}{_money(row['volume_usd']):>10}"
        )
        if row["units"]:
            lines.append(
                f"  {row['actual_units']:,.1f} {row['units']} at USD {row['actual_usd_per_unit'] or 0:,.2f} "
                f"against {row['planned_units']:,.1f} planned at USD {row['planned_usd_per_unit']:,.2f}"
            )
    lines += [
        f"{'Total':<16}{_money(figures['forecast_to_date_usd']):>12}{_money(figures['actual_to_date_usd']):>12}"
        f"{_money(v['total']):>12}{_money(v['rate']):>10}{_money(v['volume']):>10}",
        "",
        f"Re-forecast ({again['draws']:,} draws, seed {again['seed']}; the months tracked fixed at their actuals):",
        f"  Programme  {_between(again['programme_usd'])}; before {_between(again['original']['programme_usd'])}",
        f"  Ownership  {_between(again['tco_usd'])}; before {_between(again['original']['tco_usd'])}",
        f"  Break-even {break_even_band_words(again['break_even_month'])}; "
        f"before {break_even_band_words(again['original']['break_even_month'])}",
        f"  On the plan's {figures['basis']} for the months to come: programme USD "
        f"{_money(again['plan_basis']['programme_usd'])}, ownership USD {_money(again['plan_basis']['tco_usd'])}",
    ]
    lines += [f"note: {note}" for note in figures["notes"]]
    return "\n".join(lines)


def track_command(args: argparse.Namespace) -> int:
    """The ``track`` command: 0 done; a problem raises :class:`ParamsError` (one line)."""
    figures = track_figures(args)
    print(json.dumps(figures, indent=2, allow_nan=False) if args.json else track_text(figures))
    return 0
