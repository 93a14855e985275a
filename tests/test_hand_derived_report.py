"""The second plan (tests/fixtures/second_plan.yaml) through the whole report path: the five
notebooks run by papermill in the report runner, summary.json, the HTML page.

The figures are the hand-derived ones of tests/test_hand_derived_plan.py (worked out there
line by line): QLoRA, HIPAA, labour savings, failed runs and a sweep, which example A's
stored notebooks (the ones nbval compares) never exercise.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from ftcost_helpers.report.index import REPORT_HTML, SUMMARY_JSON
from ftcost_helpers.report.runner import default_notebooks, run_reports

SECOND_PLAN = Path(__file__).parent / "fixtures" / "second_plan.yaml"
NOTEBOOKS = ("01_compute", "02_dataset", "03_eval", "04_maintenance", "05_roi", "06_tracking")


@pytest.fixture(scope="module")
def report_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("second-plan-reports")
    notebooks = list(default_notebooks())
    assert [nb.stem for nb in notebooks] == list(NOTEBOOKS)
    result = run_reports([SECOND_PLAN], out, jobs=1, notebooks=notebooks, say=lambda line: None)
    assert result.exit_code == 0, result.failures
    (folder,) = result.reports.values()
    return folder


def summary(folder: Path) -> dict:
    return json.loads((folder / SUMMARY_JSON).read_text(encoding="utf-8"))


def notebook_text(folder: Path, name: str) -> str:
    nb = nbformat.read(folder / f"{name}.ipynb", as_version=4)
    assert not any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", [])), name
    texts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            texts.append("".join(data.get("text/markdown", "")) + "".join(data.get("text/html", "")))
            texts.append("".join(data.get("text/plain", "")) + "".join(output.get("text", "")))
    return "\n".join(texts)


def test_summary_figures(report_folder):
    # compute 400 + 80 + 320 = 800; dataset 17,000; eval 4,000 + 500 = 4,500;
    # engineering 24,000 + 1,000 = 25,000; compliance (HIPAA) 8,000; total 55,300
    s = summary(report_folder)
    assert s["programme_total_usd"] == pytest.approx(55_300)
    assert s["areas_usd"] == pytest.approx(
        {"compute": 800, "dataset": 17_000, "eval": 4_500, "engineering": 25_000, "compliance": 8_000}
    )
    # serving 1 × 730 h × 3.50 = 2,555; maintenance 8,400 a quarter ÷ 3 = 2,800; eval 500
    assert s["ongoing_monthly_usd"] == pytest.approx({"eval": 500, "serving": 2_555, "maintenance": 2_800})
    # labour saving 16,000 a month: cumulative −6,320 at month 4, +3,825 at month 5
    assert s["break_even_month"] == 5
    # no USD line has a range, so the Monte Carlo range collapses on the base case
    assert s["range_usd"] == pytest.approx({"p10": 55_300, "p50": 55_300, "p90": 55_300})
    codes = {w["code"] for w in s["warnings"]}
    assert {"SWEEP_WITHOUT_EARLY_STOPPING", "BUDGET_SPLIT_DATA"} <= codes
    assert not codes & {"ON_DEMAND_HYPERSCALER", "RATE_OUTSIDE_PRICE_BOOK", "MAINTENANCE_OUTSIDE_SOURCE_RANGE"}


@pytest.mark.parametrize(
    ("name", "figures"),
    [
        ("01_compute", ["USD 800", "USD 320", "USD 80"]),  # compute area, sweep, rerun tax
        ("02_dataset", ["USD 17,000", "USD 1,400", "USD 1,000"]),  # area, double labelling, synthetic
        ("03_eval", ["USD 4,500"]),  # set-up 4,000 + judged runs 500
        ("04_maintenance", ["USD 400"]),  # re-train: 0.5 × the first compute bill of USD 800
        ("05_roi", ["USD 55,300", "USD 16,000", "month 5"]),  # programme, labour saving, break-even
    ],
)
def test_each_notebook_shows_its_hand_derived_figures(report_folder, name, figures):
    text = notebook_text(report_folder, name)
    for figure in figures:
        assert figure in text, (name, figure)


def test_the_page_is_for_the_second_plan(report_folder):
    page = (report_folder / REPORT_HTML).read_text(encoding="utf-8")
    assert "Second plan: QLoRA, HIPAA, labour" in page
    assert "USD 55,300" in page
    assert "no early stopping" in page
