"""Dataset: sourcing and rights, redaction, expert annotation, double-labelling,
synthetic generation and decontamination (cost stack of 001_6c04196dc11ea2b6.txt)."""

from __future__ import annotations

import numpy as np

from ftcost_helpers.engine.quantities import Number


def annotation_hours(hours_given: Number, pairs: Number, minutes_per_pair: Number) -> Number:
    """Hours of expert labelling: the hours given plus pairs × minutes per pair."""
    return hours_given + pairs * minutes_per_pair / 60.0


def annotation_cost(hours: Number, rate_usd_per_hour: Number) -> Number:
    """USD of expert labelling: hours × hourly rate."""
    return hours * rate_usd_per_hour


def double_labelling_cost(annotation_usd: Number, double_label_fraction: Number) -> Number:
    """USD of labelling a share of the items a second time (inter-annotator agreement)."""
    return annotation_usd * double_label_fraction


def synthetic_generation_cost(
    tokens_million: Number, price_usd_per_1m_tokens: Number, verification_usd: Number
) -> Number:
    """USD of synthetic data: API tokens × price per 1M tokens, plus verification."""
    return tokens_million * price_usd_per_1m_tokens + verification_usd


def cost_per_pair(dataset_usd: Number, pairs: Number) -> Number:
    """USD per training pair (nan when there are no pairs)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.divide(dataset_usd, np.where(np.asarray(pairs) > 0, pairs, np.nan))[()]
