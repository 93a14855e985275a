"""A re-quote and why it moved: two versions of a plan compared, the change attributed to its causes.

``ftcost diff OLD NEW`` prices the old plan on the old price book and the new plan on the new
one, each on the new plan's headline basis (:func:`~ftcost_helpers.engine.headline.plan_headline`),
and splits the change in programme cost and cost of ownership into its causes:

* **prices** — the price book and any rates overlay (GPU rates, API prices at the plan's date
  included when the book's genai-prices snapshot moved);
* **plan** — the keys the client changed (listed), the calibration block apart;
* **calibration** — the ``calibration`` block a pilot wrote (:mod:`~ftcost_helpers.engine.calibration`);
* **model** — ftcost's own arithmetic: two client files are both priced by this version of
  ftcost, so this part is nil for them;
* **interaction** — what the causes do together beyond their separate effects.

Each cause is measured *alone* from the old quote, in the order prices, plan, calibration:
the old quote with only that cause moved to its new state, the others held at their old state.
The interaction is the change less the sum of the separate effects, so the parts always add up
to the change, and an interaction is shown rather than hidden in whichever cause came last.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.headline import Headline, plan_headline
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.schema import Params
from ftcost_helpers.engine.uncertainty import simulate

CAUSES = ("prices", "plan", "calibration", "model", "interaction")
"""The parts of a change, in the order they are stated."""

FIGURES = ("programme", "tco")
"""The figures a change is stated for: programme cost and cost of ownership over the horizon."""


@dataclass(frozen=True)
class Quote:
    """One plan priced on one price book: its headline (in the plan's currency)."""

    params: Params
    book: PriceBook
    headline: Headline

    def figures(self) -> dict[str, float]:
        return {"programme": self.headline.programme_usd, "tco": self.headline.tco_usd}


def quote(params: Params, book: PriceBook, basis: str, today: dt.date | None = None) -> Quote:
    """The plan's headline on ``basis``, priced on ``book`` (its Monte Carlo seeded as the plan says)."""
    breakdown = estimate(params, book, today=today)
    simulation = None if basis == "base_case" else simulate(params, book)
    return Quote(params, book, plan_headline(breakdown, simulation, basis))


def with_calibration_of(params: Params, other: Params) -> Params:
    """``params`` with ``other``'s calibration block (or none) in place of its own."""
    return params.model_copy(update={"calibration": getattr(other, "calibration", None)})


RANGE_KEYS = frozenset({"low", "high", "mode"})


def flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """A nested mapping (or list) as ``{dotted.path: leaf}``; a range (``{low, high, mode}``)
    is one leaf."""
    if isinstance(value, Mapping) and value and set(value) <= RANGE_KEYS:
        return {prefix: value}
    if isinstance(value, Mapping):
        items = value.items()
    elif isinstance(value, list):
        items = ((str(index), item) for index, item in enumerate(value))
    else:
        return {prefix: value}
    out: dict[str, Any] = {}
    for key, item in items:
        out |= flat(item, f"{prefix}.{key}" if prefix else str(key))
    return out


def changed_keys(old: Params, new: Params) -> list[tuple[str, Any, Any]]:
    """``(key, old value, new value)`` for every key of the plan that differs, the calibration
    block apart (None where a key is absent on one side)."""
    skip = {"calibration"}
    before = flat({k: v for k, v in old.model_dump(mode="json").items() if k not in skip})
    after = flat({k: v for k, v in new.model_dump(mode="json").items() if k not in skip})
    keys = sorted(set(before) | set(after))
    return [(key, before.get(key), after.get(key)) for key in keys if before.get(key) != after.get(key)]


@dataclass(frozen=True)
class Requote:
    """The old and new quote, the change and its attribution (the plan's currency, each {programme, tco})."""

    old: Quote
    new: Quote
    attribution: dict[str, dict[str, float]]
    changed: list[tuple[str, Any, Any]]
    basis: str

    @property
    def change(self) -> dict[str, float]:
        old, new = self.old.figures(), self.new.figures()
        return {figure: new[figure] - old[figure] for figure in FIGURES}

    def as_dict(self) -> dict[str, Any]:
        """``diff --json``: old and new headlines, the change and its attribution (to the cent, plan's currency)."""

        def cents(pair: Mapping[str, float]) -> dict[str, float]:
            return {figure: round(float(pair[figure]), 2) for figure in FIGURES}

        return {
            "basis": self.basis,
            "old": self.old.headline.as_dict(),
            "new": self.new.headline.as_dict(),
            "change_usd": cents(self.change),
            "attribution_usd": {cause: cents(self.attribution[cause]) for cause in CAUSES},
            "order": "each cause alone from the old quote: prices, plan, calibration; interaction = change − their sum",
            "changed_keys": [{"key": key, "old": before, "new": after} for key, before, after in self.changed],
            "price_books": {"old": self.old.book.as_of.isoformat(), "new": self.new.book.as_of.isoformat()},
        }


def currency_problem(old: Params, new: Params) -> str | None:
    """Why the two quotes cannot be set against each other, or None: they are in different
    currencies (a change between a EUR and a USD quote would be mostly the exchange rate, and
    the attribution mixes the two plans' figures, so it would add amounts in two currencies)."""
    if old.currency == new.currency:
        return None
    return (
        f"the new quote is in {new.currency}, the earlier one in {old.currency}: a re-quote compares two quotes "
        f"in one currency (give both files the same currency)"
    )


def requote(
    old: Params, old_book: PriceBook, new: Params, new_book: PriceBook, basis: str, today: dt.date | None = None
) -> Requote:
    """The change from the old quote to the new, attributed to prices, plan and calibration
    (each alone from the old quote), the model (nil: one version of ftcost prices both) and
    their interaction (the rest). Quotes in two currencies raise ValueError
    (:func:`currency_problem`)."""
    problem = currency_problem(old, new)
    if problem is not None:
        raise ValueError(problem)
    base = quote(old, old_book, basis, today)
    final = quote(new, new_book, basis, today)
    alone = {
        "prices": quote(old, new_book, basis, today),
        "plan": quote(with_calibration_of(new, old), old_book, basis, today),
        "calibration": quote(with_calibration_of(old, new), old_book, basis, today),
    }
    start = base.figures()
    attribution = {
        cause: {figure: moved.figures()[figure] - start[figure] for figure in FIGURES} for cause, moved in alone.items()
    }
    attribution["model"] = {figure: 0.0 for figure in FIGURES}
    total = {figure: final.figures()[figure] - start[figure] for figure in FIGURES}
    attribution["interaction"] = {
        figure: total[figure] - sum(attribution[cause][figure] for cause in CAUSES[:4]) for figure in FIGURES
    }
    return Requote(base, final, attribution, changed_keys(old, new), basis)
