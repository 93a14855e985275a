"""``calibrate PLAN --log FILE [--pilot PILOT.yaml] [-o OUT.yaml] [--json]`` (issue 23).

Reads a pilot's log (:mod:`~ftcost_helpers.engine.readers.pilot_logs`), derives what it
measured and transfers it to the plan (:mod:`~ftcost_helpers.engine.calibration`), prints the
measurement and the ranges before and after, and with ``-o`` writes the client file with a
dated ``calibration`` block (ruamel.yaml round trip: the file's comments and order survive).
Every check runs before anything is written: a refused pilot writes nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from ftcost_helpers.engine.breakdown import Breakdown, estimate
from ftcost_helpers.engine.calibration import Calibrated, CalibrationError, PilotFile, calibrate
from ftcost_helpers.engine.loading import ParamsError, load_price_book
from ftcost_helpers.engine.money import amounts_in, code, usd, usd_range
from ftcost_helpers.engine.overrides import load_plan
from ftcost_helpers.engine.readers import read_text, read_yaml
from ftcost_helpers.engine.readers.pilot_logs import read_pilot_log
from ftcost_helpers.engine.schema import Calibration, Params
from ftcost_helpers.report.messages import say_error, shown_path

TRAINING_LINE = "Training runs"


def read_pilot_file(path: Path) -> PilotFile:
    """The ``--pilot`` YAML, strict: unknown keys and wrong types refused, one line each."""
    data = read_yaml(path)
    try:
        return PilotFile.model_validate(data)
    except ValidationError as error:
        problems = [(".".join(str(part) for part in e["loc"]) or "(file)", e["msg"]) for e in error.errors()]
        raise ParamsError.several(path, problems) from None


def _sig(value: float, digits: int = 4) -> float:
    """``value`` to ``digits`` significant figures (the block stays readable)."""
    return float(f"{float(value):.{digits}g}")


def _range(low: float, mode: float, high: float, digits: int = 4) -> dict[str, float]:
    return {"low": _sig(low, digits), "mode": _sig(mode, digits), "high": _sig(high, digits)}


def _training_line(breakdown: Breakdown) -> dict[str, float]:
    item = next(i for i in breakdown.line_items if i.area == "compute" and i.item.startswith(TRAINING_LINE))
    return {"low": round(item.low, 2), "base": round(item.base, 2), "high": round(item.high, 2)}


def _spread(values: Any, digits: int = 4) -> dict[str, float]:
    """(low, base, high) of a corners figure, lowest and highest whichever corner gives them."""
    array = np.broadcast_to(np.asarray(values, dtype=float), (3,))
    return {"low": _sig(array.min(), digits), "base": _sig(array[1], digits), "high": _sig(array.max(), digits)}


def ranges(breakdown: Breakdown) -> dict[str, Any]:
    """What ``--json`` shows before and after: hours per run (what the cost uses), the
    physics view's hours and utilisation, the training-runs line and memory per GPU."""
    c, gpus = breakdown.corners.compute, breakdown.params.training.gpus_per_run
    return {
        "hours_per_run": _spread(np.asarray(c.booked_gpu_hours_per_run, dtype=float) / gpus),
        "physics_hours_per_run": _spread(c.physics_hours_per_run),
        "utilisation": _spread(c.utilisation),
        "training_runs_usd": _training_line(breakdown),
        "memory_per_gpu_gb": round(float(breakdown.base.compute.memory_per_gpu_gb), 2),
    }


def calibration_block(
    result: Calibrated, before: Breakdown, log: str, log_format: str, pilot_date: dt.date, today: dt.date
) -> dict[str, Any]:
    """The ``calibration`` mapping written into the client file (see :class:`Calibration`)."""
    m, config = result.measurement, result.config
    per_million = result.tokens_per_run / 1e6
    low, mode, high = (hours / per_million for hours in result.hours_per_run)
    t = before.params.training
    hours_before = _spread(np.asarray(before.corners.compute.booked_gpu_hours_per_run) / t.gpus_per_run)
    utilisation_before = _spread(before.corners.compute.utilisation)
    return {
        "date": pilot_date,
        "calibrated_on": today,
        "hours_per_million_tokens": _range(low, mode, high),
        "utilisation": _range(*result.utilisation, digits=3),
        "memory_ratio": _sig(result.memory_ratio, 3),
        "widening": _sig(result.widening, 3),
        "calibrated_for": {
            "gpu": t.gpu,
            "gpus_per_run": t.gpus_per_run,
            "sequence_length": t.sequence_length,
            "micro_batch_size": t.micro_batch_size,
            "method": t.method,
        },
        "pilot": {
            "log": log,
            "log_format": log_format,
            "steps": m.steps,
            "warmup_steps_set_aside": m.warmup_steps,
            "gpu": config.gpu,
            "gpus": config.gpus,
            "micro_batch_size": config.micro_batch_size,
            "sequence_length": config.sequence_length,
            "method": config.method,
            "step_seconds": dict(zip(("low", "base", "high"), (_sig(x) for x in m.step_seconds), strict=True)),
            "tokens_per_second": _sig(m.tokens_per_second),
            "mfu": _sig(result.mfu, 3),
            **({"peak_memory_gb": _sig(m.peak_memory_gb, 3)} if m.peak_memory_gb is not None else {}),
            "estimated_memory_gb": _sig(result.estimated_memory_gb, 3),
        },
        "before": {
            "hours_per_run": hours_before,
            "utilisation": utilisation_before,
            "training_runs_usd": _training_line(before),
        },
    }


def _measurement_json(result: Calibrated) -> dict[str, Any]:
    m = result.measurement
    p10, p50, p90 = m.step_seconds
    return {
        "steps": m.steps,
        "warmup_steps_set_aside": m.warmup_steps,
        "timed_steps": m.timed_steps,
        "mean_only": m.mean_only,
        "step_seconds": {"p10": round(p10, 4), "p50": round(p50, 4), "p90": round(p90, 4)},
        "tokens_per_step": round(m.tokens_per_step, 1),
        "tokens_from_log": m.tokens_from_log,
        "tokens_per_second": round(m.tokens_per_second, 1),
        "mfu": round(result.mfu, 4),
        "peak_memory_gb": None if m.peak_memory_gb is None else round(m.peak_memory_gb, 3),
        "estimated_memory_gb": round(result.estimated_memory_gb, 3),
        "memory_ratio": round(result.memory_ratio, 4),
    }


def report(result: Calibrated, before: Breakdown, after: Breakdown, block: dict[str, Any]) -> dict[str, Any]:
    """``calibrate --json``: the pilot, its measurement, the transfer and the ranges before and after."""
    return {
        "pilot": {**result.config.__dict__, "date": block["date"].isoformat(), "log": block["pilot"]["log"]},
        "log_format": block["pilot"]["log_format"],
        "measurement": _measurement_json(result),
        "transfer": {"differences": result.differences, "widening": round(result.widening, 4)},
        "full_run": {
            "tokens_per_run": result.tokens_per_run,
            "hours_per_run": dict(
                zip(("low", "base", "high"), (round(h, 4) for h in result.hours_per_run), strict=True)
            ),
            "utilisation": dict(zip(("low", "base", "high"), (round(u, 4) for u in result.utilisation), strict=True)),
        },
        "before": ranges(before),
        "after": ranges(after),
    }


def _text(
    result: Calibrated, before: dict[str, Any], after: dict[str, Any], block: dict[str, Any], dated: bool = True
) -> str:
    m, c = result.measurement, result.config
    p10, p50, p90 = m.step_seconds
    warm = f"{m.warmup_steps} warm-up steps set aside, {m.timed_steps} timed"
    if m.mean_only and m.warmup_steps == 0:
        warm = "one mean over the whole run, warm-up included"
    transfer = ", ".join(result.differences) or "the plan's own configuration"
    when = f"on {block['date'].isoformat()}" if dated else f"undated (recorded as {block['date'].isoformat()}, today)"
    lines = [
        f"Pilot: {m.steps} steps of {c.model} on {c.gpus} × {c.gpu}, micro-batch {c.micro_batch_size}, "
        f"sequence {c.sequence_length}, {c.method}, {when} ({warm})",
        f"  step time {p50:.3f} s (P10 {p10:.3f}, P90 {p90:.3f}); {m.tokens_per_second:,.0f} tokens/s; "
        f"MFU {result.mfu:.1%}",
        f"  peak memory {'not in the log' if m.peak_memory_gb is None else f'{m.peak_memory_gb:.1f} GB'} "
        f"(estimated {result.estimated_memory_gb:.1f} GB; ratio {result.memory_ratio:.2f})",
        f"Transfer to the full run: {transfer}; band widened by {result.widening:.1%}",
        "",
        f"{'':28}{'before':>28}{'after':>28}",
    ]
    for key, label in (
        ("hours_per_run", "Hours per run"),
        ("utilisation", "Utilisation of peak"),
        ("training_runs_usd", f"Training runs ({code()})"),
    ):
        b, a = before[key], after[key]
        lines.append(f"{label:28}{_band(b):>28}{_band(a):>28}")
    lines.append(f"{'Memory per GPU (GB)':28}{before['memory_per_gpu_gb']:>28.1f}{after['memory_per_gpu_gb']:>28.1f}")
    return "\n".join(lines)


def _band(r: dict[str, float]) -> str:
    def f(x: float) -> str:
        return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"

    if r["low"] == r["high"]:
        return f(r["base"])
    return f"{f(r['low'])}–{f(r['high'])} ({f(r['base'])})"


def write_calibrated(plan_file: Path, out: Path, block: dict[str, Any], log: str) -> None:
    """The client file with ``block`` as its ``calibration`` (replacing one already there),
    comments kept, written whole to ``out`` (a temporary file renamed into place)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    yaml = YAML()
    yaml.preserve_quotes = True
    data = yaml.load(read_text(plan_file, 1_000_000))
    calibration = _commented(block, CommentedMap)
    if "calibration" in data:
        del data["calibration"]
    data["calibration"] = calibration
    calibration.yaml_set_start_comment(
        f"Written by `calibrate` on {block['calibrated_on'].isoformat()} from {log}: the pilot's hours\n"
        "and utilisation replace training.hours_per_run and the assumed utilisation while\n"
        "calibrated_for matches training. Delete this block to return to the booked hours.",
        indent=2,
    )
    folder = out.parent if str(out.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=".calibrate-", suffix=".yaml", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            yaml.dump(data, file)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _commented(value: Any, mapping: type) -> Any:
    """``value`` with its mappings as ruamel mappings; a range or band ({low, mode or base, high}) in flow style."""
    if not isinstance(value, dict):
        return value
    result = mapping()
    for key, item in value.items():
        result[key] = _commented(item, mapping)
    if set(value) <= {"low", "mode", "base", "high"}:
        result.fa.set_flow_style()
    return result


def calibrate_command(args: argparse.Namespace) -> int:
    """The ``calibrate`` command (see the module); 0 done, 1 a problem said in one line."""
    if args.out is not None and not args.out.parent.is_dir():
        say_error(f"{shown_path(args.out)}: -o: no such folder to write the calibrated plan in")
        return 1
    book = load_price_book(args.price_book, args.rates)
    plan: Params = load_plan(args.file, book)
    log = read_pilot_log(args.log)
    pilot = read_pilot_file(args.pilot) if args.pilot is not None else None
    source = str(args.pilot) if args.pilot is not None else "the plan"
    today = dt.date.today()
    try:
        uncalibrated = plan.model_copy(update={"calibration": None})
        result = calibrate(uncalibrated, book, log, pilot, source)
        before = estimate(uncalibrated, book, today=today, source=args.file)
        pilot_date = pilot.date if pilot is not None and pilot.date is not None else log.says.get("date", today)
        block = calibration_block(result, before, str(args.log), log.format, pilot_date, today)
        calibrated = uncalibrated.model_copy(update={"calibration": Calibration.model_validate(block)})
        after = estimate(calibrated, book, today=today, source=args.file)
    except CalibrationError as error:
        say_error(str(error))
        return 1
    except ValidationError as error:  # a derived figure outside the block's bounds (an MFU above 1...)
        first = error.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        say_error(
            f"{shown_path(args.log)}: the calibration it gives is out of bounds: calibration.{key}: {first['msg']}"
        )
        return 1
    summary = report(result, before, after, block)
    if args.json:
        text = json.dumps(summary, indent=2, default=str)
    else:
        dated = (pilot is not None and pilot.date is not None) or "date" in log.says
        with amounts_in(plan.currency):
            text = _text(result, summary["before"], summary["after"], block, dated)
    if args.out is not None:
        write_calibrated(args.file, args.out, block, str(args.log))
    print(text)
    if args.out is not None and not args.json:
        print(f"wrote {args.out}: the calibrated plan (estimate it to see the pilot-implied figures)")
    return 0


def calibration_sentence(calibration: dict[str, Any] | None) -> str | None:
    """One sentence on where the compute figures are calibrated, with the ranges before and
    after, from ``summary.json``'s ``calibration`` object (None without one)."""
    if not calibration:
        return None
    source = calibration["source"]
    if not calibration["applied"]:
        return f"Calibration {source} not applied: {calibration['not_applied_because']}."
    before, after = calibration["before"], calibration["after"]
    return (
        f"Calibrated {source}: hours per run {_between(after['hours_per_run'])} "
        f"(before {_between(before['hours_per_run'])}), utilisation {_between(after['utilisation'], True)} "
        f"(before {_between(before['utilisation'], True)}), training runs "
        f"{_money_band(after['training_runs_usd'])} (before {_money_band(before['training_runs_usd'])})."
    )


def _money_band(r: dict[str, float]) -> str:
    """A low–high band of money in the currency being written: ``EUR 821 – 1,643`` (one
    amount when equal; :mod:`~ftcost_helpers.engine.money`)."""
    return usd(r["low"]) if r["low"] == r["high"] else usd_range(r["low"], r["high"])


def _between(r: dict[str, float], percent: bool = False) -> str:
    """A low–high band in words: ``0.37–0.44 h``, ``34%–41%`` (one value when equal)."""

    def f(x: float) -> str:
        return f"{x:.0%}" if percent else f"{x:.2g}"

    band = f(r["low"]) if r["low"] == r["high"] else f"{f(r['low'])}–{f(r['high'])}"
    return band if percent else f"{band} h"


def calibration_note(calibration: dict[str, Any] | None) -> str:
    """The client document's note under the line items: where the compute figures are
    calibrated and their ranges before and after (empty without a calibration)."""
    import html

    sentence = calibration_sentence(calibration)
    return f'<p class="meta calibration">{html.escape(sentence)}</p>' if sentence else ""
