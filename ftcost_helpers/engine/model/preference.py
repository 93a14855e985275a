"""The work of a training method besides one forward and backward pass per token: the
preference-optimisation family (DPO, ORPO, SimPO, KTO) here, reinforcement learning in
:mod:`rl`. Each method's work is counted in *rows*: one row is one example's sequence
(prompt + one response, ``training.tokens_per_pair`` tokens), and a method makes a number
of passes over each row. Pure functions over floats and arrays alike.

What each preference loss runs per example (its paper's loss, and TRL's trainers for what
the code actually runs):

* **DPO** (Rafailov et al. 2023, *Direct Preference Optimization*, eq. 7): the policy's
  log-probabilities of the chosen and the rejected response, each against a frozen
  reference's, so two rows forward and backward through the policy and two rows forward
  through the reference (TRL's ``DPOTrainer.concatenated_forward`` puts chosen and
  rejected in one batch, so a micro-batch holds two rows per example). With
  ``reference: precomputed`` the reference's log-probabilities are computed once before
  training (TRL's ``precompute_ref_log_probs``), not every epoch, and no reference model is
  held during training.
* **ORPO** (Hong et al. 2024, *ORPO: Monolithic Preference Optimization without Reference
  Model*, eq. 6): chosen and rejected through the policy, no reference.
* **SimPO** (Meng et al. 2024, *SimPO: Simple Preference Optimization with a
  Reference-Free Reward*, eq. 6): chosen and rejected through the policy, no reference.
* **KTO** (Ethayarajh et al. 2024, *KTO: Model Alignment as Prospect Theoretic
  Optimization*, eq. 8): one completion per example (desirable or undesirable) forward and
  backward; the KL reference point z_ref is estimated on mismatched prompt–completion
  pairs, which TRL's ``KTOTrainer.forward`` runs through the policy without gradients (one
  forward row), and the reference scores both the completion and the mismatched pair (two
  forward rows). KTO keeps its reference model (or its precomputed log-probabilities).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ftcost_helpers.engine.quantities import Number


@dataclass(frozen=True)
class Work:
    """Passes a method makes per row of its data, relative to one forward + backward of SFT.

    ``trained``: rows forward and backward through a trained model (the policy; PPO's critic
    too) per data row and epoch. ``forward``: rows forward only through a model of the
    policy's size (reference, reward model, old log-probabilities...) per data row and epoch.
    ``once``: rows forward only per data row made once for the whole run, whatever the
    epochs (precomputed reference log-probabilities). ``batch_rows``: rows one example puts
    into a micro-batch (activations and logits scale with it). ``frozen_copies``: frozen
    models of the policy's size held in memory besides what trains. ``trained_models``:
    models that train (1; PPO's critic makes 2)."""

    trained: Number = 1.0
    forward: Number = 0.0
    once: Number = 0.0
    batch_rows: float = 1.0
    frozen_copies: float = 0.0
    trained_models: float = 1.0


SFT = Work()
"""Supervised fine-tuning: one row forward and backward per example and epoch."""

PAIRED_ROWS = 2.0
"""Chosen and rejected: two rows per preference pair."""

REFERENCE_FREE = frozenset({"orpo", "simpo"})
"""Losses without a reference model (their papers' titles say so)."""


def preference_work(loss: str, reference: str) -> Work:
    """The :class:`Work` of one preference loss (``dpo``, ``orpo``, ``simpo``, ``kto``) with
    its reference held as a ``model`` or ``precomputed`` (see the module's table)."""
    if loss in REFERENCE_FREE:
        return Work(trained=PAIRED_ROWS, batch_rows=PAIRED_ROWS)
    if loss == "kto":
        reference_rows = 2.0  # the completion and the mismatched (KL) pair
        policy_forward = 1.0  # the KL pair through the policy, without gradients
        if reference == "precomputed":
            return Work(trained=1.0, forward=policy_forward, once=reference_rows)
        return Work(trained=1.0, forward=policy_forward + reference_rows, frozen_copies=1.0)
    if loss != "dpo":
        raise ValueError(f"unknown preference loss {loss!r}")
    if reference == "precomputed":
        return Work(trained=PAIRED_ROWS, once=PAIRED_ROWS, batch_rows=PAIRED_ROWS)
    return Work(trained=PAIRED_ROWS, forward=PAIRED_ROWS, batch_rows=PAIRED_ROWS, frozen_copies=1.0)


def run_flops(
    work: Work, fwd_bwd_flops_per_token: Number, forward_flops_per_token: Number, tokens: Number, epochs: Number
) -> Number:
    """FLOPs of one run: ``tokens`` (examples × row tokens × epochs) through the trained
    passes at fwd+bwd FLOPs per token and the forward passes at forward FLOPs per token, plus
    the once-only forward passes over one epoch's tokens (tokens ÷ epochs; none without epochs)."""
    per_epoch = _per_epoch(tokens, epochs)
    once = work.once * per_epoch * forward_flops_per_token
    return work.trained * tokens * fwd_bwd_flops_per_token + work.forward * tokens * forward_flops_per_token + once


def forward_equivalents(work: Work, epochs: Number, forward_share: Number) -> Number:
    """Training passes one data row costs, counted in forward+backward passes, so that micro-
    batches, kernel launches and weight reads scale with it: the trained rows, plus each
    forward-only row at ``forward_share`` of a forward+backward (a forward is a third of one:
    2N of 6N FLOPs, Kaplan et al. 2020 §2.1), the once-only rows spread over the epochs."""
    return work.trained + (work.forward + _per_epoch(work.once, epochs)) * forward_share


def _per_epoch(amount: Number, epochs: Number) -> Number:
    """``amount`` ÷ ``epochs``, 0 where there are no epochs (a run that passes over nothing)."""
    positive = np.asarray(epochs) > 0
    return np.where(positive, amount / np.where(positive, epochs, 1.0), 0.0 * amount)[()]
