"""YAML a user names (client files, price books, rates overlays, catalogues), read safely.

PyYAML's safe loader (on libyaml when built in) with a key given twice refused, a file over
:data:`MAX_FILE_BYTES` refused unread, nesting deeper than :data:`MAX_DEPTH` refused from
the event stream, and aliases that would expand past :data:`MAX_VALUES` values refused
before they are built. Errors say the file and the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ftcost_helpers.engine.readers.errors import ParamsError, quoted
from ftcost_helpers.engine.readers.files import read_text

MAX_FILE_BYTES = 1_000_000
"""A client file or price book is a few kilobytes; anything above 1 MB is refused unread."""

MAX_DEPTH = 32
"""Deepest nesting of mappings and lists (a client file nests three levels)."""

MAX_VALUES = 100_000
"""Most values a file may hold once its aliases are expanded (an alias bomb is refused
before it is built: a nine-level one of 418 bytes would expand to 10^9 values)."""

MERGE_TAG = "tag:yaml.org,2002:merge"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


_SAFE_LOADER: type = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
"""PyYAML's safe loader on libyaml's C parser when it is built in (about 10× faster to parse
than the pure-Python one); the Python one otherwise."""


class _StrictSafeLoader(_SAFE_LOADER):  # type: ignore[misc,valid-type]
    """PyYAML's safe loader that also refuses a key given twice in one mapping, a key that is
    not a plain scalar, and an unquoted date that is no date (naming the key and line)."""


def _mapping_without_duplicates(loader: _StrictSafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain name, not a list or mapping", key_node.start_mark
            )
        if key_node.tag == MERGE_TAG:
            continue
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {quoted(key)}", key_node.start_mark)
        seen.add(key)
        if value_node.tag == TIMESTAMP_TAG:
            _check_date(loader, key, value_node)
    loader.flatten_mapping(node)  # merge keys (<<: *anchor): the mapping's own keys win
    return loader.construct_mapping(node, deep=True)


class _NotADate(Exception):
    """An unquoted value shaped like a date that is none (``2026-02-30``)."""

    def __init__(self, key: Any, node: yaml.ScalarNode, reason: str) -> None:
        self.key, self.line = key, node.start_mark.line + 1
        super().__init__(f"{node.value} is not a date ({reason})")


def _check_date(loader: _StrictSafeLoader, key: Any, node: yaml.ScalarNode) -> None:
    try:
        loader.construct_yaml_timestamp(node)
    except ValueError as exc:
        raise _NotADate(key, node, str(exc)) from None


_StrictSafeLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


class _TooBig(Exception):
    """The YAML is over one of the limits; ``str()`` says which, ``line`` where."""

    def __init__(self, problem: str, line: int | None = None) -> None:
        self.line = line
        super().__init__(problem)


def _check_depth(text: str) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH` from the event stream (no tree built, no
    recursion), before the composer's recursion could overflow."""
    depth = 0
    for event in yaml.parse(text, Loader=_StrictSafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _TooBig(f"nested more than {MAX_DEPTH} levels deep", event.start_mark.line + 1)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _check_expanded_size(root: yaml.Node) -> None:
    """Refuse a document whose aliases expand to more than :data:`MAX_VALUES` values, counting
    each shared node once (memoised, so the count itself is linear in the file)."""
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()

    def size(node: yaml.Node) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in in_progress:
            raise _TooBig("an alias refers to the value that contains it", node.start_mark.line + 1)
        in_progress.add(id(node))
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        total = 1 + sum(size(child) for child in children)
        in_progress.discard(id(node))
        if total > MAX_VALUES:
            raise _TooBig(f"aliases expand to more than {MAX_VALUES:,} values", node.start_mark.line + 1)
        sizes[id(node)] = total
        return total

    size(root)


def _parse(text: str) -> Any:
    """The YAML document in ``text``, within the depth and size limits."""
    _check_depth(text)
    loader = _StrictSafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        _check_expanded_size(root)
        return loader.construct_document(root)
    finally:
        loader.dispose()


def read_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML mapping read with the safe loader from a regular file of at most
    :data:`MAX_FILE_BYTES` (:func:`~ftcost_helpers.engine.readers.files.read_text`), within
    the depth and alias limits above; errors say the file and the line, and quote at most
    :data:`~ftcost_helpers.engine.readers.errors.MAX_QUOTED` characters."""
    path = Path(path)
    text = read_text(path, MAX_FILE_BYTES)
    try:
        data = _parse(text)
    except _NotADate as exc:
        raise ParamsError(path, f"{exc.key} (line {exc.line})", str(exc)) from None
    except _TooBig as exc:
        raise ParamsError(path, f"line {exc.line}" if exc.line else "", f"refused: {exc}") from None
    except ValueError as exc:  # PyYAML's own constructors
        raise ParamsError(path, "", f"malformed YAML value: {quoted(str(exc))}") from None
    except RecursionError:
        raise ParamsError(path, "", f"refused: nested more than {MAX_DEPTH} levels deep") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}" if mark is not None else "YAML"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ParamsError(path, line, f"malformed YAML: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParamsError(path, "", f"expected a mapping of keys, found {type(data).__name__}")
    return data
