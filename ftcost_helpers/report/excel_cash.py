"""The workbook's Cash flow sheet: month by month by formulas over the Inputs, Line items
and Running costs sheets, with the break-even month and the cost of ownership below."""

from __future__ import annotations

import datetime as dt

from xlsxwriter.utility import xl_col_to_name

from ftcost_helpers.engine.headline import month_end
from ftcost_helpers.engine.model.lines import AREAS
from ftcost_helpers.report.excel_book import FIRST_ROW, SHARE, SHEET_CASH, USD_CENTS, Book, cell_ref
from ftcost_helpers.report.workings import Workings
from ftcost_helpers.views.tables import AREA_LABELS

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
DATE_COLUMN = len(CASH_HEADERS)
"""Column (0-based, K) of the calendar date each month ends on."""
SHARE_COLUMN = len(CASH_HEADERS) + 1
"""First column (0-based) of the spend shares by area, after the dates."""
NO_ALTERNATIVE = "no alternative to pay back against"


def no_break_even(has_alternative: bool, horizon_months: int) -> str:
    """What the break-even cell reads when there is no month to give: nothing replaced, or
    the cumulative cash still below 0 at the horizon."""
    return f"not within {horizon_months} months" if has_alternative else NO_ALTERNATIVE


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


def area_profile(profile: str | dict[str, list[int]], area: str) -> str | list[int]:
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


def write_cash_flow(book: Book, workings: Workings, start_date: dt.date | None = None) -> None:
    """Month 0 is the programme's start; month 1 its first month, ending on the date in
    column K (from ``start_date``: :func:`~ftcost_helpers.engine.headline.month_end`). Each
    area's one-time cost is spent over the build months by its share (columns L on, from the
    build months on the Inputs sheet and the spend profile; all in month 0 without a build).
    Evaluation, serving and the alternative avoided run from the month after the build,
    maintenance from build + its start month: the rules of
    :func:`~ftcost_helpers.engine.model.run.run_model`. Column J keeps the month when the
    cumulative cash is ≥ 0; the break-even month is the smallest of them."""
    sheet = book.sheet(
        SHEET_CASH,
        [*CASH_HEADERS, "Month ends", *(f"Share of {AREA_LABELS.get(a, a).lower()}" for a in AREAS)],
        [8, 18, 14, 14, 14, 14, 18, 16, 16, 12, 13, *([14] * len(AREAS))],
    )
    usd, share = book.fmt(USD_CENTS), book.fmt(SHARE)
    w = book.where
    alternative = w.get("alternative_monthly")
    build, start = w[workings.build_months_key], w[workings.maintenance_start_key]
    top, horizon = FIRST_ROW, workings.horizon_months
    last = top + horizon + 1  # 1-based row of the last month
    below = last + 1  # 0-based row under the table
    areas_row = below + 3  # 0-based row of the one-time cost by area
    first_share, last_share = xl_col_to_name(SHARE_COLUMN), xl_col_to_name(SHARE_COLUMN + len(AREAS) - 1)
    totals = f"${first_share}${areas_row + 1}:${last_share}${areas_row + 1}"
    for month in range(horizon + 1):
        row, r = top + month, top + month + 1  # 0-based row, 1-based row number
        sheet.number(row, 0, month)
        if start_date is not None and month:
            sheet.date(row, DATE_COLUMN, month_end(start_date, month))
        for column, area in enumerate(AREAS, start=SHARE_COLUMN):
            formula = spend_share_formula(area_profile(workings.spend_profile, area), f"$A{r}", build)
            sheet.formula(row, column, "=" + formula, share)
        sheet.formula(row, 1, f"=-SUMPRODUCT({totals},{first_share}{r}:{last_share}{r})", usd)
        if month == 0:  # the programme's start: nothing runs, nothing is avoided yet
            for column in range(2, 7):
                sheet.number(row, column, 0, usd)
        else:
            sheet.formula(row, 2, f"=IF(A{r}>{build},{w['eval_monthly']},0)", usd)
            sheet.formula(row, 3, f"=IF(A{r}>{build},{w['serving_monthly']},0)", usd)
            sheet.formula(row, 4, f"=IF(A{r}>={build}+{start},{w['maintenance_monthly']},0)", usd)
            sheet.formula(row, 5, f"=C{r}+D{r}+E{r}", usd)
            sheet.formula(row, 6, f"=IF(A{r}>{build},{alternative},0)" if alternative else "=0", usd)
            sheet.formula(row, 9, f'=IF(I{r}>=0,A{r},"")')
        sheet.formula(row, 7, f"=B{r}+G{r}-F{r}", usd)
        sheet.formula(row, 8, f"=I{r - 1}+H{r}" if month else f"=H{r}", usd)
    first = top + 2  # 1-based row of month 1
    sheet.text(below, 0, "Break-even month", book.bold)
    if alternative:
        paid_back = f"J{first}:J{last}"
        never = no_break_even(True, horizon)
        sheet.formula(below, 8, f'=IF(COUNT({paid_back})=0,"{never}",MIN({paid_back}))', book.bold)
    else:
        sheet.text(below, 8, no_break_even(False, horizon), book.bold)
    w["break_even_month"] = cell_ref(SHEET_CASH, below, 8)
    w["cumulative_last"] = cell_ref(SHEET_CASH, last - 1, 8)
    sheet.text(below + 1, 0, "Total cost of ownership", book.bold)
    sheet.formula(below + 1, 8, f"=-SUM(B{top + 1}:B{last})+SUM(F{first}:F{last})", book.fmt(USD_CENTS, bold=True))
    w["tco"] = cell_ref(SHEET_CASH, below + 1, 8)
    sheet.text(areas_row, 0, "One-time cost by area (from the line items)", book.bold)
    for column, area in enumerate(AREAS, start=SHARE_COLUMN):
        cells = [w[item.id] for item in workings.lines if item.area == area]
        sheet.formula(areas_row, column, "=" + ("+".join(cells) if cells else "0"), usd)
    sheet.note(
        areas_row + 1,
        f"Build months before launch: on the Inputs sheet; spend profile {profile_words(workings.spend_profile)}. "
        "Evaluation, serving and the alternative avoided start the month after the build; maintenance from the "
        "build months plus its start month.",
    )
