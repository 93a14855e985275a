"""The client's Excel workbook (XlsxWriter): summary, line items, monthly cash flow,
assumptions and warnings, each a sheet with a frozen header, set column widths and
currency formats.

The summary sheet's third column names the ``summary.json`` key of each row, so the two
files can be checked against each other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ftcost_helpers.engine.model.lines import AREAS, ONGOING
from ftcost_helpers.report.figures import ClientFigures, flat_inputs

CURRENCY = '"USD "#,##0'
CURRENCY_CENTS = '"USD "#,##0.00'


def summary_rows(summary: dict[str, Any]) -> list[tuple[str, Any, str, str]]:
    """(label, value, summary.json key, format) for the summary sheet."""
    rows: list[tuple[str, Any, str, str]] = [
        ("Client", summary["client"], "client", "text"),
        ("Currency", summary["currency"], "currency", "text"),
        ("Report date", summary["report_date"], "report_date", "text"),
        ("Price book as of", summary["price_book_as_of"], "price_book_as_of", "text"),
        ("Price sources", summary["price_sources"], "price_sources", "text"),
        ("Parameters file", summary["source_file"], "source_file", "text"),
        ("Programme total (one-time)", summary["programme_total_usd"], "programme_total_usd", "usd"),
    ]
    rows += [
        (f"Range {name.upper()}", value, f"range_usd.{name}", "usd") for name, value in summary["range_usd"].items()
    ]
    rows += [(f"Area: {area}", summary["areas_usd"][area], f"areas_usd.{area}", "usd") for area in AREAS]
    rows += [
        (f"Running per month: {name}", summary["ongoing_monthly_usd"][name], f"ongoing_monthly_usd.{name}", "usd")
        for name in ONGOING
    ]
    month = summary["break_even_month"]
    rows += [
        ("Break-even month", month if month is not None else "none", "break_even_month", "int"),
        (f"Cost of ownership over {summary['horizon_months']} months", summary["tco_usd"], "tco_usd", "usd"),
        ("Horizon (months)", summary["horizon_months"], "horizon_months", "int"),
        ("Warnings", len(summary["warnings"]), "warnings", "int"),
        ("Parameters hash", summary["params_hash"], "params_hash", "text"),
    ]
    return rows


def cash_flow_rows(figures: ClientFigures) -> list[tuple[int, float, float, float, float, float]]:
    """(month, outlay, running cost, alternative, net, cumulative) for month 0..horizon, USD."""
    run = figures.breakdown.base
    cumulative = np.asarray(run.cash_flow, dtype=float)
    running = np.asarray(run.running_by_month, dtype=float)
    alternative = float(np.asarray(run.alternative_monthly, dtype=float))
    has_alternative = figures.params.alternative.kind != "none"
    rows = [(0, figures.breakdown.programme_total, 0.0, 0.0, float(cumulative[0]), float(cumulative[0]))]
    for month in range(1, len(cumulative)):
        saving = alternative if has_alternative else 0.0
        cost = float(running[month - 1])
        rows.append(
            (month, 0.0, cost, saving, float(cumulative[month] - cumulative[month - 1]), float(cumulative[month]))
        )
    return rows


class _Sheets:
    """Formats shared by the sheets of one workbook."""

    def __init__(self, workbook: Any) -> None:
        self.workbook = workbook
        self.header = workbook.add_format({"bold": True, "bg_color": "#E8EDF3", "bottom": 1, "text_wrap": True})
        self.usd = workbook.add_format({"num_format": CURRENCY})
        self.usd_cents = workbook.add_format({"num_format": CURRENCY_CENTS})
        self.int = workbook.add_format({"num_format": "0"})
        self.number = workbook.add_format({"num_format": "#,##0.####"})
        self.wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
        self.bold_usd = workbook.add_format({"num_format": CURRENCY, "bold": True})

    def table(self, name: str, headers: list[str], widths: list[float]) -> Any:
        """A sheet with a frozen, formatted header row and its column widths."""
        sheet = self.workbook.add_worksheet(name)
        sheet.write_row(0, 0, headers, self.header)
        for column, width in enumerate(widths):
            sheet.set_column(column, column, width)
        sheet.freeze_panes(1, 0)
        return sheet


def _write_summary(books: _Sheets, summary: dict[str, Any]) -> None:
    sheet = books.table("Summary", ["Item", "Value", "summary.json key"], [44, 26, 30])
    formats = {"usd": books.usd, "int": books.int, "text": None}
    for row, (label, value, key, kind) in enumerate(summary_rows(summary), start=1):
        sheet.write_string(row, 0, label)
        fmt = formats[kind] if not isinstance(value, str) else None
        sheet.write(row, 1, value, fmt)
        sheet.write_string(row, 2, key)


def _write_line_items(books: _Sheets, figures: ClientFigures) -> None:
    headers = ["Area", "Line item", "Low (USD)", "Base (USD)", "High (USD)", "Unit", "Source"]
    sheet = books.table("Line items", headers, [13, 52, 14, 14, 14, 8, 60])
    items = figures.breakdown.line_items
    for row, item in enumerate(items, start=1):
        sheet.write_row(row, 0, [item.area, item.item])
        for column, value in enumerate((item.low, item.base, item.high), start=2):
            sheet.write_number(row, column, value, books.usd)
        sheet.write_row(row, 5, [item.unit, item.source])
    total_row = len(items) + 1
    sheet.write_string(total_row, 1, "Programme total")
    low, high = figures.breakdown.programme_range
    for column, value in enumerate((low, figures.breakdown.programme_total, high), start=2):
        sheet.write_number(total_row, column, value, books.bold_usd)
    sheet.autofilter(0, 0, len(items), len(headers) - 1)


def _write_cash_flow(books: _Sheets, figures: ClientFigures) -> None:
    headers = ["Month", "Programme outlay", "Running cost", "Alternative avoided", "Net this month", "Cumulative"]
    sheet = books.table("Monthly cash flow", headers, [8, 18, 16, 20, 18, 16])
    for row, (month, *amounts) in enumerate(cash_flow_rows(figures), start=1):
        sheet.write_number(row, 0, month, books.int)
        for column, value in enumerate(amounts, start=1):
            sheet.write_number(row, column, value, books.usd)


def _write_assumptions(books: _Sheets, figures: ClientFigures) -> None:
    headers = ["Input", "Value (base case)", "Low", "Most likely", "High"]
    sheet = books.table("Assumptions", headers, [52, 40, 12, 12, 12])
    for row, (key, *values) in enumerate(flat_inputs(figures.params), start=1):
        sheet.write_string(row, 0, key)
        for column, value in enumerate(values, start=1):
            if value is None or value == "":
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                sheet.write_string(row, column, str(value))
            else:
                sheet.write_number(row, column, value, books.number)
    sheet.write_string(
        len(flat_inputs(figures.params)) + 2, 0, f"Price book as of {figures.summary['price_book_as_of']}"
    )


def _write_warnings(books: _Sheets, warnings: list[dict[str, str]]) -> None:
    sheet = books.table("Warnings", ["Code", "Area", "Message"], [30, 13, 110])
    if not warnings:
        sheet.write_string(1, 0, "none")
    for row, warning in enumerate(warnings, start=1):
        sheet.write_row(row, 0, [warning["code"], warning.get("area", ""), warning["message"]], books.wrap)


def write_workbook(path: Path, figures: ClientFigures) -> None:
    """Write the client's ``.xlsx`` to ``path``."""
    import xlsxwriter

    # Text from a client file is never read as a formula or a link ("=HYPERLINK(...)").
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    workbook = xlsxwriter.Workbook(str(path), options)
    workbook.set_properties({"title": f"Fine-tuning cost: {figures.summary['client']}", "author": "ftcost"})
    books = _Sheets(workbook)
    _write_summary(books, figures.summary)
    _write_line_items(books, figures)
    _write_cash_flow(books, figures)
    _write_assumptions(books, figures)
    _write_warnings(books, figures.summary["warnings"])
    workbook.close()
