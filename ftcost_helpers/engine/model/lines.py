"""A cost line as the model produces it, before ranges are summarised."""

from __future__ import annotations

from dataclasses import dataclass

from ftcost_helpers.engine.quantities import Number

AREAS: tuple[str, ...] = ("compute", "dataset", "eval", "engineering", "compliance")
"""One-time programme areas, in report order."""

ONGOING: tuple[str, ...] = ("eval", "serving", "maintenance")
"""Monthly running costs once the model is in production."""

CLIENT = "client input"
"""Source label of a figure the client file gives."""


@dataclass(frozen=True)
class Line:
    """One cost line: ``value`` in USD (float or one value per draw)."""

    area: str
    item: str
    value: Number
    source: str
    unit: str = "USD"
