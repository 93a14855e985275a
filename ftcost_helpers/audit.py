"""The plan audit: the cost mistakes the source documents list, found in a plan.

Each finding has a stable ``code``, the area it concerns and a message saying what is
wrong, by how much, and what fixing it would save.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from .model.run import ModelRun
from .pricebook import PriceBook
from .quantities import base_value
from .schema import Params


@dataclass(frozen=True)
class Finding:
    """One warning of the audit."""

    code: str
    area: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def rate_outside_price_book(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """A booked training rate outside the price book's range for that GPU and tier."""
    rate = params.training.rate_usd_per_gpu_hour
    if rate is None:
        return []
    t = params.training
    band = book.gpu_rate(t.gpu, t.tier)
    booked = base_value(rate)
    if band.low <= booked <= band.high:
        return []
    hours = float(run.compute.booked_gpu_hours + run.compute.rerun_gpu_hours)
    saving = (booked - band.base) * hours
    direction = "above" if booked > band.high else "below"
    return [
        Finding(
            "RATE_OUTSIDE_PRICE_BOOK",
            "compute",
            f"Booked rate USD {booked:,.2f}/GPU-hour for {book.gpus[t.gpu].label} on {t.tier} is {direction} "
            f"the price book's USD {band.low:,.2f}–{band.high:,.2f} ({book.as_of}); at the midpoint the "
            f"{hours:,.0f} GPU-hours would cost USD {abs(saving):,.0f} {'less' if saving > 0 else 'more'}.",
        )
    ]


def price_book_stale(book: PriceBook, today: dt.date) -> list[Finding]:
    """The price book is older than its stated shelf life."""
    age = book.age_months(today)
    if age <= book.price_book_max_age_months:
        return []
    return [
        Finding(
            "PRICE_BOOK_STALE",
            "compute",
            f"The price book is dated {book.as_of} ({age:.0f} months before {today}); GPU prices move "
            f"fast, so refresh params/pricebook.yaml (limit: {book.price_book_max_age_months} months).",
        )
    ]


CHECKS = (rate_outside_price_book,)
"""Checks that look at the plan and its base-case run."""


def audit(params: Params, book: PriceBook, run: ModelRun, today: dt.date | None = None) -> list[Finding]:
    """Every finding for a plan; ``today`` (if given) also checks the price book's age."""
    findings = [finding for check in CHECKS for finding in check(params, book, run)]
    if today is not None:
        findings += price_book_stale(book, today)
    return findings
