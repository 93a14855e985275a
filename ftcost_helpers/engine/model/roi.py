"""Inference and return on investment: serving cost, the alternative's monthly cost,
cumulative cash flow, break-even month and the source's decision rule."""

from __future__ import annotations

import numpy as np

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


def monthly_net_saving(alternative_usd_per_month: Number, running_usd_per_month: np.ndarray) -> np.ndarray:
    """USD saved each month: the alternative's cost minus what the fine-tune costs to run.

    ``running_usd_per_month`` has the months on its last axis.
    """
    return np.asarray(alternative_usd_per_month, dtype=float)[..., None] - running_usd_per_month


def cumulative_cash_flow(programme_usd: Number, net_saving_by_month: np.ndarray) -> np.ndarray:
    """Cumulative USD from month 0 (the programme's outlay) to the horizon (last axis)."""
    outlay = -np.asarray(programme_usd, dtype=float)[..., None]
    return np.concatenate(
        [outlay + 0.0 * net_saving_by_month[..., :1], outlay + np.cumsum(net_saving_by_month, axis=-1)], axis=-1
    )


def break_even_month(cumulative: np.ndarray) -> Number:
    """First month (1..horizon) whose cumulative cash flow is ≥ 0; nan if none."""
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
        return f"under USD {below:,.0f}/month: prompting a frontier model wins on TCO; do not fine-tune"
    if api_usd_per_month <= above:
        return f"USD {below:,.0f}–{above:,.0f}/month: fine-tune only if the task is narrow"
    return f"above USD {above:,.0f}/month: fine-tuning almost always pays"
