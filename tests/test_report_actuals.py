"""``report --actuals``: the "Spend to date" section of the client document and the sheet of
the workbook (issue 23 item 3), and a batch with ``--previous`` and ``--actuals`` end to end.
Expected figures derived by hand in the comments from the CSV and example A's inputs; bad
input is one line and no report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import yaml
from follow_up_helpers import built_example_a, refused, section_text

from ftcost_helpers.engine.loading import load_price_book
from ftcost_helpers.report.document import client_document
from ftcost_helpers.report.document_actuals import burn_down
from ftcost_helpers.report.excel import write_workbook
from ftcost_helpers.report.excel_follow_up import SHEET_SINCE, SHEET_SPEND
from ftcost_helpers.report.figures import client_figures, with_follow_up
from ftcost_helpers.report.follow_up import PLAN_COPY, FollowUp, previous_files
from ftcost_helpers.report.index import REPORT_HTML, REPORT_XLSX
from ftcost_helpers.report.runner import run_reports

FIXTURE_NOTEBOOK = Path(__file__).parent / "fixtures" / "report_notebook.ipynb"
TODAY = dt.date(2026, 12, 7)
RATE = 1.71131  # example A's booked USD/GPU-hour (training.rate_usd_per_gpu_hour)

# Two months of spend of example A (its programme starts in June 2026):
#   June: compute 430 for 250 GPU-hours, dataset 1,000 → 1,430
#   July: engineering 2,000                               → 2,000
# To date 3,430. Compute's rate part: (430 ÷ 250 − 1.71131) × 250 = 430 − 427.8275 = 2.1725,
# USD 2.17 to the cent; its volume part is the rest of its variance.
SPEND = """# made up for this test
month,area,line,amount,gpu_hours
2026-06,compute,Training runs,430,250
2026-06,dataset,Expert annotation,1000,
2026-07,engineering,MLOps engineer,2000,
"""
COMPUTE_RATE_USD = 430 - RATE * 250


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Example A on its base case with a 3-month build spending evenly (1,000 draws), and the CSV."""
    folder = tmp_path_factory.mktemp("actuals")
    path = built_example_a(folder)
    spend = folder / "spend.csv"
    spend.write_text(SPEND, encoding="utf-8")
    return {"plan": path, "spend": spend, "folder": folder}


@pytest.fixture(scope="module")
def tracked(files):
    book = load_price_book()
    figures = client_figures(files["plan"], book, TODAY, "2026-12-07T00:00:00+00:00")
    return with_follow_up(figures, FollowUp(actuals=files["spend"]), None, None, TODAY)


def test_the_figures_are_the_spend_and_its_split(tracked) -> None:
    t = tracked.tracking
    assert t["months_tracked"] == 2 and t["through"] == "2026-07"
    assert t["actual_to_date_usd"] == pytest.approx(3430.0)
    assert [row["actual_usd"] for row in t["by_month"]] == [1430.0, 2000.0]
    compute = next(row for row in t["by_area"] if row["area"] == "compute")
    assert compute["rate_usd"] == pytest.approx(COMPUTE_RATE_USD, abs=0.005)
    v = t["variance_usd"]
    assert v["total"] == pytest.approx(t["actual_to_date_usd"] - t["forecast_to_date_usd"], abs=0.01)
    assert v["rate"] + v["volume"] == pytest.approx(v["total"], abs=0.02)


def test_the_section_shows_spend_by_month_and_area_and_the_reforecast(tracked) -> None:
    page = client_document(tracked, today=TODAY)
    text = section_text(page, "spend")
    assert "Spend to date" in text
    assert "Months 1–2 (to 2026-07): USD 3,430 spent" in text
    assert "1 (2026-06)" in text and "USD 1,430" in text and "USD 2,000" in text
    # compute's line: 250 GPU-hours at 430 ÷ 250 = USD 1.72 against the plan's USD 1.71
    assert "250.0 GPU-hours" in text and "at USD 1.72 against USD 1.71 a unit" in text
    assert "Original quote, P10–P90" in text and "Re-forecast from months 1–2, P10–P90" in text
    assert 'alt="Burn-down chart over months 0 to 2' in page
    # the re-forecast is narrower: the months spent no longer vary
    again = tracked.tracking["reforecast"]
    assert again["tco_usd"]["p90"] - again["tco_usd"]["p10"] < (
        again["original"]["tco_usd"]["p90"] - again["original"]["tco_usd"]["p10"]
    )


def test_burn_down_by_hand() -> None:
    # budget 1,000; forecast 100 then 200, actual 150 then 100:
    # planned 1,000 → 900 → 700; spent 1,000 → 850 → 750
    tracking = {
        "by_month": [{"forecast_usd": 100.0, "actual_usd": 150.0}, {"forecast_usd": 200.0, "actual_usd": 100.0}]
    }
    months, planned, spent = burn_down(tracking, 1000.0)
    assert months.tolist() == [0, 1, 2]
    np.testing.assert_allclose(planned, [1000.0, 900.0, 700.0])
    np.testing.assert_allclose(spent, [1000.0, 850.0, 750.0])
    # no month tracked: the whole budget, once
    months, planned, spent = burn_down({"by_month": []}, 1000.0)
    assert months.tolist() == [0] and planned.tolist() == [1000.0] and spent.tolist() == [1000.0]


def test_the_workbook_sheet(tracked, tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    write_workbook(path, tracked)
    sheet = openpyxl.load_workbook(path, data_only=True)[SHEET_SPEND]
    rows = {row[0]: row for row in sheet.iter_rows(values_only=True) if row[0]}
    assert rows["Month 1 (2026-06)"][2] == pytest.approx(1430.0)
    assert rows["Month 2 (2026-07)"][2] == pytest.approx(2000.0)
    compute = rows["Compute"]
    assert compute[2] == pytest.approx(430.0)
    assert compute[3] == pytest.approx(430.0 - compute[1])  # variance: a formula, actual − forecast
    assert compute[4] == pytest.approx(2.17)
    assert compute[5] == pytest.approx(compute[3] - 2.17)  # volume: a formula, variance − rate
    total = rows["Total, months tracked"]
    assert total[2] == pytest.approx(3430.0)
    assert total[3] == pytest.approx(tracked.tracking["variance_usd"]["total"], abs=0.01)


def test_bad_actuals_is_one_line_and_nothing_is_written(files, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    plan = files["plan"]
    assert "--actuals: no such file" in refused(
        capsys, "report", plan, "--out", out, "--actuals", tmp_path / "none.csv"
    )
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("month,area,line,amount\n2026-06,catering,Lunch,50\n", encoding="utf-8")
    line = refused(capsys, "report", plan, "--out", out, "--actuals", unknown)
    assert "unknown.csv" in line and "catering" in line
    outside = tmp_path / "outside.csv"
    outside.write_text("month,area,line,amount\n2031-06,compute,Runs,50\n", encoding="utf-8")
    assert "outside.csv" in refused(capsys, "report", plan, "--out", out, "--actuals", outside)
    assert "only with --actuals" in refused(capsys, "report", plan, "--out", out, "--gpu-hours", "12")
    assert not out.exists()


def test_a_batch_with_previous_and_actuals(files, tmp_path: Path) -> None:
    """First report: the folder keeps its client file; the second, with that folder as
    ``--previous`` and the CSV as ``--actuals``, adds both sections and both sheets."""
    out, source = tmp_path / "out", tmp_path / "built.yaml"
    source.write_bytes(files["plan"].read_bytes())
    first = run_reports([source], out, jobs=1, notebooks=[FIXTURE_NOTEBOOK], say=lambda line: None)
    assert first.exit_code == 0, first.failures
    (folder,) = first.reports.values()
    assert (folder / PLAN_COPY).read_bytes() == source.read_bytes()
    plan = yaml.safe_load(source.read_text(encoding="utf-8"))
    plan["training"]["runs"] = 9
    source.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    # the earlier quote is the very report this run replaces: read before it is replaced
    previous, rates = previous_files(folder, None)
    assert previous == (folder / PLAN_COPY).resolve() and rates is None
    follow = FollowUp(previous=previous, actuals=files["spend"])
    second = run_reports([source], out, jobs=1, notebooks=[FIXTURE_NOTEBOOK], say=lambda line: None, follow_up=follow)
    assert second.exit_code == 0, second.failures
    (folder,) = second.reports.values()
    page = (folder / REPORT_HTML).read_text(encoding="utf-8")
    assert "Since the last quote" in page and "Spend to date" in page
    assert "training.runs" in section_text(page, "since")
    sheets = openpyxl.load_workbook(folder / REPORT_XLSX).sheetnames
    assert SHEET_SINCE in sheets and SHEET_SPEND in sheets
    assert (folder / PLAN_COPY).read_bytes() == source.read_bytes()  # now the new plan, for the next quote


def test_libreoffice_recalculates_both_sheets_to_the_engine(files, tmp_path: Path) -> None:
    """The sheets' formulas (the change, each variance and volume, the totals) give in
    LibreOffice what the engine gives; skipped where LibreOffice is not installed."""
    from test_report_workbook import recalculated  # tests/ is on the path under pytest

    earlier = tmp_path / "earlier.yaml"
    plan = yaml.safe_load(files["plan"].read_text(encoding="utf-8"))
    plan["training"]["runs"] = 9
    earlier.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    figures = client_figures(files["plan"], load_price_book(), TODAY, "2026-12-07T00:00:00+00:00")
    figures = with_follow_up(figures, FollowUp(previous=earlier, actuals=files["spend"]), None, None, TODAY)
    (tmp_path / "in").mkdir()
    path = tmp_path / "in" / "both.xlsx"
    write_workbook(path, figures)
    book = recalculated([path], tmp_path / "out", tmp_path / "profile")["both"]
    since = {row[0]: row for row in book[SHEET_SINCE].iter_rows(values_only=True) if row[0]}
    change = figures.requote.change
    assert since["Change"][2] == pytest.approx(change["programme"], abs=0.02)
    assert since["Change"][3] == pytest.approx(change["tco"], abs=0.02)
    assert since["This quote"][3] == pytest.approx(figures.requote.new.figures()["tco"], abs=0.02)
    spend = {row[0]: row for row in book[SHEET_SPEND].iter_rows(values_only=True) if row[0]}
    v = figures.tracking["variance_usd"]
    total = spend["Total, months tracked"]
    assert total[2] == pytest.approx(3430.0)
    assert (total[3], total[4], total[5]) == (
        pytest.approx(v["total"], abs=0.02),
        pytest.approx(v["rate"], abs=0.02),
        pytest.approx(v["volume"], abs=0.02),
    )


def test_summary_json_carries_the_spend_without_local_paths(tracked) -> None:
    spend = tracked.summary["spend_to_date"]
    assert spend["actual_to_date_usd"] == pytest.approx(3430.0)
    assert (spend["plan"], spend["actuals"]) == ("built.yaml", "spend.csv")  # outside the project: bare names
