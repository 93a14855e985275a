"""The audit's checks of the running costs after launch (areas ``roi`` and
``maintenance``): serving left out or below its load, API prices per 1k tokens that look like
prices per 1M, a base model retired within the horizon, upkeep outside the source's range."""

from __future__ import annotations

import numpy as np

from ftcost_helpers.engine.audit_findings import (
    API_PRICE_PER_1K_LOOKS_PER_1M,
    BASE_MODEL_END_OF_LIFE,
    MAINTENANCE_OUTSIDE_SOURCE_RANGE,
    MIGRATION_ITEM,
    NO_INFERENCE_COST_MODEL,
    SEED_MARKET,
    SERVING_BELOW_LOAD,
    Finding,
    _f,
    _month_text,
    _months_in_service,
    _rerun_base,
    _service_span,
    _usd,
    _usd_range,
    cash_gain,
)
from ftcost_helpers.engine.corrections import serving_shortfall
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.model import roi
from ftcost_helpers.engine.model.run import ModelRun, alternative_tokens_million_per_month, api_monthly
from ftcost_helpers.engine.money import code
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import base_value
from ftcost_helpers.engine.resolve import pick_base, resolve
from ftcost_helpers.engine.schema import Params


def no_inference_cost_model(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """Serving left out of the running costs."""
    s = params.serving
    if s.modelled:
        return []
    monthly = _f(run.serving.usd_per_month)
    with_serving = _rerun_base(params, book, serving={"modelled": True})
    shift = ""
    if params.alternative.kind != "none":
        before, after = _f(run.break_even_month), _f(with_serving.break_even_month)
        shift = (
            f"; break-even moves from {_month_text(before)} to {_month_text(after)}"
            if _month_text(before) != _month_text(after)
            else f"; break-even stays at {_month_text(before)}"
        )
    return [
        Finding(
            NO_INFERENCE_COST_MODEL,
            "roi",
            f'No inference cost model: serving is left out of the running costs ("we fine-tuned a 70B and now '
            f"serving costs 4x the API we replaced\", {SEED_MARKET}). The serving section's {s.gpus} × "
            f"{book.gpus[s.gpu].label} on {s.tier} would add {_usd(monthly)}/month, "
            f"{_usd(monthly * _months_in_service(params))}{_service_span(params)}{shift}.",
            cash_gain(run, with_serving),
        )
    ]


def serving_below_load(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """A deployment whose throughput is below the peak tokens/s the alternative's volume needs
    (:func:`~ftcost_helpers.engine.model.run.serving_load`), with the GPUs that would carry it."""
    shortfall = serving_shortfall(params, book, run)
    if shortfall is None:
        return []
    base = resolve(params, pick_base)
    s = base.serving
    average, peak = shortfall.average_tokens_per_second, shortfall.peak_tokens_per_second
    needed, monthly, extra = shortfall.gpus_needed, shortfall.usd_per_month_needed, shortfall.extra_usd_per_month
    speed = _f(run.serving.tokens_per_second)
    per_gpu = speed / max(s.gpus, 1)
    carried = _rerun_base(
        params,
        book,
        serving={
            "gpus": needed,
            "tokens_per_second": per_gpu * needed,
            "shape": "dedicated" if s.shape == "endpoint" else s.shape,
        },
    )
    gpu = book.gpus[s.gpu].label
    shift = _break_even_shift(_f(run.break_even_month), _f(carried.break_even_month))
    tokens = _f(alternative_tokens_million_per_month(base))
    verb = "serves" if s.gpus == 1 else "serve"
    deployment = f"{s.gpus} × {gpu} {verb} {speed:,.0f} tokens/s"
    carrying = (
        f"{needed} × {gpu} on {s.tier} would carry the peak: {_usd(monthly)}/month, {_usd(extra)} more than planned"
    )
    return [
        Finding(
            SERVING_BELOW_LOAD,
            "roi",
            f"Serving cannot carry the load it replaces: {tokens:,.0f}M tokens a month over "
            f"{_f(s.hours_per_month):,.0f} serving hours is {average:,.0f} tokens/s on average and {peak:,.0f} at "
            f"peak (× {_f(s.peak_to_average):g} serving.peak_to_average), while the deployment's {deployment}. "
            f"{carrying}; {shift}.",
            cash_gain(run, carried),
            client_message=(
                f"The planned serving cannot carry the work it takes over: {tokens:,.0f}M tokens a month means "
                f"{average:,.0f} tokens a second on average and {peak:,.0f} at the busiest times, while the planned "
                f"{deployment}. {carrying}; {shift}."
            ),
        )
    ]


def _break_even_shift(before: float, after: float) -> str:
    """How a fix moves the break-even month (NaN: none within the horizon)."""
    if np.isnan(before) and np.isnan(after):
        return "there is still no break-even within the horizon"
    if before == after:
        return f"break-even stays {_month_text(before)}"
    return f"break-even moves from {_month_text(before)} to {_month_text(after)}"


def api_price_per_1k_looks_per_1m(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """API prices given per 1k tokens whose per-1M equivalent no frontier API charges
    (one finding for the plan, naming each such price)."""
    if params.alternative.kind != "api":
        return []
    api = params.alternative.api
    limit = book.api_price_per_1m_plausible_max_usd
    suspicious: dict[str, float] = {}
    for side in ("input", "output"):
        per_1k = getattr(api, f"{side}_price_usd_per_1k_tokens")
        if per_1k is None or getattr(api, f"{side}_price_usd_per_1m_tokens") is not None:
            continue
        if _f(roi.per_1m_from_per_1k(base_value(per_1k))) > limit:
            suspicious[side] = base_value(per_1k)
    return [_per_1k_finding(params, book, run, suspicious)] if suspicious else []


def _read_per_1m(params: Params, prices: dict[str, float]) -> Params:
    """The plan with each of ``prices`` (by side) moved from the per-1k to the per-1M key."""
    update: dict[str, float | None] = {}
    for side, price in prices.items():
        update |= {f"{side}_price_usd_per_1m_tokens": price, f"{side}_price_usd_per_1k_tokens": None}
    api = params.alternative.api.model_copy(update=update)
    return params.model_copy(update={"alternative": params.alternative.model_copy(update={"api": api})})


def _per_1k_finding(params: Params, book: PriceBook, run: ModelRun, prices: dict[str, float]) -> Finding:
    limit = book.api_price_per_1m_plausible_max_usd
    per_1m = {side: _f(roi.per_1m_from_per_1k(price)) for side, price in prices.items()}
    named = "; ".join(
        f"alternative.api.{side}_price_usd_per_1k_tokens = {price:g} means {code()} {per_1m[side]:,.0f} per 1M tokens "
        f"({per_1m[side] / limit:,.0f}× the most a frontier API plausibly charges)"
        for side, price in prices.items()
    )
    saving = None
    if params.alternative.api.usd_per_month is not None:
        effect = "They do not enter the totals (the monthly API bill is given), but check where they came from."
        for_client = "They do not change the totals (the monthly API bill is given), but their quote should be checked."
    else:
        saving = cash_gain(run, evaluate(_read_per_1m(params, prices), book))
        now = _f(run.alternative_monthly)
        corrected = resolve(_read_per_1m(params, prices), pick_base)
        fixed = base_value(api_monthly(corrected, resolve(book, pick_base, "pricebook")))
        bills = f"{_usd(fixed)}/month, not {_usd(now)}: the plan's saving is overstated by {_usd(now - fixed)}/month."
        effect = f"Read per 1M, the API alternative costs {bills}"
        for_client = f"Read as prices per million tokens, the API costs {bills}"
    worst = max(per_1m.values())
    return Finding(
        API_PRICE_PER_1K_LOOKS_PER_1M,
        "roi",
        f"{named}. No frontier API charges above {code()} {book.api_price_per_1m_plausible_max_usd:,.0f} per 1M; these "
        f'look like per-1M figures (the source\'s "USD 0.60–15.00 per 1k" is one). {effect}',
        saving,
        client_message=(
            f"The API prices the fine-tune is compared with look like prices per million tokens written as prices "
            f"per thousand: read as given, the API would charge up to {code()} {worst:,.0f} per million tokens, "
            f"{worst / limit:,.0f}× the most any frontier API charges. {for_client}"
        ),
    )


def base_model_end_of_life(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """A base model retired before the horizon ends."""
    end = params.base_model.end_of_life
    if end is None:
        return []
    start = params.start_date
    month = (end.year - start.year) * 12 + (end.month - start.month) + 1
    if month > params.horizon_months:
        return []
    when = "before the plan starts" if end < start else f"in month {month} of {params.horizon_months}"
    retrain = _f(run.area_total("compute"))
    own = base_value(params.maintenance.migration_usd)
    if own > 0:  # the plan's own cost of a migration, not the price book's
        migration, total = f"{_usd(own)}, the plan's own cost of one migration", _usd(own + retrain)
    else:
        band = book.base_model_migration_usd
        migration, total = (
            f"{_usd_range(band.low, band.high)}, price book",
            _usd_range(band.low + retrain, band.high + retrain),
        )
    return [
        Finding(
            BASE_MODEL_END_OF_LIFE,
            "maintenance",
            f"{params.base_model.name} reaches end of life on {end.isoformat()}, {when}: a forced re-train and "
            f"migration ({migration}) plus {_usd(retrain)} of compute. A base model supported past the horizon "
            f"saves that ({total}).",
        )
    ]


def maintenance_outside_source_range(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """Quarterly upkeep outside the source's USD-per-quarter range. The source's headline
    leaves base-model migrations out, so they are left out of the comparison too."""
    items = {item: _f(value) for item, value in run.maintenance_quarterly.items()}
    migrations = items.pop(MIGRATION_ITEM, 0.0)
    upkeep, guide = sum(items.values()), book.maintenance_usd_per_quarter
    if guide.low <= upkeep <= guide.high:
        return []
    above = upkeep > guide.high
    gap = upkeep - guide.high if above else guide.low - upkeep
    largest = max(items, key=items.__getitem__)
    return [
        Finding(
            MAINTENANCE_OUTSIDE_SOURCE_RANGE,
            "maintenance",
            f"Maintenance without base-model migrations costs {_usd(upkeep)} a quarter, "
            f"{_usd(gap)} {'above' if above else 'below'} the source's {_usd_range(guide.low, guide.high)} "
            f"({SEED_MARKET}, a range that leaves migrations out; they add {_usd(migrations)} a quarter here). "
            + (
                f"The largest item is {largest.lower()} ({_usd(items[largest])}): check it against the source's."
                if above
                else "Check that re-evaluation, drift monitoring, fresh data and re-training are all budgeted."
            ),
        )
    ]
