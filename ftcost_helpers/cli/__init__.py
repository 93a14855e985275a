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

Here: the parser and :func:`main`'s last-resort handling. The commands, a module per concern,
each with a small ``add_<command>`` that registers it: :mod:`.plans` (init, validate,
estimate), :mod:`.reports` (report), :mod:`.catalogues` (pricebook, models, gpus),
:mod:`.configuration` (advise, export), :mod:`.engagement` (calibrate, track, diff); what they
share (exit statuses, the engine guard, common arguments) is in :mod:`.common`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ftcost_helpers.cli import catalogues, configuration, engagement, plans, reports
from ftcost_helpers.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_CLOSED_PIPE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    PlanNotComputable,
    add_global_options,
    engine_guard,
    finite_json,
    non_finite_keys,
    positive_int,
    say_refusal,
    write_new_file,
)
from ftcost_helpers.cli.configuration import EXIT_ADVISE_BAD_INPUT, EXIT_NONE_MEETS
from ftcost_helpers.cli.plans import clients_folder_problem
from ftcost_helpers.engine.loading import ParamsError
from ftcost_helpers.report.messages import os_error_line, say_error

__all__ = [
    "EXIT_ADVISE_BAD_INPUT",
    "EXIT_BAD_INPUT",
    "EXIT_CLOSED_PIPE",
    "EXIT_INTERRUPTED",
    "EXIT_NONE_MEETS",
    "EXIT_OK",
    "PlanNotComputable",
    "build_parser",
    "clients_folder_problem",
    "engine_guard",
    "finite_json",
    "main",
    "non_finite_keys",
    "positive_int",
    "write_new_file",
]

COMMANDS = (
    plans.add_init,
    plans.add_validate,
    plans.add_estimate,
    reports.add_report,
    catalogues.add_pricebook,
    catalogues.add_models,
    catalogues.add_gpus,
    configuration.add_export,
    engagement.add_track,
    engagement.add_calibrate,
    configuration.add_advise,
    engagement.add_diff,
)
"""Each command's registration, in the order ``--help`` lists them."""

DESCRIPTION = """What fine-tuning an open-weights model costs, and when it pays back.

Start a client with "init", check it with "validate" after every edit, read it with
"estimate", and hand over "report". Problems in a client file are listed one per line
as file: key: problem, and the command exits with status 1."""
EPILOG = """Run "python -m ftcost_helpers COMMAND --help" for what a command takes.

Exit status: 0 done; 1 a problem, one line each on stderr; 130 Ctrl-C; 143 SIGTERM;
141 when the program reading the output stops early (as with "| head"): nothing more is printed."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ftcost_helpers",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_global_options(parser, None)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(commands)
    for command in commands.choices.values():
        add_global_options(command, argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        status = args.run(args)
        sys.stdout.flush()  # a closed pipe is found here, not at exit
        return status
    except (ParamsError, PlanNotComputable) as error:
        return say_refusal(error)
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
