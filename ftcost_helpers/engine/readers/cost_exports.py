"""Actual spend, read for ``ftcost track`` (issue 23): a FOCUS cost export or a plain CSV,
and measured GPU-hours.

Formats, told apart by their header:

* **FOCUS** (the FinOps Open Cost and Usage Specification, columns of FOCUS 1.0 to 1.2:
  github.com/FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec, ``specification/columns/*.md``;
  the 1.2 column list as Microsoft's export writes it, learn.microsoft.com "FOCUS cost and
  usage details file schema"). ftcost reads ``BillingPeriodStart`` (the month: the date part
  of an ISO 8601 date-time), ``BilledCost`` (what the invoice charges, in
  ``BillingCurrency``; credits and refunds are negative), ``ChargeCategory`` (one of the
  spec's allowed values: Usage, Purchase, Tax, Credit, Adjustment), ``ServiceName`` (the
  line, unless a tag names one), ``ConsumedQuantity`` with ``ConsumedUnit`` (GPU-hours where
  the unit says so) and ``Tags`` (a JSON object, the spec's key-value format). A row counts
  for the programme area its ``ftcost-area`` tag names (the tag key can be changed); rows
  without it are other spending in the same account and are left out, counted. Every other
  FOCUS column is allowed and ignored; a column neither FOCUS's nor prefixed ``x_`` (the
  spec's prefix for custom columns, "Column Handling") is refused as unknown.
  A correction (``ChargeClass`` Correction) counts in the billing period that invoices it.
* **Plain CSV** ``month, area, line, amount`` (``month`` written ``YYYY-MM``, ``amount`` in
  the plan's currency), with optional ``gpu_hours`` (measured, for compute rows) and
  ``currency`` columns. One row per month, area and line: a repeated one is refused.

Either file may open with ``# ...`` comment lines, which are skipped. Every refusal is one
:class:`ParamsError` naming the file, the row or column, and the problem.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from ftcost_helpers.engine.readers.errors import ParamsError, quoted
from ftcost_helpers.engine.readers.files import read_text

MAX_EXPORT_BYTES = 50_000_000
"""A programme's cost export is kilobytes to megabytes; above 50 MB it is refused unread."""

MAX_ROWS = 500_000
"""Rows of a cost export at most."""

DEFAULT_AREA_TAG = "ftcost-area"
"""The tag key whose value names the programme area a FOCUS row belongs to."""

LINE_TAG = "ftcost-line"
"""An optional tag naming the line of a FOCUS row (else its ServiceName)."""

FOCUS_COLUMNS = frozenset(
    [
        "AvailabilityZone",
        "BilledCost",
        "BillingAccountId",
        "BillingAccountName",
        "BillingAccountType",
        "BillingCurrency",
        "BillingPeriodEnd",
        "BillingPeriodStart",
        "CapacityReservationId",
        "CapacityReservationStatus",
        "ChargeCategory",
        "ChargeClass",
        "ChargeDescription",
        "ChargeFrequency",
        "ChargePeriodEnd",
        "ChargePeriodStart",
        "CommitmentDiscountCategory",
        "CommitmentDiscountId",
        "CommitmentDiscountName",
        "CommitmentDiscountQuantity",
        "CommitmentDiscountStatus",
        "CommitmentDiscountType",
        "CommitmentDiscountUnit",
        "ConsumedQuantity",
        "ConsumedUnit",
        "ContractedCost",
        "ContractedUnitPrice",
        "EffectiveCost",
        "InvoiceId",
        "InvoiceIssuerName",
        "ListCost",
        "ListUnitPrice",
        "PricingCategory",
        "PricingCurrency",
        "PricingCurrencyContractedUnitPrice",
        "PricingCurrencyEffectiveCost",
        "PricingCurrencyListUnitPrice",
        "PricingQuantity",
        "PricingUnit",
        "ProviderName",
        "PublisherName",
        "RegionId",
        "RegionName",
        "ResourceId",
        "ResourceName",
        "ResourceType",
        "ServiceCategory",
        "ServiceName",
        "ServiceSubcategory",
        "SkuId",
        "SkuMeter",
        "SkuPriceDetails",
        "SkuPriceId",
        "SubAccountId",
        "SubAccountName",
        "SubAccountType",
        "Tags",
    ]
)
"""FOCUS 1.0–1.2 column IDs (see the module's notes)."""

FOCUS_NEEDED = ("BillingPeriodStart", "BilledCost", "BillingCurrency", "ChargeCategory", "ServiceName", "Tags")
"""The FOCUS columns ``track`` needs."""

CHARGE_CATEGORIES = ("Usage", "Purchase", "Tax", "Credit", "Adjustment")
"""FOCUS ``ChargeCategory`` allowed values (``specification/columns/chargecategory.md``)."""

PLAIN_NEEDED = ("month", "area", "line", "amount")
PLAIN_OPTIONAL = ("gpu_hours", "currency")

GPU_HOUR_UNITS = frozenset({"gpu-hours", "gpu-hour", "gpu hours", "gpu hour", "gpuhours", "gpu_hours"})
"""``ConsumedUnit`` values (lower case) that count GPU-hours; any other unit is not counted."""

MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True)
class ActualRow:
    """One row of spend: ``amount`` in the file's currency in calendar month
    (``year``, ``month``), for ``area`` and ``line``; ``gpu_hours`` measured (None: not said)."""

    row: int
    year: int
    month: int
    area: str
    line: str
    amount: float
    gpu_hours: float | None = None


@dataclass(frozen=True)
class Actuals:
    """The spend a file reports, row by row, and what was left out of it."""

    file: str
    format: str
    """``focus`` or ``plain_csv``."""
    rows: tuple[ActualRow, ...]
    untagged_rows: int = 0
    """FOCUS rows without the area tag (other spending in the same account)."""


def read_actuals(path: str | Path, areas: tuple[str, ...], currency: str, area_tag: str = DEFAULT_AREA_TAG) -> Actuals:
    """The spend in the cost export at ``path``, each row's area one of ``areas`` and every
    amount in ``currency`` (the plan's), else :class:`ParamsError`."""
    path = Path(path)
    header, rows, first = _table(path, read_text(path, MAX_EXPORT_BYTES, "--actuals"))
    if "BilledCost" in header or "BillingPeriodStart" in header:
        return _focus(path, header, rows, areas, currency, area_tag)
    if set(PLAIN_NEEDED) & set(header):
        return _plain(path, header, rows, areas, currency, first)
    raise ParamsError(path, "header", _neither(header))


def _neither(header: list[str]) -> str:
    return (
        f"columns {quoted(', '.join(header), 120)} are neither a FOCUS cost export (BillingPeriodStart, BilledCost, "
        "BillingCurrency, ChargeCategory, ServiceName, Tags) nor a plain CSV (month, area, line, amount)"
    )


def _table(path: Path, text: str) -> tuple[list[str], list[tuple[int, list[str]]], int]:
    """(header, [(line number, cells)], line number of the header); ``#`` lines skipped."""
    lines = text.splitlines()
    skipped = 0
    while skipped < len(lines) and (lines[skipped].startswith("#") or not lines[skipped].strip()):
        skipped += 1
    if skipped == len(lines):
        raise ParamsError(path, "header", "no header row: the file is empty after its comments")
    reader = csv.reader(io.StringIO("\n".join(lines[skipped:])), strict=True)
    rows: list[tuple[int, list[str]]] = []
    try:
        header = [name.strip() for name in next(reader)]
        for row in reader:
            number = skipped + reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(rows) >= MAX_ROWS:
                raise ParamsError(path, "", f"more than {MAX_ROWS:,} rows: refused")
            if len(row) != len(header):
                raise ParamsError(
                    path,
                    f"row {number}",
                    f"has {len(row)} of the header's {len(header)} columns: the file is malformed or truncated",
                )
            rows.append((number, row))
    except csv.Error as exc:
        raise ParamsError(
            path, f"row {skipped + reader.line_num}", f"not a readable CSV ({exc}): malformed or truncated"
        ) from None
    if len(set(header)) != len(header):
        twice = next(name for name in header if header.count(name) > 1)
        raise ParamsError(path, "header", f"column {quoted(twice)} is named twice")
    return header, rows, skipped + 1


def _amount(path: Path, row: int, column: str, text: str, signed: bool = True) -> float:
    """A finite number (negative only when ``signed``: a credit or refund)."""
    try:
        value = float(text.strip())
    except ValueError:
        raise ParamsError(path, f"row {row}, {column}", f"expected a number, got {quoted(text)}") from None
    if not math.isfinite(value) or (not signed and value < 0):
        kind = "a finite number" if signed else "a finite number of at least 0"
        raise ParamsError(path, f"row {row}, {column}", f"expected {kind}, got {quoted(text)}")
    return value


def _month(path: Path, row: int, column: str, text: str) -> tuple[int, int]:
    """(year, month) of ``YYYY-MM`` or of an ISO date or date-time (its date part)."""
    found = MONTH.match(text.strip())
    if found is None or not 1 <= int(found[2]) <= 12:
        raise ParamsError(path, f"row {row}, {column}", f"expected a month written YYYY-MM, got {quoted(text)}")
    return int(found[1]), int(found[2])


def _area(path: Path, row: int, column: str, text: str, areas: tuple[str, ...]) -> str:
    area = text.strip()
    if area not in areas:
        raise ParamsError(
            path, f"row {row}, {column}", f"unknown area {quoted(area)}; the areas are {', '.join(areas)}"
        )
    return area


def _currency(path: Path, row: int, column: str, text: str, currency: str) -> None:
    if text.strip() != currency:
        raise ParamsError(
            path,
            f"row {row}, {column}",
            f"currency {quoted(text.strip())} is not the plan's {currency}; convert the export first",
        )


def _plain(
    path: Path, header: list[str], rows: list, areas: tuple[str, ...], currency: str, header_row: int
) -> Actuals:
    unknown = [name for name in header if name not in PLAIN_NEEDED + PLAIN_OPTIONAL]
    if unknown:
        raise ParamsError(
            path,
            f"header, {unknown[0]}",
            f"unknown column {quoted(unknown[0])}; a plain CSV has month, area, line, amount "
            "and optionally gpu_hours and currency",
        )
    missing = [name for name in PLAIN_NEEDED if name not in header]
    if missing:
        raise ParamsError(
            path, f"row {header_row}", f"no {missing[0]} column; a plain CSV has {', '.join(PLAIN_NEEDED)}"
        )
    at = {name: header.index(name) for name in header}
    seen: dict[tuple[int, int, str, str], int] = {}
    found = []
    for number, cells in rows:
        year, month = _month(path, number, "month", cells[at["month"]])
        area = _area(path, number, "area", cells[at["area"]], areas)
        line = cells[at["line"]].strip()
        if not line:
            raise ParamsError(path, f"row {number}, line", "empty: name the line the amount was spent on")
        key = (year, month, area, line)
        if key in seen:
            raise ParamsError(
                path,
                f"row {number}",
                f"{year:04d}-{month:02d} {area} {quoted(line)} repeats row {seen[key]}: "
                "give one amount per month, area and line",
            )
        seen[key] = number
        if "currency" in at:
            _currency(path, number, "currency", cells[at["currency"]], currency)
        hours = None
        if "gpu_hours" in at and cells[at["gpu_hours"]].strip():
            hours = _amount(path, number, "gpu_hours", cells[at["gpu_hours"]], signed=False)
        amount = _amount(path, number, "amount", cells[at["amount"]])
        found.append(ActualRow(number, year, month, area, line, amount, hours))
    return Actuals(str(path), "plain_csv", tuple(found))


def _focus(path: Path, header: list[str], rows: list, areas: tuple[str, ...], currency: str, area_tag: str) -> Actuals:
    unknown = [name for name in header if name not in FOCUS_COLUMNS and not name.startswith("x_")]
    if unknown:
        raise ParamsError(
            path,
            f"header, {unknown[0]}",
            f"unknown column {quoted(unknown[0])}: not a FOCUS 1.0–1.2 column, and custom columns "
            "must start with x_ (FOCUS, Column Handling)",
        )
    missing = [name for name in FOCUS_NEEDED if name not in header]
    if missing:
        raise ParamsError(path, "header", f"no {missing[0]} column: track needs {', '.join(FOCUS_NEEDED)}")
    at = {name: header.index(name) for name in header}
    seen: dict[tuple[str, ...], int] = {}
    found, untagged = [], 0
    for number, cells in rows:
        key = tuple(cell.strip() for cell in cells)
        if key in seen:
            raise ParamsError(
                path, f"row {number}", f"repeats row {seen[key]} cell for cell: the same charge twice (exported twice?)"
            )
        seen[key] = number
        tags = _tags(path, number, cells[at["Tags"]])
        category = cells[at["ChargeCategory"]].strip()
        if category not in CHARGE_CATEGORIES:
            raise ParamsError(
                path,
                f"row {number}, ChargeCategory",
                f"{quoted(category)} is not one of FOCUS's {', '.join(CHARGE_CATEGORIES)}",
            )
        amount = _amount(path, number, "BilledCost", cells[at["BilledCost"]])
        _currency(path, number, "BillingCurrency", cells[at["BillingCurrency"]], currency)
        year, month = _month(path, number, "BillingPeriodStart", cells[at["BillingPeriodStart"]])
        if area_tag not in tags:
            untagged += 1
            continue
        area = _area(path, number, f"Tags.{area_tag}", str(tags[area_tag]), areas)
        line = str(tags.get(LINE_TAG) or cells[at["ServiceName"]].strip() or category)
        found.append(ActualRow(number, year, month, area, line, amount, _gpu_hours(path, number, cells, at)))
    return Actuals(str(path), "focus", tuple(found), untagged)


def _tags(path: Path, row: int, text: str) -> dict:
    """The Tags cell as a JSON object (empty when the cell is)."""
    if not text.strip():
        return {}
    try:
        tags = json.loads(text)
    except (ValueError, RecursionError):
        raise ParamsError(path, f"row {row}, Tags", f"not a JSON object: {quoted(text)}") from None
    if tags is None:
        return {}
    if not isinstance(tags, dict):
        raise ParamsError(path, f"row {row}, Tags", f"not a JSON object: {quoted(text)}")
    return tags


def _gpu_hours(path: Path, row: int, cells: list[str], at: dict[str, int]) -> float | None:
    """GPU-hours a FOCUS row consumed, where its ConsumedUnit counts them (else None)."""
    if "ConsumedUnit" not in at or "ConsumedQuantity" not in at:
        return None
    if cells[at["ConsumedUnit"]].strip().lower() not in GPU_HOUR_UNITS or not cells[at["ConsumedQuantity"]].strip():
        return None
    return _amount(path, row, "ConsumedQuantity", cells[at["ConsumedQuantity"]], signed=False)


def read_gpu_hours(text: str) -> float | dict[tuple[int, int], tuple[int, float]]:
    """``--gpu-hours``: a number (GPU-hours of compute to date), else a CSV file of
    ``month, gpu_hours`` rows: {(year, month): (row, GPU-hours)}."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is not None:
        if not math.isfinite(value) or value < 0:
            raise ParamsError("--gpu-hours", "", f"expected GPU-hours of at least 0, got {quoted(text)}")
        return value
    path = Path(text)
    header, rows, first = _table(path, read_text(path, MAX_EXPORT_BYTES, "--gpu-hours"))
    if header != ["month", "gpu_hours"]:
        raise ParamsError(
            path, f"row {first}", f"expected the columns month, gpu_hours, got {quoted(', '.join(header))}"
        )
    hours: dict[tuple[int, int], tuple[int, float]] = {}
    for number, cells in rows:
        month = _month(path, number, "month", cells[0])
        if month in hours:
            raise ParamsError(path, f"row {number}", f"{month[0]:04d}-{month[1]:02d} repeats row {hours[month][0]}")
        hours[month] = (number, _amount(path, number, "gpu_hours", cells[1], signed=False))
    return hours


def programme_month(start_year: int, start_month: int, year: int, month: int) -> int:
    """The programme month (1 = the calendar month of the start date) of a calendar month."""
    return (year * 12 + month) - (start_year * 12 + start_month) + 1


def check_month(file: str | Path, row: int, column: str, month: int, horizon: int, start: str) -> int:
    """``month`` (a programme month), refused when before the start or after the horizon."""
    if month < 1:
        raise ParamsError(file, f"row {row}, {column}", f"a month before the plan's start ({start})")
    if month > horizon:
        raise ParamsError(
            file, f"row {row}, {column}", f"programme month {month}, after the plan's {horizon}-month horizon"
        )
    return month
