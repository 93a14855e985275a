"""No local path in a report folder: the executed notebooks name files as people know them.

Papermill records where it ran in every executed notebook: the absolute paths of the source
notebook, of the copy it wrote (in the batch's staging folder) and of the client file, in the
notebook's metadata and in the cell it injects (``params_file = "/home/…/acme.yaml"``). A
warning printed by a library can carry the path of the Python installation too. The
notebooks are the firm's working, not the client's, but they travel (to a reviewer, a
shared drive, a ticket), and a path names the analyst's machine, folders and user name.

:func:`forget_local_paths` rewrites each executed notebook once it is written, before the
report is moved into place: the client file and the notebooks as
:func:`~ftcost_helpers.engine.loading.display_path` shows them (relative to the project, else
the bare name), the staging folder as the report folder itself, and the project, the Python
installation and the home folder by placeholders. Embedded images are left as they are.

    forget_local_paths(staging, source, notebooks)
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ftcost_helpers.engine.loading import display_path, project_root

NOTEBOOK_SUFFIX = ".ipynb"


def _variants(path: Path) -> set[str]:
    """The spellings of ``path`` a notebook may hold: as given and resolved."""
    return {str(path), str(path.resolve())}


def path_replacements(staging: Path, source: Path, notebooks: Iterable[Path]) -> list[tuple[str, str]]:
    """(absolute path, what is shown instead), the longest first, so that a file inside a
    folder is replaced before the folder is."""
    pairs: dict[str, str] = {}
    for spelling in _variants(staging):
        pairs[spelling + "/"] = ""
        pairs[spelling] = "."
    for file in [source, *notebooks]:
        for spelling in _variants(file):
            pairs[spelling] = display_path(file)
    folders = [(project_root(), ""), (Path(sys.prefix), "<python>/"), (Path(sys.base_prefix), "<python>/")]
    folders.append((Path.home(), "~/"))
    for folder, shown in folders:
        for spelling in _variants(folder):
            if spelling != "/":
                pairs.setdefault(spelling.rstrip("/") + "/", shown)
    return sorted(pairs.items(), key=lambda pair: len(pair[0]), reverse=True)


def _replaced(text: str, pairs: Sequence[tuple[str, str]]) -> str:
    for path, shown in pairs:
        if path in text:
            text = text.replace(path, shown)
    return text


def without_paths(node: Any, pairs: Sequence[tuple[str, str]]) -> Any:
    """``node`` (a notebook's JSON: dicts, lists, strings) with every path in ``pairs``
    replaced; embedded images (``image/png`` and the like, base64) are not touched."""
    if isinstance(node, str):
        return _replaced(node, pairs)
    if isinstance(node, list):
        return [without_paths(item, pairs) for item in node]
    if isinstance(node, dict):
        return {key: value if _is_binary_image(key) else without_paths(value, pairs) for key, value in node.items()}
    return node


def _is_binary_image(key: str) -> bool:
    return key.startswith("image/") and not key.startswith("image/svg")


NOTEBOOK_JSON = {"sort_keys": True, "indent": 1, "separators": (",", ": "), "ensure_ascii": False}
"""How nbformat (and so papermill) writes a notebook: read and written back this way, a
notebook is byte for byte the same (the json module is some 14 times faster than nbformat,
which validates it again, and this runs in the batch's main process)."""


def forget_local_paths(folder: Path, source: Path, notebooks: Iterable[Path]) -> None:
    """Rewrite every executed notebook in ``folder`` (the client's staging folder) without
    the absolute paths of :func:`path_replacements`. Raises OSError when one cannot be
    read or written."""
    pairs = path_replacements(folder, source, notebooks)
    for path in sorted(folder.glob(f"*{NOTEBOOK_SUFFIX}")):
        text = path.read_text(encoding="utf-8")
        try:
            notebook = json.loads(text)
        except ValueError as error:  # papermill always writes JSON: a disk fault
            raise OSError(0, f"{path.name} could not be read ({error})") from None
        cleaned = json.dumps(without_paths(notebook, pairs), **NOTEBOOK_JSON) + "\n"
        if cleaned != text:
            path.write_text(cleaned, encoding="utf-8")
