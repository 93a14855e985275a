"""The plan's buy-vs-rent comparison (issue 24, money): ``training.ownership`` with the price
book's ``ownership_defaults`` filling what the client leaves out, on the base case's rented
GPU-hours (:mod:`ftcost_helpers.engine.model.ownership` holds the formulas)."""

from __future__ import annotations

from ftcost_helpers.engine.breakdown import Breakdown
from ftcost_helpers.engine.model.commitment import HOURS_PER_MONTH, months_beyond_horizon
from ftcost_helpers.engine.model.ownership import BuyVsRent, buy_vs_rent, ownership_inputs
from ftcost_helpers.engine.money import plural, usd, usd_cents
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import base_value
from ftcost_helpers.engine.schema import Params


def buy_vs_rent_sentence(owned: BuyVsRent) -> str:
    """The comparison in one sentence, in the plan's currency (money.amounts_in)."""
    verdict = "Buying is cheaper" if owned.cheaper == "buy" else "Renting is cheaper"
    level = (
        f"; buying pays from {owned.break_even_gpu_hours_per_month:,.0f} GPU-hours a month"
        if owned.break_even_gpu_hours_per_month is not None
        else "; the rent does not even cover the energy of owning, so buying never catches up"
    )
    return (
        f"Buy or rent? {verdict} over {owned.horizon_months} months: owning {plural(owned.gpus, 'GPU')} "
        f"({usd(owned.purchase_usd)} to buy) costs {usd(owned.owned_usd)} (depreciation {usd(owned.depreciation_usd)}, "
        f"energy {usd(owned.energy_usd)}, colocation {usd(owned.colocation_usd)}) against {usd(owned.rented_usd)} "
        f"to rent the plan's {owned.gpu_hours:,.0f} GPU-hours{level}."
    )


def plan_buy_vs_rent(breakdown: Breakdown) -> BuyVsRent | None:
    """Buying the training GPUs against renting the plan's GPU-hours (booked runs, failed
    runs and the sweep) over the horizon, base case; None when the plan gives no
    ``training.ownership``."""
    p = breakdown.params
    if p.training.ownership is None:
        return None
    v = ownership_inputs(p, breakdown.book)
    facts = breakdown.base.compute
    return buy_vs_rent(
        gpus=float(p.training.ownership.gpus or p.training.gpus_per_run),
        gpu_hours=float(facts.booked_gpu_hours + facts.rerun_gpu_hours),
        horizon_months=p.horizon_months,
        rate=float(facts.rate_usd_per_gpu_hour),
        purchase_per_gpu=v["purchase_usd_per_gpu"],
        years=v["years"],
        resale_fraction=v["resale_fraction"],
        power_kw_per_gpu=v["power_kw_per_gpu"],
        pue=v["pue"],
        kwh_price=v["kwh_price_usd"],
        colocation_per_month=v["colocation_usd_per_month"],
    )


def buy_or_rent_for_teaching(params: Params, book: PriceBook) -> BuyVsRent | None:
    """Buy or rent for the plan as filed, or, when it gives no ``training.ownership``, with the
    price book's ``ownership_defaults`` for its GPU (notebook 05 teaches the comparison on every
    client); None when neither the plan nor the price book prices buying its GPU."""
    from ftcost_helpers.engine.breakdown import estimate
    from ftcost_helpers.engine.schema import Ownership

    defaults = book.ownership_defaults
    plan = params
    if params.training.ownership is None and defaults is not None and params.training.gpu in defaults.by_gpu:
        plan = params.model_copy(update={"training": params.training.model_copy(update={"ownership": Ownership()})})
    return plan_buy_vs_rent(estimate(plan, book)) if plan.training.ownership is not None else None


def commitment_sentence(facts: dict[str, object]) -> str:
    """The serving commitment in one sentence (``summary.json``'s ``commitment``), in the
    plan's currency."""
    owed = facts["months_beyond_horizon"]
    tail = (
        f"; {plural(float(owed), 'month')} of the term ({usd(float(facts['owed_beyond_horizon_usd']))}) fall after "
        "the horizon and are owed beyond the figures"
        if owed
        else "; the term ends within the horizon"
    )
    return (
        f"Serving on a {facts['term_months']}-month commitment ({facts['term']}): "
        f"{usd_cents(float(facts['rate_usd_per_gpu_hour']))} per GPU-hour, {float(facts['discount']):.0%} off the "
        f"tier's rate, every hour of the month billed{tail}."
    )


def plan_commitment(breakdown: Breakdown) -> dict[str, object] | None:
    """``summary.json``'s ``commitment`` object for a plan whose serving has a committed-use
    term (None otherwise): the term, its discount and rate, and what it owes past the horizon
    (:func:`~ftcost_helpers.engine.model.commitment.months_beyond_horizon`, base case)."""
    p = breakdown.params
    term = p.serving.commitment
    if term is None:
        return None
    spec = breakdown.book.committed_use[term]
    rate = float(breakdown.base.serving.rate_usd_per_gpu_hour)
    beyond = months_beyond_horizon(spec.term_months, p.horizon_months, p.programme.build_months + 1)
    return {
        "term": term,
        "term_months": spec.term_months,
        "discount": round(base_value(spec.discount), 4),
        "rate_usd_per_gpu_hour": round(rate, 4),
        "months_beyond_horizon": beyond,
        "owed_beyond_horizon_usd": round(beyond * p.serving.gpus * HOURS_PER_MONTH * rate, 2),
    }
