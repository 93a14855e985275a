"""What in an output folder is ftcost's: the report runner replaces, renames or removes only
that, and writes into a folder holding anything else only when told to.

The marks (every version of the runner has written them):

* a folder the runner made — a client's report, its staging folder, a report moved aside
  while its replacement lands, a failed client's folder — holds ``.source``: one line, the
  SHA-256 (hex) of its client file's path (:func:`~.slug.source_id`);
* an index page (``index.html``, and ``.index-<pid>.html`` while it is written) carries the
  page header :data:`~.index.INDEX_MARK`;
* the runner's write probe is an empty file ``.staging-<pid>-probe-<random>``.

A report folder written before folders recorded their file (no ``.source``, a slug name, a
``summary.json`` and a ``report.html``) counts as ftcost's when a folder is checked, though the
runner never replaces it. Everything else is the user's, whatever its name.
"""

from __future__ import annotations

import re
from pathlib import Path

from ftcost_helpers.engine.loading import quoted
from ftcost_helpers.report.index import REPORT_HTML, SOURCE_FILE, SUMMARY_JSON, is_index_page
from ftcost_helpers.report.slug import SAFE

SOURCE_LINE = re.compile(r"[0-9a-f]{64}\n?")
"""What ``.source`` holds (:func:`~.slug.source_id` and a newline)."""

MAX_SOURCE_BYTES = 200
"""A larger ``.source`` is not one the runner wrote (its line is 65 bytes)."""

LEFTOVER = re.compile(r"\.(?:staging|old)-[0-9]+-[a-z0-9]+(?:-[a-z0-9]+)*")
"""The names of a staging folder and of a report moved aside: ``.staging-<pid>-<slug>``."""

INDEX_LEFTOVER = re.compile(r"\.index-[0-9]+\.html")
"""The name of an index being written: ``.index-<pid>.html``."""

PROBE = re.compile(r"\.staging-[0-9]+-probe-[A-Za-z0-9_]+")
"""The name of the runner's write probe (``tempfile.mkstemp``; made and removed at once)."""

FAILED_DIR = "_failed"
INDEX_PAGE = "index.html"
FOREIGN_SHOWN = 3
"""How many of a folder's foreign entries a refusal names."""


def holds_source_mark(folder: Path) -> bool:
    """True when ``folder`` is a real folder (not a link) whose ``.source`` is the runner's."""
    mark = folder / SOURCE_FILE
    try:
        if folder.is_symlink() or not folder.is_dir() or mark.is_symlink() or not mark.is_file():
            return False
        if mark.stat().st_size > MAX_SOURCE_BYTES:
            return False
        return SOURCE_LINE.fullmatch(mark.read_text(encoding="ascii")) is not None
    except (OSError, UnicodeDecodeError):
        return False


def is_probe(path: Path) -> bool:
    """True when ``path`` is an empty file named like the runner's write probe."""
    try:
        return bool(PROBE.fullmatch(path.name)) and not path.is_symlink() and path.stat().st_size == 0
    except OSError:
        return False


def is_leftover(path: Path) -> bool:
    """True when ``path`` is what a run of the runner left: a staging folder, a report moved
    aside, an index being written, or its write probe, each proven by its mark."""
    name = path.name
    return (
        (LEFTOVER.fullmatch(name) is not None and holds_source_mark(path))
        or (INDEX_LEFTOVER.fullmatch(name) is not None and is_index_page(path))
        or is_probe(path)
    )


def _is_earlier_report(folder: Path) -> bool:
    """A report folder of a version that did not yet record its file (never replaced)."""
    return (
        SAFE.fullmatch(folder.name) is not None
        and not folder.is_symlink()
        and (folder / SUMMARY_JSON).is_file()
        and (folder / REPORT_HTML).is_file()
    )


def _is_failed_folder(folder: Path) -> bool:
    """``_failed/`` holding nothing but failed clients' folders (each with its mark)."""
    if folder.name != FAILED_DIR or folder.is_symlink() or not folder.is_dir():
        return False
    return all(holds_source_mark(entry) or _is_earlier_failure(entry) for entry in folder.iterdir())


def _is_earlier_failure(folder: Path) -> bool:
    """A failed client's folder of a version that did not yet record its file."""
    return SAFE.fullmatch(folder.name) is not None and not folder.is_symlink() and (folder / "error.txt").is_file()


def is_ftcosts(entry: Path) -> bool:
    """True when an entry of an output folder is one the runner wrote."""
    if entry.name == INDEX_PAGE:
        return is_index_page(entry)
    if SAFE.fullmatch(entry.name):
        return holds_source_mark(entry) or _is_earlier_report(entry)
    return _is_failed_folder(entry) or is_leftover(entry)


def foreign_entries(out_dir: Path) -> list[str]:
    """The names in ``out_dir`` that the runner did not write, sorted."""
    return sorted(entry.name for entry in out_dir.iterdir() if not is_ftcosts(entry))


def foreign_folder_problem(out_dir: Path) -> str | None:
    """Why a run should not write into ``out_dir`` (None when all in it is ftcost's): the
    first :data:`FOREIGN_SHOWN` foreign entries, each quoted (cut short, control characters
    escaped), and how many more."""
    foreign = foreign_entries(out_dir)
    if not foreign:
        return None
    shown = ", ".join(quoted(name) for name in foreign[:FOREIGN_SHOWN])
    more = len(foreign) - FOREIGN_SHOWN
    listed = shown + (f" and {more} more" if more > 0 else "")
    return (
        f"holds files ftcost did not write ({listed}); name a new or empty folder, or add "
        "--allow-other-files to write beside them (they are left as they are)"
    )
