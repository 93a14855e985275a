"""Numbers that may be uncertain: a single value or a range ``{low, high, mode}``.

Every numeric input of a client file is a :data:`Quantity`. The cost model never sees a
``Range``: before a run, each range is replaced by a float (its base case, a corner) or by
a numpy array of draws, so one formula serves the point estimate and the Monte Carlo run.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

if TYPE_CHECKING:  # numpy is imported where numbers are computed, not to read a file
    import numpy as np

Number: TypeAlias = "float | np.ndarray"
"""A resolved model input or output: a float, or an array with one value per draw."""


MAX_AMOUNT = 1e12
"""The largest number a client file may give (USD 1e12 is a thousand billion; hours, tokens
and counts stay far below it), so every product the model forms stays finite."""

MIN_AMOUNT = 1e-6
"""The smallest number above zero a client file may give (a millionth of its unit: of a
dollar, an hour, a share, a token per second). No input of a plan is meaningful below it, and
the model divides by many of them (utilisation, padding efficiency, tokens per second,
link speeds), so a value nearer zero would reach the engine only to overflow there: the
schema refuses it, so that ``validate`` and ``estimate`` agree."""

MAX_COUNT = 1_000_000_000
"""The largest whole count (layers, GPUs, sequence length...)."""

MAX_NAME = 200
"""Characters in a name (client, base model, scenario)."""

MAX_TEXT = 2_000
"""Characters in a free-text description."""

UNPRINTABLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
"""Unicode categories a name may not contain: control and format characters (terminal
escapes, NUL, bidirectional overrides, zero-width marks), surrogates, private-use and
unassigned code points, line and paragraph separators."""


def _not_a_boolean(value: Any) -> Any:
    """YAML's ``true`` is not 1: a number field refuses booleans."""
    if isinstance(value, bool):
        raise ValueError(f"must be a number, not {str(value).lower()}")
    return value


def _not_a_number(value: Any) -> Any:
    """A date field refuses numbers (pydantic would read 0 as 1970-01-01)."""
    if isinstance(value, int | float):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


def _printable(text: str, allowed: str = "") -> str | None:
    """The first character of ``text`` that is not printable (other than ``allowed``)."""
    return next((c for c in text if c not in allowed and unicodedata.category(c) in UNPRINTABLE), None)


def _one_printable_line(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be blank")
    bad = _printable(text)
    if bad is not None:
        raise ValueError(f"must be one line of printable text (it contains U+{ord(bad):04X})")
    return text


def _printable_text(text: str) -> str:
    bad = _printable(text, allowed="\n")
    if bad is not None:
        raise ValueError(f"must be printable text (it contains U+{ord(bad):04X})")
    return text


def _zero_or_resolved(value: float) -> float:
    """0, or at least :data:`MIN_AMOUNT` (a number nearer zero is refused)."""
    if 0 < value < MIN_AMOUNT:
        raise ValueError(
            f"must be at least {MIN_AMOUNT:g} when above 0 (nothing is costed in smaller amounts, and the "
            f"model divides by some), got {value:g}"
        )
    return value


FiniteAmount = Annotated[
    float,
    BeforeValidator(_not_a_boolean),
    Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False),
    AfterValidator(_zero_or_resolved),
]
"""A single finite number, 0 or from :data:`MIN_AMOUNT` to :data:`MAX_AMOUNT`."""

Count = Annotated[int, BeforeValidator(_not_a_boolean), Field(ge=0, le=MAX_COUNT)]
"""A whole number from 0 to :data:`MAX_COUNT`."""

PositiveCount = Annotated[Count, Field(ge=1)]
"""A whole number from 1 to :data:`MAX_COUNT`."""

CalendarDate = Annotated[dt.date, BeforeValidator(_not_a_number)]
"""A date (YAML's ``2026-03-01`` or the string ``"2026-03-01"``), never a number."""

Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME), AfterValidator(_one_printable_line)]
"""One printable line of 1 to :data:`MAX_NAME` characters."""

Text = Annotated[str, Field(max_length=MAX_TEXT), AfterValidator(_printable_text)]
"""Printable text (new lines allowed) of at most :data:`MAX_TEXT` characters."""


class Range(BaseModel):
    """An uncertain amount: ``low`` ≤ ``mode`` ≤ ``high``; ``mode`` is optional."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    low: FiniteAmount
    high: FiniteAmount
    mode: FiniteAmount | None = None

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


def at_most(limit: float, why: str) -> AfterValidator:
    """A validator refusing a quantity (a range by its high) above ``limit``: a key's own
    ceiling, tighter than :data:`MAX_AMOUNT`, ``why`` said in the message."""

    def check(value: float | Range) -> float | Range:
        top = value.high if isinstance(value, Range) else value
        if top > limit:
            shown = f"{limit:,.0f}" if float(limit).is_integer() else f"{limit:g}"
            raise ValueError(f"must be at most {shown} ({why}), got {top:g}")
        return value

    return AfterValidator(check)


def _above_zero(value: float | Range) -> float | Range:
    bottom = value.low if isinstance(value, Range) else value
    if bottom <= 0:
        raise ValueError(f"must be greater than 0 (it divides), got {bottom:g}")
    return value


Quantity = Annotated[FiniteAmount | Range, "quantity"]
"""A non-negative amount, given as one value or as a range."""

PositiveQuantity = Annotated[FiniteAmount | Range, AfterValidator(_above_zero)]
"""An amount that must be above zero (the model divides by it)."""

Fraction = Annotated[FiniteAmount | Range, AfterValidator(_at_most_one)]
"""A share between 0 and 1, given as one value or as a range."""

Share = Annotated[FiniteAmount, AfterValidator(_at_most_one)]
"""A share between 0 and 1, one value only (a chance, a share spent)."""

PositiveFraction = Annotated[FiniteAmount | Range, AfterValidator(_at_most_one), AfterValidator(_above_zero)]
"""A share above 0 and at most 1 (the model divides by it)."""


def times(value: float | Range, factor: float) -> float | Range:
    """``value`` × ``factor``, a range's low, mode and high each: a figure derived from inputs
    (hours scaled, a price overlay), not an input, so not held to the schema's bounds."""
    if isinstance(value, Range):
        mode = None if value.mode is None else value.mode * factor
        return Range.model_construct(low=value.low * factor, high=value.high * factor, mode=mode)
    return float(value) * factor


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
    import numpy as np

    return np.asarray(value, dtype=float)
