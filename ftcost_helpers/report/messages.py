"""The one-line error messages of the command line and the report runner.

A message that repeats user text (a name, a path, the engine's words about a file) is one
line however hostile that text is: values are quoted and cut short by the engine's
:func:`~ftcost_helpers.engine.loading.quoted`; whole lines have their control characters
written as escapes (an escape sequence never moves the terminal's cursor or colours it) and
are cut at :data:`LINE_SHOWN` characters.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ftcost_helpers.engine.loading import quoted

PATH_SHOWN = 200
"""Characters of a path a message repeats before cutting it short."""
LINE_SHOWN = 2_000
"""Characters of one error line before it is cut short."""


def one_line(text: str, limit: int = LINE_SHOWN) -> str:
    """``text`` with every control character (newline included) written as its escape
    (``\\x1b``, ``\\n``), cut to ``limit`` characters with an ellipsis and the full length."""
    shown = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    return shown if len(shown) <= limit else f"{shown[: limit - 1]}… ({len(shown):,} characters)"


def shown_path(path: str | Path) -> str:
    """A path as a message repeats it: quoted, cut short, control characters escaped."""
    return quoted(str(path), PATH_SHOWN)


def os_error_line(error: OSError) -> str:
    """One line for an error of the operating system: the path it names and the reason."""
    reason = error.strerror or str(error) or type(error).__name__
    return f"{shown_path(error.filename)}: {reason}" if error.filename is not None else reason


def say_error(text: str) -> None:
    """``error: text`` on stderr, as :func:`one_line` makes it."""
    print(f"error: {one_line(text)}", file=sys.stderr)


def say_note(text: str) -> None:
    """``note: text`` on stderr (an old key or id read in its new form), as :func:`one_line` makes it."""
    print(f"note: {one_line(text)}", file=sys.stderr)
