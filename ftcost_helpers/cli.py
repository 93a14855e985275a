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
            text = "\n\n".join(
                [
                    headline_text(plan_headline(breakdown, simulation, basis), params.alternative.kind),
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
    rep.set_defaults(run=_report)
    book = commands.add_parser("pricebook", help="every price-book entry with its as-of date and source")
    book.set_defaults(run=_pricebook)
    models = commands.add_parser("models", help="the model catalogue (params/models.yaml), optionally searched")
    models.add_argument("query", nargs="*", help="words every listed model's name or licence contains")
    models.set_defaults(run=_models)
    gpus = commands.add_parser("gpus", help="the GPU catalogue (params/gpus.yaml) and the tiers each is priced on")
    gpus.set_defaults(run=_gpus)
    for command in commands.choices.values():
        _global_options(command, argparse.SUPPRESS)
    return parser


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
