"""The client workbook recalculates and opens right: LibreOffice (headless, Debian's
``libreoffice-calc-nogui``) opens each worked example's report.xlsx with recalculation on
load forced, and its programme total, cash flow month by month and break-even month equal
the engine's to the cent; an input changed in the Inputs sheet moves the total by the
engine's own difference; plans with a build period (issue 15: spend spread over the build
months by the spend profile, savings from launch) recalculate to the engine's cash flow and
break-even too. Issue 21: every formula's cached value (what a reader that does not
recalculate shows: openpyxl ``data_only``, pandas, LibreOffice's default, file previews) is
the value LibreOffice computes, and pandas reads the engine's cash flow from it (the
examples, the build variants, and the two clients written with ``init`` in tests/fixtures).

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
INIT_CLIENTS = ("european_bank", "hospital")
"""Clients written with ``init`` (tests/fixtures/clients): a bank with low/mode/high ranges and
an API alternative; a hospital with a 3-month build, staff time saved and a 36-month horizon."""
NEVER = {"a_never_pays_back": {"alternative": {"api": {"usd_per_month": 1_000}}}}
"""Example A against a USD 1,000/month bill: less than its running cost, never paid back."""
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
    variants = {name: {"programme": programme} for name, programme in BUILDS.items()} | NEVER
    for name, overrides in variants.items():
        sources[name] = folder / f"{name}.yaml"
        plan = deep_merge(read_yaml(example_files["a"]), overrides)
        sources[name].write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    for name in INIT_CLIENTS:
        sources[name] = Path(__file__).parent / "fixtures" / "clients" / f"{name}.yaml"
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
    files = [folder / f"{name}.xlsx" for name in ("a", "b", "c", "a_more_runs", *BUILDS, *NEVER, *INIT_CLIENTS)]
    return figures, recalculated(files, folder / "recalculated", folder / "profile"), folder


@pytest.mark.parametrize("name", ["a", "b", "c", *BUILDS, *NEVER])
def test_recalculated_total_cash_flow_and_break_even_are_the_engines(workbooks, name) -> None:
    figures, books, _ = workbooks
    breakdown = figures[name].breakdown
    assert programme_total(books[name]) == pytest.approx(breakdown.programme_total, abs=CENT)
    cumulative, break_even = cash_flow(books[name])
    assert len(cumulative) == breakdown.params.horizon_months + 1
    for month, (sheet_value, engine_value) in enumerate(zip(cumulative, breakdown.cash_flow, strict=True)):
        assert sheet_value == pytest.approx(float(engine_value), abs=CENT), f"month {month}"
    expected = breakdown.break_even_month
    if breakdown.params.alternative.kind == "none":
        assert break_even == "no alternative to pay back against"
    elif expected is None:
        assert break_even == "not within 24 months"
    else:
        assert break_even == expected


def test_build_periods_by_hand(workbooks) -> None:
    # Example A (001_…): programme USD 88,550 = dataset 38,000 + compute 1,150 + eval 6,200 +
    # engineering 43,200; from launch it saves 22,000 − 1,800 eval − 730 h × 2.20 serving =
    # USD 18,594 a month, until maintenance starts 7 months after launch.
    _, books, _ = workbooks
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
    _, books, _ = workbooks
    assert [round(programme_total(books[n])) for n in "abc"] == [88_550, 94_800, 304_500]
    assert [cash_flow(books[n])[1] for n in "ab"] == [5, 4]


def test_a_changed_input_moves_the_total_by_the_engines_difference(workbooks, book) -> None:
    figures, books, _ = workbooks
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
    early = inputs.cell(row=input_row(inputs, "Sweep stops trials early"), column=2)
    assert early.value == 1 and early.number_format == '"Yes";"Yes";"No"'  # yes as 1, shown "Yes", not text
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


# --------------------------------------------------------------------------- cached values (issue 21)


def formula_cells(path: Path) -> dict[tuple[str, str], str]:
    """Every formula cell of the workbook at ``path``: (sheet, cell) → its formula."""
    book = openpyxl.load_workbook(path)
    return {
        (sheet.title, cell.coordinate): cell.value
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and cell.value.startswith("=")
    }


def same_value(cached: object, computed: object) -> bool:
    """A cached value equals a recalculated one: numbers to a millionth of a cent's fraction,
    text exactly, a blank text result ("") and a blank cell alike."""
    if cached in (None, "") and computed in (None, ""):
        return True
    if isinstance(cached, int | float) and isinstance(computed, int | float):
        return cached == pytest.approx(computed, rel=1e-12, abs=1e-6)
    return cached == computed


@pytest.mark.parametrize("name", ["a", "b", "c", *BUILDS, *NEVER, *INIT_CLIENTS])
def test_every_cached_value_is_what_libreoffice_computes(workbooks, name) -> None:
    """What a reader that does not recalculate shows (LibreOffice's default, file previews,
    openpyxl's data_only) is what the formula computes, on every sheet."""
    figures, books, folder = workbooks
    path = folder / f"{name}.xlsx"
    formulas = formula_cells(path)
    cached = openpyxl.load_workbook(path, data_only=True)
    computed = books[name]
    by_sheet: dict[str, int] = {}
    for sheet, cell in formulas:
        mine, theirs = cached[sheet][cell].value, computed[sheet][cell].value
        assert same_value(mine, theirs), f"{sheet}!{cell} {formulas[sheet, cell]}: cached {mine!r}, computed {theirs!r}"
        by_sheet[sheet] = by_sheet.get(sheet, 0) + 1
    # Each month of the horizon holds 14 formulas on Cash flow (5 spend shares, spend,
    # evaluation, serving, maintenance, running, alternative, net, cumulative, paid back),
    # month 0 eight (shares, spend, net, cumulative); below: break-even (with an
    # alternative), TCO and 5 area totals.
    horizon = figures[name].params.horizon_months
    alternative = 0 if figures[name].params.alternative.kind == "none" else 1
    assert by_sheet["Cash flow"] == 14 * horizon + 8 + alternative + 1 + 5
    assert {"Summary", "Line items", "Running costs"} <= set(by_sheet)


def cash_table(path: Path, horizon: int):
    """The Cash flow sheet's months as pandas reads them (cached values, no recalculation)."""
    import pandas as pd

    return pd.read_excel(path, sheet_name=SHEET_CASH, nrows=horizon + 1)


@pytest.mark.parametrize("name", ["a", "b", "c", *BUILDS, *NEVER, *INIT_CLIENTS])
def test_pandas_reads_the_engines_cash_flow(workbooks, name) -> None:
    import numpy as np

    from ftcost_helpers.engine.model.run import programme_spend

    figures, _, folder = workbooks
    breakdown = figures[name].breakdown
    params, run = breakdown.params, breakdown.base
    table = cash_table(folder / f"{name}.xlsx", params.horizon_months)
    cumulative = breakdown.cash_flow
    assert table["Month"].tolist() == list(range(params.horizon_months + 1))
    assert np.allclose(table["Cumulative"], cumulative, atol=CENT)
    assert np.allclose(table["Net this month"], np.diff(cumulative, prepend=0.0), atol=CENT)
    assert np.allclose(table["Programme spend"], -programme_spend(params, run.lines), atol=CENT)
    assert np.allclose(table["Running cost"][1:], run.running_by_month, atol=CENT)
    parts = table["Evaluation"] + table["Serving"] + table["Maintenance"]
    assert np.allclose(parts, table["Running cost"], atol=CENT)
    build = params.programme.build_months
    avoided = [float(run.alternative_monthly) if month > build else 0.0 for month in table["Month"]]
    assert np.allclose(table["Alternative avoided"], avoided, atol=CENT)
    paid_back = [m for m, value in zip(table["Month"][1:], table["Paid back in"][1:], strict=True) if value == m]
    assert paid_back == [m for m in range(1, params.horizon_months + 1) if cumulative[m] >= 0]


def test_example_a_cash_flow_cached_by_hand(workbooks) -> None:
    # Example A from launch (month 1): evaluation USD 1,800; serving 730 h × USD 2.20 = 1,606;
    # the USD 22,000 API bill avoided. Maintenance from month 7 (start_month 7, no build):
    # (re-evaluation 2,000 + drift 2,000 + incremental data 6,500 + re-training
    # 1 × 0.75 × compute 1,150 + migrations 2.5/4 × 24,000) / 3 = 26,362.50 / 3 = 8,787.50
    # a month (each ranged input at its midpoint).
    _, _, folder = workbooks
    table = cash_table(folder / "a.xlsx", 24)
    month1, month6, month7 = (table.iloc[m] for m in (1, 6, 7))
    assert (month1["Evaluation"], month1["Serving"], month1["Alternative avoided"]) == pytest.approx(
        (1_800, 1_606, 22_000), abs=0.01
    )
    assert month6["Maintenance"] == 0 and month7["Maintenance"] == pytest.approx(8_787.50, abs=0.01)
    assert month7["Running cost"] == pytest.approx(1_800 + 1_606 + 8_787.50, abs=0.01)
    # Paid back in month 5 (the source's worked example): −88,550 + 5 × 18,594 = 4,420 ≥ 0.
    assert table["Paid back in"].dropna().tolist()[0] == 5
    assert table["Cumulative"][5] == pytest.approx(-88_550 + 5 * (22_000 - 1_800 - 1_606), abs=0.01)
    # Three even build months: nothing runs or is avoided until month 4.
    even = cash_table(folder / "a_build_even.xlsx", 24)
    assert even["Evaluation"][3] == 0 and even["Evaluation"][4] == pytest.approx(1_800)
    assert even["Alternative avoided"][3] == 0 and even["Alternative avoided"][4] == pytest.approx(22_000)


@pytest.mark.parametrize("name", ["a", "b", "c", *NEVER, *INIT_CLIENTS])
def test_summary_sheet_formulas_cached_as_the_engines_values(workbooks, name) -> None:
    """Each Summary figure's formula column (cached) reads the engine's own column."""
    import pandas as pd

    _, _, folder = workbooks
    summary = pd.read_excel(folder / f"{name}.xlsx", sheet_name="Summary")
    rows = summary[summary["Workbook (formula)"].notna() & summary["Engine (value)"].notna()]
    rows = rows[rows["Figure"].str.contains("per month|total|ownership|Break-even", regex=True)]
    assert len(rows) >= 7
    for _, row in rows.iterrows():
        mine, engine = row["Workbook (formula)"], row["Engine (value)"]
        if isinstance(engine, str):
            assert mine == engine, row["Figure"]
        else:
            assert float(mine) == pytest.approx(float(engine), abs=CENT), row["Figure"]
