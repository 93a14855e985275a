"""The report for one example client, end to end: every file, the HTML, the workbook and
summary.json (one batch per test session, shared by the tests here)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import openpyxl
import pytest

from ftcost_helpers.engine.loading import project_root
from ftcost_helpers.engine.money import usd
from ftcost_helpers.report.index import REPORT_HTML, REPORT_XLSX, SUMMARY_JSON
from ftcost_helpers.report.runner import BatchResult, default_notebooks, run_reports

FIXTURE_NOTEBOOK = Path(__file__).parent / "fixtures" / "report_notebook.ipynb"
CONTRACT_KEYS = {
    "client",
    "currency",
    "programme_total_usd",
    "areas_usd",
    "ongoing_monthly_usd",
    "break_even_month",
    "range_usd",
    "warnings",
    "price_book_as_of",
    "params_hash",
    "versions",
}


def report_notebooks() -> list[Path]:
    """The project's six notebooks once they exist, else the fixture stand-in."""
    notebooks = list(default_notebooks())
    return notebooks if len(notebooks) == 6 else [FIXTURE_NOTEBOOK]


@pytest.fixture(scope="session")
def example_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[BatchResult, Path]:
    out = tmp_path_factory.mktemp("reports")
    source = project_root() / "params" / "clients" / "example_a.yaml"
    result = run_reports([source], out, jobs=2, notebooks=report_notebooks(), say=lambda line: None)
    assert result.exit_code == 0, result.failures
    (folder,) = result.reports.values()
    return result, folder


def read_summary(folder: Path) -> dict:
    return json.loads((folder / SUMMARY_JSON).read_text(encoding="utf-8"))


def test_every_file_exists(example_report: tuple[BatchResult, Path]) -> None:
    result, folder = example_report
    assert folder.name == "example-a"  # the client file's stem
    expected = {REPORT_HTML, REPORT_XLSX, SUMMARY_JSON} | {nb.name for nb in report_notebooks()}
    assert expected <= {path.name for path in folder.iterdir()}
    assert result.index is not None and result.index.exists()
    assert not [p for p in folder.parent.iterdir() if p.name.startswith((".staging", ".old", "_failed"))]


def test_summary_json_has_the_contract_keys(example_report: tuple[BatchResult, Path]) -> None:
    summary = read_summary(example_report[1])
    assert set(summary) >= CONTRACT_KEYS
    assert summary["programme_total_usd"] == 88550  # the source's example A, line items
    h = summary["headline"]
    assert h["base_case_programme_usd"] == 88550 and h["basis"] == "p50"
    assert summary["break_even_month"] == h["break_even_month"]  # every headline on one basis
    assert summary["range_usd"]["p10"] <= summary["range_usd"]["p50"] <= summary["range_usd"]["p90"]
    assert set(summary["areas_usd"]) == {"compute", "dataset", "eval", "engineering", "compliance"}
    assert set(summary["ongoing_monthly_usd"]) == {"eval", "serving", "maintenance"}
    assert len(summary["params_hash"]) == 64
    assert {"ftcost_helpers", "papermill", "nbconvert"} <= set(summary["versions"])
    assert all({"code", "message"} <= set(w) for w in summary["warnings"])


def test_notebooks_ran_with_the_client_file_and_no_widgets(example_report: tuple[BatchResult, Path]) -> None:
    folder = example_report[1]
    for notebook in report_notebooks():
        nb = nbformat.read(folder / notebook.name, as_version=4)
        injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assert len(injected) == 1
        assert "interactive = False" in injected[0].source
        assert 'params_file = "params/clients/example_a.yaml"' in injected[0].source
        assert str(project_root()) not in injected[0].source  # no folder of the analyst's
        assert not any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))


def test_html_is_for_the_client(example_report: tuple[BatchResult, Path]) -> None:
    folder = example_report[1]
    html = (folder / REPORT_HTML).read_text(encoding="utf-8")
    assert "Example A: LoRA on Qwen2.5-7B, legal extraction" in html
    assert "USD 88,550" in html
    assert "prices as of 26 May 2026" in html
    assert "The decision" in html and "Assumptions" in html and "Sources" in html
    assert "data:image/png;base64," in html
    for absent in ("Loading widget", "Traceback", "widget-view", "<script", "import ", "load_params(", "jp-InputArea"):
        assert absent not in html, absent
    # The notebooks are the analyst's working: linked from the document, not pasted into it.
    for notebook in report_notebooks():
        assert f'href="{notebook.name}"' in html and (folder / notebook.name).is_file()
    assert "jp-Cell" not in html and "jp-OutputArea" not in html


def test_workbook_matches_summary_json(example_report: tuple[BatchResult, Path]) -> None:
    """The workbook's cached values (what a viewer that does not recalculate shows) are the
    summary's; tests/test_report_workbook.py recalculates it in LibreOffice."""
    folder = example_report[1]
    summary = read_summary(folder)
    workbook = openpyxl.load_workbook(folder / REPORT_XLSX)
    assert workbook.sheetnames[:5] == ["Summary", "Inputs", "Line items", "Running costs", "Cash flow"]
    for name in workbook.sheetnames:
        assert workbook[name].freeze_panes == "A2", name
    items = workbook["Line items"]
    total_row = next(r for r in items.iter_rows(min_row=2) if r[1].value == "Programme total")
    assert total_row[3].value.startswith("=SUM(")
    assert items["D2"].number_format.startswith('"USD "#,##0')
    assert items.column_dimensions["B"].width > 30
    cash = workbook["Cash flow"]
    months = [row for row in cash.iter_rows(min_row=2) if isinstance(row[0].value, int)]
    assert len(months) == summary["horizon_months"] + 1
    assert summary["client"] == workbook["Summary"]["B2"].value


def test_index_lists_the_client(example_report: tuple[BatchResult, Path]) -> None:
    result, folder = example_report
    index = result.index.read_text(encoding="utf-8")
    assert f'href="{folder.name}/{REPORT_HTML}"' in index
    assert usd(read_summary(folder)["headline"]["programme_usd"]) in index
    assert "Example A: LoRA on Qwen2.5-7B, legal extraction" in index


def test_rerun_gives_the_same_numbers(example_report: tuple[BatchResult, Path], tmp_path: Path) -> None:
    first = read_summary(example_report[1])
    source = project_root() / "params" / "clients" / "example_a.yaml"
    result = run_reports([source], tmp_path, jobs=1, notebooks=[FIXTURE_NOTEBOOK], say=lambda line: None)
    second = read_summary(next(iter(result.reports.values())))
    moving = {"generated_at", "report_date"}
    assert {k: v for k, v in first.items() if k not in moving} == {k: v for k, v in second.items() if k not in moving}


def _text_outputs(nb: nbformat.NotebookNode) -> list[list[str]]:
    """The text of every output (images left out, as nbval does), cell by cell, without
    the parameters cells."""
    hidden = {"parameters", "injected-parameters"}
    texts = []
    for cell in nb.cells:
        if cell.cell_type != "code" or hidden & set(cell.metadata.get("tags", [])):
            continue
        outputs = []
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                outputs.append(output.text)
            for mimetype in ("text/plain", "text/html", "text/markdown"):
                if mimetype in output.get("data", {}) and "image/png" not in output.data:
                    outputs.append(output.data[mimetype])
        texts.append(outputs)
    return texts


def test_shared_kernel_gives_the_outputs_of_a_fresh_kernel(example_report: tuple[BatchResult, Path]) -> None:
    """The batch runs a client's notebooks in one kernel reset between them; the stored
    notebooks were executed for example A, each in a fresh kernel (nbval checks them), so
    every text output must be the same."""
    assert len(default_notebooks()) == 6, "the six notebooks must all be there"
    folder = example_report[1]
    for notebook in default_notebooks():
        stored = nbformat.read(notebook, as_version=4)
        executed = nbformat.read(folder / notebook.name, as_version=4)
        assert _text_outputs(executed) == _text_outputs(stored), notebook.name
        counts = [c.execution_count for c in executed.cells if c.cell_type == "code"]
        assert counts == list(range(1, len(counts) + 1)), notebook.name
