"""The six notebooks are their own source: ``notebooks/NN_name.ipynb`` (stored with example A's
outputs, which nbval compares) paired with ``notebooks/NN_name.md`` (MyST Markdown, jupytext),
the form a review diff reads. Either may be edited, in JupyterLab (jupytext saves both) or in
an editor; this tool keeps the pair in sync and the stored outputs deterministic.

    .venv/bin/python tools/notebooks.py              # sync, execute and store all six (make notebooks)
    .venv/bin/python tools/notebooks.py 05_roi       # only some
    .venv/bin/python tools/notebooks.py --check      # exit 1 if a pair is out of sync or a
                                                     # stored notebook is not clean

Syncing: when the two forms' cells differ, the one saved last wins (its cells, with the
notebook's outputs where a cell's source is unchanged). Storing: the notebook is executed top to
bottom from a scratch directory with its default parameters, then cleaned — cell ids
``NN-name-KK`` by position, execution counts 1..n, no timings, no widget state or outputs of
the ``panel`` cell, only the kernelspec and language name as metadata, the ``parameters`` tag
kept — and the text form is written from it.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

from ftcost_helpers.lab import KERNEL, TEXT_FORMAT, as_text, clean

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
MAX_BYTES = 1_000_000


def names() -> list[str]:
    return sorted(path.stem for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def notebook_path(name: str) -> Path:
    return NOTEBOOKS / f"{name}.ipynb"


def text_path(name: str) -> Path:
    return NOTEBOOKS / f"{name}.md"


def cell_inputs(nb: nbformat.NotebookNode) -> list[tuple[str, str, list[str]]]:
    """What a pair must agree on: each cell's type, source and tags."""
    return [(cell.cell_type, cell.source, list(cell.metadata.get("tags", []))) for cell in nb.cells]


def read_text_form(name: str) -> nbformat.NotebookNode:
    return jupytext.read(text_path(name), fmt=TEXT_FORMAT)


def synced(name: str) -> nbformat.NotebookNode:
    """The notebook with the cells of whichever form was saved last."""
    nb = nbformat.read(notebook_path(name), as_version=4)
    text = text_path(name)
    if not text.exists():
        return nb
    from_text = read_text_form(name)
    if cell_inputs(from_text) == cell_inputs(nb) or text.stat().st_mtime <= notebook_path(name).stat().st_mtime:
        return nb
    outputs = {cell.source: cell for cell in nb.cells if cell.cell_type == "code"}
    for cell in from_text.cells:
        previous = outputs.get(cell.source)
        if cell.cell_type == "code" and previous is not None:
            cell.outputs, cell.execution_count = previous.outputs, previous.execution_count
    from_text.metadata = nb.metadata
    return from_text


def execute(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Run top to bottom with the default parameters (example A) from a scratch directory,
    which also proves the notebook does not depend on the working directory."""
    with tempfile.TemporaryDirectory() as scratch:
        NotebookClient(
            nb,
            kernel_name=KERNEL,
            timeout=300,
            resources={"metadata": {"path": scratch}},
            record_timing=False,
            store_widget_state=True,  # nbclient needs it for Output widgets; clean() drops it
        ).execute()
    return nb


def errors(nb: nbformat.NotebookNode) -> list[str]:
    return [
        f"cell {cell.id}: {output.get('ename')}: {output.get('evalue')}"
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]


def store(name: str) -> Path:
    """Sync, execute, clean and store one notebook and its text form."""
    nb = synced(name)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb = clean(execute(clean(nb, name)), name)
    problems = errors(nb)
    if problems:
        raise SystemExit(f"{name}: " + "; ".join(problems))
    nbformat.validate(nb)
    path = notebook_path(name)
    nbformat.write(nb, path)
    text_path(name).write_text(as_text(nb), encoding="utf-8")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise SystemExit(f"{path}: {size:,} bytes, over the {MAX_BYTES:,} limit")
    print(f"{path.relative_to(ROOT)}: {size:,} bytes; {text_path(name).relative_to(ROOT)}")
    return path


def problems(name: str) -> list[str]:
    """Why a stored pair is not as ``store`` leaves it (empty when it is)."""
    nb = nbformat.read(notebook_path(name), as_version=4)
    found = []
    if not text_path(name).exists():
        return [f"notebooks/{name}.md is missing"]
    if cell_inputs(read_text_form(name)) != cell_inputs(nb):
        found.append(f"notebooks/{name}.md and .ipynb have different cells")
    elif text_path(name).read_text(encoding="utf-8") != as_text(nb):
        found.append(f"notebooks/{name}.md is not the text form of the notebook")
    cleaned = clean(nbformat.from_dict(nbformat.read(notebook_path(name), as_version=4)), name)
    if nbformat.writes(cleaned) != nbformat.writes(nb):
        found.append(f"notebooks/{name}.ipynb is not stored clean (ids, counts, metadata)")
    if any(cell.cell_type == "code" and cell.execution_count is None for cell in nb.cells):
        found.append(f"notebooks/{name}.ipynb has cells that were not executed")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebooks to store, e.g. 05_roi (default: all)")
    parser.add_argument("--check", action="store_true", help="only check the stored pairs; change nothing")
    args = parser.parse_args(argv)
    selected = args.names or names()
    if args.check:
        found = [problem for name in selected for problem in problems(name)]
        for problem in found:
            print(f"{problem}: run `make notebooks`")
        return 1 if found else 0
    for name in selected:
        store(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
