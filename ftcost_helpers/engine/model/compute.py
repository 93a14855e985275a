"""Compute: booked GPU time and its rerun tax, the physics of training FLOPs, and VRAM.

Booked view: GPUs × hours per run × runs × $/GPU-hour, as teams plan it.
Physics view: training FLOPs ÷ (peak FLOP/s × utilisation). Their ratio is the
utilisation the booked plan implies.
"""

from __future__ import annotations

import numpy as np

from ftcost_helpers.engine.quantities import Number

SECONDS_PER_HOUR = 3600.0
BYTES_PER_GB = 1e9
ACTIVATION_BYTES_PER_TOKEN_HIDDEN = 34.0
"""Activations per layer per token per hidden unit (bf16) with memory-efficient
attention and no recomputation (Korthikanti et al. 2022: s·b·h·34)."""
CHECKPOINTED_BYTES_PER_TOKEN_HIDDEN = 2.0
"""With full activation checkpointing only each layer's bf16 input is kept."""
LOGIT_BYTES = 4.0
"""Logits are often kept in fp32."""


def booked_gpu_hours(gpus: Number, hours_per_run: Number, runs: Number) -> Number:
    """GPU-hours of the planned full-length runs."""
    return gpus * hours_per_run * runs


def failed_run_gpu_hours(
    gpus: Number, hours_per_run: Number, failed_runs: Number, completed_fraction: Number
) -> Number:
    """GPU-hours burnt by runs that died part-way (rerun tax)."""
    return gpus * hours_per_run * failed_runs * completed_fraction


def sweep_gpu_hours(
    gpus: Number,
    hours_per_run: Number,
    trials: Number,
    early_stopping: bool,
    stopped_trial_fraction: Number,
) -> Number:
    """GPU-hours of a hyper-parameter sweep; early stopping cuts each trial short."""
    share = stopped_trial_fraction if early_stopping else 1.0
    return gpus * hours_per_run * trials * share


def gpu_cost(gpu_hours: Number, rate_usd_per_gpu_hour: Number) -> Number:
    """USD for GPU-hours at a rate."""
    return gpu_hours * rate_usd_per_gpu_hour


def training_tokens(pairs: Number, tokens_per_pair: Number, epochs: Number) -> Number:
    """Tokens processed by one training run."""
    return pairs * tokens_per_pair * epochs


def training_flops(
    parameters: Number,
    tokens: Number,
    flops_per_param_token: float,
    trains_all_weights: bool,
    trainable_fraction: Number,
    checkpointing: bool,
    algorithm_multiplier: Number,
) -> Number:
    """FLOPs of one run: 6·N·D for full training, 4·N·D for a frozen base plus the
    adapters' own 2·N_a·D weight gradients; +2·N·D when activations are recomputed."""
    flops = flops_per_param_token * parameters * tokens
    if not trains_all_weights:
        flops = flops + 2.0 * trainable_fraction * parameters * tokens
    if checkpointing:
        flops = flops + 2.0 * parameters * tokens
    return flops * algorithm_multiplier


def physics_gpu_hours(flops: Number, peak_tflops: Number, utilisation: Number, throughput_penalty: Number) -> Number:
    """GPU-hours the FLOPs need at a utilisation of the GPU's dense BF16 peak."""
    effective = peak_tflops * 1e12 * utilisation / throughput_penalty
    return flops / (effective * SECONDS_PER_HOUR)


def implied_utilisation(
    flops: Number, peak_tflops: Number, booked_gpu_hours_per_run: Number, throughput_penalty: Number
) -> Number:
    """The utilisation of peak the booked GPU-hours per run would imply (nan if none booked)."""
    capacity = np.asarray(peak_tflops * 1e12 * SECONDS_PER_HOUR * booked_gpu_hours_per_run / throughput_penalty)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(capacity > 0, flops / np.where(capacity > 0, capacity, 1.0), np.nan)[()]


def model_state_gb(
    parameters: Number,
    trains_all_weights: bool,
    trainable_fraction: Number,
    base_weight_bytes_per_param: float,
    trainable_state_bytes_per_param: float,
) -> Number:
    """GB of weights, gradients and optimizer states (frozen base + what trains)."""
    trainable = parameters if trains_all_weights else trainable_fraction * parameters
    frozen_bytes = base_weight_bytes_per_param * parameters
    return (frozen_bytes + trainable_state_bytes_per_param * trainable) / BYTES_PER_GB


ATTENTION_SCORE_BYTES = 5.0
"""Bytes per attention score kept when attention is not memory-efficient (Korthikanti et al.
2022: the 5·a·s/h term of s·b·h·(34 + 5·a·s/h))."""


def activation_bytes_per_token_hidden(
    checkpointing: bool,
    memory_efficient_attention: bool,
    attention_heads: int,
    hidden_size: int,
    sequence_length: int,
) -> float:
    """Bytes of activations per layer, per token and per hidden unit (bf16)."""
    if checkpointing:
        return CHECKPOINTED_BYTES_PER_TOKEN_HIDDEN
    if memory_efficient_attention:
        return ACTIVATION_BYTES_PER_TOKEN_HIDDEN
    scores = ATTENTION_SCORE_BYTES * attention_heads * sequence_length / hidden_size
    return ACTIVATION_BYTES_PER_TOKEN_HIDDEN + scores


def activation_gb(
    layers: int,
    hidden_size: int,
    vocab_size: int,
    sequence_length: int,
    micro_batch_size: int,
    checkpointing: bool,
    attention_heads: int = 0,
    memory_efficient_attention: bool = True,
) -> float:
    """GB of activations per GPU for one micro-batch, logits included. Without
    memory-efficient attention (FlashAttention/SDPA) the attention scores are kept too."""
    per_token_hidden = activation_bytes_per_token_hidden(
        checkpointing, memory_efficient_attention, attention_heads, hidden_size, sequence_length
    )
    tokens = sequence_length * micro_batch_size
    layer_bytes = layers * tokens * hidden_size * per_token_hidden
    logit_bytes = tokens * vocab_size * LOGIT_BYTES
    return (layer_bytes + logit_bytes) / BYTES_PER_GB


def memory_per_gpu_gb(state_gb: Number, activations_gb: Number, gpus: Number, sharded: bool) -> Number:
    """GB each GPU holds: states split across GPUs when sharded (FSDP/ZeRO-3)."""
    return (state_gb / gpus if sharded else state_gb) + activations_gb


def fewest_gpus(state_gb: Number, activations_gb: Number, usable_gb: Number, sharded: bool) -> Number:
    """The fewest GPUs on which the run fits (inf when it cannot fit at all)."""
    room = np.asarray(usable_gb - activations_gb, dtype=float)
    states = np.asarray(state_gb, dtype=float)
    if sharded:
        needed = np.where(room > 0, np.ceil(states / np.where(room > 0, room, 1.0)), np.inf)
    else:
        needed = np.where(states <= room, 1.0, np.inf)
    return np.maximum(needed, 1.0)[()]
