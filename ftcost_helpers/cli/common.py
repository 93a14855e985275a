"""What every command shares: the exit statuses, the one-line error handling around the
engine, the file writes that never overwrite, and the arguments several commands take (the
client file, ``--json``, whole numbers and dates, the price book and rates overlay)."""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ftcost_helpers.engine.loading import ParamsError
from ftcost_helpers.report.messages import say_error, shown_path

EXIT_OK, EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_CLOSED_PIPE = 0, 1, 130, 141

Command = Callable[[argparse.Namespace], int]
"""A command's body: the parsed arguments in, the exit status out."""


class PlanNotComputable(Exception):
    """The engine could not turn an accepted plan into finite figures; ``str()`` is one line."""


def print_problems(error: ParamsError) -> None:
    """Every problem of a file, one ``error: file: key: problem`` line each, on stderr."""
    for line in error.lines():
        say_error(line)


def say_refusal(error: ParamsError | PlanNotComputable) -> int:
    """A refused input said on stderr (a line per problem of a file, or the one line of a plan
    the engine cannot cost); :data:`EXIT_BAD_INPUT`."""
    if isinstance(error, ParamsError):
        print_problems(error)
    else:
        say_error(str(error))
    return EXIT_BAD_INPUT


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


def guarded(command: Command) -> Command:
    """``command`` run inside :func:`engine_guard` on its ``args.file``."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        with engine_guard(args.file):
            return command(args)

    return run


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


# --- arguments --------------------------------------------------------------------------------


def positive_int(text: str) -> int:
    """An argument that must be a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def iso_date(text: str) -> dt.date:
    """An argument that must be a date YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def add_command(
    commands: Any, name: str, run: Command, help: str, description: str | None = None
) -> argparse.ArgumentParser:
    """A command ``name`` on the ``commands`` subparsers, running ``run``."""
    parser = commands.add_parser(name, help=help, description=description)
    parser.set_defaults(run=run)
    return parser


def add_plan_file(parser: argparse.ArgumentParser, metavar: str = "FILE", help: str = "the client file") -> None:
    """The client file a command reads, its first positional argument (``args.file``)."""
    parser.add_argument("file", type=Path, metavar=metavar, help=help)


def add_json_option(parser: argparse.ArgumentParser, help: str) -> None:
    """``--json``: the command's figures as JSON instead of text (``args.json``)."""
    parser.add_argument("--json", action="store_true", help=help)


def add_global_options(parser: argparse.ArgumentParser, default: object) -> None:
    """Options every command takes, before or after its name (``default``: None on the main
    parser, SUPPRESS on a command's, so an option given before the command survives)."""
    parser.add_argument(
        "--price-book", type=Path, default=default, help="price book YAML (default params/pricebook.yaml)"
    )
    parser.add_argument(
        "--rates", type=Path, default=default, help="a dated rates overlay merged over the price book (same shape)"
    )
