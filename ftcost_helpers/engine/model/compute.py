"""Compute: booked GPU time and its rerun tax, the physics of training FLOPs, and VRAM.

Booked view: GPUs × hours per run × runs × $/GPU-hour, as teams plan it.
Physics view: training FLOPs ÷ (peak FLOP/s × utilisation), plus the optimizer step
(memory-bandwidth bound) and host transfers when states are offloaded. The ratio of FLOPs to
booked capacity is the utilisation the booked plan implies. Memory per GPU lives in
:mod:`~ftcost_helpers.engine.model.memory`.
"""

from __future__ import annotations

import numpy as np

from ftcost_helpers.engine.quantities import Number

SECONDS_PER_HOUR = 3600.0


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


def flops_per_token(
    active_parameters: Number,
    adapter_parameters: Number,
    trains_all_weights: bool,
    layers: int,
    hidden_size: int,
    sequence_length: int,
    checkpointing: str,
) -> tuple[Number, Number]:
    """(matmul FLOPs, attention FLOPs) per token of one training step.

    Weights (Kaplan et al. 2020, §2.1; Narayanan et al. 2021, eq. 3): forward 2·N, backward
    4·N (input and weight gradients) for 6·N when every weight trains; a frozen base skips
    its weight gradients, 4·N, and its adapters cost 6·N_a. Attention scores and their
    product with V: 4·L·s·h forward per token without a mask, half of it under a causal
    mask (FlashAttention skips masked blocks), so 2·L·s·h forward and 6·L·s·h in all.
    Recomputation adds a forward pass: ``full`` 2·N + 2·L·s·h, ``selective`` only the
    attention's 2·L·s·h (Korthikanti et al. 2022, §5). N is the *active* parameter count
    (mixture of experts: the experts a token is routed to)."""
    weights = 6.0 * active_parameters if trains_all_weights else 4.0 * active_parameters + 6.0 * adapter_parameters
    attention_forward = 2.0 * layers * sequence_length * hidden_size
    attention = 3.0 * attention_forward
    if checkpointing == "full":
        weights = weights + 2.0 * active_parameters
        attention = attention + attention_forward
    elif checkpointing == "selective":
        attention = attention + attention_forward
    return weights, attention


def processed_tokens(tokens: Number, padding_efficiency: Number) -> Number:
    """Tokens the GPUs compute, padding included: real tokens ÷ the share that is real."""
    return tokens / padding_efficiency


def compute_seconds(
    matmul_flops: Number,
    attention_flops: Number,
    matmul_peak_tflops: Number,
    attention_peak_tflops: Number,
    utilisation: Number,
    throughput_penalty: Number,
) -> Number:
    """GPU-seconds of the FLOPs at a utilisation of each part's dense peak (FP8 matmuls run
    at the FP8 peak; attention stays at BF16). A method's throughput penalty slows its
    weight matmuls only."""
    effective = 1e12 * utilisation
    matmuls = matmul_flops * throughput_penalty / (matmul_peak_tflops * effective)
    return matmuls + attention_flops / (attention_peak_tflops * effective)


DEQUANTISE_BYTES_PER_PARAM = 2.0 + 2.0
"""Besides reading the quantised weight: writing it out in bf16 and the matmul reading it
back (bitsandbytes dequantises a 4-bit layer to the compute dtype, then runs a bf16 GEMM)."""


def dequantise_seconds(
    quantised_parameters: Number, quantised_bytes: float, passes: float, micro_batches: Number, bandwidth_gbps: float
) -> Number:
    """GPU-seconds spent dequantising a 4-bit base: every micro-batch dequantises every
    quantised weight once per pass (forward, backward, and the recomputed forward), a
    memory-bound copy of (b_q + 2 + 2) bytes per parameter (Dettmers et al. 2023, §3: "we
    dequantize the storage data type to the computation data type to perform the forward and
    backward pass"). The cost does not shrink with fewer tokens: it dominates short sequences."""
    bytes_moved = quantised_parameters * (quantised_bytes + DEQUANTISE_BYTES_PER_PARAM) * passes * micro_batches
    return bytes_moved / (bandwidth_gbps * 1e9)


def optimizer_step_bytes_per_param(
    weight_bytes: float, gradient_bytes: float, master_bytes: float, moment_bytes: float
) -> float:
    """HBM traffic of one optimizer step per trained parameter: read the gradient, the
    master copy and the moments, write the master copy and the moments back, and write the
    compute weights (read them too when they are their own master). Mixed-precision AdamW:
    2 + 2·(4 + 8) + 2 = 28 bytes; pure-bf16 AdamW: 2 + 2·4 + 2·2 = 14 bytes."""
    weights = weight_bytes if master_bytes > 0 else 2.0 * weight_bytes
    return gradient_bytes + 2.0 * (master_bytes + moment_bytes) + weights


def optimizer_step_seconds(trained_parameters_per_gpu: Number, bytes_per_param: float, bandwidth_gbps: float) -> Number:
    """Seconds of one optimizer step, memory-bandwidth bound: the bytes it reads and writes
    ÷ the GPU's HBM bandwidth (an element-wise update does ~1 FLOP per byte, far below any
    GPU's FLOP/byte ratio, so bandwidth sets its speed)."""
    return trained_parameters_per_gpu * bytes_per_param / (bandwidth_gbps * 1e9)


def optimizer_steps(tokens: Number, tokens_per_step: Number) -> Number:
    """Optimizer steps of one run: processed tokens ÷ tokens per global batch."""
    return tokens / tokens_per_step


def host_transfer_seconds(bytes_moved: Number, host_link_gbps: float) -> Number:
    """Seconds to move bytes between host and GPU over its link (PCIe), one direction at a time."""
    return bytes_moved / (host_link_gbps * 1e9)


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
