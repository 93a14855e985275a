"""An engagement under way (issue 23): ``calibrate`` a plan from a pilot run's log, ``track``
actual spend against the forecast, ``diff`` a re-quote against the earlier quote."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from ftcost_helpers.cli import common
from ftcost_helpers.cli.common import add_command, add_json_option, add_plan_file, guarded
from ftcost_helpers.engine.loading import ParamsError, load_price_book
from ftcost_helpers.engine.overrides import load_plan
from ftcost_helpers.report.messages import shown_path

# --- calibrate --------------------------------------------------------------------------------


def _calibrate(args: argparse.Namespace) -> int:
    from ftcost_helpers.report.calibrate import calibrate_command

    return calibrate_command(args)


def add_calibrate(commands: Any) -> None:
    cal = add_command(
        commands,
        "calibrate",
        guarded(_calibrate),
        help="calibrate a plan's step time, utilisation and memory from a pilot run's log",
        description="Read a pilot run's log (Hugging Face trainer_state.json, a W&B run CSV export, Lightning's "
        "metrics.csv, torchtune metrics as CSV, or a plain CSV: step, seconds, tokens, peak_memory_gb), set "
        "aside its warm-up (the first 10% of steps, at least 5), measure the step time and its spread, tokens/s, "
        "MFU and peak memory, and carry them to the plan's full run, the band widened by 7.8% for each way the "
        "full run differs from the pilot. Prints the ranges before and after; -o writes the client file with a "
        "dated calibration block. Nothing is written when the log or the pilot is refused.",
    )
    add_plan_file(cal, "PLAN", "the client file to calibrate")
    cal.add_argument("--log", type=Path, required=True, metavar="FILE", help="the pilot run's log")
    cal.add_argument(
        "--pilot",
        type=Path,
        default=None,
        metavar="PILOT.yaml",
        help="what the pilot ran (model, gpu, gpus, micro_batch_size, sequence_length, method, "
        "gradient_accumulation_steps, date) where the log does not say; default: the plan's own training",
    )
    cal.add_argument("-o", "--out", type=Path, default=None, metavar="OUT.yaml", help="write the calibrated plan here")
    add_json_option(cal, "print the measurement and the ranges before and after as JSON")


# --- track ------------------------------------------------------------------------------------


def _track(args: argparse.Namespace) -> int:
    from ftcost_helpers.report.track import track_command

    return track_command(args)


def add_track(commands: Any) -> None:
    track = add_command(
        commands,
        "track",
        guarded(_track),
        help="actual spend against the forecast, the variance split, and the programme re-forecast",
        description="Read actual spend (a FOCUS cost export whose rows carry an ftcost-area tag, or a plain CSV: "
        "month, area, line, amount) and show it against the plan's forecast by month and area; split each "
        "area's variance into rate (price per unit) and volume (units), where GPU-hours say the units; and "
        "re-run the Monte Carlo with the months spent fixed at their actuals: the new P10-P90 of the programme "
        "and the cost of ownership, and the break-even. Areas: compute, dataset, eval, engineering, compliance, "
        "continuous_eval, serving, maintenance. Nothing is written.",
    )
    add_plan_file(track, "PLAN")
    add_actuals_options(
        track,
        dict(required=True, help="the cost export or plain CSV"),
        gpu_hours="measured compute GPU-hours to date: a number, or a CSV of month, gpu_hours "
        "(default: the export's GPU-hour quantities, if any)",
        area_tag="the FOCUS tag naming a row's area (ftcost-area)",
    )
    add_json_option(track, "print the figures as JSON")


def add_actuals_options(
    parser: argparse.ArgumentParser, actuals: dict[str, Any], gpu_hours: str, area_tag: str
) -> None:
    """``--actuals`` (its ``required`` and ``help`` in ``actuals``), ``--gpu-hours`` and
    ``--area-tag``: spend to date as ``track`` reads it, and ``report`` after it."""
    parser.add_argument("--actuals", type=Path, metavar="FILE", **actuals)
    parser.add_argument("--gpu-hours", default=None, metavar="FILE-or-N", help=gpu_hours)
    parser.add_argument("--area-tag", default="ftcost-area", metavar="KEY", help=area_tag)


# --- diff -------------------------------------------------------------------------------------


def _diff(args: argparse.Namespace) -> int:
    """The change from one quote to another, attributed to prices, plan, calibration, model."""
    from ftcost_helpers.engine.firm import load_firm
    from ftcost_helpers.engine.headline import resolve_basis
    from ftcost_helpers.engine.requote import requote
    from ftcost_helpers.views.text_report import requote_text

    new_book = load_price_book(args.price_book, args.rates)
    old_book = load_price_book(args.old_price_book or args.price_book, args.old_rates)
    old, new = load_plan(args.old, old_book), load_plan(args.new, new_book)
    if old.currency != new.currency:  # one line naming both files and currencies, before any figure
        raise ParamsError(
            args.new,
            "currency",
            f"{new.currency}, but the earlier quote {shown_path(args.old)} is in {old.currency}: diff compares "
            "two quotes in one currency (give both files the same currency)",
        )
    basis = resolve_basis(new, load_firm().default_basis)
    with common.engine_guard(args.new):
        result = requote(old, old_book, new, new_book, basis, today=dt.date.today())
    print(common.finite_json(result.as_dict(), args.new) if args.json else requote_text(result))
    return common.EXIT_OK


def add_diff(commands: Any) -> None:
    diff = add_command(
        commands,
        "diff",
        _diff,
        help="a re-quote: the change from OLD to NEW and what caused it",
        description="Price the old client file on the old price book and the new one on the new, on the new "
        "plan's basis, and split the change in programme cost and cost of ownership into prices, plan (the keys "
        "that changed, listed), calibration, model and their interaction.",
    )
    diff.add_argument("old", type=Path, metavar="OLD", help="the client file of the earlier quote")
    diff.add_argument("new", type=Path, metavar="NEW", help="the client file of the new quote")
    diff.add_argument(
        "--old-price-book",
        type=Path,
        default=None,
        help="the price book of the earlier quote (default: the one --price-book names)",
    )
    diff.add_argument(
        "--old-rates", type=Path, default=None, help="the rates overlay of the earlier quote (default: none)"
    )
    add_json_option(diff, "print old, new, change_usd and attribution_usd as JSON")
