"""The workbook's sheets for an engagement under way (issue 23): "Since the last quote"
(``report --previous``: the change by cause, its sum a formula, and every key that changed)
and "Spend to date" (``report --actuals``: forecast against actual by month and area, each
variance a formula, the rate/volume split, and the re-forecast beside the original range).

Figures are the engine's to the cent (:func:`~ftcost_helpers.engine.requote.requote`,
:mod:`~ftcost_helpers.engine.tracking`); the totals are formulas over them, so a reader sees
that the parts add up.
"""

from __future__ import annotations

from typing import Any

from xlsxwriter.utility import xl_rowcol_to_cell

from ftcost_helpers.engine.money import code
from ftcost_helpers.engine.requote import CAUSES, FIGURES, Requote
from ftcost_helpers.report.document_actuals import area_label
from ftcost_helpers.report.document_requote import CAUSE_LABELS, CAUSE_MEANING, value_words
from ftcost_helpers.report.excel_book import FIRST_ROW, USD_CENTS, Book

SHEET_SINCE, SHEET_SPEND = "Since the last quote", "Spend to date"


def _cell(row: int, column: int) -> str:
    return xl_rowcol_to_cell(row, column)


def write_follow_up_sheets(book: Book, figures: Any) -> None:
    """The sheets ``--previous`` and ``--actuals`` add (none without them)."""
    if figures.requote is not None:
        write_requote_sheet(book, figures.requote)
    if figures.tracking is not None:
        write_spend_sheet(book, figures.tracking)


def write_requote_sheet(book: Book, result: Requote) -> None:
    """The earlier quote, each cause's part, the new quote as a formula (earlier + parts),
    the change as a formula, then the keys that changed; amounts in the plan's currency
    (:func:`~ftcost_helpers.engine.money.code`, set around the workbook)."""
    c = code()
    sheet = book.sheet(
        SHEET_SINCE, ["Row", "What it covers", f"Programme ({c})", f"Cost of ownership ({c})"], [26, 60, 18, 22]
    )
    money = book.fmt(USD_CENTS)
    old = result.old.figures()
    row = FIRST_ROW
    sheet.text(row, 0, "Earlier quote", book.bold)
    sheet.text(row, 1, f"priced on prices as of {result.old.book.as_of.isoformat()}", book.wrap)
    for column, figure in enumerate(FIGURES, start=2):
        sheet.number(row, column, round(old[figure], 2), money)
    first = row + 1
    for cause in CAUSES:
        row += 1
        sheet.text(row, 0, CAUSE_LABELS[cause])
        sheet.text(row, 1, CAUSE_MEANING[cause], book.wrap)
        for column, figure in enumerate(FIGURES, start=2):
            sheet.number(row, column, round(result.attribution[cause][figure], 2), money)
    last = row
    row += 1
    sheet.text(row, 0, "Change", book.bold)
    sheet.text(row, 1, "the sum of the causes", book.wrap)
    for column in (2, 3):
        sheet.formula(row, column, f"=SUM({_cell(first, column)}:{_cell(last, column)})", book.fmt(USD_CENTS, True))
    row += 1
    sheet.text(row, 0, "This quote", book.bold)
    sheet.text(
        row, 1, f"the earlier quote plus the change; prices as of {result.new.book.as_of.isoformat()}", book.wrap
    )
    for column in (2, 3):
        sheet.formula(row, column, f"={_cell(FIRST_ROW, column)}+{_cell(row - 1, column)}", book.fmt(USD_CENTS, True))
    row += 1
    sheet.note(
        row,
        f"On the {result.basis.replace('_', ' ')} basis. Each cause is measured alone from the earlier quote, in the "
        "order prices, plan, calibration; the interaction is the change less their sum. Values to the cent.",
    )
    row += 2
    sheet.texts(row, 0, ["Key of the plan", "Earlier quote", "This quote"], book.header)
    if not result.changed:
        sheet.text(row + 1, 0, "No key of the plan changed.")
    for offset, (key, before, after) in enumerate(result.changed, start=1):
        sheet.text(row + offset, 0, key, book.wrap)
        sheet.text(row + offset, 1, value_words(before), book.wrap)
        sheet.text(row + offset, 2, value_words(after), book.wrap)


def write_spend_sheet(book: Book, tracking: dict[str, Any]) -> None:
    """Spend by month and by area (variance = actual − forecast, volume = variance − rate,
    as formulas) and the re-forecast's P10/P50/P90 beside the original's; amounts in the
    plan's currency (:func:`~ftcost_helpers.engine.money.code`, set around the workbook)."""
    c = code()
    headers = ["Month or area", *(f"{name} ({c})" for name in ("Forecast", "Actual", "Variance", "Rate", "Volume"))]
    sheet = book.sheet(SHEET_SPEND, headers, [34, 16, 16, 16, 16, 16, 16])
    money = book.fmt(USD_CENTS)
    row = FIRST_ROW
    for entry in tracking["by_month"]:
        sheet.text(row, 0, f"Month {entry['month']} ({entry['period']})")
        sheet.number(row, 1, entry["forecast_usd"], money)
        sheet.number(row, 2, entry["actual_usd"], money)
        sheet.formula(row, 3, f"={_cell(row, 2)}-{_cell(row, 1)}", money)
        row += 1
    row += 1
    first = row
    for entry in tracking["by_area"]:
        if not (entry["forecast_usd"] or entry["actual_usd"]):
            continue
        sheet.text(row, 0, area_label(entry["area"]))
        sheet.number(row, 1, entry["forecast_usd"], money)
        sheet.number(row, 2, entry["actual_usd"], money)
        sheet.formula(row, 3, f"={_cell(row, 2)}-{_cell(row, 1)}", money)
        sheet.number(row, 4, entry["rate_usd"], money)
        sheet.formula(row, 5, f"={_cell(row, 3)}-{_cell(row, 4)}", money)
        row += 1
    last = row - 1
    sheet.text(row, 0, "Total, months tracked", book.bold)
    for column in range(1, 6):
        sheet.formula(row, column, f"=SUM({_cell(first, column)}:{_cell(last, column)})", book.fmt(USD_CENTS, True))
    row += 1
    sheet.note(
        row,
        f"Rate = (actual − planned {c} per unit) × actual units; volume = (actual − planned units) × planned {c} "
        "per unit. Only compute has units (GPU-hours); elsewhere the whole variance is volume.",
    )
    row += 2
    again, original = tracking["reforecast"], tracking["reforecast"]["original"]
    sheet.texts(
        row,
        0,
        [f"Re-forecast ({c})", "Original P10", "Original P50", "Original P90", "Now P10", "Now P50"],
        book.header,
    )
    sheet.text(row, 6, "Now P90", book.header)
    for label, key in (("Programme cost", "programme_usd"), ("Cost of ownership", "tco_usd")):
        row += 1
        sheet.text(row, 0, label)
        for column, value in enumerate(
            [
                original[key]["p10"],
                original[key]["p50"],
                original[key]["p90"],
                again[key]["p10"],
                again[key]["p50"],
                again[key]["p90"],
            ],
            start=1,
        ):
            sheet.number(row, column, value, money)
    row += 1
    notes = "; ".join(tracking["notes"])
    sheet.note(
        row,
        f"The Monte Carlo re-run ({again.get('draws', 0):,} draws, seed {again.get('seed', '')}) with months "
        f"1–{tracking['months_tracked']} fixed at their actual spend." + (f" Notes: {notes}." if notes else ""),
    )
