"""JupyterLab on the stored notebooks, leaving ``git status`` clean after a look.

    .venv/bin/python -m ftcost_helpers.lab        # or: make lab

starts JupyterLab in ``notebooks/`` with :func:`store_clean` as the contents manager's
pre-save hook. A stored notebook (``notebooks/NN_name.ipynb``) is saved — by Ctrl-S or by
autosave after a run — in the form ``make notebooks`` stores it (:func:`clean`): cell ids by
position, execution counts 1..n, no timings, no cell metadata but tags, no outputs of the
``panel`` cell (the widgets live only in the kernel), only the kernelspec and language name
as notebook metadata; and its text pair (``NN_name.md``, which jupytext saves beside it) is
written from that cleaned notebook. Running example A top to bottom therefore writes back the very bytes
git holds; an edit to a cell, or a run of another client, shows in ``git diff`` as it should.
Any other notebook is saved as JupyterLab gives it.

Opening a stored notebook and closing it untouched asks nothing: the contents manager
(:data:`CONTENTS_MANAGER`, jupytext's with :func:`with_kernel_language`) serves a stored notebook
with the ``language_info`` its kernel will report. JupyterLab writes the kernel's
``language_info`` into the notebook once the kernel is up, and the stored form keeps only its
name: that write used to mark every freshly opened notebook changed ("Save changes?"). The
pre-save hook takes it off again, so the stored bytes do not change.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ftcost_helpers.engine.loading import project_root

KERNEL = "python3"
KERNELSPEC = {"name": KERNEL, "display_name": "Python 3 (ipykernel)", "language": "python"}
STORED_NAME = re.compile(r"\d\d_[a-z_]+\.(ipynb|md)")
TEXT_FORMAT = "md:myst"
"""The stored notebooks' text pair (notebooks/jupytext.toml)."""
PANEL_TAG = "panel"


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def is_stored_notebook(path: Path) -> bool:
    """Is ``path`` one of the stored notebooks or its text pair (``notebooks/NN_name.ipynb``, ``.md``)?"""
    return STORED_NAME.fullmatch(path.name) is not None and path.resolve().parent == notebooks_dir().resolve()


def _clean_cell(cell: Any, cell_id: str, count: int) -> int:
    """Clean one cell in place; the execution count of the next executed cell."""
    cell["id"] = cell_id
    tags = list(cell.get("metadata", {}).get("tags", []))
    cell["metadata"] = {"tags": tags} if tags else {}
    if cell["cell_type"] != "code":
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
        return count
    if PANEL_TAG in tags:
        cell["outputs"] = []
    if cell.get("execution_count") is None and not cell.get("outputs"):
        return count
    count += 1
    cell["execution_count"] = count
    for output in cell["outputs"]:
        if "execution_count" in output:
            output["execution_count"] = count
    return count


def clean(nb: Any, name: str) -> Any:
    """The notebook (an nbformat node or its dict) in its stored form, changed in place:
    ids ``NN-name-KK`` by position, counts 1..n, tags the only cell metadata, no panel
    outputs, the kernelspec and language name the only notebook metadata."""
    count = 0
    for index, cell in enumerate(nb["cells"]):
        count = _clean_cell(cell, f"{name.replace('_', '-')}-{index:02d}", count)
    nb["metadata"] = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    nb["nbformat"], nb["nbformat_minor"] = 4, 5
    return nb


def as_text(nb: Any) -> str:
    """The notebook's text pair, MyST Markdown written by jupytext (from the notebook read
    back, so that key order is the stored file's)."""
    import jupytext
    import nbformat

    return jupytext.writes(nbformat.reads(nbformat.writes(nbformat.from_dict(nb)), as_version=4), fmt=TEXT_FORMAT)


def store_clean(model: dict[str, Any], path: str, contents_manager: Any, **_: Any) -> None:
    """Jupyter server pre-save hook: a stored notebook, and the text pair jupytext saves with
    it, are saved in their stored form (the text written from the cleaned notebook, so it
    loses the kernel's lexer name as the notebook loses its language_info)."""
    file = Path(contents_manager.root_dir) / path
    if not is_stored_notebook(file):
        return
    if file.suffix == ".ipynb" and model.get("type") == "notebook" and isinstance(model.get("content"), dict):
        clean(model["content"], file.stem)
    elif file.suffix == ".md" and model.get("type") == "file" and isinstance(model.get("content"), str):
        import jupytext

        model["content"] = as_text(clean(jupytext.reads(model["content"], fmt=TEXT_FORMAT), file.stem))


def kernel_language_info() -> dict[str, Any]:
    """The ``language_info`` this environment's Python kernel reports (ipykernel's own, with
    this interpreter's version): what JupyterLab writes into a notebook once the kernel is up."""
    from ipykernel.ipkernel import IPythonKernel

    return dict(IPythonKernel.language_info)


def with_kernel_language(model: dict[str, Any], root_dir: str | Path) -> dict[str, Any]:
    """A contents model as JupyterLab is served it: a stored notebook's metadata given the
    kernel's ``language_info`` (JupyterLab then finds nothing to change once the kernel is up);
    any other model as it is."""
    if (
        model.get("type") == "notebook"
        and isinstance(model.get("content"), dict)
        and is_stored_notebook(Path(root_dir) / model.get("path", ""))
    ):
        model["content"].setdefault("metadata", {})["language_info"] = kernel_language_info()
    return model


CONTENTS_MANAGER = "ftcost_helpers.lab.StoredNotebookContents"
"""Jupytext's contents manager, serving stored notebooks :func:`with_kernel_language`."""


def _stored_notebook_contents() -> type:
    """The contents manager class (built on first use: jupytext and Jupyter Server are imported
    only when JupyterLab starts)."""
    from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
    from jupytext import build_async_jupytext_contents_manager_class

    base = build_async_jupytext_contents_manager_class(AsyncLargeFileManager)

    class StoredNotebookContents(base):  # type: ignore[misc,valid-type]
        async def get(self, path: str, content: bool = True, type: str | None = None, **kwargs: Any) -> Any:
            model = await super().get(path, content=content, type=type, **kwargs)
            return with_kernel_language(model, self.root_dir)

    return StoredNotebookContents


def __getattr__(name: str) -> Any:
    if name == "StoredNotebookContents":
        cls = _stored_notebook_contents()
        globals()[name] = cls
        return cls
    raise AttributeError(name)


def lab_command(arguments: Sequence[str] = ()) -> list[str]:
    """The ``jupyter lab`` command line with the hook and the contents manager, rooted at
    ``notebooks/``."""
    return [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        f"--ServerApp.root_dir={notebooks_dir()}",
        f"--ServerApp.contents_manager_class={CONTENTS_MANAGER}",
        "--ContentsManager.pre_save_hook=ftcost_helpers.lab.store_clean",
        *arguments,
    ]


def main(argv: Sequence[str] | None = None) -> None:
    """Replace this process with JupyterLab (arguments are passed on to ``jupyter lab``)."""
    command = lab_command(sys.argv[1:] if argv is None else argv)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
