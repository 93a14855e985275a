"""Money as a CFO counts it (issue 24, item 5): net present value, discounted payback and the
internal rate of return of a plan's monthly cash flow, beside the undiscounted figures.

Conventions (those of any corporate-finance text, e.g. Brealey, Myers & Allen, *Principles
of Corporate Finance*, ch. 2 and 5):

* the cash flow is the headline's: the net cash of month 0 (the start, undiscounted) and of
  months 1..horizon, each counted at the month's end;
* the client's ``finance.discount_rate`` is an annual effective rate ``r``; a month's rate is
  ``m = (1 + r)^(1/12) − 1`` (twelve months at ``m`` compound to one year at ``r``);
* NPV = Σₜ flowₜ ÷ (1 + m)ᵗ, t = 0..horizon;
* discounted payback: the first month whose cumulative *discounted* cash is ≥ 0 (the same
  rule as the undiscounted break-even, :func:`~ftcost_helpers.engine.model.roi.break_even_month`);
* IRR: the monthly rate at which the NPV is 0, found by bisection, given as an annual rate
  ``(1 + m)^12 − 1``; none where the flows never change sign or the NPV has no root between
  −99 % and +1,000 % a month.

Every function works on one cash flow (months on the last axis) or on many at once (draws
on the leading axes), as the rest of the engine does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ftcost_helpers.engine.model import roi

MONTHS_PER_YEAR = 12
IRR_LOW, IRR_HIGH = -0.99, 10.0
"""The monthly rates the IRR is sought between (−99 % and +1,000 % a month)."""
IRR_STEPS = 200
"""Bisection halvings: the bracket of width 10.99 shrinks below 1e-15 after about 54; 200 is
plenty and costs a few hundred microseconds on a 10,000-draw array."""


def monthly_rate(annual_rate: float | np.ndarray) -> float | np.ndarray:
    """The monthly rate equivalent to an annual effective rate: ``(1 + r)^(1/12) − 1``."""
    return np.power(1.0 + np.asarray(annual_rate, dtype=float), 1.0 / MONTHS_PER_YEAR)[()] - 1.0


def annual_rate(month_rate: float | np.ndarray) -> float | np.ndarray:
    """The annual effective rate of a monthly rate: ``(1 + m)^12 − 1``."""
    return np.power(1.0 + np.asarray(month_rate, dtype=float), MONTHS_PER_YEAR)[()] - 1.0


def flows_from_cumulative(cumulative: np.ndarray) -> np.ndarray:
    """Each month's net cash (months 0..horizon on the last axis) from the cumulative cash
    flow: month 0's is the position at the start, then the differences."""
    cumulative = np.asarray(cumulative, dtype=float)
    return np.diff(cumulative, axis=-1, prepend=0.0)


def discount_factors(months: int, month_rate: float | np.ndarray) -> np.ndarray:
    """``1 / (1 + m)^t`` for t = 0..months − 1 (last axis); ``month_rate`` may be an array
    (one rate per leading index)."""
    t = np.arange(months, dtype=float)
    return np.power(1.0 + np.asarray(month_rate, dtype=float)[..., None], -t)


def npv(flows: np.ndarray, month_rate: float | np.ndarray) -> float | np.ndarray:
    """Net present value at month 0 of ``flows`` (months 0..horizon on the last axis)."""
    flows = np.asarray(flows, dtype=float)
    return np.sum(flows * discount_factors(flows.shape[-1], month_rate), axis=-1)[()]


def discounted_cumulative(flows: np.ndarray, month_rate: float) -> np.ndarray:
    """Cumulative discounted cash, month 0..horizon."""
    flows = np.asarray(flows, dtype=float)
    return np.cumsum(flows * discount_factors(flows.shape[-1], month_rate), axis=-1)


def discounted_payback_month(flows: np.ndarray, month_rate: float) -> float | np.ndarray:
    """First month (1..horizon) whose cumulative discounted cash is ≥ 0; nan if none."""
    return roi.break_even_month(discounted_cumulative(flows, month_rate))


def irr_monthly(flows: np.ndarray) -> float | np.ndarray:
    """The monthly internal rate of return of ``flows`` (months on the last axis), by
    bisection between :data:`IRR_LOW` and :data:`IRR_HIGH`; nan where the NPV does not change
    sign over that bracket (no root: all outflows, all inflows, or a rate outside it).
    For the usual shape (outflows first, then inflows) the NPV falls as the rate rises, and
    the root is unique."""
    flows = np.asarray(flows, dtype=float)
    low = np.full(flows.shape[:-1], IRR_LOW)
    high = np.full(flows.shape[:-1], IRR_HIGH)
    at_low, at_high = npv(flows, low), npv(flows, high)
    bracketed = np.sign(at_low) * np.sign(at_high) < 0
    for _ in range(IRR_STEPS):
        middle = (low + high) / 2.0
        same = np.sign(np.asarray(npv(flows, middle))) == np.sign(at_low)
        low = np.where(same, middle, low)  # keep the half whose ends straddle zero
        high = np.where(same, high, middle)
    return np.where(bracketed, (low + high) / 2.0, np.nan)[()]


@dataclass(frozen=True)
class Discounted:
    """The discounted figures of one cash flow, beside the undiscounted ones."""

    discount_rate: float | None
    """Annual effective rate; None when the plan gives none (then NPV and discounted
    payback are not stated; the IRR needs no rate)."""
    npv_usd: float | None
    discounted_payback_month: int | None
    irr_annual: float | None
    undiscounted_usd: float
    """The sum of the flows (the cumulative cash at the horizon)."""

    def as_dict(self) -> dict[str, Any]:
        """``summary.json``'s ``finance`` object (amounts to the cent, rates to 6 places)."""

        def rounded(value: float | None, places: int) -> float | None:
            return None if value is None else round(float(value), places)

        return {
            "discount_rate": self.discount_rate,
            "npv_usd": rounded(self.npv_usd, 2),
            "discounted_payback_month": self.discounted_payback_month,
            "irr_annual": rounded(self.irr_annual, 6),
            "undiscounted_usd": rounded(self.undiscounted_usd, 2),
        }


def discounted(cumulative: np.ndarray, discount_rate: float | None, has_return: bool = True) -> Discounted:
    """NPV, discounted payback and IRR of one cumulative cash flow (month 0..horizon) at an
    annual ``discount_rate`` (None: NPV and discounted payback not stated). ``has_return``:
    whether the plan saves anything (no alternative: no payback and no IRR to speak of)."""
    flows = flows_from_cumulative(cumulative)
    irr = float(irr_monthly(flows)) if has_return else float("nan")
    irr_annual = None if np.isnan(irr) else float(annual_rate(irr))
    if discount_rate is None:
        return Discounted(None, None, None, irr_annual, float(flows.sum()))
    m = float(monthly_rate(discount_rate))
    payback = roi.month_or_none(float(discounted_payback_month(flows, m))) if has_return else None
    return Discounted(float(discount_rate), float(npv(flows, m)), payback, irr_annual, float(flows.sum()))
