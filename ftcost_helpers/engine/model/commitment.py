"""Reserved / committed-use GPU tiers (issue 24, money): a lower rate for a term's commitment.

A commitment of ``term`` months buys the serving GPUs at the tier's rate less the term's
discount, and bills every hour of the term whether used or not (the GPUs are reserved: 730
hours a month, 24 × 365 ÷ 12). A term longer than what is left of the horizon after launch
leaves months owed beyond it: the summary states them beside the figures, which stop at the
horizon. Discounts and terms are the price book's (``committed_use``).
"""

from __future__ import annotations

import numpy as np

from ftcost_helpers.engine.quantities import Number

HOURS_PER_MONTH = 730.0
"""24 h × 365 days ÷ 12 months."""


def committed_rate(rate: Number, discount: Number) -> Number:
    """The rate per GPU-hour under a commitment: ``rate × (1 − discount)``."""
    return rate * (1.0 - discount)


def billed_hours_per_month(hours_used: Number, committed: bool) -> Number:
    """Hours billed a month: those used, or every hour of the month under a commitment."""
    return np.maximum(hours_used, HOURS_PER_MONTH)[()] if committed else hours_used


def months_beyond_horizon(term_months: int, horizon_months: int, launch_month: int) -> int:
    """Months of the term still owed after the horizon when the term starts at launch."""
    in_horizon = max(horizon_months - launch_month + 1, 0)
    return max(term_months - in_horizon, 0)
