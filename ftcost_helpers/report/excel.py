"""The client's workbook (XlsxWriter) that recalculates: change an input, and the line
items, running costs, cash flow and break-even month follow.

Sheets: Summary (formulas pointing at the sheets below), Inputs (every driver with its unit
and source), Line items (each a formula over the inputs, a total row), Running costs
(evaluation, serving, maintenance, the alternative: formulas), Cash flow (month by month by
formulas, with the break-even month), Scenarios, Sensitivity and Simulation (results, as
values, labelled so), Price book (the rates used), Warnings.

The formulas come from :mod:`ftcost_helpers.report.workings`, the same description the
client document prints; each is stored with the value it computes (so the workbook opens
right in a reader that does not recalculate), and a test recalculates the workbook in
LibreOffice and compares it to the engine to the cent. Every sheet prints landscape, one
page wide, its header row on each page. Client text is always written as a string, never
as a formula or a link, escaped so a CSV export cannot start a formula
(:func:`~ftcost_helpers.report.excel_book.inert_text`); yes/no results are words.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from ftcost_helpers.engine.audit import ranked
from ftcost_helpers.engine.fx import plan_rate
from ftcost_helpers.engine.money import amounts_in, code
from ftcost_helpers.engine.sensitivity import NET_VALUE, TOP_DRIVERS, sensitivity
from ftcost_helpers.report.calibrate import calibration_sentence
from ftcost_helpers.report.document import (
    client_keys,
    client_text,
    describe_text,
    input_words,
    saving_words,
    warning_title,
)
from ftcost_helpers.report.excel_book import (
    COUNT,
    FIRST_ROW,
    SHARE,
    SHEET_CASH,
    SHEET_INPUTS,
    SHEET_LINES,
    SHEET_RUNNING,
    USD,
    USD_CENTS,
    Book,
    Sheet,
    cell_ref,
)
from ftcost_helpers.report.excel_cash import no_break_even, write_cash_flow
from ftcost_helpers.report.excel_follow_up import write_follow_up_sheets
from ftcost_helpers.report.figures import ClientFigures
from ftcost_helpers.report.workings import Item, Workings, inputs_in, plan_workings, spreadsheet_formula
from ftcost_helpers.views.tables import AREA_LABELS, TIER_LABELS

__all__ = ["SHEET_CASH", "SHEET_INPUTS", "SHEET_LINES", "SHEET_RUNNING", "write_workbook"]

WARNING_AREAS = AREA_LABELS | {"roi": "Return on investment", "maintenance": "Maintenance"}
"""The areas the audit files its warnings under, in words (``roi``: serving, the alternative
and the payback, as the dashboard's "Return on investment" panel names them)."""
BASIS_WORDS = {"p50": "P50", "p80": "P80", "base_case": "base case"}
"""``report.basis`` in words (issue 21)."""
HEADLINE_ROWS = [
    ("programme_usd", "Programme", USD),
    ("contingency_usd", "of which contingency", USD),
    ("running_usd_per_month", "Running cost per month", USD),
    ("alternative_usd_per_month", "Alternative per month", USD),
    ("net_saving_usd_per_month", "Net saving per month", USD),
    ("launch_date", "Launch", None),
    ("maintenance_from_date", "Maintenance from", None),
    ("break_even_month", "Break-even month", "0"),
    ("break_even_date", "Break-even date", None),
    ("break_even_chance", "Chance of having paid back by then", SHARE),
    ("tco_usd", "Cost of ownership", USD),
]
"""The keys of ``summary["headline"]`` the Summary sheet shows, in words, in page 1's order."""
FINANCE_ROWS = [
    ("discount_rate", "Discount rate (a year)", SHARE),
    ("npv_usd", "Net present value at the discount rate", USD),
    ("discounted_payback_month", "Discounted payback month", "0"),
    ("irr_annual", "Internal rate of return (a year)", SHARE),
]
"""``summary["finance"]`` on the Summary sheet, when the plan gives a discount rate."""
OWNERSHIP_ROWS = [
    ("cheaper", "Buy or rent: cheaper over the horizon", None),
    ("owned_usd", "Owning the training GPUs over the horizon", USD),
    ("rented_usd", "Renting the same GPU-hours", USD),
    ("purchase_usd", "Purchase price of the GPUs", USD),
    ("break_even_gpu_hours_per_month", "GPU-hours a month from which buying pays", "#,##0"),
]
"""``summary["ownership"]`` on the Summary sheet, when the plan gives ``training.ownership``."""
COMMITMENT_ROWS = [
    ("term", "Serving commitment", None),
    ("discount", "Committed-use discount", SHARE),
    ("owed_beyond_horizon_usd", "Commitment owed past the horizon", USD),
]
"""``summary["commitment"]`` on the Summary sheet, when the plan gives ``serving.commitment``."""
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
YES_NO_UNIT = "yes (1) or no (0)"


def number_format(unit: str, value: Any) -> str | None:
    """The cell format of an input by its unit."""
    if unit == "yes/no":
        return None
    if unit == "share":
        return SHARE
    if unit.startswith("USD"):
        return USD_CENTS if (isinstance(value, float) and not value.is_integer()) or "/" in unit else USD
    return COUNT


def item_formula(book: Book, item: Item) -> str:
    """A workings formula over the cells its inputs and earlier results were written to."""
    return "=" + spreadsheet_formula(item.formula, book.where.__getitem__)


def _write_inputs(book: Book, workings: Workings) -> None:
    sheet = book.sheet(
        SHEET_INPUTS, ["Input", "Value (base case)", "Unit", "Low", "High", "Source"], [44, 18, 16, 14, 14, 60]
    )
    for row, item in enumerate(workings.inputs.values(), start=FIRST_ROW):
        sheet.text(row, 0, item.label)
        fmt = book.fmt(number_format(item.unit, item.value))
        if isinstance(item.value, bool):  # a switch the formulas read: 1 or 0, shown Yes or No
            sheet.yes_no(row, 1, item.value)
            sheet.text(row, 2, YES_NO_UNIT)
        else:
            sheet.number(row, 1, float(item.value), fmt)
            sheet.text(row, 2, f"{code()}{item.unit[3:]}" if item.unit.startswith("USD") else item.unit)
        for column, bound in ((3, item.low), (4, item.high)):
            if bound is not None:
                sheet.number(row, column, bound, fmt)
        sheet.text(row, 5, item.source)
        book.where[item.key] = cell_ref(SHEET_INPUTS, row, 1)
    note = len(workings.inputs) + FIRST_ROW + 1
    sheet.note(note, "Change a value in column B: every sheet recalculates from it.")


def _write_lines(book: Book, figures: ClientFigures, workings: Workings) -> None:
    """Line items by formula, then their total."""
    c = code()
    headers = ["Area", "Line item", "Drivers", f"Amount ({c})", f"Low corner ({c})", f"High corner ({c})", "Sources"]
    sheet = book.sheet(SHEET_LINES, headers, [20, 40, 70, 16, 16, 16, 30])
    values = workings.values()
    engine = figures.breakdown.line_items
    for row, (item, line) in enumerate(zip(workings.lines, engine, strict=True), start=FIRST_ROW):
        sheet.text(row, 0, AREA_LABELS.get(item.area, item.area))
        sheet.text(row, 1, item.label)
        sheet.text(row, 2, describe_text(item.formula, workings, values), book.wrap)
        sheet.formula(row, 3, item_formula(book, item), book.fmt(USD_CENTS))
        sheet.number(row, 4, line.low, book.fmt(USD_CENTS))
        sheet.number(row, 5, line.high, book.fmt(USD_CENTS))
        sources = sorted({workings.inputs[key].source for key in inputs_in(item.formula)})
        sheet.text(row, 6, "; ".join(sources), book.wrap)
        book.where[item.id] = cell_ref(SHEET_LINES, row, 3)
    last = FIRST_ROW + len(workings.lines) - 1
    total = last + 1
    sheet.text(total, 1, "Programme total", book.bold)
    sheet.formula(total, 3, f"=SUM(D{FIRST_ROW + 1}:D{last + 1})", book.fmt(USD_CENTS, bold=True))
    low, high = figures.breakdown.programme_range
    sheet.number(total, 4, low, book.fmt(USD_CENTS, bold=True))
    sheet.number(total, 5, high, book.fmt(USD_CENTS, bold=True))
    sheet.note(
        total + 2,
        "Low and high corners: every input of a line at its low or high end at once (values, not recalculated).",
    )
    calibrated = calibration_sentence(figures.summary.get("calibration"))  # issue 23
    if calibrated:
        sheet.note(total + 3, calibrated)
    book.where["programme_total"] = cell_ref(SHEET_LINES, total, 3)


def _write_running(book: Book, workings: Workings) -> None:
    sheet = book.sheet(SHEET_RUNNING, ["Item", f"Amount ({code()})", "Per"], [44, 18, 12])
    items = [*workings.running, *([workings.alternative] if workings.alternative else [])]
    for row, item in enumerate(items, start=FIRST_ROW):
        per = "quarter" if item.area == "maintenance" else ("programme" if item.id == "compute_total" else "month")
        sheet.text(row, 0, item.label)
        sheet.formula(row, 1, item_formula(book, item), book.fmt(USD_CENTS))
        sheet.text(row, 2, per)
        book.where[item.id] = cell_ref(SHEET_RUNNING, row, 1)


def _headline_rows(figures: ClientFigures) -> list[tuple[str, Any, str | None]]:
    """The report's headline figures on its budget basis (``summary["headline"]``, issue 21:
    one basis for every output, computed once by :mod:`ftcost_helpers.engine.headline`), as
    values: (label, value, number format). Each figure is read as the summary gives it, and
    one the summary leaves out (None) is left out here too."""
    headline = figures.summary.get("headline")
    if not isinstance(headline, dict):
        return []
    basis = BASIS_WORDS.get(str(headline.get("basis")), str(headline.get("basis", "")).replace("_", " "))
    rows: list[tuple[str, Any, str | None]] = [("Headline basis", basis, None)]
    for key, label, num_format in HEADLINE_ROWS:
        if headline.get(key) is not None:
            rows.append((f"{label}, headline ({basis})", headline[key], num_format))
    finance = figures.summary.get("finance")
    if isinstance(finance, dict) and finance.get("discount_rate") is not None:  # issue 24: discounting
        for key, label, num_format in FINANCE_ROWS:
            if finance.get(key) is not None:
                rows.append((f"{label}, headline ({basis})", finance[key], num_format))
    for block, block_rows in (("ownership", OWNERSHIP_ROWS), ("commitment", COMMITMENT_ROWS)):  # issue 24
        values = figures.summary.get(block)
        if isinstance(values, dict):
            rows += [
                (f"{label} (base case)", values[key], fmt)
                for key, label, fmt in block_rows
                if values.get(key) is not None
            ]
    return rows


def _write_headline(book: Book, sheet: Sheet, figures: ClientFigures, row: int) -> int:
    """The headline rows (values, column C) from ``row``; returns the next free row."""
    for label, value, num_format in _headline_rows(figures):
        sheet.text(row, 0, label)
        if isinstance(value, int | float) and not isinstance(value, bool):
            sheet.number(row, 2, float(value), book.fmt(num_format))
        elif isinstance(value, str) and ISO_DAY.fullmatch(value):
            sheet.date(row, 2, dt.date.fromisoformat(value))
        else:
            sheet.text(row, 2, str(value))
        sheet.text(row, 3, "the report's headline (value)")
        row += 1
    return row


def _write_summary(book: Book, figures: ClientFigures) -> None:
    """The headline on the report's basis (values), then the base case's figures by formula
    (column B) beside the engine's own figures as values (column C), so a reader sees at once
    that the workbook and the report agree, and where a change moved it."""
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
            "Programme total",
            f"={w['programme_total']}",
            b.programme_total,
            USD_CENTS,
            "sum of the line items",
        ),
        ("Continuous evaluation per month", f"={w['eval_monthly']}", ongoing["eval"], USD_CENTS, "running cost"),
        ("Serving per month", f"={w['serving_monthly']}", ongoing["serving"], USD_CENTS, "running cost"),
        ("Maintenance per month", f"={w['maintenance_monthly']}", ongoing["maintenance"], USD_CENTS, "running cost"),
        ("Running cost per month, steady state", f"={running}", sum(ongoing.values()), USD_CENTS, "the three above"),
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
    if month is None:
        month = no_break_even("alternative_monthly" in w, s["horizon_months"])
    figures_rows += [
        ("Break-even month", f"={w['break_even_month']}", month, "0", "cumulative ≥ 0"),
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
        sheet.text(row, 0, label)
        if isinstance(value, dt.date):
            sheet.date(row, 1, value)
        else:
            sheet.text(row, 1, value)
        sheet.text(row, 3, how)
        row += 1
    row = _write_headline(book, sheet, figures, row)
    for label, formula, engine, num_format, how in figures_rows:
        sheet.text(row, 0, f"{label} (base case)")  # beside the headline's basis above
        sheet.formula(row, 1, formula, book.fmt(num_format))
        if isinstance(engine, str):
            sheet.text(row, 2, engine)
        else:
            sheet.number(row, 2, round(float(engine), 2), book.fmt(num_format))
        sheet.text(row, 3, how)
        row += 1
    for name in ("p10", "p50", "p90"):
        sheet.text(row, 0, f"Programme total, {name.upper()} (simulation)")
        sheet.number(row, 2, float(s["range_usd"][name]), book.fmt(USD))
        sheet.text(row, 3, "Monte Carlo result (value)")
        row += 1


def _write_scenarios(book: Book, figures: ClientFigures) -> None:
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
    results = figures.scenario_results
    row = FIRST_ROW - 1
    for row, r in enumerate(results, start=FIRST_ROW):
        replaces = r.params.alternative.kind != "none"
        sheet.text(row, 0, client_text(r.name, bk), book.wrap)
        sheet.text(row, 1, client_text(r.description, bk), book.wrap)
        for column, value in ((2, r.programme_total_usd), (3, r.monthly_usd)):
            sheet.number(row, column, value, book.fmt(USD))
        if replaces:
            sheet.number(row, 4, r.alternative_monthly_usd, book.fmt(USD))
            sheet.number(row, 5, r.alternative_monthly_usd - r.monthly_usd, book.fmt(USD))
        if r.break_even_month is not None:
            sheet.number(row, 6, r.break_even_month)
        sheet.number(row, 7, r.tco_usd, book.fmt(USD))
        # "yes", or "cannot run as specified: <why>", as the document's scenario table reads.
        sheet.text(row, 8, "yes" if r.feasibility.feasible else client_text(r.feasibility.sentence, bk), book.wrap)
    sheet.note(row + 2, client_text(cheapest_note(results), bk))
    sheet.note(row + 3, "Base-case results of each scenario (values). Blank: none.")


def _write_sensitivity(book: Book, figures: ClientFigures, workings: Workings) -> None:
    swings = sensitivity(figures.params, figures.breakdown.book, top=None)
    name = swings.name
    headers = ["Input", "Low end", "High end", f"{name} at low", f"{name} at high", "Swing"]
    headers += ["Break-even at low (month)", "Break-even at high (month)"] if swings.quantity == NET_VALUE else []
    sheet = book.sheet("Sensitivity", headers, [44, 12, 12, 22, 22, 14, 14, 14])
    row = FIRST_ROW
    for swing in swings.rows:
        sheet.text(row, 0, input_words(swing.path, swing.label, workings, figures))
        sheet.number(row, 1, swing.input_low, book.fmt(COUNT))
        sheet.number(row, 2, swing.input_high, book.fmt(COUNT))
        for column, value in enumerate((swing.at_low, swing.at_high, swing.swing), 3):
            sheet.number(row, column, value, book.fmt(USD))
        for column, month in enumerate((swing.low_break_even, swing.high_break_even), 6):
            if swings.quantity == NET_VALUE and month is not None:
                sheet.number(row, column, month)
        row += 1
    sheet.text(row + 1, 0, "Base case (every input at its base case)", book.header)
    sheet.number(row + 1, 3, swings.base, book.fmt(USD, bold=True))
    notes = [
        f"Each uncertain input alone from its low to its high end, every other input at its base case, and the "
        f"{name.lower()} that results (values, {code()}), largest swing first: the {swings.drivers_found} of "
        f"{swings.inputs_moved} uncertain inputs that move it. The report's tornado shows the first {TOP_DRIVERS}.",
    ]
    if swings.quantity == NET_VALUE:
        notes.append("Blank break-even: none within the horizon.")
    for offset, note in enumerate(notes, 3):
        sheet.note(row + offset, note)


def _write_simulation(book: Book, figures: ClientFigures) -> None:
    sheet = book.sheet("Simulation", ["Figure", "P10", "P50", "P90"], [40, 16, 16, 16])
    simulation = figures.simulation
    if simulation is None:
        sheet.text(1, 0, "No simulation was run.")
        return
    rows = {"Programme total": simulation.percentiles(), "Cost of ownership": simulation.tco_percentiles()}
    rows |= {AREA_LABELS.get(area, area): values for area, values in simulation.area_percentiles().items()}
    for row, (label, values) in enumerate(rows.items(), start=FIRST_ROW):
        sheet.text(row, 0, label)
        for column, name in enumerate(("p10", "p50", "p90"), start=1):
            sheet.number(row, column, values[name], book.fmt(USD))
    row = FIRST_ROW + len(rows) + 1
    sheet.note(row, f"Monte Carlo results (values): {simulation.draws:,} draws, seed {simulation.seed}.")
    chance = figures.summary.get("break_even_chance_by_month")
    if chance:
        sheet.texts(row + 2, 0, ["Month", "Chance of having broken even"], book.header)
        for month, value in enumerate(chance, start=1):
            sheet.number(row + 2 + month, 0, month)
            sheet.number(row + 2 + month, 1, value, book.fmt(SHARE))


def _write_price_book(book: Book, figures: ClientFigures) -> None:
    bk = figures.breakdown.book
    sheet = book.sheet(
        "Price book", ["GPU", "Tier", f"Low ({code()}/GPU-hour)", f"High ({code()}/GPU-hour)"], [26, 26, 18, 18]
    )
    row = FIRST_ROW
    for gpu, tiers in bk.gpu_rates_usd_per_gpu_hour.items():
        for tier, band in tiers.items():
            sheet.text(row, 0, bk.gpus[gpu].label if gpu in bk.gpus else gpu)
            sheet.text(row, 1, TIER_LABELS.get(tier, tier))
            sheet.number(row, 2, band.low, book.fmt(USD_CENTS))
            sheet.number(row, 3, band.high, book.fmt(USD_CENTS))
            row += 1
    sheet.text(row + 1, 0, "Prices as of")
    sheet.date(row + 1, 1, bk.as_of)
    offset = 2
    fx = plan_rate(bk, figures.params.currency)
    if fx.converted:  # the exchange rate the price book's USD prices were converted at, with its date
        sheet.text(row + 2, 0, f"Exchange rate ({fx.currency} per {fx.base})")
        sheet.number(row + 2, 1, fx.per_usd, book.fmt("0.0000"))
        sheet.text(row + 3, 0, "Rate of")
        if fx.date is not None:
            sheet.date(row + 3, 1, fx.date)
        sheet.text(row + 4, 0, fx.sentence())
        offset = 5
    for number, title in enumerate(bk.source_titles.values(), start=offset):
        sheet.text(row + number, 0, title)


def _write_warnings(book: Book, figures: ClientFigures) -> None:
    """The audit's warnings, the most important first (:func:`ranked`), each with what fixing
    it does to the cash position over the horizon, as a figure and in the document's words
    (:func:`~ftcost_helpers.report.document.saving_words`; blank where it cannot be costed)."""
    horizon = figures.params.horizon_months
    headers = [
        "Warning",
        "Area",
        "Severity",
        f"Cash gained by fixing it over {horizon} months ({code()})",
        "What fixing it does",
        "What it says",
    ]
    sheet = book.sheet("Warnings", headers, [30, 18, 10, 18, 40, 90])
    warnings = ranked(figures.breakdown.warnings)
    if not warnings:
        sheet.text(1, 0, "The audit raises no warning for this plan.")
    for row, w in enumerate(warnings, start=FIRST_ROW):
        sheet.text(row, 0, warning_title(w), book.wrap)
        sheet.text(row, 1, WARNING_AREAS.get(w.area, w.area.replace("_", " ").capitalize()), book.wrap)
        sheet.text(row, 2, w.severity.capitalize(), book.wrap)
        if w.saving_usd is not None:
            sheet.number(row, 3, round(w.saving_usd, 2), book.fmt(USD))
        sheet.text(row, 4, saving_words(w.saving_usd, horizon), book.wrap)
        sheet.text(row, 5, client_text(w.for_client, figures.breakdown.book), book.wrap)
    if warnings:
        sheet.note(
            len(warnings) + FIRST_ROW + 1,
            "A negative figure is money the estimate leaves out, or a saving it overstates (values).",
        )


def write_workbook(path: Path, figures: ClientFigures) -> None:
    """Write the client's recalculating ``.xlsx`` to ``path``, every amount in the plan's currency."""
    with amounts_in(figures.params.currency):
        _write_workbook(path, figures)


def _write_workbook(path: Path, figures: ClientFigures) -> None:
    import xlsxwriter

    # Text from a client file is never read as a formula or a link ("=HYPERLINK(...)").
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    workbook = xlsxwriter.Workbook(str(path), options)
    workbook.set_properties({"title": f"Fine-tuning cost: {figures.summary['client']}", "author": "ftcost"})
    book = Book(workbook)
    workings = plan_workings(figures.params, figures.breakdown.book, client_keys(figures))
    workbook.add_worksheet("Summary")  # the first tab, filled last: its formulas point at the other sheets
    _write_inputs(book, workings)
    _write_lines(book, figures, workings)
    _write_running(book, workings)
    write_cash_flow(book, workings, figures.params.start_date)
    _write_scenarios(book, figures)
    _write_sensitivity(book, figures, workings)
    _write_simulation(book, figures)
    _write_price_book(book, figures)
    _write_warnings(book, figures)
    write_follow_up_sheets(book, figures)  # issue 23: report --previous / --actuals
    _write_summary(book, figures)
    book.close()
