"""A client file's first commands: ``init`` writes it, ``validate`` checks it, ``estimate``
costs it."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import textwrap
from pathlib import Path
from typing import Any

from ftcost_helpers.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    PlanNotComputable,
    add_command,
    add_json_option,
    add_plan_file,
    engine_guard,
    finite_json,
    say_refusal,
    write_new_file,
)
from ftcost_helpers.engine.loading import ParamsError, load_price_book, notice_lines, quoted
from ftcost_helpers.engine.overrides import load_plan
from ftcost_helpers.report.messages import PATH_SHOWN, one_line, say_error, say_note, shown_path

# --- init -------------------------------------------------------------------------------------


def _init(args: argparse.Namespace) -> int:
    """Write ``params/clients/NAME.yaml`` from the commented template, never over a file."""
    from ftcost_helpers.engine.loading import params_dir
    from ftcost_helpers.engine.template import CLIENT_NAME, render_client

    if not CLIENT_NAME.fullmatch(args.name):  # said here, the name cut short (the engine repeats it whole)
        say_error(f"init: NAME: use letters, digits, '_' and '-' only (it names the file), got {quoted(args.name)}")
        return EXIT_BAD_INPUT
    folder = params_dir() / "clients"
    problem = clients_folder_problem(folder)
    if problem is not None:
        say_error(f"{shown_path(folder)}: {problem}")
        return EXIT_BAD_INPUT
    path = folder / f"{args.name}.yaml"
    text = render_client(args.name, path, load_price_book(args.price_book, args.rates), args.model, args.gpu)
    try:
        write_new_file(path, text)
    except FileExistsError:
        say_error(f"{path}: already exists; init never overwrites a client file")
        return EXIT_BAD_INPUT
    except OSError as error:
        say_error(f"{shown_path(path)}: cannot write it ({error.strerror or error})")
        return EXIT_BAD_INPUT
    print(f"wrote {path}: edit the figures marked 'starting figure', then run validate on it")
    return EXIT_OK


def clients_folder_problem(folder: Path) -> str | None:
    """Why ``init`` cannot write a client file in ``folder`` (None when it can)."""
    if not folder.exists():
        return "no such folder (init writes client files there; make it, or run init from the project)"
    if not folder.is_dir():
        return "is not a folder (init writes client files in a folder of that name)"
    if not os.access(folder, os.W_OK | os.X_OK):
        return "cannot write in this folder (read-only)"
    return None


def add_init(commands: Any) -> None:
    ini = add_command(
        commands,
        "init",
        _init,
        help="write a commented client file to start from",
        description="Write params/clients/NAME.yaml: every commonly used key with a comment on its unit, default "
        "and source, checked before it is written. An existing file is never overwritten.",
    )
    ini.add_argument("name", metavar="NAME", help="the client file's name: letters, digits, '_' and '-'")
    ini.add_argument(
        "--model", metavar="NAME", default=None, help="base model, e.g. Qwen/Qwen2.5-7B (default Qwen2.5-7B)"
    )
    ini.add_argument(
        "--gpu", metavar="NAME", default=None, help="price-book GPU for training and serving (default h100_sxm)"
    )


# --- validate ---------------------------------------------------------------------------------


def _validate(args: argparse.Namespace) -> int:
    book = load_price_book(args.price_book, args.rates)
    status = EXIT_OK
    for file in args.files:
        try:
            with engine_guard(file):
                plan = load_plan(file, book)
                costable(plan, book, file)
        except (ParamsError, PlanNotComputable) as error:
            status = say_refusal(error)
        else:
            for line in notice_lines(plan, file):
                say_note(line)
            calibration_notice(plan, file)
            print(f"ok: {one_line(str(file), PATH_SHOWN)}")
    return status


def costable(plan: Any, book: Any, file: Path) -> None:
    """Cost the plan's base case, its corners and each scenario's base case, as ``estimate``
    does first, so that a plan whose figures the model cannot produce (a product of inputs,
    each within its bound, past the model's 1e15: GPUs × hours × runs × rate) is refused by
    ``validate`` in the same line, naming the file, the scenario and the section. The Monte
    Carlo draws lie between the corners, and are not run here."""
    from ftcost_helpers.engine.breakdown import estimate
    from ftcost_helpers.engine.scenarios import compare_scenarios

    breakdown = estimate(plan, book, source=file)
    compare_scenarios(plan, breakdown.book, file)


def calibration_notice(plan: Any, file: Path) -> None:
    """A note when the plan's calibration block no longer matches its training (issue 23)."""
    from ftcost_helpers.engine.model.calibrated import calibration_mismatch

    mismatch = calibration_mismatch(plan)
    if mismatch is not None:
        say_note(f"{shown_path(file)}: calibration: not applied, {mismatch}")


def add_validate(commands: Any) -> None:
    val = add_command(
        commands,
        "validate",
        _validate,
        help="check client files; lists every problem",
        description="Check client files against the schema and the price book, and that the model can cost "
        "them (the base case, its corners and each scenario). Prints 'ok: FILE' or one line per problem; exits 1 "
        "if any file has a problem.",
    )
    val.add_argument("files", type=Path, nargs="+", metavar="FILE", help="client files to check")


# --- estimate ---------------------------------------------------------------------------------


def _estimate(args: argparse.Namespace) -> int:
    from ftcost_helpers.engine.breakdown import estimate
    from ftcost_helpers.engine.firm import load_firm
    from ftcost_helpers.engine.headline import plan_headline, resolve_basis
    from ftcost_helpers.engine.money import amounts_in
    from ftcost_helpers.engine.summary import summarise
    from ftcost_helpers.engine.uncertainty import simulate

    book = load_price_book(args.price_book, args.rates)
    params = load_plan(args.file, book)
    for line in notice_lines(params, args.file):
        say_note(line)
    basis = resolve_basis(params, load_firm().default_basis)
    with engine_guard(args.file), amounts_in(params.currency):
        breakdown = estimate(params, book, today=dt.date.today(), source=args.file)
        simulation = simulate(params, book, source=args.file)
        summary = summarise(breakdown, simulation, basis, compute_draws=True, source=args.file)
        text = finite_json(summary, args.file)  # the table shows the same figures: both or neither
        if not args.json:
            from ftcost_helpers.views.text_report import breakdown_text, headline_text, monte_carlo_text

            p10, p50, p90 = simulation.range_usd().values()
            from ftcost_helpers.report.calibrate import calibration_sentence

            calibrated = calibration_sentence(summary.get("calibration"))  # issue 23
            calibrated = textwrap.fill(calibrated, 100) if calibrated else None
            text = "\n\n".join(
                [headline_text(plan_headline(breakdown, simulation, basis), params.alternative.kind)]
                + ([calibrated] if calibrated else [])
                + [
                    breakdown_text(breakdown),
                    monte_carlo_text(simulation.draws, simulation.seed, p10, p50, p90),
                ]
            )
    print(text)
    return EXIT_OK


def add_estimate(commands: Any) -> None:
    est = add_command(
        commands,
        "estimate",
        _estimate,
        help="cost breakdown of one client file",
        description="The cost breakdown of one client file: line items with their ranges, running costs, "
        "break-even, the audit's warnings and the Monte Carlo range.",
    )
    add_plan_file(est)
    add_json_option(est, "print the summary.json keys instead of a table")
