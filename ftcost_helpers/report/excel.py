"""The client's workbook (XlsxWriter) that recalculates: change an input, and the line
items, running costs, cash flow and break-even month follow.

Sheets: Summary (formulas pointing at the sheets below), Inputs (every driver with its unit
and source), Line items (each a formula over the inputs, a total row), Running costs
(evaluation, serving, maintenance, the alternative: formulas), Cash flow (month by month by
formulas, with the break-even month), Scenarios, Sensitivity and Simulation (results, as
values, labelled so), Price book (the rates used), Warnings.

The formulas come from :mod:`ftcost_helpers.report.workings`, the same description the
client document prints; a test recalculates the workbook in LibreOffice and compares it to
the engine to the cent. Client text is always written as a string, never as a formula or a
link; booleans are booleans and dates are dates.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from xlsxwriter.utility import xl_col_to_name

from ftcost_helpers.engine.audit import ranked
from ftcost_helpers.engine.model import roi
from ftcost_helpers.engine.model.lines import AREAS
from ftcost_helpers.engine.model.run import programme_spend
from ftcost_helpers.engine.scenarios import compare_scenarios
from ftcost_helpers.engine.sensitivity import NET_VALUE, TOP_DRIVERS, sensitivity
from ftcost_helpers.report.document import client_keys, client_text, describe_text, input_words, warning_title
from ftcost_helpers.report.figures import ClientFigures
from ftcost_helpers.report.workings import Item, Workings, plan_workings, spreadsheet_formula
from ftcost_helpers.views.tables import AREA_LABELS, TIER_LABELS

USD = '"USD "#,##0'
USD_CENTS = '"USD "#,##0.00'
SHARE = "0.0%"
COUNT = "#,##0.##;-#,##0.##;0"
"""Counts without a stray decimal point: ``14``, ``2.5``, ``0`` (never ``64.``)."""
DATE = "d mmmm yyyy"

SHEET_INPUTS, SHEET_LINES, SHEET_RUNNING, SHEET_CASH = "Inputs", "Line items", "Running costs", "Cash flow"
FIRST_ROW = 1
"""Row index (0-based) of the first data row under each sheet's header."""


def number_format(unit: str, value: Any) -> str | None:
    """The cell format of an input by its unit."""
    if unit == "yes/no":
        return None
    if unit == "share":
        return SHARE
    if unit.startswith("USD"):
        return USD_CENTS if (isinstance(value, float) and not value.is_integer()) or "/" in unit else USD
    return COUNT


def _cell(sheet: str, row: int, column: int) -> str:
    """An absolute reference to a cell of another sheet: ``'Inputs'!$B$5``."""
    from xlsxwriter.utility import xl_rowcol_to_cell

    return f"'{sheet}'!{xl_rowcol_to_cell(row, column, row_abs=True, col_abs=True)}"


class _Book:
    """The workbook, its formats, and where each input and formula lives."""

    def __init__(self, workbook: Any) -> None:
        self.workbook = workbook
        self.where: dict[str, str] = {}
        add = workbook.add_format
        self.header = add({"bold": True, "bg_color": "#E8EDF3", "bottom": 1, "text_wrap": True, "valign": "top"})
        self.formats: dict[str | None, Any] = {None: None}
        self.wrap = add({"text_wrap": True, "valign": "top"})
        self.bold = add({"bold": True})
        self.note = add({"italic": True, "font_color": "#5B6775"})
        self.date = add({"num_format": DATE, "align": "left"})

    def fmt(self, num_format: str | None, bold: bool = False) -> Any:
        key = f"{num_format}|{bold}"
        if key not in self.formats:
            self.formats[key] = self.workbook.add_format({"num_format": num_format, "bold": bold})
        return self.formats[key]

    def sheet(self, name: str, headers: list[str], widths: list[float]) -> Any:
        """The sheet ``name`` (added unless it exists) with a frozen header row and its column widths."""
        sheet = self.workbook.get_worksheet_by_name(name) or self.workbook.add_worksheet(name)
        sheet.write_row(0, 0, headers, self.header)
        for column, width in enumerate(widths):
            sheet.set_column(column, column, width)
        sheet.freeze_panes(1, 0)
        return sheet

    def formula(self, item: Item) -> str:
        return "=" + spreadsheet_formula(item.formula, self.where.__getitem__)


def _write_inputs(book: _Book, workings: Workings) -> None:
    sheet = book.sheet(
        SHEET_INPUTS, ["Input", "Value (base case)", "Unit", "Low", "High", "Source"], [44, 18, 16, 14, 14, 60]
    )
    for row, item in enumerate(workings.inputs.values(), start=FIRST_ROW):
        sheet.write_string(row, 0, item.label)
        fmt = book.fmt(number_format(item.unit, item.value))
        if isinstance(item.value, bool):
            sheet.write_boolean(row, 1, item.value)
        else:
            sheet.write_number(row, 1, float(item.value), fmt)
        sheet.write_string(row, 2, item.unit)
        for column, bound in ((3, item.low), (4, item.high)):
            if bound is not None:
                sheet.write_number(row, column, bound, fmt)
        sheet.write_string(row, 5, item.source)
        book.where[item.key] = _cell(SHEET_INPUTS, row, 1)
    note = len(workings.inputs) + FIRST_ROW + 1
    sheet.write_string(note, 0, "Change a value in column B: every sheet recalculates from it.", book.note)


def _write_lines(book: _Book, figures: ClientFigures, workings: Workings) -> int:
    """Line items by formula; returns the row (0-based) of the total."""
    headers = ["Area", "Line item", "Drivers", "Amount (USD)", "Low corner (USD)", "High corner (USD)", "Sources"]
    sheet = book.sheet(SHEET_LINES, headers, [20, 40, 70, 16, 16, 16, 30])
    values = workings.values()
    engine = figures.breakdown.line_items
    for row, (item, line) in enumerate(zip(workings.lines, engine, strict=True), start=FIRST_ROW):
        sheet.write_string(row, 0, AREA_LABELS.get(item.area, item.area))
        sheet.write_string(row, 1, item.label)
        sheet.write_string(row, 2, describe_text(item.formula, workings, values))
        sheet.write_formula(row, 3, book.formula(item), book.fmt(USD_CENTS), values[item.id])
        sheet.write_number(row, 4, line.low, book.fmt(USD_CENTS))
        sheet.write_number(row, 5, line.high, book.fmt(USD_CENTS))
        sources = sorted({workings.inputs[key].source for key in _inputs(item)})
        sheet.write_string(row, 6, "; ".join(sources))
        book.where[item.id] = _cell(SHEET_LINES, row, 3)
    last = FIRST_ROW + len(workings.lines) - 1
    total = last + 1
    sheet.write_string(total, 1, "Programme total", book.bold)
    amount = sum(values[item.id] for item in workings.lines)
    sheet.write_formula(total, 3, f"=SUM(D{FIRST_ROW + 1}:D{last + 1})", book.fmt(USD_CENTS, bold=True), amount)
    low, high = figures.breakdown.programme_range
    sheet.write_number(total, 4, low, book.fmt(USD_CENTS, bold=True))
    sheet.write_number(total, 5, high, book.fmt(USD_CENTS, bold=True))
    sheet.write_string(
        total + 2,
        0,
        "Low and high corners: every input of a line at its low or high end at once (values, not recalculated).",
        book.note,
    )
    book.where["programme_total"] = _cell(SHEET_LINES, total, 3)
    return total


def _inputs(item: Item) -> list[str]:
    from ftcost_helpers.report.workings import inputs_in

    return inputs_in(item.formula)


def _write_running(book: _Book, workings: Workings) -> None:
    sheet = book.sheet(SHEET_RUNNING, ["Item", "Amount (USD)", "Per"], [44, 18, 12])
    values = workings.values()
    items = [*workings.running, *([workings.alternative] if workings.alternative else [])]
    for row, item in enumerate(items, start=FIRST_ROW):
        per = "quarter" if item.area == "maintenance" else ("programme" if item.id == "compute_total" else "month")
        sheet.write_string(row, 0, item.label)
        sheet.write_formula(row, 1, book.formula(item), book.fmt(USD_CENTS), values[item.id])
        sheet.write_string(row, 2, per)
        book.where[item.id] = _cell(SHEET_RUNNING, row, 1)


CASH_HEADERS = [
    "Month",
    "Programme spend",
    "Evaluation",
    "Serving",
    "Maintenance",
    "Running cost",
    "Alternative avoided",
    "Net this month",
    "Cumulative",
    "Paid back in",
]
SHARE_COLUMN = len(CASH_HEADERS) + 1
"""First column (0-based) of the spend shares by area, after one blank column."""


def spend_share_formula(profile: str | list[int], month: str, build: str) -> str:
    """The share of one area's spend in the month in cell ``month``, as a spreadsheet
    formula over the build months in cell ``build`` — the rule of
    :func:`~ftcost_helpers.engine.model.roi.build_weights`: all in month 0 without a build;
    ``even``: 1/B in each build month; ``front_loaded``: (B − m + 1) / (B(B + 1)/2); a list
    of build months: split evenly over them."""
    if isinstance(profile, list):
        hits = "+".join(f"IF({month}={m},1,0)" for m in profile)
        return f"({hits})/{len(profile)}"
    in_build = f"AND({month}>=1,{month}<={build})"
    share = f"1/{build}" if profile == "even" else f"({build}-{month}+1)/({build}*({build}+1)/2)"
    return f"IF({build}=0,IF({month}=0,1,0),IF({in_build},{share},0))"


def _area_profile(profile: str | dict[str, list[int]], area: str) -> str | list[int]:
    """One area's spend profile (an area a per-area profile leaves out spends evenly, as the engine does)."""
    return profile.get(area, "even") if isinstance(profile, dict) else profile


def profile_words(profile: str | dict[str, list[int]]) -> str:
    """``programme.spend_profile`` in words."""
    if profile == "front_loaded":
        return "front-loaded: build month m of B gets (B − m + 1) / (B(B + 1)/2) of each area's cost"
    if profile == "even":
        return "even: each area's cost split equally over the build months"
    named = "; ".join(
        f"{AREA_LABELS.get(area, area).lower()} in month{'s' if len(months) > 1 else ''} " + ", ".join(map(str, months))
        for area, months in profile.items()
    )
    return f"by area: {named}; the other areas split equally over the build months"


def _write_cash_flow(book: _Book, figures: ClientFigures, workings: Workings) -> None:
    """Month 0 is the programme's start. Each area's one-time cost is spent over the build
    months by its share (columns L on, from the build months on the Inputs sheet and the spend
    profile; all in month 0 without a build). Evaluation, serving and the alternative avoided
    run from the month after the build, maintenance from build + its start month: the rules of
    :func:`~ftcost_helpers.engine.model.run.run_model`. Column J keeps the month when the
    cumulative cash is ≥ 0; the break-even month is the smallest of them."""
    sheet = book.sheet(
        SHEET_CASH,
        [*CASH_HEADERS, "", *(f"Share of {AREA_LABELS.get(a, a).lower()}" for a in AREAS)],
        [8, 18, 14, 14, 14, 14, 18, 16, 16, 12, 3, *([14] * len(AREAS))],
    )
    usd, share = book.fmt(USD_CENTS), book.fmt(SHARE)
    w = book.where
    alternative = w.get("alternative_monthly")
    build, start = w[workings.build_months_key], w[workings.maintenance_start_key]
    params, run = figures.params, figures.breakdown.base
    spend = programme_spend(params, run.lines)
    cash = figures.breakdown.cash_flow
    top, horizon = FIRST_ROW, workings.horizon_months
    last = top + horizon + 1  # 1-based row of the last month
    below = last + 1  # 0-based row under the table
    areas_row = below + 3  # 0-based row of the one-time cost by area
    first_share, last_share = xl_col_to_name(SHARE_COLUMN), xl_col_to_name(SHARE_COLUMN + len(AREAS) - 1)
    totals = f"${first_share}${areas_row + 1}:${last_share}${areas_row + 1}"
    weights = {
        area: roi.build_weights(params.programme.build_months, _area_profile(workings.spend_profile, area))
        for area in AREAS
    }
    for month in range(horizon + 1):
        row, r = top + month, top + month + 1  # 0-based row, 1-based row number
        sheet.write_number(row, 0, month)
        for column, area in enumerate(AREAS, start=SHARE_COLUMN):
            formula = spend_share_formula(_area_profile(workings.spend_profile, area), f"$A{r}", build)
            cached = float(weights[area][month]) if month < weights[area].size else 0.0
            sheet.write_formula(row, column, "=" + formula, share, cached)
        sheet.write_formula(
            row, 1, f"=-SUMPRODUCT({totals},{first_share}{r}:{last_share}{r})", usd, -float(spend[month])
        )
        if month == 0:  # the programme's start: nothing runs, nothing is avoided yet
            for column in range(2, 7):
                sheet.write_number(row, column, 0, usd)
        else:
            sheet.write_formula(row, 2, f"=IF(A{r}>{build},{w['eval_monthly']},0)", usd)
            sheet.write_formula(row, 3, f"=IF(A{r}>{build},{w['serving_monthly']},0)", usd)
            sheet.write_formula(row, 4, f"=IF(A{r}>={build}+{start},{w['maintenance_monthly']},0)", usd)
            sheet.write_formula(row, 5, f"=C{r}+D{r}+E{r}", usd)
            sheet.write_formula(row, 6, f"=IF(A{r}>{build},{alternative},0)" if alternative else "=0", usd)
            sheet.write_formula(row, 9, f'=IF(I{r}>=0,A{r},"")')
        sheet.write_formula(row, 7, f"=B{r}+G{r}-F{r}", usd)
        sheet.write_formula(row, 8, f"=I{r - 1}+H{r}" if month else f"=H{r}", usd, float(cash[month]))
    first = top + 2  # 1-based row of month 1
    sheet.write_string(below, 0, "Break-even month", book.bold)
    if alternative:
        month = figures.breakdown.break_even_month
        sheet.write_formula(
            below, 8, f'=IF(COUNT(J{first}:J{last})=0,"none",MIN(J{first}:J{last}))', book.bold, month or "none"
        )
    else:
        sheet.write_string(below, 8, "no alternative to pay back against", book.bold)
    book.where["break_even_month"] = _cell(SHEET_CASH, below, 8)
    book.where["cumulative_last"] = _cell(SHEET_CASH, last - 1, 8)
    sheet.write_string(below + 1, 0, "Total cost of ownership", book.bold)
    tco = f"=-SUM(B{top + 1}:B{last})+SUM(F{first}:F{last})"
    sheet.write_formula(below + 1, 8, tco, book.fmt(USD_CENTS, bold=True), float(figures.breakdown.tco))
    book.where["tco"] = _cell(SHEET_CASH, below + 1, 8)
    sheet.write_string(areas_row, 0, "One-time cost by area (from the line items)", book.bold)
    for column, area in enumerate(AREAS, start=SHARE_COLUMN):
        cells = [w[item.id] for item in workings.lines if item.area == area]
        total = float(run.area_total(area))
        sheet.write_formula(areas_row, column, "=" + ("+".join(cells) if cells else "0"), usd, total)
    sheet.write_string(
        areas_row + 1,
        0,
        f"Build months before launch: on the Inputs sheet; spend profile {profile_words(workings.spend_profile)}. "
        "Evaluation, serving and the alternative avoided start the month after the build; maintenance from the "
        "build months plus its start month.",
        book.note,
    )


def _write_summary(book: _Book, figures: ClientFigures) -> None:
    """Figures by formula (column B) beside the engine's own figures as values (column C), so
    a reader sees at once that the workbook and the report agree, and where a change moved it."""
    s, b = figures.summary, figures.breakdown
    sheet = book.sheet("Summary", ["Figure", "Workbook (formula)", "Engine (value)", "How"], [44, 22, 18, 50])
    w = book.where
    running = f"{w['eval_monthly']}+{w['serving_monthly']}+{w['maintenance_monthly']}"
    ongoing = b.ongoing_monthly_usd
    text = [
        ("Client", s["client"], "from the client file"),
        ("Report date", dt.date.fromisoformat(s["report_date"]), ""),
        ("Prices as of", b.book.as_of, "the price book"),
        ("Price sources", client_text(str(s.get("price_sources", "")), b.book), ""),
    ]
    figures_rows: list[tuple[str, str, Any, str, str]] = [
        (
            "Programme total (base case)",
            f"={w['programme_total']}",
            b.programme_total,
            USD_CENTS,
            "sum of the line items",
        ),
        ("Continuous evaluation per month", f"={w['eval_monthly']}", ongoing["eval"], USD_CENTS, "running cost"),
        ("Serving per month", f"={w['serving_monthly']}", ongoing["serving"], USD_CENTS, "running cost"),
        ("Maintenance per month", f"={w['maintenance_monthly']}", ongoing["maintenance"], USD_CENTS, "running cost"),
        ("Running cost per month (steady state)", f"={running}", sum(ongoing.values()), USD_CENTS, "the three above"),
    ]
    if "alternative_monthly" in w:
        alternative = float(b.base.alternative_monthly)
        figures_rows += [
            ("Alternative per month", f"={w['alternative_monthly']}", alternative, USD_CENTS, "what it replaces"),
            (
                "Net saving per month",
                f"={w['alternative_monthly']}-({running})",
                alternative - sum(ongoing.values()),
                USD_CENTS,
                "alternative − running cost",
            ),
        ]
    month = b.break_even_month
    figures_rows += [
        (
            "Break-even month",
            f"={w['break_even_month']}",
            month if month is not None else "none",
            "0",
            "cumulative ≥ 0",
        ),
        (
            f"Cost of ownership over {s['horizon_months']} months",
            f"={w['tco']}",
            b.tco,
            USD_CENTS,
            "programme + running",
        ),
    ]
    row = FIRST_ROW
    for label, value, how in text:
        sheet.write_string(row, 0, label)
        if isinstance(value, dt.date):
            sheet.write_datetime(row, 1, dt.datetime.combine(value, dt.time()), book.date)
        else:
            sheet.write_string(row, 1, value)
        sheet.write_string(row, 3, how)
        row += 1
    for label, formula, engine, num_format, how in figures_rows:
        sheet.write_string(row, 0, label)
        sheet.write_formula(row, 1, formula, book.fmt(num_format), engine)
        if isinstance(engine, str):
            sheet.write_string(row, 2, engine)
        else:
            sheet.write_number(row, 2, round(float(engine), 2), book.fmt(num_format))
        sheet.write_string(row, 3, how)
        row += 1
    for name in ("p10", "p50", "p90"):
        sheet.write_string(row, 0, f"Programme total, {name.upper()} (simulation)")
        sheet.write_number(row, 2, float(s["range_usd"][name]), book.fmt(USD))
        sheet.write_string(row, 3, "Monte Carlo result (value)")
        row += 1


def _write_scenarios(book: _Book, figures: ClientFigures) -> None:
    from ftcost_helpers.views.tables import cheapest_note

    headers = [
        "Scenario",
        "What changes",
        "Programme",
        "Running per month",
        "Alternative per month",
        "Net per month",
        "Break-even month",
        "Cost of ownership",
        "Runs as specified",
    ]
    sheet = book.sheet("Scenarios", headers, [36, 50, 14, 14, 14, 14, 12, 16, 60])
    bk = figures.breakdown.book
    results = compare_scenarios(figures.params, bk)
    for row, r in enumerate(results, start=FIRST_ROW):
        replaces = r.params.alternative.kind != "none"
        sheet.write_string(row, 0, client_text(r.name, bk))
        sheet.write_string(row, 1, client_text(r.description, bk))
        for column, value in ((2, r.programme_total_usd), (3, r.monthly_usd)):
            sheet.write_number(row, column, value, book.fmt(USD))
        if replaces:
            sheet.write_number(row, 4, r.alternative_monthly_usd, book.fmt(USD))
            sheet.write_number(row, 5, r.alternative_monthly_usd - r.monthly_usd, book.fmt(USD))
        if r.break_even_month is not None:
            sheet.write_number(row, 6, r.break_even_month)
        sheet.write_number(row, 7, r.tco_usd, book.fmt(USD))
        runs = "yes" if r.feasibility.feasible else client_text(r.feasibility.sentence, bk)
        sheet.write_string(row, 8, runs, book.wrap)
    sheet.write_string(row + 2, 0, client_text(cheapest_note(results), bk), book.note)
    sheet.write_string(row + 3, 0, "Base-case results of each scenario (values). Blank: none.", book.note)


def _write_sensitivity(book: _Book, figures: ClientFigures, workings: Workings) -> None:
    swings = sensitivity(figures.params, figures.breakdown.book, top=None)
    name = swings.name
    headers = ["Input", "Low end", "High end", f"{name} at low", f"{name} at high", "Swing"]
    headers += ["Break-even at low (month)", "Break-even at high (month)"] if swings.quantity == NET_VALUE else []
    sheet = book.sheet("Sensitivity", headers, [44, 12, 12, 22, 22, 14, 14, 14])
    row = FIRST_ROW
    for swing in swings.rows:
        sheet.write_string(row, 0, input_words(swing.path, swing.label, workings, figures))
        sheet.write_number(row, 1, swing.input_low, book.fmt(COUNT))
        sheet.write_number(row, 2, swing.input_high, book.fmt(COUNT))
        for column, value in enumerate((swing.at_low, swing.at_high, swing.swing), 3):
            sheet.write_number(row, column, value, book.fmt(USD))
        for column, month in enumerate((swing.low_break_even, swing.high_break_even), 6):
            if swings.quantity == NET_VALUE and month is not None:
                sheet.write_number(row, column, month)
        row += 1
    sheet.write_string(row + 1, 0, "Base case (every input at its base case)", book.header)
    sheet.write_number(row + 1, 3, swings.base, book.fmt(USD, bold=True))
    notes = [
        f"Each uncertain input alone from its low to its high end, every other input at its base case, and the "
        f"{name.lower()} that results (values, USD), largest swing first: the {swings.drivers_found} of "
        f"{swings.inputs_moved} uncertain inputs that move it. The report's tornado shows the first {TOP_DRIVERS}.",
    ]
    if swings.quantity == NET_VALUE:
        notes.append("Blank break-even: none within the horizon.")
    for offset, note in enumerate(notes, 3):
        sheet.write_string(row + offset, 0, note, book.note)


def _write_simulation(book: _Book, figures: ClientFigures) -> None:
    sheet = book.sheet("Simulation", ["Figure", "P10", "P50", "P90"], [40, 16, 16, 16])
    simulation = figures.simulation
    if simulation is None:
        sheet.write_string(1, 0, "No simulation was run.")
        return
    rows = {"Programme total": simulation.percentiles(), "Cost of ownership": simulation.tco_percentiles()}
    rows |= {AREA_LABELS.get(area, area): values for area, values in simulation.area_percentiles().items()}
    for row, (label, values) in enumerate(rows.items(), start=FIRST_ROW):
        sheet.write_string(row, 0, label)
        for column, name in enumerate(("p10", "p50", "p90"), start=1):
            sheet.write_number(row, column, values[name], book.fmt(USD))
    row = FIRST_ROW + len(rows) + 1
    sheet.write_string(
        row, 0, f"Monte Carlo results (values): {simulation.draws:,} draws, seed {simulation.seed}.", book.note
    )
    chance = figures.summary.get("break_even_chance_by_month")
    if chance:
        sheet.write_row(row + 2, 0, ["Month", "Chance of having broken even"], book.header)
        for month, value in enumerate(chance, start=1):
            sheet.write_number(row + 2 + month, 0, month)
            sheet.write_number(row + 2 + month, 1, value, book.fmt(SHARE))


def _write_price_book(book: _Book, figures: ClientFigures) -> None:
    bk = figures.breakdown.book
    sheet = book.sheet("Price book", ["GPU", "Tier", "Low (USD/GPU-hour)", "High (USD/GPU-hour)"], [26, 26, 18, 18])
    row = FIRST_ROW
    for gpu, tiers in bk.gpu_rates_usd_per_gpu_hour.items():
        for tier, band in tiers.items():
            sheet.write_string(row, 0, bk.gpus[gpu].label if gpu in bk.gpus else gpu)
            sheet.write_string(row, 1, TIER_LABELS.get(tier, tier))
            sheet.write_number(row, 2, band.low, book.fmt(USD_CENTS))
            sheet.write_number(row, 3, band.high, book.fmt(USD_CENTS))
            row += 1
    sheet.write_string(row + 1, 0, "Prices as of")
    sheet.write_datetime(row + 1, 1, dt.datetime.combine(bk.as_of, dt.time()), book.date)
    for offset, title in enumerate(bk.source_titles.values(), start=2):
        sheet.write_string(row + offset, 0, title)


def _write_warnings(book: _Book, figures: ClientFigures) -> None:
    """The audit's warnings, the most important first (:func:`ranked`), each with what fixing
    it saves over the horizon (blank where it cannot be costed)."""
    horizon = figures.params.horizon_months
    headers = ["Warning", "Area", "Severity", f"Fixing it saves over {horizon} months (USD)", "What it says"]
    sheet = book.sheet("Warnings", headers, [34, 14, 10, 18, 110])
    warnings = ranked(figures.breakdown.warnings)
    if not warnings:
        sheet.write_string(1, 0, "The audit raises no warning for this plan.")
    for row, w in enumerate(warnings, start=FIRST_ROW):
        sheet.write_string(row, 0, warning_title(w), book.wrap)
        sheet.write_string(row, 1, AREA_LABELS.get(w.area, w.area), book.wrap)
        sheet.write_string(row, 2, w.severity, book.wrap)
        if w.saving_usd is not None:
            sheet.write_number(row, 3, round(w.saving_usd, 2), book.fmt(USD))
        sheet.write_string(row, 4, client_text(w.for_client, figures.breakdown.book), book.wrap)
    if warnings:
        sheet.write_string(
            len(warnings) + FIRST_ROW + 1,
            0,
            "A negative saving is money the estimate leaves out, or a saving it overstates (values).",
            book.note,
        )


def write_workbook(path: Path, figures: ClientFigures) -> None:
    """Write the client's recalculating ``.xlsx`` to ``path``."""
    import xlsxwriter

    # Text from a client file is never read as a formula or a link ("=HYPERLINK(...)").
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    workbook = xlsxwriter.Workbook(str(path), options)
    workbook.set_properties({"title": f"Fine-tuning cost: {figures.summary['client']}", "author": "ftcost"})
    book = _Book(workbook)
    workings = plan_workings(figures.params, figures.breakdown.book, client_keys(figures))
    workbook.add_worksheet("Summary")  # the first tab, filled last: its formulas point at the other sheets
    _write_inputs(book, workings)
    _write_lines(book, figures, workings)
    _write_running(book, workings)
    _write_cash_flow(book, figures, workings)
    _write_scenarios(book, figures)
    _write_sensitivity(book, figures, workings)
    _write_simulation(book, figures)
    _write_price_book(book, figures)
    _write_warnings(book, figures)
    _write_summary(book, figures)
    workbook.close()
