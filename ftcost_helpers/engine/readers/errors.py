"""The one error every reader raises: a named file is wrong, in lines ``file: key: problem``,
and how a message quotes what the user wrote (short, control characters escaped)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MAX_PROBLEMS_SHOWN = 40
"""A file with more problems than this lists the first ones and says how many more."""


class ParamsError(Exception):
    """A file the user named is wrong (a client file, a price book or overlay, a config.json):
    one problem or several (see :meth:`several`).

    ``str()`` is the message for the user, one line ``file: key: problem`` per problem;
    ``key`` and ``problem`` are the first problem's, ``problems`` holds them all."""

    def __init__(self, file: str | Path, key: str, problem: str) -> None:
        self.file, self.key, self.problem = str(file), key, problem
        self.problems: list[tuple[str, str]] = [(key, problem)]
        super().__init__(self._line(key, problem))

    @classmethod
    def several(cls, file: str | Path, problems: list[tuple[str, str]]) -> ParamsError:
        """One error carrying every (key, problem) of a file, in the order found."""
        error = cls(file, *problems[0])
        error.problems = list(problems)
        error.args = ("\n".join(error.lines()),)
        return error

    def _line(self, key: str, problem: str) -> str:
        return f"{self.file}: {key}: {problem}" if key else f"{self.file}: {problem}"

    def lines(self) -> list[str]:
        """One line per problem, at most :data:`MAX_PROBLEMS_SHOWN`, then how many more."""
        shown = [self._line(key, problem) for key, problem in self.problems[:MAX_PROBLEMS_SHOWN]]
        hidden = len(self.problems) - len(shown)
        return shown + ([f"{self.file}: ... and {hidden} more problem{'s' if hidden > 1 else ''}"] if hidden else [])


MAX_QUOTED = 60
"""Characters of a value a message quotes before cutting it short."""


def quoted(value: Any, limit: int = MAX_QUOTED) -> str:
    """``repr(value)`` for a message: control characters escaped, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text):,} characters)"


def json_kind(value: Any) -> str:
    """A JSON value's kind in JSON's own words (``true`` is a boolean, not a number)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return "null"


def json_text(value: Any, limit: int = MAX_QUOTED) -> str:
    """A value as JSON writes it (``true``, ``28.7``, ``"x"``), cut to ``limit`` characters."""
    try:
        text = json.dumps(value, ensure_ascii=True, default=repr)
    except (ValueError, RecursionError):
        text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text):,} characters)"
