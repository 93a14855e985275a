"""Inference and return on investment: serving cost, the alternative's monthly cost,
cumulative cash flow, break-even month and the source's decision rule."""

from __future__ import annotations

import numpy as np

from ftcost_helpers.engine.money import code
from ftcost_helpers.engine.quantities import Number

SECONDS_PER_HOUR = 3600.0
TOKENS_PER_MILLION = 1e6
TOKENS_PER_THOUSAND_IN_MILLION = 1000.0


def serving_cost_per_month(gpus: Number, hours_per_month: Number, rate_usd_per_gpu_hour: Number) -> Number:
    """USD per month of self-hosted serving: GPUs × hours × rate."""
    return gpus * hours_per_month * rate_usd_per_gpu_hour


def serving_cost_per_1m_tokens(gpus: Number, rate_usd_per_gpu_hour: Number, tokens_per_second: Number) -> Number:
    """USD per 1M tokens served = rate × GPUs ÷ (tokens/s × 3600) × 10⁶."""
    return rate_usd_per_gpu_hour * gpus / (tokens_per_second * SECONDS_PER_HOUR) * TOKENS_PER_MILLION


def average_tokens_per_second(tokens_million_per_month: Number, serving_hours_per_month: Number) -> Number:
    """Tokens/s a monthly volume needs on average over the hours the deployment serves:
    tokens × 10⁶ ÷ (hours × 3600). 440M tokens over 730 h: 440e6 ÷ 2,628,000 ≈ 167 tokens/s.
    No serving hours: 0 for no tokens, infinite for any (no deployment can carry them)."""
    tokens = np.asarray(tokens_million_per_month * TOKENS_PER_MILLION, dtype=float)
    seconds = np.asarray(serving_hours_per_month * SECONDS_PER_HOUR, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(tokens > 0, tokens / seconds, 0.0)[()]


def gpus_to_carry(peak_tokens_per_second: Number, deployment_tokens_per_second: Number, gpus: Number) -> Number:
    """GPUs that serve the peak, adding replicas of the deployment's per-GPU throughput
    (tokens/s ÷ GPUs; replicas scale throughput linearly, as data parallelism does):
    ⌈peak ÷ (tokens/s ÷ GPUs)⌉, and at least one."""
    per_gpu = deployment_tokens_per_second / np.maximum(gpus, 1)
    return np.maximum(np.ceil(peak_tokens_per_second / per_gpu), 1.0)[()]


def per_1m_from_per_1k(price_usd_per_1k_tokens: Number) -> Number:
    """A price per 1k tokens as a price per 1M tokens."""
    return price_usd_per_1k_tokens * TOKENS_PER_THOUSAND_IN_MILLION


def api_cost_per_month(
    input_tokens_million: Number,
    output_tokens_million: Number,
    input_price_usd_per_1m: Number,
    output_price_usd_per_1m: Number,
    cached_input_tokens_million: Number = 0.0,
    cached_input_price_usd_per_1m: Number = 0.0,
) -> Number:
    """USD per month of a frontier API: tokens (millions) × price per 1M tokens, with input
    served from the provider's prompt cache at its own (lower) price."""
    return (
        input_tokens_million * input_price_usd_per_1m
        + cached_input_tokens_million * cached_input_price_usd_per_1m
        + output_tokens_million * output_price_usd_per_1m
    )


def labour_saved_per_month(
    staff: Number, hours_per_staff: Number, time_saved_fraction: Number, loaded_rate_usd_per_hour: Number
) -> Number:
    """USD per month of staff time saved."""
    return staff * hours_per_staff * time_saved_fraction * loaded_rate_usd_per_hour


def build_weights(build_months: int, profile: str | list[int]) -> np.ndarray:
    """Share of one area's programme spend in each month 0..build_months (sums to 1).

    With no build period everything lands in month 0 (the outlay). Otherwise month 0 is the
    programme's start and the spend falls in the build months 1..build_months:

    * ``"even"``: 1/B in each of the B build months;
    * ``"front_loaded"``: declining linearly, month k of B gets (B − k + 1) / (B(B + 1)/2)
      (B = 3: 3/6, 2/6, 1/6), since data and training come before evaluation and launch;
    * a list of build months (e.g. ``[1, 2]``): split evenly over those months.
    """
    weights = np.zeros(build_months + 1)
    if build_months == 0:
        weights[0] = 1.0
        return weights
    if profile == "even":
        weights[1:] = 1.0
    elif profile == "front_loaded":
        weights[1:] = np.arange(build_months, 0, -1, dtype=float)
    else:
        for month in profile:
            weights[month] += 1.0
    return weights / weights.sum()


def programme_spend_by_month(
    area_usd: dict[str, Number], weights_by_area: dict[str, np.ndarray], horizon_months: int
) -> np.ndarray:
    """USD of programme spend in each month 0..horizon (last axis): each area's total times
    its :func:`build_weights`."""
    amounts = {area: np.asarray(usd, dtype=float)[..., None] for area, usd in area_usd.items()}
    spend = np.zeros(np.broadcast_shapes((horizon_months + 1,), *(usd.shape for usd in amounts.values())))
    for area, usd in amounts.items():
        weights = weights_by_area[area]
        built = weights.size  # the months the build spreads this area over; a share of 0 after them
        spend[..., :built] += usd * weights
        spend[..., built:] += usd * 0.0  # the area × its share of 0, worked out once per draw, not per month
    return spend


def operating_months(build_months: int, horizon_months: int) -> np.ndarray:
    """1.0 for each month 1..horizon after launch (month > build_months), else 0.0: the
    months in which the fine-tune replaces the alternative."""
    return (np.arange(1, horizon_months + 1) > build_months).astype(float)


def monthly_net_saving(
    alternative_usd_per_month: Number, running_usd_per_month: np.ndarray, operating: np.ndarray | float = 1.0
) -> np.ndarray:
    """USD saved each month: the alternative's cost (once launched: ``operating`` is 1 after
    launch, 0 during the build) minus what the fine-tune costs to run.

    ``running_usd_per_month`` has the months on its last axis.
    """
    return np.asarray(alternative_usd_per_month, dtype=float)[..., None] * operating - running_usd_per_month


def cumulative_cash_flow(spend_by_month: np.ndarray, net_saving_by_month: np.ndarray) -> np.ndarray:
    """Cumulative USD from month 0 (the programme's start) to the horizon (last axis): the
    net saving of months 1..horizon minus the programme spend of months 0..horizon."""
    net = np.asarray(net_saving_by_month, dtype=float)
    spend = np.asarray(spend_by_month, dtype=float)
    flow = np.empty(np.broadcast_shapes((*net.shape[:-1], net.shape[-1] + 1), spend.shape))
    np.subtract(0.0 * net[..., :1], spend[..., :1], out=flow[..., :1])  # month 0: no saving yet
    np.subtract(net, spend[..., 1:], out=flow[..., 1:])
    return np.cumsum(flow, axis=-1, out=flow)  # in place: one array, not three


def break_even_month(cumulative: np.ndarray) -> Number:
    """First month (1..horizon, counted from the programme's start, build months included)
    whose cumulative cash flow is ≥ 0; nan if none."""
    paid_back = cumulative[..., 1:] >= 0
    first = np.argmax(paid_back, axis=-1) + 1.0
    return np.where(paid_back.any(axis=-1), first, np.nan)[()]


def month_or_none(month: float) -> int | None:
    """A break-even month as shown and stored: the month number, or ``None`` for "no
    break-even within the horizon" (the model's nan)."""
    return None if np.isnan(month) else int(month)


def decision_rule(api_usd_per_month: float, below: float, above: float) -> str:
    """The source's rule of thumb by monthly frontier-API spend."""
    if api_usd_per_month < below:
        return f"under {code()} {below:,.0f}/month: prompting a frontier model wins on TCO; do not fine-tune"
    if api_usd_per_month <= above:
        return f"{code()} {below:,.0f}–{above:,.0f}/month: fine-tune only if the task is narrow"
    return f"above {code()} {above:,.0f}/month: fine-tuning almost always pays"
