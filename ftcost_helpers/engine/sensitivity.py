"""Sensitivity: which uncertain inputs move the decision's one figure most (the data of a
tornado chart).

The figure, the **quantity**, is stated once and drawn as it is sorted:

* with an alternative, the **net value over the horizon**: what the alternative costs over
  the months the fine-tune runs in its place, minus the fine-tune's cost of ownership over
  the horizon (programme plus running costs). It is the cumulative cash position at the
  horizon's last month (:func:`~ftcost_helpers.engine.model.roi.cumulative_cash_flow`): in
  the build months the alternative is paid either way, so it saves nothing then;
* without one, the **cost of ownership over the horizon**.

Every input the Monte Carlo draws (:func:`~ftcost_helpers.engine.uncertainty.uncertain_inputs`:
every range of the plan, on the cost side and the value side alike — the alternative's token
volumes and prices, the staff time it saves, incremental data, migrations — and every range of
the price book) goes alone from its low to its high end, every other input at its base case.
All the cases run in one vectorised model run: column ``2i`` holds input ``i`` at its low end,
column ``2i + 1`` at its high end, and the last column every input at its base case.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.model.roi import month_or_none
from ftcost_helpers.engine.model.run import ModelRun
from ftcost_helpers.engine.money import plural, usd, usd_cents
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import Number, Range
from ftcost_helpers.engine.resolve import Picker
from ftcost_helpers.engine.schema import Params
from ftcost_helpers.engine.uncertainty import uncertain_inputs

TOP_DRIVERS = 8
"""How many inputs a tornado shows by default: the largest swings."""

NO_SWING_USD = 0.005
"""A swing under half a cent is no swing: the input does not move the quantity."""

NET_VALUE = "net_value"
COST_OF_OWNERSHIP = "cost_of_ownership"
QUANTITY_NAMES = {NET_VALUE: "Net value", COST_OF_OWNERSHIP: "Cost of ownership"}

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
    """One input moved alone from its low to its high end, every other input at its base case,
    and the quantity (USD) at each end."""

    path: str
    label: str
    input_low: float
    input_high: float
    at_low: float
    """The quantity with this input at its low end (USD)."""
    at_high: float
    """The quantity with this input at its high end (USD)."""
    low_break_even: int | None = None
    high_break_even: int | None = None

    @property
    def swing(self) -> float:
        """``|at_high − at_low|`` (USD): the bar's length in a tornado chart."""
        return abs(self.at_high - self.at_low)

    @property
    def break_even_swing(self) -> float:
        """Months between the two break-even months (inf when only one end pays back)."""
        if self.low_break_even is None and self.high_break_even is None:
            return 0.0
        if self.low_break_even is None or self.high_break_even is None:
            return math.inf
        return float(abs(self.high_break_even - self.low_break_even))


@dataclass(frozen=True)
class Sensitivity:
    """The inputs that move one quantity most, largest swing first (USD)."""

    quantity: str
    """:data:`NET_VALUE` or :data:`COST_OF_OWNERSHIP`."""
    horizon_months: int
    base: float
    """The quantity with every input at its base case (USD)."""
    rows: tuple[Swing, ...]
    """The drivers, largest swing of the quantity first; at most ``top`` of them."""
    drivers_found: int
    """How many inputs move the quantity at all (``rows`` may show fewer)."""
    inputs_moved: int
    """How many uncertain inputs were moved, one at a time."""
    unit: str = "USD"

    @property
    def name(self) -> str:
        """The quantity in words: "Net value over 36 months"."""
        return f"{QUANTITY_NAMES[self.quantity]} over {plural(self.horizon_months, 'month')}"

    @property
    def axis_label(self) -> str:
        """The quantity and its unit, as an axis says it: "Net value over 36 months, USD"."""
        return f"{self.name}, {self.unit}"


def decision_quantity(params: Params) -> str:
    """The quantity a plan's sensitivity measures: net value with an alternative, else cost
    of ownership."""
    return COST_OF_OWNERSHIP if params.alternative.kind == "none" else NET_VALUE


def quantity_of(run: ModelRun, quantity: str) -> Number:
    """The quantity from a model run (USD): the cost of ownership over the horizon, or the
    net value over it (the cumulative cash position at the horizon, see the module's notes)."""
    if quantity == COST_OF_OWNERSHIP:
        return run.tco
    return np.asarray(run.cash_flow, dtype=float)[..., -1]


def sensitivity(params: Params, book: PriceBook, top: int | None = TOP_DRIVERS) -> Sensitivity:
    """Every uncertain input alone from its low to its high end, and the ``top`` inputs (None:
    all) that move the plan's quantity (:func:`decision_quantity`) most, largest swing first
    (ties: the larger break-even swing, then the path)."""
    inputs = uncertain_inputs(params, book)
    paths = list(inputs)
    quantity = decision_quantity(params)
    run = evaluate(params, book, _one_at_a_time(paths))
    size = 2 * len(paths) + 1
    values = _column(quantity_of(run, quantity), size)
    months = _column(run.break_even_month, size)
    rows = [
        Swing(
            path=path,
            label=label(path),
            input_low=float(inputs[path].low),
            input_high=float(inputs[path].high),
            at_low=float(values[2 * i]),
            at_high=float(values[2 * i + 1]),
            low_break_even=month_or_none(months[2 * i]),
            high_break_even=month_or_none(months[2 * i + 1]),
        )
        for i, path in enumerate(paths)
    ]
    drivers = sorted((row for row in rows if row.swing >= NO_SWING_USD), key=_tornado_order)
    return Sensitivity(
        quantity=quantity,
        horizon_months=params.horizon_months,
        base=float(values[-1]),
        rows=tuple(drivers if top is None else drivers[: max(top, 0)]),
        drivers_found=len(drivers),
        inputs_moved=len(paths),
    )


def _one_at_a_time(paths: list[str]) -> Picker:
    """A picker giving every range an array of 2·len(paths) + 1 values, all at its base case
    except, for the input at ``paths[i]``, its low end in column 2i and its high end in 2i + 1."""
    index = {path: i for i, path in enumerate(paths)}
    size = 2 * len(paths) + 1

    def picker(value: Range, path: str) -> np.ndarray:
        column = np.full(size, value.base, dtype=float)
        if path in index:
            column[2 * index[path]] = value.low
            column[2 * index[path] + 1] = value.high
        return column

    return picker


def _column(value: Number, size: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=float), (size,))


def _tornado_order(swing: Swing) -> tuple[float, float, str]:
    """Largest swing of the quantity first (to the cent, so float noise breaks no tie), then
    the larger break-even swing, then path."""
    return (-round(swing.swing, 2), -min(swing.break_even_swing, 1e9), swing.path)


# ---------------------------------------------------------------- words


def _humanise(name: str) -> str:
    return name.replace("_", " ")


def _split_unit(name: str) -> tuple[str, str]:
    """``rate_usd_per_hour`` → ("rate", "USD/hour"); a name without a unit is kept."""
    for suffix, unit in UNIT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], unit
    return name, ""


def _words_and_unit(path: str) -> tuple[str, str]:
    """An input path in words, and the unit its last key with a unit names:
    ``pricebook.gpu_rates_usd_per_gpu_hour.h100_sxm.neocloud_spot`` →
    ("Price book: gpu rates, h100 sxm, neocloud spot", "USD/GPU-hour")."""
    section, *rest = path.split(".")
    head = SECTION_LABELS.get(section, _humanise(section).capitalize())
    words, unit = [], ""
    for part in rest:
        name, part_unit = _split_unit(part)
        words.append(_humanise(name))
        unit = part_unit or unit
    return (f"{head}: {', '.join(words)}" if words else head), unit


def label(path: str) -> str:
    """A readable name for an input path, e.g. ``engineering.rate_usd_per_hour`` →
    "Engineering: rate (USD/hour)"."""
    text, unit = _words_and_unit(path)
    return f"{text} ({unit})" if unit else text


def _plain_number(value: float) -> str:
    """``6,000``, ``2.5``, ``0.35``: thousands separated, at most three decimals, no trailing zeros."""
    text = f"{value:,.3f}".rstrip("0").rstrip(".")
    return text.replace("-", "−") if text not in ("-0", "") else "0"


def input_value_text(path: str, value: float) -> str:
    """An input's value in its unit, as a tornado bar's label says it: ``USD 6,000/quarter``,
    ``USD 2.80/GPU-hour``, ``15%``, ``120`` (other units are named in the input's label)."""
    _, unit = _words_and_unit(path)
    if unit == "share":
        return f"{_plain_number(value * 100)}%"
    if unit.startswith("USD"):
        amount = usd(value) if float(value).is_integer() or abs(value) >= 1000 else usd_cents(value)
        return amount + unit.removeprefix("USD")
    return _plain_number(value)
