"""The audit's checks of dated inputs: GPU rates older than the price book's shelf life, and
an exchange rate older than that at the plan's start."""

from __future__ import annotations

import datetime as dt

from ftcost_helpers.engine.audit_findings import FX_RATE_STALE, PRICE_BOOK_STALE, Finding
from ftcost_helpers.engine.model.run import ModelRun
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.schema import Params


def price_book_stale(book: PriceBook, today: dt.date, params: Params | None = None) -> list[Finding]:
    """The GPU rates the plan reads (every rate without a plan) are older than the price
    book's stated shelf life. API prices come from genai-prices and are not aged here."""
    used = _rates_read(params) if params is not None else None
    origins = {
        book.rate_origin(gpu, tier)
        for gpu, by_tier in book.gpu_rates_usd_per_gpu_hour.items()
        for tier in by_tier
        if used is None or (gpu, tier) in used
    }
    if not origins:  # the plan gives every rate itself
        return []
    oldest = min(origins, key=lambda origin: origin.as_of)
    age = (today - oldest.as_of).days / 30.44
    if age <= book.price_book_max_age_months:
        return []
    return [
        Finding(
            PRICE_BOOK_STALE,
            "compute",
            f"The GPU rates are dated {oldest.as_of} ({oldest.file}), {age:.1f} months before {today} "
            f"(limit: {book.price_book_max_age_months} months); GPU prices move fast. Bring them up to date with "
            f"a dated rates overlay (--rates FILE: as_of, source and gpu_rates_usd_per_gpu_hour in the price "
            f"book's shape) or a new dated price book (--price-book FILE). API prices are genai-prices' own.",
            client_message=(
                f"The GPU prices behind the compute and serving figures were collected on {oldest.as_of}, "
                f"{age:.0f} months before this estimate, and GPU prices move fast: have the estimate refreshed "
                "with current quotes before committing to a budget."
            ),
        )
    ]


def _rates_read(params: Params) -> set[tuple[str, str]]:
    """(GPU, tier) of each price-book rate the plan reads (a rate the client gives is its own)."""
    used = set()
    if params.training.rate_usd_per_gpu_hour is None:
        used.add((params.training.gpu, params.training.tier))
    if params.serving.modelled and params.serving.rate_usd_per_gpu_hour is None:
        used.add((params.serving.gpu, params.serving.tier))
    return used


def fx_rate_stale(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """The exchange rate converting the price book into the plan's currency (issue 24,
    :func:`~ftcost_helpers.engine.fx.rate_at`) is older, at the plan's start date, than the
    price book's stated shelf life."""
    from ftcost_helpers.engine.fx import NoFxRate, rate_at

    try:  # the rate a converted book was made at, else the one it would be converted at
        fx = book.fx if book.fx is not None else rate_at(book, params.currency, params.start_date)
    except NoFxRate:
        return []
    if not fx.converted or fx.date is None:
        return []
    age = (params.start_date - fx.date).days / 30.44
    if age <= book.price_book_max_age_months:
        return []
    return [
        Finding(
            FX_RATE_STALE,
            "roi",
            f"The {fx.base}→{fx.currency} rate ({fx.per_usd:.4f}, {fx.source}) is dated {fx.date}, "
            f"{age:.1f} months before the plan's start {params.start_date} (limit: {book.price_book_max_age_months} "
            f"months). Add a current table to fx_rates with a rates overlay (--rates FILE).",
            client_message=(
                f"The price-book prices were converted into {fx.currency} at an exchange rate of {fx.date}, "
                f"{age:.0f} months before the plan starts: have the estimate refreshed at a current rate."
            ),
        )
    ]
