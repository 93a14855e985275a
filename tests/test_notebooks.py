"""The six notebooks: their stored form (what nbval compares, what reviewers read) and
headless runs with papermill for every example client.

The papermill runs take a few seconds each; run the suite with ``-n 2`` (pytest-xdist) to
spread them over the cores.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill
import pytest
from papermill.iorw import read_yaml_file

from ftcost_helpers.engine.loading import project_root
from ftcost_helpers.engine.schema import TOP_LEVEL_KEYS

ROOT = project_root()
NOTEBOOKS = sorted((ROOT / "notebooks").glob("0*.ipynb"))
NAMES = [path.stem for path in NOTEBOOKS]
EXPECTED_NAMES = ["01_compute", "02_dataset", "03_eval", "04_maintenance", "05_roi", "06_tracking"]
TOTALS = {"a": "USD 88,550", "b": "USD 94,800", "c": "USD 304,500"}
MIN_CHARTS = {"01_compute": 3, "02_dataset": 1, "03_eval": 1, "04_maintenance": 1, "05_roi": 5, "06_tracking": 4}
EXTRA_PARAMETERS = {"06_tracking": ["pilot_log", "actuals_file"]}
"""Parameters a notebook takes beyond the client file: 06 reads a pilot's log and a cost export."""
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
SEEDS = ("000_0a0c95ce173b866e.txt", "001_6c04196dc11ea2b6.txt")
ABSOLUTE_PATH = re.compile(r"(/work/|/tmp/|/root/|/home/|[A-Z]:\\)")


def load_notebook_tool():
    spec = importlib.util.spec_from_file_location("notebook_tool", ROOT / "tools" / "notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)


def code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def output_texts(nb: nbformat.NotebookNode) -> list[str]:
    """Every text an output carries (stream text and non-image MIME data)."""
    texts = []
    for cell in code_cells(nb):
        for output in cell.outputs:
            if output.output_type == "stream":
                texts.append(output.text)
            elif output.output_type == "error":
                texts.append("\n".join(output.traceback))
            for mime, data in output.get("data", {}).items():
                if not mime.startswith("image/"):
                    texts.append(data if isinstance(data, str) else json.dumps(data))
    return texts


def tagged(nb: nbformat.NotebookNode, tag: str) -> list[nbformat.NotebookNode]:
    return [cell for cell in nb.cells if tag in cell.metadata.get("tags", [])]


# ---------------------------------------------------------------- the stored notebooks


def test_the_six_notebooks_exist():
    assert NAMES == EXPECTED_NAMES


@pytest.mark.parametrize("name", EXPECTED_NAMES)
def test_parameters_cell_contract(name):
    nb = read(name)
    first_code = code_cells(nb)[0]
    assert first_code.metadata.get("tags") == ["parameters"]
    declared = papermill.inspect_notebook(str(ROOT / "notebooks" / f"{name}.ipynb"))
    assert list(declared) == ["params_file", "interactive", *EXTRA_PARAMETERS.get(name, []), *TOP_LEVEL_KEYS]
    assert declared["params_file"]["default"] == '"params/clients/example_a.yaml"'
    assert declared["interactive"]["inferred_type_name"] == "bool"
    for key in TOP_LEVEL_KEYS:
        assert declared[key]["default"] == "None"
        assert declared[key]["help"], f"{key} has a comment"
    for line in first_code.source.splitlines():
        assert line.startswith("#") or re.match(r"^\w+: [\w |]+ = [^#]+  # .+$", line), line


@pytest.mark.parametrize("name", EXPECTED_NAMES)
def test_stored_notebook_is_clean_and_small(name):
    path = ROOT / "notebooks" / f"{name}.ipynb"
    assert path.stat().st_size < 1_000_000
    nb = read(name)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert set(nb.metadata) == {"kernelspec", "language_info"}, "no widget state or papermill metadata"
    counts = [cell.execution_count for cell in code_cells(nb)]
    assert counts == list(range(1, len(counts) + 1)), "executed top to bottom once"
    for cell in nb.cells:
        assert "execution" not in cell.metadata, "no timings"
        assert re.fullmatch(r"[0-9]{2}-[a-z]+-[0-9]{2}", cell.id), "stable cell ids"
    texts = output_texts(nb)
    assert not any(output.output_type == "error" for cell in code_cells(nb) for output in cell.outputs)
    assert not any(output.output_type == "stream" for cell in code_cells(nb) for output in cell.outputs)
    assert not any(ABSOLUTE_PATH.search(text) for text in texts), "no absolute paths in outputs"
    assert not any("<Figure size" in text and "Axes>" in text and len(text) < 60 for text in texts if "\n" in text)
    assert TOTALS["a"] in "\n".join(texts), "stored with example A's outputs"


@pytest.mark.parametrize("name", EXPECTED_NAMES)
def test_notebook_teaches_then_computes(name):
    nb = read(name)
    markdown = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert "**The question.**" in nb.cells[0].source
    assert "$$" in markdown, "formulas in LaTeX"
    assert any(seed in markdown for seed in SEEDS), "facts cite the source documents"
    pngs = sum("image/png" in output.get("data", {}) for cell in code_cells(nb) for output in cell.outputs)
    assert pngs >= MIN_CHARTS[name]
    texts = "\n".join(output_texts(nb))
    assert "**Reading the result.**" in texts, "reading paragraphs come from the model's numbers"
    assert "*Provenance*" in texts and "params/pricebook.yaml (as of 2026-05-26" in texts
    for cell in code_cells(nb):
        if "parameters" in cell.metadata.get("tags", []):
            # one declaration per key of the schema (test_parameters_cell_contract) and comments: no logic
            declaration = re.compile(r"^\w+: \w+ = .+  # .+$")
            assert all(line.startswith("#") or declaration.match(line) for line in cell.source.splitlines())
            continue
        assert len(cell.source.splitlines()) <= 20, "a long cell means a function is missing"


@pytest.mark.parametrize("name", EXPECTED_NAMES)
def test_panel_cell_is_ignored_by_nbval_and_stored_empty(name):
    (panel,) = tagged(read(name), "panel")
    assert "nbval-ignore-output" in panel.metadata["tags"]
    assert panel.outputs == []
    assert "show_panel(" in panel.source


def test_each_notebook_is_paired_with_its_text_form_and_stored_clean():
    """The .ipynb and its MyST .md agree cell for cell, and the notebook is stored as
    ``make notebooks`` leaves it (nbval then checks that its outputs are current)."""
    tool = load_notebook_tool()
    assert tool.names() == EXPECTED_NAMES
    assert [problem for name in EXPECTED_NAMES for problem in tool.problems(name)] == []


def test_an_edit_to_either_form_is_detected_and_the_later_one_wins(tmp_path, monkeypatch):
    """Edit a markdown cell in the text form: the check fails, and syncing takes the edit
    with the notebook's outputs kept; edit the notebook instead, and the check fails too."""
    tool = load_notebook_tool()
    for name in ("05_roi",):
        for suffix in (".ipynb", ".md"):
            (tmp_path / f"{name}{suffix}").write_bytes((ROOT / "notebooks" / f"{name}{suffix}").read_bytes())
    monkeypatch.setattr(tool, "NOTEBOOKS", tmp_path)
    assert tool.problems("05_roi") == []
    text = tmp_path / "05_roi.md"
    edited = text.read_text().replace("# 05 ·", "# 05 (edited) ·", 1)
    assert edited != text.read_text()
    text.write_text(edited)
    assert tool.problems("05_roi") == ["notebooks/05_roi.md and .ipynb have different cells"]
    merged = tool.synced("05_roi")
    assert merged.cells[0].source.startswith("# 05 (edited) ·")
    stored = nbformat.read(tmp_path / "05_roi.ipynb", as_version=4)
    assert [c.outputs for c in merged.cells if c.cell_type == "code"] == [
        c.outputs for c in stored.cells if c.cell_type == "code"
    ], "outputs of unchanged cells are kept"
    nb = nbformat.read(tmp_path / "05_roi.ipynb", as_version=4)
    nb.cells[0].source += "\nA new line."
    nb.metadata["widgets"] = {"state": {}}
    nbformat.write(nb, tmp_path / "05_roi.ipynb")
    found = tool.problems("05_roi")
    assert "notebooks/05_roi.ipynb is not stored clean (ids, counts, metadata)" in found


# ---------------------------------------------------------------- headless runs


def client_file(letter: str) -> Path:
    return ROOT / "params" / "clients" / f"example_{letter}.yaml"


class PapermillRuns:
    """Every example client through one notebook. One class per notebook, so that
    ``pytest -n 2 --dist loadscope`` (which nbval needs) still spreads the runs over workers."""

    notebook: str

    @pytest.mark.parametrize("letter", ["a", "b", "c"])
    def test_runs_headless_for_every_client(self, letter, tmp_path):
        """As ``papermill nb out -f params/clients/example_X.yaml -p interactive False``: the
        client's sections are injected, the working directory is elsewhere."""
        parameters = read_yaml_file(str(client_file(letter))) | {"interactive": False}
        out = tmp_path / f"{self.notebook}.ipynb"
        papermill.execute_notebook(
            str(ROOT / "notebooks" / f"{self.notebook}.ipynb"),
            str(out),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(tmp_path),
            progress_bar=False,
        )
        nb = nbformat.read(out, as_version=4)
        joined = "\n".join(output_texts(nb))
        assert TOTALS[letter] in joined
        assert "`<injected parameters>`" in joined
        assert "Loading widget" not in joined and WIDGET_MIME not in joined
        assert not any(WIDGET_MIME in output.get("data", {}) for cell in code_cells(nb) for output in cell.outputs)
        assert all(cell.outputs == [] for cell in tagged(nb, "panel")), "headless: the panel renders nothing"
        assert not any(output.output_type == "stream" for cell in code_cells(nb) for output in cell.outputs)


class TestPapermill01Compute(PapermillRuns):
    notebook = "01_compute"


class TestPapermill02Dataset(PapermillRuns):
    notebook = "02_dataset"


class TestPapermill03Eval(PapermillRuns):
    notebook = "03_eval"


class TestPapermill04Maintenance(PapermillRuns):
    notebook = "04_maintenance"


class TestPapermill05Roi(PapermillRuns):
    notebook = "05_roi"


class TestPapermill06Tracking(PapermillRuns):
    notebook = "06_tracking"


def test_tracking_says_when_a_client_has_no_pilot_log_or_cost_export(tmp_path):
    """06_tracking's default files are example A's: for example C, as the report runner runs it
    (an absolute ``params_file``), the notebook is whole and says the client has none."""
    out = tmp_path / "tracking_c.ipynb"
    papermill.execute_notebook(
        str(ROOT / "notebooks" / "06_tracking.ipynb"),
        str(out),
        parameters={"params_file": str(client_file("c")), "interactive": False},
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    joined = "\n".join(output_texts(nbformat.read(out, as_version=4)))
    assert "No pilot log for this client: `params/examples/pilot_steps.csv`" in joined
    assert "No actuals file for this client: `params/examples/actuals_focus.csv`" in joined
    assert "**Reading the result.** Without a cost export" in joined and TOTALS["c"] in joined
    assert not ABSOLUTE_PATH.search(joined)


def test_tracking_says_what_is_wrong_with_a_bad_log_or_export_and_goes_on(tmp_path):
    """A truncated pilot log and a cost export in another currency: one sentence each, naming the
    file (its name only: it lies outside the project), and the rest of the notebook runs."""
    log = tmp_path / "short.csv"
    log.write_text("step,seconds\n10,22.5\n20,22.4\n", encoding="utf-8")  # 20 steps; 25 are needed
    export = tmp_path / "eur.csv"
    export.write_text("month,area,line,amount,currency\n2026-06,compute,Training runs,100,EUR\n", encoding="utf-8")
    out = tmp_path / "tracking_bad.ipynb"
    papermill.execute_notebook(
        str(ROOT / "notebooks" / "06_tracking.ipynb"),
        str(out),
        parameters={"pilot_log": str(log), "actuals_file": str(export), "interactive": False},
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    joined = "\n".join(output_texts(nbformat.read(out, as_version=4)))
    assert "The pilot log does not calibrate this plan: short.csv: the log has 20 steps; calibration needs" in joined
    assert "The cost export cannot be tracked against this plan: eur.csv: " in joined and "EUR" in joined
    assert TOTALS["a"] in joined and "*Provenance*" in joined
    assert not ABSOLUTE_PATH.search(joined)


def test_every_notebook_has_its_papermill_class():
    assert sorted(cls.notebook for cls in PapermillRuns.__subclasses__()) == EXPECTED_NAMES


def test_report_runner_style_absolute_params_file(tmp_path):
    """The report runner injects an absolute ``params_file`` and ``interactive=False``."""
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(ROOT / "notebooks" / "02_dataset.ipynb"),
        str(out),
        parameters={"params_file": str(client_file("c")), "interactive": False},
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    joined = "\n".join(output_texts(nbformat.read(out, as_version=4)))
    assert TOTALS["c"] in joined
    assert "`params/clients/example_c.yaml`" in joined
    assert not ABSOLUTE_PATH.search(joined)


def test_papermill_command_line_with_a_client_file(tmp_path):
    """The documented command, run from another directory, interactive left at its default."""
    out = tmp_path / "roi_b.ipynb"
    command = [
        str(Path(sys.executable).parent / "papermill"),
        str(ROOT / "notebooks" / "05_roi.ipynb"),
        str(out),
        "-f",
        str(client_file("b")),
        "--no-progress-bar",
    ]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    nb = nbformat.read(out, as_version=4)
    joined = "\n".join(output_texts(nb))
    assert TOTALS["b"] in joined and "pays back in month 4" in joined
    (panel,) = tagged(nb, "panel")
    assert any(WIDGET_MIME in output.get("data", {}) for output in panel.outputs), "interactive: the panel is shown"


def test_a_notebook_saved_in_jupyterlab_writes_both_forms_and_stays_clean(tmp_path):
    """JupyterLab saves through jupytext's contents manager (the server extension the pinned
    jupytext installs): an edited markdown cell lands in the .ipynb and as one changed line in
    the .md, the pair stays in sync and clean, and the next ``make notebooks`` keeps the edit."""
    import asyncio

    from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
    from jupytext.async_contentsmanager import build_async_jupytext_contents_manager_class

    folder = tmp_path / "notebooks"
    folder.mkdir()
    for name in ("05_roi.ipynb", "05_roi.md", "jupytext.toml"):
        (folder / name).write_bytes((ROOT / "notebooks" / name).read_bytes())
    manager = build_async_jupytext_contents_manager_class(AsyncLargeFileManager)(root_dir=str(tmp_path))

    async def edit_and_save() -> None:
        model = await manager.get("notebooks/05_roi.ipynb")
        notebook = model["content"]
        notebook.cells[0].source = notebook.cells[0].source.replace("# 05 ·", "# 05 (edited) ·", 1)
        await manager.save({"type": "notebook", "format": "json", "content": notebook}, "notebooks/05_roi.ipynb")

    asyncio.run(edit_and_save())
    before = (ROOT / "notebooks" / "05_roi.md").read_text(encoding="utf-8").splitlines()
    after = (folder / "05_roi.md").read_text(encoding="utf-8").splitlines()
    changed = [(old, new) for old, new in zip(before, after, strict=True) if old != new]
    assert len(changed) == 1 and changed[0][1].startswith("# 05 (edited) ·")
    tool = load_notebook_tool()
    tool.NOTEBOOKS = folder
    assert tool.problems("05_roi") == []
    assert tool.synced("05_roi").cells[0].source.startswith("# 05 (edited) ·")
