"""The "Reading the result" paragraphs of the notebooks whose wording depends on the figures.

Each function returns Markdown built from the model's numbers, so the prose a notebook shows
never disagrees with its tables, and the rule behind each verdict lives here, tested, rather
than in a notebook cell.
"""

from __future__ import annotations

from ftcost_helpers.engine.breakdown import Breakdown
from ftcost_helpers.views.notebook import markdown_text
from ftcost_helpers.views.tables import (
    TIER_LABELS,
    gpu_label,
    number,
    percent,
    price_book_band,
    usd,
    usd_cents,
    usd_range,
)


def booked_rate(plan: Breakdown) -> str:
    """01_compute: the rate the plan books for its GPU and tier, inside or outside the price
    book's range for them, or its own where the book has none (a GPU the client file
    describes, a catalogue GPU on a tier the book does not price)."""
    t = plan.params.training
    rate = float(plan.base.compute.rate_usd_per_gpu_hour)
    opening = (
        f"**Reading the result.** This plan rents {markdown_text(gpu_label(plan.book, t.gpu))} on "
        f"{TIER_LABELS.get(t.tier, t.tier).lower()} at {usd_cents(rate)} per GPU-hour, "
    )
    band = price_book_band(plan.book, t.gpu, t.tier)
    if band is None:
        return opening + "its own rate: the price book has no rate for that GPU and tier to set it against."
    position = "inside" if band.low <= rate <= band.high else "outside"
    return opening + f"{position} the price book's {usd_range(band.low, band.high)} for that GPU and tier."


def utilisation_verdict(implied: float, assumed: float, pre_training_high: float) -> str:
    """How the utilisation a booked plan implies compares with the assumed one and with what
    large pre-training runs reach (all shares of peak, 0–1)."""
    if implied > pre_training_high:
        return f"above the {percent(pre_training_high)} large pre-training runs reach: the booked hours look optimistic"
    if implied < assumed / 2:
        return (
            f"well under the {percent(assumed)} assumed: the booked hours are generous, "
            "or the runs see more tokens than stated"
        )
    return f"close to the {percent(assumed)} assumed"


def booked_against_physics(plan: Breakdown) -> str:
    """01_compute: GPU-hours booked per run against what the FLOPs need (not applicable to a
    plan that trains on no tokens)."""
    facts = plan.base.compute
    if float(facts.flops_per_run) <= 0:
        return (
            f"**Reading the result.** Each run books {number(facts.booked_gpu_hours_per_run, 1)} GPU-hours. "
            "The plan trains on no tokens (zero pairs, tokens per pair, epochs or parameters), so the physics "
            "view does not apply: there are no FLOPs to set the booked hours against."
        )
    implied = float(facts.implied_utilisation)
    verdict = utilisation_verdict(implied, float(facts.utilisation), plan.book.pre_training_mfu.high)
    return (
        f"**Reading the result.** Each run books {number(facts.booked_gpu_hours_per_run, 1)} GPU-hours; its "
        f"{float(facts.flops_per_run):.3g} FLOPs need {number(facts.physics_gpu_hours_per_run, 1)} GPU-hours "
        f"at the assumed utilisation. The booked plan implies {percent(implied, 1)} of peak, {verdict}."
    )


def eval_crossover_month(one_time_usd: float, monthly_usd: float) -> float | None:
    """The month in which continuous evaluation has cost as much as the set-up (None without it)."""
    return -(-one_time_usd // monthly_usd) if monthly_usd else None


def one_time_against_monthly_eval(plan: Breakdown) -> str:
    """03_eval: the harness set-up against continuous evaluation over the horizon."""
    one_time, monthly = plan.areas_usd["eval"], plan.ongoing_monthly_usd["eval"]
    horizon = plan.params.horizon_months
    crossover = eval_crossover_month(one_time, monthly)
    if not monthly:
        ending = "The plan budgets no continuous evaluation against production traffic."
    elif crossover <= horizon:
        ending = f"From month {crossover:.0f} the monthly cost has overtaken the set-up."
    else:
        ending = "Within the horizon the set-up stays the larger cost."
    return (
        f"**Reading the result.** Evaluation costs {usd(one_time)} before launch and "
        f"{usd(monthly)} a month after, {usd(monthly * horizon)} over {horizon} months. " + ending
    )
