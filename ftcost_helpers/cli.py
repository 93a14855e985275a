"""Command line: python -m ftcost_helpers init | validate | estimate | report.

Errors in parameter files print one line per problem (file: key: problem) and exit 1;
nothing prints a traceback to the user. Every other problem is one line too: a file or
folder that cannot be read or written (its path and the system's reason), a plan the engine
cannot turn into finite figures (the file, and the key when the engine names one). User text
a message repeats (a name, a path) is cut short and its control characters escaped
(:mod:`~ftcost_helpers.report.messages`), and no error line holds a control character.

Exit status: 0 done; 1 a problem, said on stderr; 130 Ctrl-C, 143 SIGTERM; 141 when whatever
reads the output stops reading (``estimate FILE | head -1``): the command ends quietly, as a
program killed by SIGPIPE does (128 + 13), so a pipeline run with ``set -o pipefail`` can tell
a cut-short output from a whole one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import sys
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from ftcost_helpers.engine.loading import ParamsError, load_price_book, notice_lines, quoted
from ftcost_helpers.engine.overrides import load_plan
from ftcost_helpers.report.messages import PATH_SHOWN, one_line, os_error_line, say_error, say_note, shown_path

EXIT_OK, EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_CLOSED_PIPE = 0, 1, 130, 141


class PlanNotComputable(Exception):
    """The engine could not turn an accepted plan into finite figures; ``str()`` is one line."""


def _print_problems(error: ParamsError) -> None:
    """Every problem of a file, one ``error: file: key: problem`` line each, on stderr."""
    for line in error.lines():
        say_error(line)


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
        summary = summarise(breakdown, simulation, basis, compute_draws=True)
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


@contextmanager
def engine_guard(file: Path) -> Iterator[None]:
    """The last resort around the engine's arithmetic on an accepted plan: an
    ArithmeticError (overflow, division by zero) or a ValueError (a NaN or an infinity where
    a whole number is needed) becomes :class:`PlanNotComputable`, one line naming the file
    and the engine's own words (which name the key when it knows it). The schema's bounds
    should keep such plans out; this keeps a gap in them from becoming a traceback."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # numpy's "overflow encountered": said below
            yield
    except ParamsError:
        raise
    except (ArithmeticError, ValueError) as error:
        reason = str(error) or type(error).__name__
        raise PlanNotComputable(
            f"{shown_path(file)}: its figures cannot be computed ({reason}); an input is outside "
            "what the model can cost (a value near zero or infinity?)"
        ) from None


def finite_json(summary: dict[str, Any], file: Path) -> str:
    """``summary`` as JSON (indented), refusing Infinity and NaN, which JSON does not have:
    PlanNotComputable names the first key holding one."""
    keys = non_finite_keys(summary)
    if keys:
        more = f" (and {len(keys) - 1} more)" if len(keys) > 1 else ""
        raise PlanNotComputable(
            f"{shown_path(file)}: {keys[0]}{more}: is not a finite number, so no figures are printed "
            "(an input is infinite, or so near zero or infinity that the arithmetic overflows)"
        )
    return json.dumps(summary, indent=2, allow_nan=False)


def non_finite_keys(value: Any, key: str = "") -> list[str]:
    """The dotted keys (``a.b.0``) under ``value`` whose number is an infinity or NaN."""
    if isinstance(value, float):
        return [] if math.isfinite(value) else [key or "(the summary)"]
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return []
    return [found for k, v in items for found in non_finite_keys(v, f"{key}.{k}" if key else str(k))]


def _validate(args: argparse.Namespace) -> int:
    book = load_price_book(args.price_book, args.rates)
    status = EXIT_OK
    for file in args.files:
        try:
            with engine_guard(file):
                plan = load_plan(file, book)
        except ParamsError as error:
            _print_problems(error)
            status = EXIT_BAD_INPUT
        except PlanNotComputable as error:
            say_error(str(error))
            status = EXIT_BAD_INPUT
        else:
            for line in notice_lines(plan, file):
                say_note(line)
            _calibration_notice(plan, file)
            print(f"ok: {one_line(str(file), PATH_SHOWN)}")
    return status


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


def write_new_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, which must not exist (FileExistsError); a file this call
    made and could not finish (a full disk) is removed before the OSError goes on."""
    file = path.open("x", encoding="utf-8")
    try:
        with file:
            file.write(text)
    except OSError:
        path.unlink(missing_ok=True)
        raise


def clients_folder_problem(folder: Path) -> str | None:
    """Why ``init`` cannot write a client file in ``folder`` (None when it can)."""
    if not folder.exists():
        return "no such folder (init writes client files there; make it, or run init from the project)"
    if not folder.is_dir():
        return "is not a folder (init writes client files in a folder of that name)"
    if not os.access(folder, os.W_OK | os.X_OK):
        return "cannot write in this folder (read-only)"
    return None


def _report(args: argparse.Namespace) -> int:
    from ftcost_helpers.report.runner import EXIT_INTERRUPTED, report_command

    if args.pdf:
        from ftcost_helpers.pdf import PdfError, find_chromium

        try:
            find_chromium()  # before the batch: a missing browser fails fast
        except PdfError as error:
            say_error(str(error))
            return EXIT_BAD_INPUT
    status = report_command(args)
    status = max(status, _report_pdfs(args)) if args.pdf and status != EXIT_INTERRUPTED else status
    return max(status, _client_packs(args)) if args.client_pack and status != EXIT_INTERRUPTED else status


def _client_packs(args: argparse.Namespace) -> int:
    """``report --client-pack``: after the reports (and their PDFs), what each client receives."""
    from ftcost_helpers.engine.loading import project_root
    from ftcost_helpers.report.pack import client_packs_command

    return client_packs_command(args.out if args.out is not None else project_root() / "reports")


def _report_pdfs(args: argparse.Namespace) -> int:
    """``report --pdf``: print every report in the output folder whose PDF is missing or stale."""
    from ftcost_helpers.engine.loading import project_root
    from ftcost_helpers.pdf import PdfError, reports_to_pdf

    out = Path(args.out if args.out is not None else project_root() / "reports")
    try:
        written = reports_to_pdf(out)
    except PdfError as error:
        say_error(str(error))
        return EXIT_BAD_INPUT
    from ftcost_helpers.report.index import ForeignIndex, write_index

    with suppress(ForeignIndex):  # not ftcost's: the batch said so, and left it as it is
        write_index(out)  # with its PDF links
    print(f"{len(written)} PDF report{'' if len(written) == 1 else 's'} written")
    return EXIT_OK


def _pricebook(args: argparse.Namespace) -> int:
    from ftcost_helpers.views.text_report import price_book_text

    print(price_book_text(load_price_book(args.price_book, args.rates), dt.date.today()))
    return EXIT_OK


def _models(args: argparse.Namespace) -> int:
    from ftcost_helpers.engine.catalogue import search_models
    from ftcost_helpers.engine.loading import load_models
    from ftcost_helpers.views.text_report import models_text

    found = search_models(load_models(), " ".join(args.query))
    print(models_text(found, load_models().as_of))
    return EXIT_OK if found else EXIT_BAD_INPUT


def _gpus(args: argparse.Namespace) -> int:
    from ftcost_helpers.engine.loading import load_gpus
    from ftcost_helpers.views.text_report import gpus_text

    print(gpus_text(load_gpus(), load_price_book(args.price_book, args.rates)))
    return EXIT_OK


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


def _diff(args: argparse.Namespace) -> int:
    """The change from one quote to another, attributed to prices, plan, calibration, model."""
    from ftcost_helpers.engine.firm import load_firm
    from ftcost_helpers.engine.headline import resolve_basis
    from ftcost_helpers.engine.requote import requote
    from ftcost_helpers.views.text_report import requote_text

    new_book = load_price_book(args.price_book, args.rates)
    old_book = load_price_book(args.old_price_book or args.price_book, args.old_rates)
    old, new = load_plan(args.old, old_book), load_plan(args.new, new_book)
    basis = resolve_basis(new, load_firm().default_basis)
    with engine_guard(args.new):
        result = requote(old, old_book, new, new_book, basis, today=dt.date.today())
    print(finite_json(result.as_dict(), args.new) if args.json else requote_text(result))
    return EXIT_OK


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
        _print_problems(error)
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


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _global_options(parser: argparse.ArgumentParser, default: object) -> None:
    """Options every command takes, before or after its name (``default``: None on the main
    parser, SUPPRESS on a command's, so an option given before the command survives)."""
    parser.add_argument(
        "--price-book", type=Path, default=default, help="price book YAML (default params/pricebook.yaml)"
    )
    parser.add_argument(
        "--rates", type=Path, default=default, help="a dated rates overlay merged over the price book (same shape)"
    )


DESCRIPTION = """What fine-tuning an open-weights model costs, and when it pays back.

Start a client with "init", check it with "validate" after every edit, read it with
"estimate", and hand over "report". Problems in a client file are listed one per line
as file: key: problem, and the command exits with status 1."""
EPILOG = """Run "python -m ftcost_helpers COMMAND --help" for what a command takes.

Exit status: 0 done; 1 a problem, one line each on stderr; 130 Ctrl-C; 143 SIGTERM;
141 when the program reading the output stops early (as with "| head"): nothing more is printed."""


def _follow_up_options(report: argparse.ArgumentParser) -> None:
    """``report``'s options for an engagement under way (one client file; issue 23)."""
    report.add_argument(
        "--previous",
        type=Path,
        default=None,
        metavar="OLD",
        help="the earlier quote (its client file, its report folder, or an output folder holding that): adds "
        "'Since the last quote', the change "
        "attributed to prices, plan, calibration and model, with a waterfall chart and a workbook sheet",
    )
    report.add_argument(
        "--previous-rates",
        type=Path,
        default=None,
        metavar="FILE",
        help="the rates overlay the earlier quote was priced with (default: the one its report folder kept, or none)",
    )
    report.add_argument(
        "--actuals",
        type=Path,
        default=None,
        metavar="FILE",
        help="spend to date (a FOCUS cost export or a plain CSV, as for track): adds 'Spend to date', forecast "
        "against actual, the rate/volume split and the re-forecast, with a burn-down chart and a workbook sheet",
    )
    report.add_argument(
        "--gpu-hours",
        default=None,
        metavar="FILE-or-N",
        help="with --actuals: measured compute GPU-hours (as for track)",
    )
    report.add_argument(
        "--area-tag", default="ftcost-area", metavar="KEY", help="with --actuals: the FOCUS tag naming a row's area"
    )


def _out_folder_options(report: argparse.ArgumentParser) -> None:
    """``report``'s options about whose files ``--out`` may hold."""
    report.add_argument(
        "--allow-other-files",
        action="store_true",
        help="write into an --out folder that holds files ftcost did not write (refused otherwise); "
        "they are left exactly as they are, an index.html among them included",
    )


def positive_int(text: str) -> int:
    """An argument that must be a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ftcost_helpers",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _global_options(parser, None)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    ini = commands.add_parser(
        "init",
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
    ini.set_defaults(run=_init)
    val = commands.add_parser(
        "validate",
        help="check client files; lists every problem",
        description="Check client files against the schema and the price book. Prints 'ok: FILE' or one line "
        "per problem; exits 1 if any file has a problem.",
    )
    val.add_argument("files", type=Path, nargs="+", metavar="FILE", help="client files to check")
    val.set_defaults(run=_validate)
    est = commands.add_parser(
        "estimate",
        help="cost breakdown of one client file",
        description="The cost breakdown of one client file: line items with their ranges, running costs, "
        "break-even, the audit's warnings and the Monte Carlo range.",
    )
    est.add_argument("file", type=Path, metavar="FILE", help="the client file")
    est.add_argument("--json", action="store_true", help="print the summary.json keys instead of a table")
    est.set_defaults(run=_estimate)
    rep = commands.add_parser(
        "report",
        help="full client reports and an index page",
        description="Client reports: executed notebooks, HTML, Excel and summary.json for each client, "
        "and reports/index.html.",
    )
    rep.add_argument(
        "files", type=Path, nargs="*", metavar="FILE", help="client files (default: every params/clients/*.yaml)"
    )
    rep.add_argument("--out", type=Path, default=None, metavar="FOLDER", help="output folder (default: reports/)")
    _out_folder_options(rep)
    rep.add_argument(
        "--jobs",
        type=positive_int,
        default=None,
        metavar="N",
        help="worker processes, at least 1 (default: the machine's cores)",
    )
    rep.add_argument("--kernel", default="python3", metavar="NAME", help="Jupyter kernel name (default: python3)")
    rep.add_argument(
        "--fresh-kernels", action="store_true", help="a new kernel for every notebook (default: one per client)"
    )
    rep.add_argument("--force", action="store_true", help="redo every client, even those whose report is unchanged")
    rep.add_argument("--pdf", action="store_true", help="also print each report.html to report.pdf (Debian's chromium)")
    rep.add_argument(
        "--client-pack",
        action="store_true",
        help="also write <report folder>/client-pack/: only what the client receives (PDF, workbook, page)",
    )
    _follow_up_options(rep)  # issue 23: --previous, --actuals
    rep.set_defaults(run=_report)
    book = commands.add_parser("pricebook", help="every price-book entry with its as-of date and source")
    book.set_defaults(run=_pricebook)
    models = commands.add_parser("models", help="the model catalogue (params/models.yaml), optionally searched")
    models.add_argument("query", nargs="*", help="words every listed model's name or licence contains")
    models.set_defaults(run=_models)
    gpus = commands.add_parser("gpus", help="the GPU catalogue (params/gpus.yaml) and the tiers each is priced on")
    gpus.set_defaults(run=_gpus)
    export = commands.add_parser(
        "export",
        help="the training configuration the plan assumes (TRL, axolotl, DeepSpeed or accelerate)",
        description="Write the trainer configuration the costed plan implies: method, LoRA rank and targets, "
        "precision, optimizer, micro-batch, accumulation, checkpointing, sharding and offload, sequence length, "
        "in the key names the library documents. What the plan does not decide (data, learning rate) is left out "
        "and said in the file's header.",
    )
    export.add_argument("file", type=Path, metavar="FILE", help="the client file")
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
    export.set_defaults(run=_export)
    _track_parser(commands)
    _calibrate_parser(commands)
    adv = commands.add_parser(
        "advise",
        help="the cheapest configuration that fits, meets the deadline and the budget",
        description="Search method, GPU, tier, GPUs per run, micro-batch, checkpointing and optimizer: the "
        "physics decides fit and time, the Monte Carlo decides cost at the confidence. Prints the recommended "
        "configuration, the Pareto set of cost, time and risk, and why each rejected family failed. Exit status: "
        "0 a configuration meets the constraints, 1 none does, 2 the input is bad.",
    )
    adv.add_argument("file", type=Path, metavar="FILE", help="the client file")
    adv.add_argument("--budget", type=float, default=None, metavar="USD", help="the programme's budget (USD)")
    adv.add_argument("--deadline", type=_date, default=None, metavar="DATE", help="training done by (YYYY-MM-DD)")
    adv.add_argument("--gpus", default=None, metavar="LIST", help="price-book GPUs to consider, e.g. h100_sxm,h200")
    adv.add_argument("--tiers", default=None, metavar="LIST", help="tiers to consider, e.g. neocloud_on_demand")
    adv.add_argument(
        "--confidence", type=float, default=0.8, metavar="C", help="the quantile the budget holds at (default 0.8)"
    )
    adv.add_argument("--json", action="store_true", help="print the advice as JSON")
    adv.add_argument(
        "--write-scenario", action="store_true", help="add the recommendation to the client file as a scenario"
    )
    adv.set_defaults(run=_advise)
    diff = commands.add_parser(
        "diff",
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
    diff.add_argument("--json", action="store_true", help="print old, new, change_usd and attribution_usd as JSON")
    diff.set_defaults(run=_diff)
    for command in commands.choices.values():
        _global_options(command, argparse.SUPPRESS)
    return parser


# --- calibrate (issue 23) ------------------------------------------------------------------


def _calibrate(args: argparse.Namespace) -> int:
    from ftcost_helpers.report.calibrate import calibrate_command

    with engine_guard(args.file):
        return calibrate_command(args)


def _calibration_notice(plan: Any, file: Path) -> None:
    """A note when the plan's calibration block no longer matches its training."""
    from ftcost_helpers.engine.model.calibrated import calibration_mismatch

    mismatch = calibration_mismatch(plan)
    if mismatch is not None:
        say_note(f"{shown_path(file)}: calibration: not applied, {mismatch}")


def _calibrate_parser(commands: Any) -> None:
    cal = commands.add_parser(
        "calibrate",
        help="calibrate a plan's step time, utilisation and memory from a pilot run's log",
        description="Read a pilot run's log (Hugging Face trainer_state.json, a W&B run CSV export, Lightning's "
        "metrics.csv, torchtune metrics as CSV, or a plain CSV: step, seconds, tokens, peak_memory_gb), set "
        "aside its warm-up (the first 10% of steps, at least 5), measure the step time and its spread, tokens/s, "
        "MFU and peak memory, and carry them to the plan's full run, the band widened by 7.8% for each way the "
        "full run differs from the pilot. Prints the ranges before and after; -o writes the client file with a "
        "dated calibration block. Nothing is written when the log or the pilot is refused.",
    )
    cal.add_argument("file", type=Path, metavar="PLAN", help="the client file to calibrate")
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
    cal.add_argument(
        "--json", action="store_true", help="print the measurement and the ranges before and after as JSON"
    )
    cal.set_defaults(run=_calibrate)


# --- end of calibrate -----------------------------------------------------------------------


# --- track (issue 23) ----------------------------------------------------------------------


def _track(args: argparse.Namespace) -> int:
    from ftcost_helpers.report.track import track_command

    with engine_guard(args.file):
        return track_command(args)


def _track_parser(commands: Any) -> None:
    track = commands.add_parser(
        "track",
        help="actual spend against the forecast, the variance split, and the programme re-forecast",
        description="Read actual spend (a FOCUS cost export whose rows carry an ftcost-area tag, or a plain CSV: "
        "month, area, line, amount) and show it against the plan's forecast by month and area; split each "
        "area's variance into rate (price per unit) and volume (units), where GPU-hours say the units; and "
        "re-run the Monte Carlo with the months spent fixed at their actuals: the new P10-P90 of the programme "
        "and the cost of ownership, and the break-even. Areas: compute, dataset, eval, engineering, compliance, "
        "continuous_eval, serving, maintenance. Nothing is written.",
    )
    track.add_argument("file", type=Path, metavar="PLAN", help="the client file")
    track.add_argument("--actuals", type=Path, required=True, metavar="FILE", help="the cost export or plain CSV")
    track.add_argument(
        "--gpu-hours",
        default=None,
        metavar="FILE-or-N",
        help="measured compute GPU-hours to date: a number, or a CSV of month, gpu_hours "
        "(default: the export's GPU-hour quantities, if any)",
    )
    track.add_argument(
        "--area-tag", default="ftcost-area", metavar="KEY", help="the FOCUS tag naming a row's area (ftcost-area)"
    )
    track.add_argument("--json", action="store_true", help="print the figures as JSON")
    track.set_defaults(run=_track)


# --- end of track ---------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        status = args.run(args)
        sys.stdout.flush()  # a closed pipe is found here, not at exit
        return status
    except ParamsError as error:
        _print_problems(error)
        return EXIT_BAD_INPUT
    except PlanNotComputable as error:
        say_error(str(error))
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        return _closed_pipe()
    except OSError as error:
        say_error(os_error_line(error))
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _closed_pipe() -> int:
    """The reader of stdout went away (``| head -1``): end quietly with :data:`EXIT_CLOSED_PIPE`.
    What is left in stdout's buffer would fail again when Python flushes it at exit, so
    stdout is pointed at the null device first (Python's documented recipe, signal module)."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError):  # no real stdout (an in-process caller's): nothing to flush
        pass
    return EXIT_CLOSED_PIPE


if __name__ == "__main__":
    sys.exit(main())
