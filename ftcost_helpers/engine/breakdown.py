"""The Breakdown of a plan: line items with low/base/high, running costs, cash flow,
break-even and the audit's warnings. This is what notebooks, widgets and reports show."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from ftcost_helpers.engine.audit import Finding, audit
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.fx import in_currency
from ftcost_helpers.engine.model.guards import UNPLACED, FigureOutOfRange
from ftcost_helpers.engine.model.lines import AREAS, ONGOING
from ftcost_helpers.engine.model.roi import month_or_none
from ftcost_helpers.engine.model.run import ModelRun
from ftcost_helpers.engine.money import amounts_in
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import Number
from ftcost_helpers.engine.resolve import pick_corners
from ftcost_helpers.engine.schema import Params


@dataclass(frozen=True)
class LineItem:
    """One programme cost line in USD with its range and the source of its figure."""

    area: str
    item: str
    low: float
    base: float
    high: float
    unit: str
    source: str


def _three(value: Number) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=float), (3,))


@dataclass(frozen=True)
class Breakdown:
    """The estimate of one plan: the base case, its low/high corners and the audit."""

    params: Params
    book: PriceBook
    base: ModelRun
    corners: ModelRun
    warnings: list[Finding]

    @cached_property
    def line_items(self) -> list[LineItem]:
        """Every line with its low and high: the line at the all-low and all-high corners
        of the inputs (every line grows with each of its inputs, so low ≤ base ≤ high)."""
        items = []
        for line, corner in zip(self.base.lines, self.corners.lines, strict=True):
            low, _, high = _three(corner.value)
            items.append(
                LineItem(line.area, line.item, float(low), float(line.value), float(high), line.unit, line.source)
            )
        return items

    @property
    def programme_total(self) -> float:
        """USD of the one-time programme, base case."""
        return float(self.base.programme_total)

    @property
    def programme_range(self) -> tuple[float, float]:
        """(low, high) USD of the programme at the input corners."""
        low, _, high = _three(self.corners.programme_total)
        return float(low), float(high)

    @property
    def areas_usd(self) -> dict[str, float]:
        """USD by area, base case."""
        return {area: float(self.base.area_total(area)) for area in AREAS}

    @property
    def ongoing_monthly_usd(self) -> dict[str, float]:
        """USD per month by running cost, base case (maintenance once it has started)."""
        return {name: float(self.base.ongoing_monthly[name]) for name in ONGOING}

    @property
    def break_even_month(self) -> int | None:
        """First month the cumulative cash flow is ≥ 0, or None."""
        return month_or_none(float(self.base.break_even_month))

    @property
    def cash_flow(self) -> np.ndarray:
        """Cumulative USD, month 0 (outlay) to the horizon, base case."""
        return np.asarray(self.base.cash_flow, dtype=float)

    @property
    def tco(self) -> float:
        """USD of the programme plus running costs to the horizon, base case."""
        return float(self.base.tco)


def estimate(params: Params, book: PriceBook, today: dt.date | None = None, source: str | Path = UNPLACED) -> Breakdown:
    """The full estimate of a plan: base case, corners and audit. A plan whose figures the
    model cannot produce (:func:`~ftcost_helpers.engine.model.guards.check_run`) raises
    :class:`FigureOutOfRange` naming ``source``, the plan's file."""
    book = in_currency(book, params.currency, params.start_date)
    try:
        base = evaluate(params, book)
        corners = evaluate(params, book, pick_corners)
        with amounts_in(params.currency):
            findings = audit(params, book, base, today)
        return Breakdown(params, book, base, corners, findings)
    except FigureOutOfRange as error:
        raise error.in_file(source) from None
