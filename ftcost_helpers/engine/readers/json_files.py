"""JSON a user names (a Hugging Face ``config.json``), bounded like the YAML reader.

Nesting deeper than :data:`MAX_JSON_DEPTH` is refused before the parser sees it (100,000
brackets would otherwise exhaust the recursion limit), as are numbers written with more than
:data:`MAX_NUMBER_CHARACTERS` characters (Python refuses a 4,300-digit integer with its own
message, and converting fewer still costs quadratic time), ``NaN``, ``Infinity`` and numbers
too large for a float. A refusal names the file and the key inside the document.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ftcost_helpers.engine.readers.errors import ParamsError, json_kind
from ftcost_helpers.engine.readers.files import read_text

MAX_JSON_DEPTH = 32
"""Deepest nesting of JSON objects and arrays (a config.json nests three or four levels)."""

MAX_NUMBER_CHARACTERS = 40
"""Characters of one JSON number at most (a config.json's largest, a rope theta or a token
id, has fewer than twenty)."""

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def _json_depth_line(text: str, limit: int) -> int | None:
    """The line where ``text`` first nests deeper than ``limit`` (None if it never does);
    brackets inside strings do not count. Linear, no recursion."""
    bare = _JSON_STRING.sub('""', text)
    depth = 0
    for match in _JSON_BRACKET.finditer(bare):
        depth += 1 if match.group() in "[{" else -1
        if depth > limit:
            return bare.count("\n", 0, match.start()) + 1
    return None


class _Refused:
    """A number the JSON reader will not take, kept in place so its key can be named."""

    def __init__(self, problem: str) -> None:
        self.problem = problem


def _number_problem(text: str) -> str | None:
    if len(text) > MAX_NUMBER_CHARACTERS:
        return f"a number of {len(text):,} characters (more than {MAX_NUMBER_CHARACTERS}): refused"
    return None


def _parse_int(text: str) -> int | _Refused:
    problem = _number_problem(text)
    return _Refused(problem) if problem else int(text)


def _parse_float(text: str) -> float | _Refused:
    problem = _number_problem(text)
    if problem:
        return _Refused(problem)
    value = float(text)
    return value if math.isfinite(value) else _Refused(f"{text} is too large for a number")


def _parse_constant(text: str) -> _Refused:
    return _Refused(f"{text} is not a number JSON allows")


def _first_refused(value: Any, where: tuple[str, ...] = ()) -> tuple[str, str] | None:
    """(key path, problem) of the first refused number in a parsed document (depth is
    already bounded, so the recursion is too)."""
    if isinstance(value, _Refused):
        return ".".join(where), value.problem
    items: Any = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _first_refused(item, (*where, str(key)))
        if found is not None:
            return found
    return None


def read_json(path: str | Path, cap: int, key: str = "") -> Any:
    """The JSON document in the regular file ``path``: at most ``cap`` bytes, nested at most
    :data:`MAX_JSON_DEPTH` levels, every number finite and of at most
    :data:`MAX_NUMBER_CHARACTERS` characters. A refusal names the file, and the key inside
    the document where there is one (else ``key``)."""
    text = read_text(path, cap, key)
    if not text.strip():
        raise ParamsError(path, key, "the file is empty, not a JSON document")
    deep = _json_depth_line(text, MAX_JSON_DEPTH)
    if deep is not None:
        raise ParamsError(path, key, f"refused: nested more than {MAX_JSON_DEPTH} levels deep (line {deep})")
    try:
        document = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    except json.JSONDecodeError as exc:
        raise ParamsError(path, key, f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except (ValueError, RecursionError) as exc:
        raise ParamsError(path, key, f"not valid JSON ({type(exc).__name__})") from None
    refused = _first_refused(document)
    if refused is not None:
        where, problem = refused
        raise ParamsError(path, where or key, problem)
    return document


def read_json_object(path: str | Path, cap: int, key: str = "") -> Mapping[str, Any]:
    """:func:`read_json` of a document that must be one object (a mapping of settings)."""
    document = read_json(path, cap, key)
    if not isinstance(document, dict):
        raise ParamsError(path, key, f"expected a JSON object of settings, found a JSON {json_kind(document)}")
    return document
