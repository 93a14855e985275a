"""Managed fine-tuning: a service trains the model and bills the tokens it processes.

A managed service (``training.provider: managed``, ``training.managed.service``) bills by
tokens, not GPU-hours. Its billing rules come from its dated entry in the price book
(``managed_services``), as its vendor publishes them:

* billed tokens per job = epochs × the dataset's tokens (+ the validation tokens where the
  service bills them: Together AI counts ``n_evals × n_tokens_per_validation_dataset``);
* the dataset's tokens are pairs × tokens per pair, except that a service which bills an
  unpacked dataset at its maximum length (Together AI: "If packing is disabled, tokens per
  training dataset will be calculated as (dataset_length × max_seq_length)") bills pairs ×
  ``training.sequence_length`` when ``training.packing`` is false;
* a job costs billed tokens ÷ 10⁶ × the price per 1M tokens for the model's size bracket and
  the kind of job (SFT or DPO, LoRA or full), and never less than the service's minimum;
* failed jobs are billed for the share they got through (a cancelled job "pays for completed
  steps only"), and sweep trials for the share of a job they run.

Every function works on floats and on arrays of draws alike.
"""

from __future__ import annotations

import numpy as np

from ftcost_helpers.engine.quantities import Number

TOKENS_PER_MILLION = 1e6

JOB_KIND: dict[str, str] = {
    "lora": "sft_lora",
    "qlora": "sft_lora",
    "full_sft": "sft_full",
    "continued_pretraining": "sft_full",
    "dpo": "dpo_full",
}
"""The kind of managed job (a price-book column) each training method is billed as; a
method not listed (``rl``: billed by the hour, not by tokens) has no token price."""


def dataset_tokens_billed(
    pairs: Number, tokens_per_pair: Number, sequence_length: Number, packed: bool, unpacked_at_max_length: bool
) -> Number:
    """Tokens of one pass over the dataset as the service bills them: pairs × tokens per pair,
    or pairs × the maximum sequence length for an unpacked dataset on a service that bills it
    so. 30,000 pairs of 1,000 tokens unpacked at 4,096: 122,880,000 tokens, not 30,000,000."""
    per_pair = sequence_length if (not packed and unpacked_at_max_length) else tokens_per_pair
    return pairs * per_pair


def job_tokens_billed(
    dataset_tokens: Number, epochs: Number, evaluation_tokens: Number, bills_evaluation: bool
) -> Number:
    """Tokens one job is billed for: epochs × the dataset's billed tokens, plus the
    validation tokens (``n_evals`` × the validation set) where the service bills them."""
    return epochs * dataset_tokens + (evaluation_tokens if bills_evaluation else 0.0 * evaluation_tokens)


def job_cost(tokens: Number, price_usd_per_1m_tokens: Number, minimum_usd: Number = 0.0) -> Number:
    """USD of one job: tokens ÷ 10⁶ × price, and never less than the service's minimum."""
    return np.maximum(tokens / TOKENS_PER_MILLION * price_usd_per_1m_tokens, minimum_usd)[()]


def bracket_price(parameters_billion: Number, brackets: list[tuple[float, float | None]]) -> Number:
    """The price of the smallest bracket ``(up_to_billion, price)`` that covers a model of
    ``parameters_billion`` (per draw); nan where no bracket covers it or it has no price."""
    price = np.full(np.shape(parameters_billion), np.nan)
    for up_to, value in sorted(brackets, key=lambda b: b[0], reverse=True):
        price = np.where(np.asarray(parameters_billion) <= up_to, np.nan if value is None else value, price)
    return price[()]


def unpacked_waste_tokens(
    pairs: Number, tokens_per_pair: Number, sequence_length: Number, epochs: Number, jobs: Number
) -> Number:
    """Tokens billed for padding when an unpacked dataset is billed at its maximum length:
    pairs × (maximum length − tokens per pair) × epochs × jobs (0 when pairs fill it)."""
    return pairs * np.maximum(sequence_length - tokens_per_pair, 0.0) * epochs * jobs
