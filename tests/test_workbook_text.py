"""The workbook reads as words and prints (issue 21) and its text stays text (issue 27,
CWE-1236): every sheet prints landscape, one page wide, with its header row repeated; no
sheet shows a key ("roi"), a negative saving ("Fixing it saves −USD …") or a bare
TRUE/FALSE result; and text that begins like a formula (``= + - @``, tab, carriage return)
from the client file is written so that a CSV export of any sheet cannot start one.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import subprocess
from pathlib import Path

import openpyxl
import pytest
import yaml

from ftcost_helpers.engine.audit import NO_INFERENCE_COST_MODEL, TITLES
from ftcost_helpers.engine.loading import deep_merge, read_yaml
from ftcost_helpers.report.excel import write_workbook
from ftcost_helpers.report.excel_book import inert_text
from ftcost_helpers.report.figures import client_figures

TODAY = dt.date(2026, 12, 1)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HOSTILE = {
    "client": '=HYPERLINK("http://evil.example","Open")',
    "scenarios": [
        {"name": "+cmd|' /C calc'!A0", "description": "-2+3", "overrides": {"training": {"runs": 10}}},
        {"name": "@SUM(1+1)*cmd|' /C calc'!A0", "description": "=1+1", "overrides": {"training": {"runs": 12}}},
        {"name": "-1+1", "description": "@A1", "overrides": {"training": {"runs": 16}}},
    ],
}
"""Example A renamed so its client and scenario names and descriptions each begin with a
character a spreadsheet reads as the start of a formula (OWASP's CSV injection payloads).
Tabs and carriage returns the loader refuses in client text; :func:`inert_text` is tested
on them alone."""


def written(book, example_files, folder: Path, name: str, overrides: dict) -> Path:
    """Example A with ``overrides``, its workbook written to ``folder``."""
    source = folder / f"{name}.yaml"
    plan = deep_merge(read_yaml(example_files["a"]), overrides)
    source.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    path = folder / f"{name}.xlsx"
    write_workbook(path, client_figures(source, book, TODAY, "2026-12-01T00:00:00+00:00"))
    return path


@pytest.fixture(scope="module")
def workbooks(book, example_files, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("workbook-text")
    paths = {}
    for name in "abc":
        paths[name] = folder / f"{name}.xlsx"
        write_workbook(paths[name], client_figures(example_files[name], book, TODAY, "x"))
    paths["unserved"] = written(book, example_files, folder, "unserved", {"serving": {"modelled": False}})
    paths["hostile"] = written(book, example_files, folder, "hostile", HOSTILE)
    return paths


def text_cells(path: Path):
    """(sheet, cell, text) of every text cell that is not a formula."""
    for sheet in openpyxl.load_workbook(path).worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "s":
                    yield sheet.title, cell.coordinate, cell.value


# --------------------------------------------------------------------------- print set-up


@pytest.mark.parametrize("name", ["a", "c"])
def test_every_sheet_prints_landscape_one_page_wide_with_its_header(workbooks, name) -> None:
    book = openpyxl.load_workbook(workbooks[name])
    assert len(book.worksheets) == 10
    for sheet in book.worksheets:
        setup = sheet.page_setup
        assert setup.orientation == "landscape", sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        # An absent fitToWidth is its default, 1 (ECMA-376 Part 1, §18.3.1.63); a height of 0 is
        # as many pages tall as the sheet needs.
        assert (int(setup.fitToWidth or 1), int(setup.fitToHeight)) == (1, 0), sheet.title
        assert sheet.print_title_rows == "$1:$1", sheet.title
        assert "&P of &N" in sheet.oddFooter.right.text, sheet.title


# --------------------------------------------------------------------------- words


def test_warnings_name_areas_and_say_a_negative_saving_in_words(workbooks) -> None:
    # Example A without a serving model: the audit's NO_INFERENCE_COST_MODEL (area "roi")
    # costs the serving left out as a negative saving.
    sheet = openpyxl.load_workbook(workbooks["unserved"])["Warnings"]
    header = [cell.value for cell in sheet[1]]
    rows = [dict(zip(header, (cell.value for cell in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    unserved = next(row for row in rows if row["Warning"] == TITLES[NO_INFERENCE_COST_MODEL])
    assert unserved["Area"] == "Return on investment"
    assert unserved["Severity"][0].isupper()
    saving = unserved["Cash gained by fixing it over 24 months (USD)"]
    assert saving < 0
    words = unserved["What fixing it does"]
    assert words.startswith("Fixing it lowers the cash position after 24 months by USD ")
    assert "saves" not in words and "−" not in words and "-" not in words
    for _, _, text in text_cells(workbooks["unserved"]):
        assert not re.search(r"saves\s*[−-]", text), text


def test_scenarios_say_whether_they_fit_in_words(workbooks) -> None:
    # Example B's "QLoRA on a local 24 GB card": a 70B base does not fit one RTX 4090.
    sheet = openpyxl.load_workbook(workbooks["b"])["Scenarios"]
    fits = {row[0].value: row[8].value for row in sheet.iter_rows(min_row=2) if row[0].value and row[8].value}
    # The words of the document's scenario table (views.tables), not TRUE/FALSE.
    words = fits["QLoRA on a local 24 GB card"]
    assert words.startswith("cannot run as specified: the model does not fit its GPUs")
    assert fits["Plan as filed"] == "yes"
    header = next(sheet.iter_rows(max_row=1, values_only=True))
    assert header[8] == "Runs as specified"


AREA_KEYS = {"roi", "compute", "dataset", "eval", "engineering", "compliance", "maintenance"}
SEVERITIES = {"critical", "high", "medium", "low"}


@pytest.mark.parametrize("name", ["a", "b", "c", "unserved"])
def test_no_sheet_shows_a_key_or_a_bare_boolean(workbooks, name) -> None:
    for sheet, cell, text in text_cells(workbooks[name]):
        assert text not in AREA_KEYS | SEVERITIES, (sheet, cell, text)
        assert text not in ("True", "False", "TRUE", "FALSE"), (sheet, cell)
    book = openpyxl.load_workbook(workbooks[name])
    booleans = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row if cell.data_type == "b"]
    assert booleans == []
    # The yes/no inputs the formulas read: 1 or 0 shown as a word ("Sweep stops trials early").
    inputs = book["Inputs"]
    switches = [row for row in inputs.iter_rows(min_row=2) if row[2].value == "yes (1) or no (0)"]
    assert len(switches) == 2
    assert all(row[1].value in (0, 1) and row[1].number_format == '"Yes";"Yes";"No"' for row in switches)


# --------------------------------------------------------------------------- CWE-1236


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Plan as filed", "Plan as filed"),
        ("a=1", "a=1"),
        ("−USD 5", "−USD 5"),  # U+2212, not a formula start
        ("'quoted", "'quoted"),
        ("", ""),
    ],
)
def test_inert_text_prefixes_formula_starts_only(text, expected) -> None:
    assert inert_text(text) == expected


def test_hostile_names_are_text_in_the_workbook(workbooks) -> None:
    book = openpyxl.load_workbook(workbooks["hostile"])
    assert book["Summary"]["B2"].value == "'" + HOSTILE["client"]
    names = {row[0].value for row in book["Scenarios"].iter_rows(min_row=2)}
    assert {"'+cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0", "'-1+1"} <= names
    for sheet, cell, text in text_cells(workbooks["hostile"]):
        assert not text.startswith(FORMULA_STARTS), (sheet, cell, text)


def exported_csv(path: Path, out: Path, profile: Path) -> dict[str, list[list[str]]]:
    """Every sheet of the workbook at ``path`` as LibreOffice exports it to CSV (UTF-8, the
    cells as shown), read back field by field."""
    from test_report_workbook import soffice

    # Filter options: comma, double quote, UTF-8, from line 1, …, cells as shown, every sheet (-1).
    target = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1"
    command = [soffice(), "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}"]
    command += ["--convert-to", target, "--outdir", str(out), str(path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    sheets = {}
    for exported in sorted(out.glob(f"{path.stem}-*.csv")):
        with exported.open(encoding="utf-8", newline="") as handle:
            sheets[exported.stem.removeprefix(f"{path.stem}-")] = list(csv.reader(handle))
    return sheets


def is_number(field: str) -> bool:
    try:
        float(field.replace(",", ""))
    except ValueError:
        return False
    return True


def test_a_csv_export_cannot_start_a_formula(workbooks, tmp_path) -> None:
    sheets = exported_csv(workbooks["hostile"], tmp_path / "csv", tmp_path / "profile")
    assert {"Summary", "Scenarios", "Cash flow", "Warnings"} <= set(sheets)
    fields = [(name, field) for name, rows in sheets.items() for row in rows for field in row]
    live = [(name, field) for name, field in fields if field.startswith(FORMULA_STARTS) and not is_number(field)]
    assert live == []
    texts = {field for _, field in fields}
    assert "'" + HOSTILE["client"] in texts and "'-1+1" in texts and "'-2+3" in texts
    # Outflows show as "−USD 88,550.00" (U+2212), never "-USD …", which a spreadsheet opening
    # the CSV would read as a formula.
    spend = [row[1] for row in sheets["Cash flow"][1:26]]
    assert spend[0] == "−USD 88,550.00"


# --------------------------------------------------------------------------- headline (issue 21)


def summary_rows(path: Path) -> dict[str, object]:
    sheet = openpyxl.load_workbook(path)["Summary"]
    return {row[0].value: row[2].value for row in sheet.iter_rows(min_row=2) if row[0].value}


def test_summary_sheet_shows_the_headline_of_summary_json(book, example_files, tmp_path) -> None:
    """The Summary sheet shows summary.json's headline as given, on its basis, above the base
    case's formulas; a figure the headline leaves out is not shown, and a summary without a
    headline gives no headline rows."""
    from dataclasses import replace

    figures = client_figures(example_files["a"], book, TODAY, "x")
    headline = figures.summary["headline"]
    path = tmp_path / "a.xlsx"
    write_workbook(path, figures)
    rows = summary_rows(path)
    assert rows["Headline basis"] == "P50"
    assert rows["Programme, headline (P50)"] == headline["programme_usd"]
    # Example A's base case is USD 88,550 (the source's worked example): the P50 programme is it
    # plus the contingency the sheet shows beside it.
    assert rows["Programme, headline (P50)"] == pytest.approx(
        88_550 + rows["of which contingency, headline (P50)"], abs=0.01
    )
    assert rows["Break-even month, headline (P50)"] == headline["break_even_month"]
    assert rows["Break-even date, headline (P50)"] == dt.datetime.fromisoformat(headline["break_even_date"])
    assert rows["Cost of ownership, headline (P50)"] == headline["tco_usd"]
    labels = list(rows)
    assert labels.index("Headline basis") < labels.index("Programme total (base case)")

    partial = {"basis": "base_case", "programme_usd": 88_550.0, "break_even_month": None}
    write_workbook(tmp_path / "partial.xlsx", replace(figures, summary=figures.summary | {"headline": partial}))
    rows = summary_rows(tmp_path / "partial.xlsx")
    assert rows["Programme, headline (base case)"] == 88_550
    assert "Programme total (base case)" in rows  # the base case's own rows, beside it
    assert not any(str(label).startswith(("Break-even month, ", "Cost of ownership, ")) for label in rows)

    bare = {key: value for key, value in figures.summary.items() if key != "headline"}
    write_workbook(tmp_path / "bare.xlsx", replace(figures, summary=bare))
    assert "Headline basis" not in summary_rows(tmp_path / "bare.xlsx")
