""" "Keep as scenario": a panel's moved settings written into the client file they came from.

The moved settings become one more item of the file's ``scenarios:`` list (the key is added
when the file has none; a second ``scenarios:`` key is never written). The file is edited
with a round-trip YAML library (ruamel.yaml), so its comments, key order, flow mappings and
indentation stay as they were, and the numbers carry no binary float noise (a value a control
can express is written as the control shows it: ``729``, not ``728.9999999999999``; ``16``,
not ``16.0``). The whole resulting file is validated the way ``python -m ftcost_helpers
validate`` validates it (the plan and every scenario merged over it) before anything is
written; then it replaces the file atomically (a temporary file beside it, renamed over it).
A file that would not validate is never touched: the problem is said instead.

Where a panel has no client file (parameters injected by papermill), the moved settings are
shown as a block to paste instead (:func:`scenario_block`).
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import html
import io
import math
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ftcost_helpers.engine.loading import ParamsError, display_path, load_price_book
from ftcost_helpers.engine.overrides import load_plan
from ftcost_helpers.engine.pricebook import PriceBook

SCENARIO_NAME = "Moved in the workshop panel"
"""The name of a kept scenario (then "… (2)", "… (3)" when the file has it already)."""
SIGNIFICANT_DIGITS = 12
"""Digits a kept number keeps. A control expresses at most 11 (USD 999,999,999.99 in a money
field) and binary float noise sits in the 16th-17th (``0.1 + 0.2 = 0.30000000000000004``),
so rounding here removes the noise and nothing a person set."""
INDENTS = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (4, 4, 0), (2, 3, 1))
"""(mapping, sequence, dash offset) indentations tried, the file's own kept: the first that
writes the file back unchanged (``  - name:`` under ``scenarios:`` is (2, 4, 2))."""


@dataclass(frozen=True)
class Kept:
    """A scenario written into a client file."""

    path: Path
    name: str
    block: str
    """The lines added to the file, as they stand there (valid YAML under its ``scenarios:``)."""
    scenarios: int
    """How many scenarios the file holds now."""


def tidy(value: Any) -> Any:
    """A value as a person would write it: floats to :data:`SIGNIFICANT_DIGITS` significant
    digits, whole ones as integers (``728.9999999999999`` → ``729``, ``16.0`` → ``16``,
    ``0.30000000000000004`` → ``0.3``); mappings and lists tidied through; anything else as is."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float) or type(value).__module__ == "numpy":
        number = float(value)
        if not math.isfinite(number):
            return number
        number = float(f"{number:.{SIGNIFICANT_DIGITS}g}")
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if isinstance(value, Mapping):
        return {key: tidy(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [tidy(item) for item in value]
    return value


def nested_overrides(moved: Mapping[str, Any]) -> dict[str, Any]:
    """``{"training.runs": 16}`` → ``{"training": {"runs": 16}}`` (values tidied)."""
    overrides: dict[str, Any] = {}
    for path, value in moved.items():
        *parents, leaf = path.split(".")
        section = overrides
        for part in parents:
            section = section.setdefault(part, {})
        section[leaf] = tidy(value)
    return overrides


def _yaml(indent: tuple[int, int, int] = INDENTS[0]) -> Any:
    from ruamel.yaml import YAML

    yaml = YAML()  # round trip: comments, order, flow style and quotes kept
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long line the file has
    mapping, sequence, offset = indent
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    yaml.Representer = _representer()
    return yaml


@functools.cache
def _representer() -> type:
    """ruamel's round-trip representer writing ``null`` for None (its own writes nothing after
    the colon), as a class of our own: ruamel's is left as it is for any other user."""
    from ruamel.yaml.representer import RoundTripRepresenter

    class Representer(RoundTripRepresenter):
        pass

    Representer.add_representer(type(None), _null)
    return Representer


def _null(representer: Any, _value: None) -> Any:
    """``null`` written out (ruamel's round trip writes nothing after the colon)."""
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def _dump(yaml: Any, data: Any) -> str:
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()


def _entry(name: str, overrides: Mapping[str, Any], description: str = "") -> Any:
    """The scenario as the examples write theirs: name, description, then the overrides, each
    section's own values on one line (``training: {tier: ..., runs: 16}``)."""
    from ruamel.yaml.comments import CommentedMap

    def section(values: Mapping[str, Any]) -> Any:
        mapping = CommentedMap()
        for key, value in values.items():
            mapping[key] = section(value) if isinstance(value, Mapping) else value
        if not any(isinstance(value, Mapping) for value in values.values()):
            mapping.fa.set_flow_style()
        return mapping

    entry = CommentedMap()
    entry["name"] = name
    if description:
        entry["description"] = description
    block = CommentedMap()
    for key, value in overrides.items():
        block[key] = section(value) if isinstance(value, Mapping) else value
    entry["overrides"] = block
    return entry


def scenario_block(moved: Mapping[str, Any], name: str = SCENARIO_NAME, description: str = "") -> str:
    """The moved settings as a whole ``scenarios:`` block, for a file that has none (empty when
    nothing moved)."""
    if not moved:
        return ""
    from ruamel.yaml.comments import CommentedMap

    return _dump(_yaml(), CommentedMap(scenarios=[_entry(name, nested_overrides(moved), description)]))


def _file_yaml(text: str, path: Path) -> tuple[Any, Any]:
    """(yaml, document): the file read for a round trip, with the indentation that writes it
    back unchanged (or the common one when none does)."""
    from ruamel.yaml.error import YAMLError

    for indent in INDENTS:
        yaml = _yaml(indent)
        try:
            data = yaml.load(text)
        except YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark is not None else ""
            problem = getattr(error, "problem", None) or str(error).splitlines()[0]
            raise ParamsError(display_path(path), where, f"malformed YAML: {problem}") from None
        if data is not None and not hasattr(data, "items"):
            raise ParamsError(display_path(path), "", "expected a mapping of keys")
        if data is None or _dump(yaml, data) == text:
            return yaml, data
    yaml = _yaml()
    return yaml, yaml.load(text)


def free_name(taken: set[str], name: str = SCENARIO_NAME) -> str:
    """``name``, or ``name (2)``, ``name (3)``... : the first the file does not use."""
    if name not in taken:
        return name
    number = 2
    while f"{name} ({number})" in taken:
        number += 1
    return f"{name} ({number})"


def with_scenario(
    text: str, path: Path, moved: Mapping[str, Any], description: str = "", name: str = SCENARIO_NAME
) -> tuple[str, str]:
    """(the file's new text, the scenario's name): ``text`` with the moved settings appended
    to its ``scenarios`` list (created at the end when absent)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    yaml, data = _file_yaml(text, path)
    if data is None:
        data = CommentedMap()
    scenarios = data.get("scenarios")
    if scenarios is None:
        scenarios = CommentedSeq()
        data["scenarios"] = scenarios
    elif not isinstance(scenarios, list):
        raise ParamsError(display_path(path), "scenarios", "is not a list, so no scenario can be added to it")
    if isinstance(scenarios, CommentedSeq) and scenarios.fa.flow_style():
        scenarios.fa.set_block_style()
    taken = {str(item.get("name")) for item in scenarios if hasattr(item, "get")}
    name = free_name(taken, name)
    scenarios.append(_entry(name, nested_overrides(moved), description))
    return _dump(yaml, data), name


def added_lines(old: str, new: str) -> str:
    """The lines ``new`` adds to ``old`` (the kept scenario as it stands in the file)."""
    before, after = old.splitlines(keepends=True), new.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    return "".join(
        "".join(after[j1:j2]) for tag, _i1, _i2, j1, j2 in matcher.get_opcodes() if tag in ("insert", "replace")
    )


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Exclusive use of ``path`` among writers that lock it too (two kernels keeping into one
    file one after the other, never both from the same old text). The lock is taken again
    when the file was replaced while waiting for it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        yield
        return
    while True:
        with path.open("rb") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                if os.fstat(handle.fileno()).st_ino == path.stat().st_ino:
                    yield
                    return
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def keep_scenario(
    path: str | Path,
    moved: Mapping[str, Any],
    book: PriceBook | None = None,
    description: str = "",
    name: str = SCENARIO_NAME,
) -> Kept:
    """Append the moved settings (``{dotted path: value}``) to client file ``path`` as a scenario.

    The new text is validated as ``validate`` would validate the file (plan and scenarios,
    :func:`~ftcost_helpers.engine.overrides.load_plan`) from a temporary file beside it, which
    then replaces the file in one rename (same permissions). Raises :class:`ParamsError` naming
    the file, the key and the problem, and leaves the file untouched, when anything fails."""
    path = Path(path)
    if not moved:
        raise ParamsError(display_path(path), "", "nothing moved: the panel shows the client file as filed")
    book = book or load_price_book()
    with _locked(path):
        old = path.read_text(encoding="utf-8")
        new, name = with_scenario(old, path, moved, description, name)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".keep.tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(new)
            os.chmod(temporary, path.stat().st_mode & 0o7777)
            try:
                plan = load_plan(temporary, book)
            except ParamsError as error:
                error.file = display_path(path)
                raise ParamsError.several(error.file, error.problems) from None
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
    return Kept(path, name, added_lines(old, new), len(plan.scenarios))


# ---------------------------------------------------------------- the panel's button


def keep(panel: Any, book: PriceBook | None = None) -> Kept | None:
    """The "Keep as scenario" button: the panel's moved settings (``panel.moved()``) written
    into its client file (``panel.client_file``) and the lines added shown; with no client file,
    the block to paste; nothing moved, or a file that would not validate, said in words."""
    moved = panel.moved()
    view = panel.scenario_view
    if not moved:
        view.value = "<div>Nothing moved yet: the panel shows the client file as filed.</div>"
        return None
    path = getattr(panel, "client_file", None)
    description = f"kept from the {str(panel.title).split(':')[0].lower()} panel"
    if path is None:
        text = scenario_block(moved, description=description)
        view.value = (
            "<div>Not written into a file here (parameters injected into the notebook, or an example "
            "the whole workshop shares: copy it to <code>workshop/clients/</code> to keep scenarios "
            "in your own file). The block to add to a client file (under its own <code>scenarios:</code>, "
            "without this block's first line, where it has one):"
            f"<pre class='ftcost-scenario'>{html.escape(text)}</pre></div>"
        )
        return None
    try:
        kept = keep_scenario(path, moved, book or panel.book, description)
    except (ParamsError, OSError) as error:
        lines = error.lines() if isinstance(error, ParamsError) else [f"{display_path(Path(path))}: {error}"]
        items = "".join(f"<li><code>{html.escape(line)}</code></li>" for line in lines)
        view.value = f"<div class='ftcost-keep-refused'>Not kept (the file is unchanged):<ul>{items}</ul></div>"
        return None
    shown = html.escape(display_path(kept.path))
    view.value = (
        f"<div class='ftcost-kept'>Kept as <b>{html.escape(kept.name)}</b> in <code>{shown}</code> "
        f"(validated; {kept.scenarios} scenario{'s' if kept.scenarios != 1 else ''} there now). "
        f"Added to the file:<pre class='ftcost-scenario'>{html.escape(kept.block)}</pre></div>"
    )
    return kept
