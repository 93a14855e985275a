"""One way to write money, for every face and for the engine's own sentences (audit findings,
the verdict): tables, charts, the terminal, the workbook's
labels and the client document.

* :func:`usd` — whole dollars with separators: ``USD 88,550``, ``−USD 1,200``.
* :func:`compact_usd` — three significant figures for a label beside a chart: ``USD 13.5k``,
  ``USD 1.23M`` (never ``USD 14k`` for 13,500).
* :func:`tick_labels` — axis ticks, each exact at its step: ticks 2,500 apart read
  ``2.5k, 5k, 7.5k`` (never ``2k, 5k, 8k``).
* :func:`rounded_to_total` — whole dollars for the rows of a table whose sum is the
  rounded total shown under them (largest-remainder rounding).

The currency code (``USD`` above) is the ``currency`` argument where one is given, else the
code of the plan being written (:func:`amounts_in`, which each face sets once around
everything it writes for a plan: ``with amounts_in("EUR"): ...`` writes ``EUR 88,550``), else
``USD``. Issue 24 (money): a client in EUR reads EUR everywhere.

Pure Python: importing this module loads neither numpy nor matplotlib.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import ROUND_HALF_UP, Decimal

MINUS = "−"
"""U+2212, the minus sign of typeset numbers."""

SCALES = ((1e9, "B"), (1e6, "M"), (1e3, "k"))

DEFAULT_CURRENCY = "USD"
_CURRENCY: ContextVar[str] = ContextVar("ftcost_currency", default=DEFAULT_CURRENCY)


def code(currency: str | None = None) -> str:
    """The currency code amounts are written in: ``currency`` if given, else the plan's
    being written (:func:`amounts_in`), else ``USD``."""
    return currency or _CURRENCY.get()


@contextmanager
def amounts_in(currency: str) -> Iterator[str]:
    """Write every amount in ``currency`` inside the ``with`` block (restored after it)."""
    token = _CURRENCY.set(currency)
    try:
        yield currency
    finally:
        _CURRENCY.reset(token)


def use_currency(currency: str) -> None:
    """Write amounts in ``currency`` from now on in this context (a notebook's kernel, which
    shows one plan; a face writing one report uses :func:`amounts_in` instead)."""
    _CURRENCY.set(currency)


def _signed(value: float, body: str, currency: str | None = None) -> str:
    return f"{MINUS if value < 0 and body.strip('0.,') else ''}{code(currency)} {body}"


def _rounded(value: float, decimals: int = 0) -> Decimal:
    """``|value|`` rounded half up at ``decimals`` places (so 0.5 → 1 and 88.55 → 88.6, as
    people round, not as binary floats do). Amounts are first rounded to cents, as
    ``summary.json`` stores them, so a figure reads the same from the file and the page."""
    cents = Decimal(repr(abs(float(value)))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return cents.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def usd(value: float, currency: str | None = None) -> str:
    """Whole units (dollars by default): ``USD 88,550``; a negative amount ``−USD 1,200``;
    ``EUR 88,550`` in a plan in euros (:func:`code`)."""
    return _signed(value, f"{_rounded(value):,.0f}", currency)


def usd_cents(value: float, currency: str | None = None) -> str:
    """Units and cents: ``USD 1.71``, ``USD 1,606.00`` (:func:`code`)."""
    return _signed(value, f"{_rounded(value, 2):,.2f}", currency)


def usd_range(low: float, high: float, currency: str | None = None) -> str:
    """A range in whole units: ``USD 307,100 – 434,200`` (:func:`code`)."""
    if low >= 0 and high >= 0:
        return f"{usd(low, currency)} – {_rounded(high):,.0f}"
    return f"{usd(low, currency)} – {usd(high, currency)}"


def _scale(size: float) -> tuple[float, str]:
    for factor, suffix in SCALES:
        if size >= factor:
            return factor, suffix
    return 1.0, ""


def compact_usd(value: float, significant: int = 3, currency: str | None = None) -> str:
    """A short amount with ``significant`` figures: ``USD 13.5k``, ``USD 88.6k``, ``USD 1.23M``,
    ``USD 950`` (:func:`code`)."""
    size = abs(value)
    if size == 0:
        return f"{code(currency)} 0"
    factor, suffix = _scale(size)
    scaled = size / factor
    decimals = max(0, significant - 1 - math.floor(math.log10(scaled)))
    body = f"{_rounded(float(Decimal(repr(size)) / Decimal(repr(factor))), decimals):f}"
    if "." in body:
        body = body.rstrip("0").rstrip(".")
    if float(body) >= 1000 and suffix:  # 999.96k rounds to 1000k: write it one scale up
        return compact_usd(math.copysign(float(body) * factor, value), significant, currency)
    return _signed(value, f"{body}{suffix}", currency)


def tick_labels(values: Sequence[float], prefix: str | None = None) -> list[str]:
    """Labels for axis ticks at ``values``, all in one scale (k or M) with as few decimals
    as make every tick exact: ``[0, 2500, 5000]`` → ``USD 0, USD 2.5k, USD 5k``. ``prefix``
    defaults to the currency code and a space (:func:`code`)."""
    if prefix is None:
        prefix = f"{code()} "
    finite = [abs(v) for v in values if math.isfinite(v)]
    factor, suffix = _scale(max(finite, default=0.0))
    decimals = 0
    while decimals < 6 and any(
        abs(round(v / factor, decimals) - v / factor) > 1e-9 * max(1.0, abs(v / factor)) for v in values
    ):
        decimals += 1
    labels = []
    for value in values:
        body = f"{abs(value) / factor:,.{decimals}f}"
        if decimals:
            body = body.rstrip("0").rstrip(".")
        sign = MINUS if value < 0 and float(body.replace(",", "")) != 0 else ""
        labels.append(f"{sign}{prefix}{body}{suffix if body != '0' else ''}")
    return labels


def rounded_to_total(values: Sequence[float]) -> list[int]:
    """Whole dollars for each value whose sum is the rounded sum of the values: each value
    is rounded down, and the dollars left go to the largest remainders (Hamilton's method).
    Negative values are not expected (cost lines)."""
    target = round(math.fsum(values))
    floors = [math.floor(v) for v in values]
    short = target - sum(floors)
    order = sorted(range(len(values)), key=lambda i: (floors[i] - values[i], i))
    result = list(floors)
    for i in order[: max(short, 0)]:
        result[i] += 1
    return result


def plural(count: float, one: str, many: str | None = None) -> str:
    """``1 GPU``, ``8 GPUs``, ``0 warnings``; ``many`` for irregular plurals."""
    word = one if count == 1 else (many or f"{one}s")
    number = f"{count:,.0f}" if float(count).is_integer() else f"{count:,.2f}".rstrip("0").rstrip(".")
    return f"{number} {word}"
