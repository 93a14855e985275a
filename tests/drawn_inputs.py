"""Numbers drawn by the property tests, written as a client file may give them."""

from __future__ import annotations

from ftcost_helpers.engine.quantities import MIN_AMOUNT


def as_input(value: float) -> float:
    """A drawn non-negative number as a client file may give it: 0 for one nearer zero than
    the schema's floor (MIN_AMOUNT, 1e-6), else itself. Monotone, so drawn ranges stay ordered
    (``st.floats(0, x).map(as_input)``)."""
    return 0.0 if value < MIN_AMOUNT else value
