"""An untouched stored notebook opens clean in JupyterLab (issue 26, item 4): the contents
manager serves it with the language_info its kernel reports, so JupyterLab's own write of
that metadata once the kernel is up changes nothing and "Save changes?" is never asked; the
pre-save hook takes it off again, so the stored bytes stay."""

from __future__ import annotations

import copy
import json
import sys

import nbformat

from ftcost_helpers import lab
from ftcost_helpers.lab import CONTENTS_MANAGER, clean, kernel_language_info, lab_command, with_kernel_language


def test_the_kernel_language_is_what_ipykernel_reports() -> None:
    info = kernel_language_info()
    # ipykernel's IPythonKernel.language_info: this interpreter's version, the ipython3 lexer.
    assert info["name"] == "python" and info["version"] == sys.version.split()[0]
    assert info["pygments_lexer"] == "ipython3" and info["file_extension"] == ".py"


def test_a_stored_notebook_is_served_with_the_kernels_language_and_saved_without() -> None:
    root = lab.notebooks_dir()
    stored = json.loads((root / "05_roi.ipynb").read_text(encoding="utf-8"))
    assert stored["metadata"]["language_info"] == {"name": "python"}
    model = {"type": "notebook", "path": "05_roi.ipynb", "content": copy.deepcopy(stored)}
    served = with_kernel_language(model, root)
    assert served["content"]["metadata"]["language_info"] == kernel_language_info()
    # Saved untouched, the cleaned notebook is the stored one again.
    again = clean(nbformat.from_dict(served["content"]), "05_roi")
    assert again["metadata"] == stored["metadata"]


def test_other_models_are_served_as_they_are(tmp_path) -> None:
    other = {"type": "notebook", "path": "scratch.ipynb", "content": {"metadata": {}}}
    assert with_kernel_language(copy.deepcopy(other), lab.notebooks_dir()) == other
    text = {"type": "file", "path": "05_roi.md", "content": "---"}
    assert with_kernel_language(copy.deepcopy(text), lab.notebooks_dir()) == text


def test_jupyterlab_runs_with_the_contents_manager() -> None:
    assert f"--ServerApp.contents_manager_class={CONTENTS_MANAGER}" in lab_command()
    manager = lab.StoredNotebookContents
    assert hasattr(manager, "formats"), "jupytext's own: its server extension leaves it in place"
