"""The workbook's cells as they are written: formats, print set-up, text that stays text,
and formulas that carry their own results.

Every write goes through :class:`Sheet`, which records the value of each cell. Formulas are
held back until :meth:`Book.close`, then written with the value they compute
(:mod:`ftcost_helpers.report.excel_calc`) as their cached result, so a reader that does not
recalculate (LibreOffice by default, file previews, openpyxl, pandas) shows the figure and
not 0.
"""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from typing import Any

from xlsxwriter.utility import xl_rowcol_to_cell

from ftcost_helpers.engine.money import code
from ftcost_helpers.report.excel_calc import CellError, CellKey, Value, evaluate, parse

USD = '"USD "#,##0;"−USD "#,##0'
USD_CENTS = '"USD "#,##0.00;"−USD "#,##0.00'
"""Dollars, an outflow with the minus sign before the currency as the report writes it
(``−USD 88,550``). The sign is U+2212, so the figure shown (or exported "as shown" to CSV)
never begins with ``-``, which a spreadsheet opening that CSV reads as the start of a formula."""
SHARE = "0.0%"
COUNT = "#,##0.##;-#,##0.##;0"
"""Counts without a stray decimal point: ``14``, ``2.5``, ``0`` (never ``64.``)."""
DATE = "d mmmm yyyy"
YES_NO = '"Yes";"Yes";"No"'
"""A yes/no input stored as 1 or 0 and shown as a word in every spreadsheet (a TRUE/FALSE
cell ignores number formats in Excel and shows as 1 in LibreOffice)."""
LINE_HEIGHT = 15.0
"""Points per line of the default 11-point font: the height of a row of one line."""
CHARACTERS_PER_WIDTH = 1.15
"""Characters of running text per unit of column width (a unit is one digit's width)."""
DEFAULT_WIDTH = 8.43
SHEET_INPUTS, SHEET_LINES, SHEET_RUNNING, SHEET_CASH = "Inputs", "Line items", "Running costs", "Cash flow"
FIRST_ROW = 1
"""Row index (0-based) of the first data row under each sheet's header."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a CSV field as a formula (CWE-1236; OWASP,
"CSV Injection")."""
TEXT_PREFIX = "'"


def inert_text(text: str) -> str:
    """``text`` as a cell that stays text when the sheet is exported to CSV and opened again:
    a leading ``= + - @``, tab or carriage return gets an apostrophe before it (OWASP's
    advice for CWE-1236).

    Why a visible apostrophe and not the cell style's quote prefix (XlsxWriter's
    ``quote_prefix``, what Excel sets when one types ``'=``): the prefix is a format, not
    content, and both Excel's and LibreOffice's CSV export drop it, writing ``=…`` bare
    (checked with LibreOffice 7.4 ``--convert-to csv``). Written as content, the apostrophe
    survives every export; in the workbook it shows, which says plainly that the text was
    not a formula."""
    return TEXT_PREFIX + text if text.startswith(FORMULA_STARTS) else text


def cell_ref(sheet: str, row: int, column: int) -> str:
    """An absolute reference to a cell of a sheet: ``'Inputs'!$B$5``."""
    return f"'{sheet}'!{xl_rowcol_to_cell(row, column, row_abs=True, col_abs=True)}"


class Sheet:
    """One worksheet: every value written through it is recorded for the formulas."""

    def __init__(self, book: Book, worksheet: Any, widths: list[float]) -> None:
        self.book, self.worksheet, self.name = book, worksheet, worksheet.get_name()
        self.widths = widths
        self.lines: dict[int, int] = {}
        """The most lines a wrapped text needs in each row (0-based), for its height."""

    def _record(self, row: int, column: int, value: Value) -> None:
        self.book.values[(self.name, row, column)] = value

    def _fit(self, row: int, text: str, width: float) -> None:
        """Note the lines ``text`` wraps to in ``width``: a spreadsheet does not grow a row to
        its wrapped text on opening an .xlsx (LibreOffice does not), so the row is given the height."""
        characters = max(1, int(width * CHARACTERS_PER_WIDTH))
        lines = sum(max(1, len(textwrap.wrap(part, characters))) for part in text.splitlines() or [""])
        self.lines[row] = max(self.lines.get(row, 1), lines)

    def text(self, row: int, column: int, text: str, fmt: Any = None) -> None:
        """Text, escaped by :func:`inert_text`; an empty text leaves the cell blank; a text in
        a wrapping format gets the row height it needs."""
        if text:
            fmt = self.book.plain if fmt is None else fmt
            self.worksheet.write_string(row, column, inert_text(text), fmt)
            self._record(row, column, inert_text(text))
            if fmt is not None and getattr(fmt, "text_wrap", 0):
                self._fit(row, text, self.widths[column] if column < len(self.widths) else DEFAULT_WIDTH)

    def note(self, row: int, text: str) -> None:
        """A note under a table, across all its columns, wrapped."""
        last = max(len(self.widths) - 1, 0)
        if last:
            self.worksheet.merge_range(row, 0, row, last, "", self.book.note)
        self.text(row, 0, text, self.book.note)
        self._fit(row, text, sum(self.widths))

    def texts(self, row: int, column: int, texts: list[str], fmt: Any = None) -> None:
        for offset, text in enumerate(texts):
            self.text(row, column + offset, text, fmt)

    def number(self, row: int, column: int, number: float, fmt: Any = None) -> None:
        self.worksheet.write_number(row, column, float(number), self.book.plain if fmt is None else fmt)
        self._record(row, column, float(number))

    def yes_no(self, row: int, column: int, value: bool) -> None:
        """A yes/no input: 1 or 0, shown as Yes or No, only 1 or 0 accepted when typed."""
        self.number(row, column, 1.0 if value else 0.0, self.book.fmt(YES_NO))
        message = {"input_title": "Yes or no", "input_message": "Type 1 for yes, 0 for no."}
        self.worksheet.data_validation(
            row,
            column,
            row,
            column,
            {"validate": "integer", "criteria": "between", "minimum": 0, "maximum": 1} | message,
        )

    def date(self, row: int, column: int, day: dt.date) -> None:
        self.worksheet.write_datetime(row, column, dt.datetime.combine(day, dt.time()), self.book.date)
        self._record(row, column, float((day - dt.date(1899, 12, 30)).days))  # the date's serial number

    def formula(self, row: int, column: int, formula: str, fmt: Any = None) -> None:
        """A formula (``=…``), written with its computed value when the book closes."""
        self.book.pending[(self.name, row, column)] = (formula, self.book.plain if fmt is None else fmt)


class Book:
    """The workbook, its formats, where each input and formula lives, and every cell's value."""

    def __init__(self, workbook: Any) -> None:
        self.workbook = workbook
        self.where: dict[str, str] = {}
        """The cell of each input key and formula id (``'Inputs'!$B$5``)."""
        self.values: dict[CellKey, Value] = {}
        self.pending: dict[CellKey, tuple[str, Any]] = {}
        self.errors: dict[CellKey, CellError] = {}
        """Formulas whose value is a spreadsheet error (``#DIV/0!``): passed on to the formulas reading them."""
        self._working: set[CellKey] = set()
        self.sheets: list[Sheet] = []
        add = workbook.add_format
        self.header = add({"bold": True, "bg_color": "#E8EDF3", "bottom": 1, "text_wrap": True, "valign": "top"})
        self.formats: dict[str, Any] = {}
        self.wrap = add({"text_wrap": True, "valign": "top"})
        self.plain = add({"valign": "top"})
        self.bold = add({"bold": True, "valign": "top"})
        self.note = add({"italic": True, "font_color": "#5B6775", "text_wrap": True, "valign": "top"})
        self.date = add({"num_format": DATE, "align": "left", "valign": "top"})

    def fmt(self, num_format: str | None, bold: bool = False) -> Any:
        """The cell format of ``num_format`` (None: the general format), bold or not, at the
        top of its row like the wrapped text beside it."""
        if num_format:  # amounts in the plan's currency (money.amounts_in): "EUR "#,##0
            num_format = num_format.replace("USD ", f"{code()} ")
        key = f"{num_format}|{bold}"
        if key not in self.formats:
            style = {"num_format": num_format or "General", "bold": bold, "valign": "top"}
            self.formats[key] = self.workbook.add_format(style)
        return self.formats[key]

    def sheet(self, name: str, headers: list[str], widths: list[float]) -> Sheet:
        """The sheet ``name`` (added unless it exists) with its header row, column widths and
        print set-up: landscape, one page wide, the header row on every page, and a footer
        naming the sheet and the page ("Page 2 of 5")."""
        worksheet = self.workbook.get_worksheet_by_name(name) or self.workbook.add_worksheet(name)
        sheet = Sheet(self, worksheet, widths)
        self.sheets.append(sheet)
        sheet.texts(0, 0, headers, self.header)
        for column, width in enumerate(widths):
            worksheet.set_column(column, column, width)
        worksheet.freeze_panes(1, 0)
        worksheet.set_landscape()
        worksheet.fit_to_pages(1, 0)  # one page wide, as many tall as it takes
        worksheet.repeat_rows(0)
        worksheet.set_footer("&L&A&RPage &P of &N")
        return sheet

    # ----------------------------------------------------------------------- formulas

    def value(self, key: CellKey) -> Value:
        """The value of a cell: what was written there, or what its formula computes."""
        if key in self.errors:
            raise self.errors[key]
        if key in self.pending and key not in self.values:
            if key in self._working:
                raise ValueError(f"circular formula at {key}")
            self._working.add(key)
            formula, _ = self.pending[key]
            try:
                self.values[key] = evaluate(parse(formula, key[0]), self.value)
            except CellError as error:
                self.errors[key] = error
                raise
            finally:
                self._working.discard(key)
        return self.values.get(key)

    def cached(self, key: CellKey) -> Value:
        """A formula's value as the file stores it: the error's code for an error value."""
        try:
            return self.value(key)
        except CellError as error:
            return error.code

    def close(self) -> None:
        """Write every formula with the value it computes, give each row of wrapped text its
        height, then write the file."""
        for key, (formula, fmt) in self.pending.items():
            sheet, row, column = key
            cached = self.cached(key)
            worksheet = self.workbook.get_worksheet_by_name(sheet)
            worksheet.write_formula(row, column, formula, fmt, "" if cached is None else cached)
        for sheet in self.sheets:
            for row, lines in sheet.lines.items():
                if lines > 1:
                    sheet.worksheet.set_row(row, math.ceil(lines * LINE_HEIGHT))
        self.workbook.close()
