"""Numbers that may be uncertain: a single value or a range ``{low, high, mode}``.

Every numeric input of a client file is a :data:`Quantity`. The cost model never sees a
``Range``: before a run, each range is replaced by a float (its base case, a corner) or by
a numpy array of draws, so one formula serves the point estimate and the Monte Carlo run.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

Number = float | np.ndarray
"""A resolved model input or output: a float, or an array with one value per draw."""


class Range(BaseModel):
    """An uncertain amount: ``low`` ≤ ``mode`` ≤ ``high``; ``mode`` is optional."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    low: float = Field(ge=0, allow_inf_nan=False)
    high: float = Field(ge=0, allow_inf_nan=False)
    mode: float | None = Field(default=None, ge=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) is greater than high ({self.high:g})")
        if self.mode is not None and not self.low <= self.mode <= self.high:
            raise ValueError(f"mode ({self.mode:g}) lies outside low–high ({self.low:g}–{self.high:g})")
        return self

    @property
    def base(self) -> float:
        """The base case: the most likely value when given, else the midpoint."""
        return self.mode if self.mode is not None else (self.low + self.high) / 2


def _at_most_one(value: float | Range) -> float | Range:
    top = value.high if isinstance(value, Range) else value
    if top > 1:
        raise ValueError(f"a fraction must lie between 0 and 1, got {top:g}")
    return value


def _above_zero(value: float | Range) -> float | Range:
    bottom = value.low if isinstance(value, Range) else value
    if bottom <= 0:
        raise ValueError(f"must be greater than 0 (it divides), got {bottom:g}")
    return value


FiniteAmount = Annotated[float, Field(ge=0, allow_inf_nan=False)]
"""A single non-negative, finite number."""

Quantity = Annotated[FiniteAmount | Range, "quantity"]
"""A non-negative amount, given as one value or as a range."""

PositiveQuantity = Annotated[FiniteAmount | Range, AfterValidator(_above_zero)]
"""An amount that must be above zero (the model divides by it)."""

Fraction = Annotated[FiniteAmount | Range, AfterValidator(_at_most_one)]
"""A share between 0 and 1, given as one value or as a range."""

PositiveFraction = Annotated[FiniteAmount | Range, AfterValidator(_at_most_one), AfterValidator(_above_zero)]
"""A share above 0 and at most 1 (the model divides by it)."""


def base_value(value: float | Range) -> float:
    """The base-case float of a quantity."""
    return value.base if isinstance(value, Range) else float(value)


def low_high(value: float | Range) -> tuple[float, float]:
    """The (low, high) of a quantity; a single value is its own range."""
    if isinstance(value, Range):
        return value.low, value.high
    return float(value), float(value)


def as_array(value: Number) -> np.ndarray:
    """A float or array as a numpy array (no copy for arrays)."""
    return np.asarray(value, dtype=float)
