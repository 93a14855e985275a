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

from ftcost_helpers.engine.money import amounts_in, code, usd, usd_cents, usd_range
from ftcost_helpers.engine.readers.cost_exports import Actuals, read_actuals, read_gpu_hours
from ftcost_helpers.engine.readers.errors import ParamsError
from ftcost_helpers.engine.schema import Params


def _gpu_hours(args: argparse.Namespace, actuals: Actuals, plan: Params, months_to_date: int) -> float | None:
    """Compute GPU-hours to date: ``--gpu-hours`` (a number, or a file by month), else the
    GPU-hours the cost export's compute rows give (None when nothing says)."""
    from ftcost_helpers.engine.tracking import in_plan, measured_gpu_hours

    if args.gpu_hours is None:
        return measured_gpu_hours(actuals)
    given = read_gpu_hours(args.gpu_hours)
    if isinstance(given, float):
        return given
    total = 0.0
    for (year, month), (row, hours) in given.items():
        if in_plan(args.gpu_hours, row, "month", year, month, plan) > months_to_date:
            raise ParamsError(
                args.gpu_hours,
                f"row {row}, month",
                f"{year:04d}-{month:02d} is after the last month of spend in --actuals; "
                "give GPU-hours for the months tracked",
            )
        total += hours
    return total


def track_figures(args: argparse.Namespace) -> dict[str, Any]:
    """The figures ``track`` prints (:func:`~ftcost_helpers.engine.tracking.spend_to_date`),
    every amount in the plan's currency (``currency``)."""
    from ftcost_helpers.engine.breakdown import estimate
    from ftcost_helpers.engine.firm import load_firm
    from ftcost_helpers.engine.headline import resolve_basis
    from ftcost_helpers.engine.loading import load_price_book
    from ftcost_helpers.engine.overrides import load_plan
    from ftcost_helpers.engine.tracking import TRACKED_AREAS, placed, spend_to_date

    book = load_price_book(args.price_book, args.rates)
    plan = load_plan(args.file, book)
    actuals = read_actuals(args.actuals, TRACKED_AREAS, plan.currency, args.area_tag)
    rows = placed(actuals, plan, args.area_tag)
    gpu_hours = _gpu_hours(args, actuals, plan, int(rows[0].max()))
    breakdown = estimate(plan, book, today=dt.date.today(), source=args.file)
    basis = resolve_basis(plan, load_firm().default_basis)
    figures = spend_to_date(breakdown, basis, actuals, rows, gpu_hours, args.area_tag, source=args.file)
    return {"plan": str(args.file), "actuals": str(args.actuals), **figures}


def band_words(band: dict[str, float]) -> str:
    """A P10–P90 band and its median: ``EUR 307,100 – 434,200 (P50 EUR 350,000)``, in the
    currency being written (:func:`~ftcost_helpers.engine.money.code`)."""
    return f"{usd_range(band['p10'], band['p90'])} (P50 {usd(band['p50'])})"


def break_even_band_words(band: dict[str, int | None] | None) -> str:
    if band is None:
        return "no alternative to pay back against"

    def one(month: int | None) -> str:
        return "beyond the horizon" if month is None else f"month {month}"

    return f"{one(band['p50'])} (P10 {one(band['p10'])}, P90 {one(band['p90'])})"


def track_text(figures: dict[str, Any]) -> str:
    """The table ``track`` prints, every amount in the plan's currency (``figures["currency"]``)."""
    with amounts_in(figures.get("currency") or code()):
        return _track_text(figures)


def _track_text(figures: dict[str, Any]) -> str:
    v, again = figures["variance_usd"], figures["reforecast"]
    lines = [
        f"Forecast ({figures['basis']} basis) against actual spend, months 1–{figures['months_tracked']} "
        f"(to {figures['through']}); amounts in {code()}",
        "",
        f"{'Month':<12}{'forecast':>15}{'actual':>15}{'variance':>15}",
    ]
    for row in figures["by_month"]:
        lines.append(
            f"{row['month']:>2} {row['period']:<9}{usd(row['forecast_usd']):>15}"
            f"{usd(row['actual_usd']):>15}{usd(row['variance_usd']):>15}"
        )
    lines += ["", f"{'Area':<16}{'forecast':>15}{'actual':>15}{'variance':>15}{'rate':>15}{'volume':>15}"]
    for row in figures["by_area"]:
        if not (row["forecast_usd"] or row["actual_usd"]):
            continue
        lines.append(
            f"{row['area']:<16}{usd(row['forecast_usd']):>15}{usd(row['actual_usd']):>15}"
            f"{usd(row['variance_usd']):>15}{usd(row['rate_usd']):>15}{usd(row['volume_usd']):>15}"
        )
        if row["units"]:
            lines.append(
                f"  {row['actual_units']:,.1f} {row['units']} at {usd_cents(row['actual_usd_per_unit'] or 0)} "
                f"against {row['planned_units']:,.1f} planned at {usd_cents(row['planned_usd_per_unit'])}"
            )
    lines += [
        f"{'Total':<16}{usd(figures['forecast_to_date_usd']):>15}{usd(figures['actual_to_date_usd']):>15}"
        f"{usd(v['total']):>15}{usd(v['rate']):>15}{usd(v['volume']):>15}",
        "",
        f"Re-forecast ({again['draws']:,} draws, seed {again['seed']}; the months tracked fixed at their actuals):",
        f"  Programme  {band_words(again['programme_usd'])}; before {band_words(again['original']['programme_usd'])}",
        f"  Ownership  {band_words(again['tco_usd'])}; before {band_words(again['original']['tco_usd'])}",
        f"  Break-even {break_even_band_words(again['break_even_month'])}; "
        f"before {break_even_band_words(again['original']['break_even_month'])}",
        f"  On the plan's {figures['basis']} for the months to come: programme "
        f"{usd(again['plan_basis']['programme_usd'])}, ownership {usd(again['plan_basis']['tco_usd'])}",
    ]
    lines += [f"note: {note}" for note in figures["notes"]]
    return "\n".join(lines)


def track_command(args: argparse.Namespace) -> int:
    """The ``track`` command: 0 done; a problem raises :class:`ParamsError` (one line)."""
    figures = track_figures(args)
    print(json.dumps(figures, indent=2, allow_nan=False) if args.json else track_text(figures))
    return 0
