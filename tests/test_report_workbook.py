"""The client workbook recalculates: LibreOffice (headless, Debian's ``libreoffice-calc-nogui``)
opens each worked example's report.xlsx with recalculation on load forced, and its
programme total, cash flow month by month and break-even month equal the engine's to the
cent; an input changed in the Inputs sheet moves the total by the engine's own difference;
and plans with a build period (issue 15: spend spread over the build months by the spend
profile, savings from launch) recalculate to the engine's cash flow and break-even too.

One ``soffice`` run converts every workbook (LibreOffice starts in ~10-20 s; files are cheap).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
import yaml

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.loading import deep_merge, read_yaml
from ftcost_helpers.report.excel import SHEET_CASH, SHEET_INPUTS, SHEET_LINES, write_workbook
from ftcost_helpers.report.figures import client_figures

TODAY = dt.date(2026, 12, 1)
CENT = 0.005
BUILDS = {
    "a_build_even": {"build_months": 3, "spend_profile": "even"},
    "a_build_by_area": {"build_months": 2, "spend_profile": {"dataset": [1], "compute": [2]}},
}
"""Example A with a build period and a spend profile other than the default (front-loaded)."""
RECALCULATE_ON_LOAD = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
</oor:items>
"""
"""A LibreOffice profile setting: always recalculate an .xlsx when it is loaded (0)."""


def soffice() -> str:
    path = shutil.which("soffice")
    if path is None:
        message = "soffice not found: apt-get install -y libreoffice-calc-nogui"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


def recalculated(files: list[Path], out: Path, profile: Path) -> dict[str, openpyxl.Workbook]:
    """Each workbook as LibreOffice recalculates and saves it, read back with its values."""
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALCULATE_ON_LOAD, encoding="utf-8")
    command = [soffice(), "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}"]
    command += ["--convert-to", "xlsx", "--outdir", str(out), *map(str, files)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return {path.stem: openpyxl.load_workbook(out / path.name, data_only=True) for path in files}


def input_row(sheet, label: str) -> int:
    for row in range(2, sheet.max_row + 1):
        if sheet.cell(row=row, column=1).value == label:
            return row
    raise AssertionError(f"no input {label!r}")


def programme_total(book: openpyxl.Workbook) -> float:
    sheet = book[SHEET_LINES]
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(row=r, column=2).value == "Programme total")
    return sheet.cell(row=row, column=4).value


def cash_flow(book: openpyxl.Workbook) -> tuple[list[float], object]:
    """Cumulative cash by month (column I) and the break-even cell below it."""
    sheet = book[SHEET_CASH]
    months = [row for row in range(2, sheet.max_row + 1) if isinstance(sheet.cell(row=row, column=1).value, int)]
    cumulative = [sheet.cell(row=row, column=9).value for row in months]
    (below,) = [row for row in range(2, sheet.max_row + 1) if sheet.cell(row=row, column=1).value == "Break-even month"]
    return cumulative, sheet.cell(row=below, column=9).value


@pytest.fixture(scope="module")
def workbooks(book, example_files, tmp_path_factory):
    folder = tmp_path_factory.mktemp("workbooks")
    sources = dict(zip("abc", (example_files[name] for name in "abc"), strict=True))
    for name, programme in BUILDS.items():
        sources[name] = folder / f"{name}.yaml"
        plan = deep_merge(read_yaml(example_files["a"]), {"programme": programme})
        sources[name].write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    figures = {}
    for name, source in sources.items():
        figures[name] = client_figures(source, book, TODAY, "2026-12-01T00:00:00+00:00")
        write_workbook(folder / f"{name}.xlsx", figures[name])
    # Example A with one more training run typed into the Inputs sheet (openpyxl keeps the formulas).
    edited = openpyxl.load_workbook(folder / "a.xlsx")
    inputs = edited[SHEET_INPUTS]
    row = input_row(inputs, "Training runs")
    inputs.cell(row=row, column=2).value = inputs.cell(row=row, column=2).value + 1
    edited.save(folder / "a_more_runs.xlsx")
    files = [folder / f"{name}.xlsx" for name in ("a", "b", "c", "a_more_runs", *BUILDS)]
    return figures, recalculated(files, folder / "recalculated", folder / "profile")


@pytest.mark.parametrize("name", ["a", "b", "c", *BUILDS])
def test_recalculated_total_cash_flow_and_break_even_are_the_engines(workbooks, name) -> None:
    figures, books = workbooks
    breakdown = figures[name].breakdown
    assert programme_total(books[name]) == pytest.approx(breakdown.programme_total, abs=CENT)
    cumulative, break_even = cash_flow(books[name])
    assert len(cumulative) == breakdown.params.horizon_months + 1
    for month, (sheet_value, engine_value) in enumerate(zip(cumulative, breakdown.cash_flow, strict=True)):
        assert sheet_value == pytest.approx(float(engine_value), abs=CENT), f"month {month}"
    expected = breakdown.break_even_month
    if breakdown.params.alternative.kind == "none":
        assert break_even == "no alternative to pay back against"
    else:
        assert break_even == expected


def test_build_periods_by_hand(workbooks) -> None:
    # Example A (001_…): programme USD 88,550 = dataset 38,000 + compute 1,150 + eval 6,200 +
    # engineering 43,200; from launch it saves 22,000 − 1,800 eval − 730 h × 2.20 serving =
    # USD 18,594 a month, until maintenance starts 7 months after launch.
    _, books = workbooks
    saving = 22_000 - 1_800 - 730 * 2.20
    # Even over 3 build months: 88,550 / 3 = 29,516.67 a month; launch after month 3, then
    # −88,550 + 5 × 18,594 = 4,420 ≥ 0 in month 8 (month 7: −14,174).
    even, month = cash_flow(books["a_build_even"])
    assert even[:5] == pytest.approx([0, -88_550 / 3, -2 * 88_550 / 3, -88_550, -88_550 + saving], abs=0.01)
    assert even[8] == pytest.approx(-88_550 + 5 * saving, abs=0.01) and month == 8
    # By area over 2 months: dataset in month 1, compute in month 2, eval and engineering
    # halved: month 1 38,000 + (6,200 + 43,200) / 2 = 62,700; month 2 1,150 + 24,700 = 25,850.
    # Launch after month 2: month 7 is the fifth month saving, −88,550 + 5 × 18,594 = 4,420.
    by_area, month = cash_flow(books["a_build_by_area"])
    assert by_area[:4] == pytest.approx([0, -62_700, -88_550, -88_550 + saving], abs=0.01)
    assert month == 7


def test_worked_examples_to_the_dollar(workbooks) -> None:
    # The source's worked examples: A USD 88,550 (month 5), B USD 94,800 (month 4), C USD 304,500.
    _, books = workbooks
    assert [round(programme_total(books[n])) for n in "abc"] == [88_550, 94_800, 304_500]
    assert [cash_flow(books[n])[1] for n in "ab"] == [5, 4]


def test_a_changed_input_moves_the_total_by_the_engines_difference(workbooks, book) -> None:
    figures, books = workbooks
    params = figures["a"].params
    runs = params.training.runs.base + 1
    more = params.model_copy(update={"training": params.training.model_copy(update={"runs": runs})})
    engine_difference = estimate(more, book).programme_total - estimate(params, book).programme_total
    # One more run of 8 GPUs × 6 h at USD 1.71131/GPU-hour: 48 × 1.71131 = USD 82.14 (by hand).
    assert engine_difference == pytest.approx(48 * 1.71131, abs=CENT)
    sheet_difference = programme_total(books["a_more_runs"]) - programme_total(books["a"])
    assert sheet_difference == pytest.approx(engine_difference, abs=CENT)
    assert cash_flow(books["a_more_runs"])[0][0] == pytest.approx(-estimate(more, book).programme_total, abs=CENT)


def test_formulas_not_values(book, example_files, tmp_path) -> None:
    figures = client_figures(example_files["a"], book, TODAY, "x")
    path = tmp_path / "a.xlsx"
    write_workbook(path, figures)
    workbook = openpyxl.load_workbook(path)
    lines = workbook[SHEET_LINES]
    amounts = [lines.cell(row=row, column=4).value for row in range(2, lines.max_row + 1)]
    assert sum(isinstance(v, str) and v.startswith("=") for v in amounts) >= len(figures.breakdown.line_items) + 1
    cash = workbook[SHEET_CASH]
    assert str(cash["I3"].value).startswith("=") and str(cash["E10"].value).startswith("=IF(")
    inputs = workbook[SHEET_INPUTS]
    early = inputs.cell(row=input_row(inputs, "Sweep stops trials early"), column=2).value
    assert early is True  # a boolean, not the text "True"
    assert isinstance(workbook["Summary"]["B3"].value, dt.datetime)  # the report date as a date
    assert workbook.sheetnames[:4] == ["Summary", "Inputs", "Line items", "Running costs"]
    assert {"Cash flow", "Scenarios", "Sensitivity", "Simulation", "Price book"} <= set(workbook.sheetnames)


def test_client_text_is_never_a_formula(book, examples, tmp_path) -> None:
    from ftcost_helpers.engine.summary import summarise
    from ftcost_helpers.report.figures import ClientFigures

    plan = examples["a"].model_copy(update={"client": '=HYPERLINK("http://x","y")'})
    breakdown = estimate(plan, book)
    summary = summarise(breakdown) | {"report_date": TODAY.isoformat()}
    path = tmp_path / "hostile.xlsx"
    write_workbook(path, ClientFigures(Path("x.yaml"), plan, breakdown, summary))
    cell = openpyxl.load_workbook(path)["Summary"]["B2"]
    # Text, with the apostrophe that keeps it text after a CSV export (CWE-1236).
    assert cell.value == '\'=HYPERLINK("http://x","y")' and cell.data_type == "s"
