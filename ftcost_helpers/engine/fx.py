"""Money in the client's currency: the price book's prices converted at one place.

The price book holds its prices in USD (``currency: USD``) and dated exchange-rate tables
(``fx_rates``: the ECB's euro reference rates, each table with its date and source). A plan
in another currency (``currency: EUR``) is costed with the price book converted by
:func:`in_currency` at the rate in force at the plan's start date (:func:`rate_at`): every
price-book key whose name says ``usd`` is an amount and is multiplied by the rate, and the
prices read from outside the book (genai-prices' API list prices) are multiplied by the
converted book's :attr:`~ftcost_helpers.engine.pricebook.PriceBook.per_usd`. The client's
own amounts are in the plan's currency already (the ``_usd`` in their key names is
historical: a EUR plan types euros).

Cross rates through the euro: units of X per unit of Y = per_eur[X] ÷ per_eur[Y] (the ECB
quotes every currency against the euro, so EUR is 1 in every table).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from ftcost_helpers.engine.pricebook import FxTable, PriceBook
from ftcost_helpers.engine.quantities import Range, times

EURO = "EUR"
"""The base of the ECB's tables."""


class NoFxRate(ValueError):
    """No table of the price book (or overlay) quotes a currency the plan asks for."""


@dataclass(frozen=True)
class FxRate:
    """A conversion from the price book's currency: ``per_usd`` units of ``currency`` per
    unit of ``base`` (USD), from the table dated ``date`` (``source`` cites it). ``date`` is
    None when nothing is converted (the plan is in the book's currency)."""

    currency: str
    base: str
    per_usd: float
    date: dt.date | None
    source: str

    @property
    def converted(self) -> bool:
        """Whether any price was converted (the plan's currency is not the book's)."""
        return self.currency != self.base

    def sentence(self) -> str:
        """How an output cites the rate: ``Price-book prices (USD) converted to EUR at
        0.9341 EUR per USD, the ECB reference rate of 2024-06-28 (source)``; for a plan in
        the book's own currency, ``Amounts in USD (no conversion)``."""
        if not self.converted:
            return f"Amounts in {self.currency} (no conversion)."
        date = self.date.isoformat() if self.date else "undated"
        return (
            f"Amounts in {self.currency}: price-book prices ({self.base}) converted at "
            f"{self.per_usd:.4f} {self.currency} per {self.base}, the rate of {date} ({self.source})."
        )

    def as_dict(self) -> dict[str, Any]:
        """``summary.json``'s ``fx`` object."""
        return {
            "currency": self.currency,
            "from": self.base,
            "rate": round(self.per_usd, 6),
            "date": self.date.isoformat() if self.date else None,
            "source": self.source,
        }


def table_at(tables: list[FxTable], on: dt.date) -> FxTable | None:
    """The table in force on ``on``: the latest dated on or before it, else the earliest
    (a plan that starts before every table); None without tables."""
    if not tables:
        return None
    ordered = sorted(tables, key=lambda table: table.date)
    before = [table for table in ordered if table.date <= on]
    return before[-1] if before else ordered[0]


def per_unit(table: FxTable, currency: str, base: str) -> float | None:
    """Units of ``currency`` per unit of ``base`` in ``table`` (through the euro), or None
    if the table quotes either not."""
    quotes = {EURO: 1.0, **table.per_eur}
    if currency not in quotes or base not in quotes:
        return None
    return quotes[currency] / quotes[base]


def known_currencies(book: PriceBook) -> list[str]:
    """Every currency some table of ``book`` quotes, and the book's own."""
    names = {book.currency, EURO} if book.fx_rates else {book.currency}
    for table in book.fx_rates:
        names.update(table.per_eur)
    return sorted(names)


def rate_at(book: PriceBook, currency: str, on: dt.date) -> FxRate:
    """The rate converting ``book``'s prices into ``currency`` on ``on`` (the plan's start
    date), from the table in force then (:func:`table_at`); :class:`NoFxRate` if none quotes
    it."""
    if currency == book.currency:
        return FxRate(currency, book.currency, 1.0, None, "")
    table = table_at(book.fx_rates, on)
    rate = None if table is None else per_unit(table, currency, book.currency)
    if table is None or rate is None:
        known = ", ".join(known_currencies(book))
        raise NoFxRate(f"no exchange rate for {currency} in the price book (currencies quoted: {known})")
    source = book.source_titles.get(table.source) or book.sources.get(table.source, table.source)
    return FxRate(currency, book.currency, rate, table.date, source)


def scaled(value: Any, factor: float) -> Any:
    """``value`` (a number, a :class:`Range`, or a mapping or model of them) times ``factor``."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return value * factor
    if isinstance(value, Range):
        return times(value, factor)
    if isinstance(value, dict):
        return {key: scaled(item, factor) for key, item in value.items()}
    if isinstance(value, BaseModel):
        return value.model_copy(
            update={name: scaled(getattr(value, name), factor) for name in type(value).model_fields}
        )
    return value


def _amounts(value: Any, factor: float) -> Any:
    """Inside a block whose key names no currency: its keys that say ``usd`` scaled."""
    if isinstance(value, dict):
        return {
            key: scaled(item, factor) if "usd" in str(key) else _amounts(item, factor) for key, item in value.items()
        }
    if isinstance(value, BaseModel):
        updates = {
            name: scaled(getattr(value, name), factor) if "usd" in name else _amounts(getattr(value, name), factor)
            for name in type(value).model_fields
        }
        updates = {name: new for name, new in updates.items() if new is not getattr(value, name)}
        return value.model_copy(update=updates) if updates else value
    return value


def in_currency(book: PriceBook, currency: str, on: dt.date) -> PriceBook:
    """``book`` with every amount in ``currency`` at the rate in force on ``on``
    (:func:`rate_at`): each key naming ``usd`` multiplied by the rate, wherever it sits.
    The book itself when it is in ``currency`` already (so converting twice is harmless)."""
    if currency == book.currency:
        return book
    fx = rate_at(book, currency, on)
    updates: dict[str, Any] = {"currency": currency}
    for name in type(book).model_fields:
        value = getattr(book, name)
        new = scaled(value, fx.per_usd) if "usd" in name else _amounts(value, fx.per_usd)
        if new is not value:
            updates[name] = new
    converted = book.model_copy(update=updates)
    converted.with_fx(fx)
    return converted


def plan_rate(book: PriceBook, currency: str) -> FxRate:
    """The rate ``book`` was converted at (identity for a book never converted)."""
    return book.fx if book.fx is not None else FxRate(currency, book.currency, 1.0, None, "")
