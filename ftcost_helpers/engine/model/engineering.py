"""Engineering labour and compliance work, as explicit line items."""

from __future__ import annotations

from ftcost_helpers.engine.quantities import Number


def engineering_cost(weeks: Number, hours_per_week: Number, rate_usd_per_hour: Number) -> Number:
    """USD of engineer time: weeks × hours per week × blended hourly rate."""
    return weeks * hours_per_week * rate_usd_per_hour
