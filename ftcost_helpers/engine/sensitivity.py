"""Sensitivity: each range input from its low to its high, every other input at its base
case, and what that does to the programme total and the break-even month (the data of a
tornado chart).

All the one-at-a-time cases run in a single vectorised model run: column ``2i`` holds
input ``i`` at its low end and column ``2i + 1`` at its high end, each column built by
:func:`~ftcost_helpers.engine.resolve.pick_one_input`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.model.roi import month_or_none
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import Number, Range
from ftcost_helpers.engine.resolve import Picker, pick_one_input, range_inputs
from ftcost_helpers.engine.schema import Params
from ftcost_helpers.engine.uncertainty import PRICE_BOOK_PREFIX

ENDS = ("low", "high")

UNIT_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_usd_per_gpu_hour", "USD/GPU-hour"),
    ("_usd_per_1m_tokens", "USD/1M tokens"),
    ("_usd_per_1k_tokens", "USD/1k tokens"),
    ("_usd_per_quarter", "USD/quarter"),
    ("_usd_per_month", "USD/month"),
    ("_usd_per_hour", "USD/hour"),
    ("_usd_per_call", "USD/call"),
    ("_per_quarter", "per quarter"),
    ("_per_month", "per month"),
    ("_per_year", "per year"),
    ("_usd", "USD"),
    ("_hours", "hours"),
    ("_billion", "billion"),
    ("_million", "million"),
    ("_fraction", "share"),
)
"""Key-name endings and the unit they mean, longest first."""

SECTION_LABELS = {
    "base_model": "Base model",
    "alternative": "Alternative",
    "pricebook": "Price book",
}


@dataclass(frozen=True)
class Swing:
    """One input moved from its low to its high end, everything else at base (USD)."""

    path: str
    label: str
    low_total: float
    high_total: float
    swing: float
    """``|high_total − low_total|``: the bar's length in a tornado chart."""
    low_break_even: int | None
    high_break_even: int | None
    low_tco: float
    high_tco: float
    input_low: float
    input_high: float

    @property
    def break_even_swing(self) -> float:
        """Months between the two break-even months (inf when only one end pays back)."""
        if self.low_break_even is None and self.high_break_even is None:
            return 0.0
        if self.low_break_even is None or self.high_break_even is None:
            return math.inf
        return float(abs(self.high_break_even - self.low_break_even))


def _humanise(name: str) -> str:
    return name.replace("_", " ")


def _split_unit(name: str) -> tuple[str, str]:
    """``rate_usd_per_hour`` → ("rate", "USD/hour"); a name without a unit is kept."""
    for suffix, unit in UNIT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], unit
    return name, ""


def label(path: str) -> str:
    """A readable name for an input path, e.g. ``engineering.rate_usd_per_hour`` →
    "Engineering: rate (USD/hour)"."""
    section, *rest = path.split(".")
    head = SECTION_LABELS.get(section, _humanise(section).capitalize())
    words, unit = [], ""
    for part in rest:
        name, part_unit = _split_unit(part)
        words.append(_humanise(name))
        unit = part_unit or unit
    text = f"{head}: {', '.join(words)}" if words else head
    return f"{text} ({unit})" if unit else text


def _stacked_picker(paths: list[str]) -> Picker:
    """A picker giving every range an array of 2·len(paths) values: column 2i is input i
    at its low end, column 2i + 1 at its high end, every other input at base."""
    columns = [pick_one_input(path, end) for path in paths for end in ENDS]

    def picker(value: Range, path: str) -> np.ndarray:
        return np.array([column(value, path) for column in columns], dtype=float)

    return picker


def _column(value: Number, size: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=float), (size,))


def sensitivity(params: Params, book: PriceBook, include_price_book: bool = True) -> list[Swing]:
    """The swing of every range input, largest first (ties: larger break-even swing, then
    TCO swing, then path). Every range of the plan is listed, one that moves nothing with a swing of 0;
    price-book ranges are listed only when they move the total, the TCO or the break-even
    month (the book prices many GPUs and tiers a plan does not use)."""
    plan_inputs = range_inputs(params)
    book_inputs = range_inputs(book, PRICE_BOOK_PREFIX) if include_price_book else {}
    inputs = {**plan_inputs, **book_inputs}
    if not inputs:
        return []
    paths = list(inputs)
    run = evaluate(params, book, _stacked_picker(paths))
    size = 2 * len(paths)
    totals = _column(run.programme_total, size)
    tcos = _column(run.tco, size)
    months = _column(run.break_even_month, size)
    swings = []
    for i, path in enumerate(paths):
        lo, hi = 2 * i, 2 * i + 1
        swing = Swing(
            path=path,
            label=label(path),
            low_total=float(totals[lo]),
            high_total=float(totals[hi]),
            swing=abs(float(totals[hi] - totals[lo])),
            low_break_even=month_or_none(months[lo]),
            high_break_even=month_or_none(months[hi]),
            low_tco=float(tcos[lo]),
            high_tco=float(tcos[hi]),
            input_low=inputs[path].low,
            input_high=inputs[path].high,
        )
        if path in plan_inputs or _moves_something(swing):
            swings.append(swing)
    return sorted(swings, key=_tornado_order)


def _tornado_order(swing: Swing) -> tuple[float, float, float, str]:
    """Largest total swing first, then break-even swing, then TCO swing, then path."""
    return (-swing.swing, -min(swing.break_even_swing, 1e9), -abs(swing.high_tco - swing.low_tco), swing.path)


def _moves_something(swing: Swing) -> bool:
    return swing.swing > 0 or swing.low_tco != swing.high_tco or swing.low_break_even != swing.high_break_even
