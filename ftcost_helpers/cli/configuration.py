"""The training configuration: ``advise`` searches for the cheapest one that meets the
constraints, ``export`` writes the one the plan assumes in a trainer's own file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ftcost_helpers.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    add_command,
    add_json_option,
    add_plan_file,
    engine_guard,
    finite_json,
    iso_date,
    positive_int,
    print_problems,
    write_new_file,
)
from ftcost_helpers.engine.loading import ParamsError, load_price_book
from ftcost_helpers.engine.overrides import load_plan
from ftcost_helpers.report.messages import say_error, say_note, shown_path

# --- advise -----------------------------------------------------------------------------------

EXIT_NONE_MEETS, EXIT_ADVISE_BAD_INPUT = 1, 2
"""advise's exit status: 0 a plan meets the constraints, 1 none does, 2 the input is bad."""


def _advise(args: argparse.Namespace) -> int:
    """The cheapest configuration that fits, meets the deadline and the budget at confidence."""
    import time

    from ftcost_helpers.engine.advise import advise
    from ftcost_helpers.engine.uncertainty import simulate
    from ftcost_helpers.views.advice_text import advice_text

    try:
        book = load_price_book(args.price_book, args.rates)
        params = load_plan(args.file, book)
        constraints = _constraints(args, book)
    except ParamsError as error:
        print_problems(error)
        return EXIT_ADVISE_BAD_INPUT
    started = time.perf_counter()
    with engine_guard(args.file):
        advice = advise(params, book, simulate(params, book, source=args.file), constraints)
    seconds = time.perf_counter() - started
    print(finite_json(advice.as_dict(), args.file) if args.json else advice_text(advice, seconds))
    if advice.recommended is not None and args.write_scenario:
        from ftcost_helpers.views.keep import keep_scenario

        moved = {f"training.{key}": value for key, value in advice.recommended.configuration.overrides().items()}
        moved["training.hours_per_run"] = round(advice.recommended.hours_per_run, 2)
        kept = keep_scenario(args.file, moved, book, "the configuration advise recommended", "Recommended by advise")
        say_note(f"wrote the scenario {kept.name!r} into {shown_path(args.file)}")
    return EXIT_OK if advice.recommended is not None else EXIT_NONE_MEETS


def _constraints(args: argparse.Namespace, book: Any) -> Any:
    """advise's constraints from its options; an unknown GPU or tier is one problem naming it."""
    from ftcost_helpers.engine.advise import Constraints

    gpus = tuple(args.gpus.split(",")) if args.gpus else None
    tiers = tuple(args.tiers.split(",")) if args.tiers else None
    known_tiers = {tier for by_tier in book.gpu_rates_usd_per_gpu_hour.values() for tier in by_tier}
    for option, names, known in (
        ("--gpus", gpus, set(book.gpu_rates_usd_per_gpu_hour)),
        ("--tiers", tiers, known_tiers),
    ):
        unknown = sorted(set(names or ()) - known)
        if unknown:
            raise ParamsError("advise", option, f"unknown: {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    if not 0 < args.confidence < 1:
        raise ParamsError("advise", "--confidence", f"must lie between 0 and 1, got {args.confidence:g}")
    return Constraints(args.budget, args.deadline, gpus, tiers, args.confidence)


def add_advise(commands: Any) -> None:
    adv = add_command(
        commands,
        "advise",
        _advise,
        help="the cheapest configuration that fits, meets the deadline and the budget",
        description="Search method, GPU, tier, GPUs per run, micro-batch, checkpointing and optimizer: the "
        "physics decides fit and time, the Monte Carlo decides cost at the confidence. Prints the recommended "
        "configuration, the Pareto set of cost, time and risk, and why each rejected family failed. Exit status: "
        "0 a configuration meets the constraints, 1 none does, 2 the input is bad.",
    )
    add_plan_file(adv)
    adv.add_argument("--budget", type=float, default=None, metavar="USD", help="the programme's budget (USD)")
    adv.add_argument("--deadline", type=iso_date, default=None, metavar="DATE", help="training done by (YYYY-MM-DD)")
    adv.add_argument("--gpus", default=None, metavar="LIST", help="price-book GPUs to consider, e.g. h100_sxm,h200")
    adv.add_argument("--tiers", default=None, metavar="LIST", help="tiers to consider, e.g. neocloud_on_demand")
    adv.add_argument(
        "--confidence", type=float, default=0.8, metavar="C", help="the quantile the budget holds at (default 0.8)"
    )
    add_json_option(adv, "print the advice as JSON")
    adv.add_argument(
        "--write-scenario", action="store_true", help="add the recommendation to the client file as a scenario"
    )


# --- export -----------------------------------------------------------------------------------


def _export(args: argparse.Namespace) -> int:
    """The trainer configuration the plan assumes, on stdout or into a new file (``-o``)."""
    from ftcost_helpers.views.trainer_file import export_notes, export_text

    if args.pilot_steps is not None and args.format not in ("trl", "axolotl"):
        say_error("export: --pilot-steps: the step count lives in the trainer's file; use --format trl or axolotl")
        return EXIT_BAD_INPUT
    book = load_price_book(args.price_book, args.rates)
    params = load_plan(args.file, book)
    text = export_text(params, book, args.format, args.file, args.pilot_steps)
    if args.format == "deepspeed":
        for line in export_notes(params, args.format, args.file, args.pilot_steps):
            say_note(line)
    if args.output is None:
        print(text, end="")
        return EXIT_OK
    try:
        write_new_file(args.output, text)
    except FileExistsError:
        say_error(f"{shown_path(args.output)}: already exists; export never overwrites a file")
        return EXIT_BAD_INPUT
    print(f"wrote {shown_path(args.output)}", file=sys.stderr)
    return EXIT_OK


def add_export(commands: Any) -> None:
    export = add_command(
        commands,
        "export",
        _export,
        help="the training configuration the plan assumes (TRL, axolotl, DeepSpeed or accelerate)",
        description="Write the trainer configuration the costed plan implies: method, LoRA rank and targets, "
        "precision, optimizer, micro-batch, accumulation, checkpointing, sharding and offload, sequence length, "
        "in the key names the library documents. What the plan does not decide (data, learning rate) is left out "
        "and said in the file's header.",
    )
    add_plan_file(export)
    export.add_argument(
        "--format",
        required=True,
        choices=("trl", "axolotl", "deepspeed", "accelerate"),
        help="the library whose file to write: trl and axolotl (trainer YAML), deepspeed (JSON), accelerate (YAML)",
    )
    export.add_argument(
        "--pilot-steps",
        type=positive_int,
        default=None,
        metavar="N",
        help="a pilot of N optimizer steps whose log calibrate reads back (trl and axolotl)",
    )
    export.add_argument("-o", "--output", type=Path, default=None, metavar="OUT", help="a new file (default: stdout)")
