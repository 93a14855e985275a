"""The JupyterLab pre-save hook (ftcost_helpers.lab): a stored notebook is saved in its
stored form, whatever JupyterLab adds; an edit is kept; other notebooks are left alone."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from types import SimpleNamespace

import nbformat

from ftcost_helpers.lab import lab_command, store_clean

ROOT = Path(__file__).resolve().parent.parent
STORED = ROOT / "notebooks" / "05_roi.ipynb"


def _as_jupyterlab_saves_it(stored: dict) -> dict:
    """What JupyterLab hands the contents manager after a run: its own cell ids, counts from
    an earlier session, UI metadata, the panel's widget output, the kernel's language_info."""
    nb = copy.deepcopy(stored)
    for index, cell in enumerate(nb["cells"]):
        cell["id"] = f"f3c2{index:04x}-lab"
        cell["metadata"]["collapsed"] = False
        cell["metadata"]["jp-MarkdownHeadingCollapsed"] = True
        if cell["cell_type"] == "code" and cell.get("execution_count"):
            cell["execution_count"] += 40
            for output in cell["outputs"]:
                if "execution_count" in output:
                    output["execution_count"] += 40
        if "panel" in cell["metadata"].get("tags", []):
            cell["outputs"] = [{"output_type": "display_data", "data": {"text/plain": "VBox()"}, "metadata": {}}]
    nb["metadata"]["language_info"] = {"name": "python", "version": "3.11.7", "mimetype": "text/x-python"}
    nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    return nb


def _save(model_content: dict, path: str, root: Path) -> str:
    model = {"type": "notebook", "content": nbformat.from_dict(model_content)}
    store_clean(model=model, path=path, contents_manager=SimpleNamespace(root_dir=str(root)))
    return nbformat.writes(model["content"])


def test_a_run_of_example_a_saves_the_stored_bytes():
    stored = json.loads(STORED.read_text(encoding="utf-8"))
    assert _save(_as_jupyterlab_saves_it(stored), "05_roi.ipynb", ROOT / "notebooks") + "\n" == STORED.read_text(
        encoding="utf-8"
    )


def test_the_text_pair_jupytext_saves_beside_it_is_the_stored_text():
    # JupyterLab's kernel reports pygments_lexer ipython3, which jupytext writes on every code cell.
    stored = (ROOT / "notebooks" / "05_roi.md").read_text(encoding="utf-8")
    as_saved = stored.replace("```{code-cell}\n", "```{code-cell} ipython3\n")
    assert as_saved != stored
    model = {"type": "file", "format": "text", "content": as_saved}
    store_clean(model=model, path="05_roi.md", contents_manager=SimpleNamespace(root_dir=str(ROOT / "notebooks")))
    assert model["content"] == stored


def test_an_edit_is_saved_cleaned():
    edited = _as_jupyterlab_saves_it(json.loads(STORED.read_text(encoding="utf-8")))
    markdown = next(cell for cell in edited["cells"] if cell["cell_type"] == "markdown")
    markdown["source"] = "# A heading the workshop leader rewrote"
    saved = json.loads(_save(edited, "05_roi.ipynb", ROOT / "notebooks"))
    assert ["# A heading the workshop leader rewrote"] in [cell["source"] for cell in saved["cells"]]
    assert saved["metadata"] == {
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
        "language_info": {"name": "python"},
    }


def test_other_notebooks_are_saved_as_given(tmp_path):
    elsewhere = _as_jupyterlab_saves_it(json.loads(STORED.read_text(encoding="utf-8")))
    saved = json.loads(_save(copy.deepcopy(elsewhere), "05_roi.ipynb", tmp_path))  # a copy outside notebooks/
    assert saved["metadata"]["language_info"]["version"] == "3.11.7"
    assert saved["cells"][0]["id"] == "f3c20000-lab"


def test_the_lab_command_roots_jupyterlab_in_notebooks_with_the_hook():
    command = lab_command(["--port=9999"])
    assert command[1:4] == ["-m", "jupyter", "lab"]
    assert f"--ServerApp.root_dir={ROOT / 'notebooks'}" in command
    assert "--ContentsManager.pre_save_hook=ftcost_helpers.lab.store_clean" in command
    assert command[-1] == "--port=9999"
