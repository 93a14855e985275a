"""Compute: booked GPU time and its rerun tax, the physics of training FLOPs, and VRAM.

Booked view: GPUs × hours per run × runs × $/GPU-hour, as teams plan it.
Physics view: training FLOPs ÷ (peak FLOP/s × utilisation), plus the optimizer step
(memory-bandwidth bound) and host transfers when states are offloaded. The ratio of FLOPs to
booked capacity is the utilisation the booked plan implies. Memory per GPU lives in
:mod:`~ftcost_helpers.engine.model.memory`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ftcost_helpers.engine.model import checkpointing as recompute
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
    query_width: float,
    sequence_length: int,
    checkpointing: str,
    sliding_layers: int = 0,
    sliding_window: int | None = None,
    every_layers: int = 1,
    frozen_gradient_parameters: Number = 0.0,
) -> tuple[Number, Number]:
    """(matmul FLOPs, attention FLOPs) per token of one training step.

    Weights (Kaplan et al. 2020, §2.1; Narayanan et al. 2021, eq. 3): forward 2·N, backward
    4·N (input and weight gradients) for 6·N when every weight trains; a frozen base skips
    its weight gradients, 4·N, and its adapters cost 6·N_a. Attention scores Q·Kᵀ and their
    product with V: 2·2·s·(a·d) per token and layer forward without a mask (a·d the query
    width, = h when d = h / a); a causal mask halves it, because FlashAttention skips the
    blocks above the diagonal (Dao 2023, FlashAttention-2, §3.1.1: "for causal masking we
    can skip ... about half of the blocks"), so 2·L·s·(a·d) forward and, with the backward's
    twice the forward, 6·L·s·(a·d) in all; the memory-efficient kernels change where the
    scores live, not how many FLOPs they take, so this is counted once whichever kernel
    runs. Recomputation adds a forward pass: ``full`` 2·N + 2·L·s·(a·d), ``selective`` only
    the attention's 2·L·s·(a·d) (Korthikanti et al. 2022, §5), ``op_selective`` no matmul
    and ``full`` on one layer in ``every_layers`` that share of the full one
    (:mod:`checkpointing`). Frozen weights that get gradients all the same
    (``frozen_gradient_parameters``, N_f: FSDP1 units mixing frozen and trained weights,
    :func:`allocator.gradient_parameters`) add their weight-gradient matmuls, 2·N_f. N is the *active* parameter
    count (mixture of experts: the experts a token is routed to). ``sliding_layers`` of the
    layers attend only to the last ``sliding_window`` keys: their s becomes the span of
    :func:`attended_span` (Beltagy et al. 2020, Longformer, §3.1: a window of w costs O(s·w))."""
    weights = 6.0 * active_parameters if trains_all_weights else 4.0 * active_parameters + 6.0 * adapter_parameters
    weights = weights + 2.0 * frozen_gradient_parameters
    full_layers = layers - sliding_layers
    span = attended_span(sequence_length, sliding_window) if sliding_layers else 0.0
    attention_forward = 2.0 * (full_layers * sequence_length + sliding_layers * span) * query_width
    attention = 3.0 * attention_forward
    weights = weights + 2.0 * active_parameters * recompute.matmul_recompute_share(checkpointing, every_layers)
    attention = attention + attention_forward * recompute.attention_recompute_share(checkpointing, every_layers)
    return weights, attention


def attended_span(sequence_length: int, window: int | None) -> float:
    """The s that a layer's causal attention FLOPs scale with (2·s·(a·d) per token forward,
    see :func:`flops_per_token`): twice the keys an average query attends to. Causal, query
    i sees min(i, w) keys, so over s queries sum min(i, w) ≈ m·s − m²/2 with m = min(s, w),
    and the span is 2m − m²/s: s for full attention (w ≥ s), ≈ 2w when w ≪ s (gpt-oss,
    w = 128 at s = 4,096: 256 − 4 = 252, a 16th of full attention's 4,096). FlashAttention
    skips whole blocks outside the band, so the blocks straddling its edge are counted here
    at their unmasked share (block granularity not modelled)."""
    reach = float(sequence_length) if window is None else float(min(sequence_length, window))
    return 2.0 * reach - reach * reach / sequence_length


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
    matmul_bytes: Number = 0.0,
    bandwidth_gbps: float | None = None,
) -> Number:
    """GPU-seconds of the FLOPs at a utilisation of each part's dense peak (FP8 matmuls run
    at the FP8 peak; attention stays at BF16). A method's throughput penalty slows its
    weight matmuls only.

    The weight matmuls follow a roofline (Williams et al. 2009, "Roofline: an insightful
    visual performance model"): they take the longer of their FLOPs at the utilisation and
    the HBM bytes they move (``matmul_bytes``, :func:`matmul_traffic_bytes`) at the GPU's
    bandwidth. A micro-batch of M tokens multiplies each weight matrix M times per byte it
    reads, so short micro-batches of a large model (or a mixture of experts, whose every
    expert is read for few tokens) become bandwidth bound."""
    effective = 1e12 * utilisation
    matmuls = quotient(matmul_flops * throughput_penalty, matmul_peak_tflops * effective)
    if bandwidth_gbps:
        matmuls = np.maximum(matmuls, matmul_bytes / (bandwidth_gbps * 1e9))
    return matmuls + quotient(attention_flops, attention_peak_tflops * effective)


def quotient(work: Number, rate: Number) -> Number:
    """``work ÷ rate`` for a rate that may underflow to 0 (a peak and a utilisation each near
    the smallest float): no work takes 0 s, any work infinite time (which the run's guard
    refuses), never a ZeroDivisionError."""
    work, rate = np.asarray(work, dtype=float), np.asarray(rate, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(work == 0, 0.0, work / rate)[()]


MATMUL_OPERAND_BYTES = {"bf16_mixed": 2.0, "bf16": 2.0, "fp8": 1.0, "fp32": 4.0}
"""Bytes per weight a matmul reads: the bf16 copy, the cached FP8 cast under ``fp8``, fp32
weights under ``fp32`` (a 4-bit base is dequantised to bf16 first, so its matmuls read 2)."""


def weight_passes(checkpointing: str, every_layers: int = 1) -> float:
    """Times each micro-batch's matmuls read every weight: the forward, the backward's
    input-gradient matmul (the weight-gradient matmul reads activations, not weights), and
    the recomputed forward under ``full`` checkpointing (Korthikanti et al. 2022, §5), of
    the checkpointed share of the layers (:func:`checkpointing.matmul_recompute_share`)."""
    return 2.0 + recompute.matmul_recompute_share(checkpointing, every_layers)


def matmul_traffic_bytes(
    parameters_read: Number,
    operand_bytes: float,
    passes: float,
    trained_parameters: Number,
    gradient_bytes: float,
    micro_batches: Number,
) -> Number:
    """HBM bytes the weight matmuls move over the run, besides activations: every pass of
    every micro-batch reads every weight (N·b·passes; N the *total* count of a mixture of
    experts, since every expert gets tokens), and the weight-gradient matmul accumulates
    into the gradient buffer, reading and writing it (2·N_trained·b_g)."""
    per_micro_batch = parameters_read * operand_bytes * passes + 2.0 * trained_parameters * gradient_bytes
    return per_micro_batch * micro_batches


BLOCK_FORWARD_KERNELS = 40
"""CUDA kernels one decoder layer launches in an eager forward pass (Hugging Face
``LlamaDecoderLayer``, counted op by op): two RMSNorms of 7 each (cast to fp32, square,
mean, add ε, rsqrt, multiply, cast back, times the weight), q/k/v/o and gate/up/down
matmuls (7), rotary embedding of q and k (12: two slices, a negation, a concatenation, two
multiplies and an add each), the attention kernel and its layout copies (4), SiLU, the
gate × up product and two residual adds (4); rounded down to 40."""

ADAPTER_FORWARD_KERNELS = 5
"""Kernels one LoRA adapter adds to its layer's forward (PEFT ``lora.Linear``): dropout,
the A and B matmuls, the scaling and the add onto the base output."""

BACKWARD_KERNELS_PER_FORWARD = 2.0
"""The backward launches about twice the forward's kernels: each matmul becomes two (input
and weight gradients), each element-wise op its derivative and, for most, a product with
the incoming gradient (Kaplan et al.'s 2:1 backward-to-forward FLOPs, in kernel counts)."""

ADAPTED_LINEARS = {"attention": 4, "all_linear": 7}
"""Linear layers a LoRA adapter is put on per decoder layer: q, k, v, o; or all seven."""


COMPILED_BLOCK_FORWARD_KERNELS = 15
"""Kernels one decoder layer launches in a forward pass under ``torch.compile`` (Inductor
fuses every run of element-wise ops between two matmuls into one kernel; matmuls and the
attention kernel stay library calls): the 7 matmuls, the attention kernel, each RMSNorm as
one kernel (2), the rotary embedding of q and of k (2), SiLU × up (1), the two residual
adds (2), counted from the same block as :data:`BLOCK_FORWARD_KERNELS` (40)."""

COMPILED_ADAPTER_FORWARD_KERNELS = 3
"""Kernels one LoRA adapter adds under ``torch.compile``: its A and B matmuls and one fused
kernel for dropout, scaling and the add (5 eager, :data:`ADAPTER_FORWARD_KERNELS`)."""


MATMULS_PER_LAYER = 8
"""Kernels of a layer's forward that op-level checkpointing does not run again: the seven
weight matmuls and the attention kernel (:data:`BLOCK_FORWARD_KERNELS`)."""


def kernels_per_layer(
    adapted_linears: int,
    checkpointing: str,
    dequantise_kernels: float = 0.0,
    compiled: bool = False,
    every_layers: int = 1,
) -> float:
    """Kernels one layer launches for one micro-batch: the forward (block + adapters), the
    backward (twice the forward's), the recomputed forward under ``full`` checkpointing,
    and ``dequantise_kernels`` for a quantised base (:func:`dequantise_kernels_per_layer`);
    ``full`` on one layer in n recomputes 1/n of the forward's kernels, ``op_selective`` all
    but the matmuls (:data:`MATMULS_PER_LAYER`, and each adapter's two).
    ``compiled``: the fused counts of ``torch.compile`` (:data:`COMPILED_BLOCK_FORWARD_KERNELS`)."""
    if compiled:
        forward = COMPILED_BLOCK_FORWARD_KERNELS + COMPILED_ADAPTER_FORWARD_KERNELS * adapted_linears
    else:
        forward = BLOCK_FORWARD_KERNELS + ADAPTER_FORWARD_KERNELS * adapted_linears
    total = forward * (1.0 + BACKWARD_KERNELS_PER_FORWARD) + dequantise_kernels
    total = total + forward * recompute.matmul_recompute_share(checkpointing, every_layers)
    if checkpointing == "op_selective":
        total = total + forward - MATMULS_PER_LAYER - 2.0 * adapted_linears
    return total


def fused_elementwise_bytes_per_token_layer(
    hidden_size: int, query_width: float, kv_width: float, intermediate_size: Number
) -> Number:
    """HBM bytes per token and layer that ``torch.compile`` saves in a forward pass by fusing
    the element-wise ops of a Llama-style block, counted op by op on bf16 activations
    (2 bytes) that RMSNorm and the rotary embedding compute in fp32 (4 bytes):

    - RMSNorm, eager: cast up (read 2, write 4), square (4 + 4), mean (read 4), multiply by
      the reciprocal root (4 + 4), cast back (4 + 2), times the weight (2 + 2): 36 bytes per
      element; fused, read 2 and write 2: saves 32·h per norm, two norms 64·h.
    - Rotary embedding of q and k, eager: cast up (2 + 4), four products of a half with the
      cos/sin table (each read 2, write 2, per element of the whole: 16), a difference and a
      sum (each 4 + 2: 12), the stack (4 + 4), cast back (4 + 2): 48 bytes per element;
      fused, 4: saves 44·(a·d + h_kv).
    - SiLU then × up, eager: SiLU (2 + 2) and the product (4 + 2): 10 bytes per element of
      the MLP's width; fused, 6: saves 4·i (per routed expert of a mixture, ``i`` × k).

    64·h + 44·(a·d + h_kv) + 4·i; the residual adds and the matmuls are left as they are.
    Llama 3.2 3B (h 3072, a·d 3072, h_kv 1024, i 8192): 196,608 + 180,224 + 32,768 =
    409,600 bytes. The backward's element-wise traffic is about twice the forward's (each
    op's derivative reads its saved input and the incoming gradient and writes a gradient),
    so a whole step saves this × :func:`elementwise_passes`."""
    return 64.0 * hidden_size + 44.0 * (query_width + kv_width) + 4.0 * intermediate_size


def elementwise_passes(checkpointing: str, every_layers: int = 1) -> float:
    """Forward-pass equivalents of element-wise traffic in one micro-batch's step: the
    forward (1), the backward (2, :data:`BACKWARD_KERNELS_PER_FORWARD`), and the recomputed
    forward's share (:func:`checkpointing.elementwise_recompute_share`: 1 under ``full``
    and ``op_selective``, 1/n on one layer in n)."""
    return 1.0 + BACKWARD_KERNELS_PER_FORWARD + recompute.elementwise_recompute_share(checkpointing, every_layers)


def compile_saved_seconds(
    tokens: Number, layers: float, bytes_per_token_layer: Number, passes: float, bandwidth_gbps: float, share: Number
) -> Number:
    """GPU-seconds ``torch.compile`` saves by fusing element-wise ops: the HBM traffic it
    removes (tokens × layers × bytes per token and layer × passes) at the bandwidth eager
    element-wise kernels reach (:func:`memory_bound_seconds`). The utilisation band holds
    eager runs' element-wise time inside the matmuls' share of peak; a compiled run is timed
    as eager less this (TorchInductor generates one Triton kernel per run of pointwise and
    reduction ops: Ansel et al. 2024, "PyTorch 2")."""
    return memory_bound_seconds(tokens * layers * bytes_per_token_layer * passes, bandwidth_gbps, share)


def memory_bound_seconds(bytes_moved: Number, bandwidth_gbps: float | None, share: Number) -> Number:
    """Seconds a memory-bound kernel takes: the bytes it reads and writes ÷ the share of the
    GPU's datasheet HBM bandwidth it reaches (``elementwise_bandwidth_share`` for operands of
    one shape, ``broadcast_bandwidth_share`` when one is broadcast; the price book gives the
    measurements). An element-wise op does ~1 FLOP per byte, far below any GPU's FLOP/byte
    ratio, so bandwidth sets its speed. A GPU a client file describes without its bandwidth
    (``bandwidth_gbps`` None) leaves these terms uncounted: 0 s, as the price book's
    ``GpuSpec`` says."""
    if bandwidth_gbps is None:
        return 0.0 * bytes_moved
    return bytes_moved / (bandwidth_gbps * 1e9 * share)


def launch_seconds(micro_batches: Number, layers: float, kernels: float, kernel_overhead_us: Number) -> Number:
    """GPU-seconds the GPUs spend on kernel overheads: micro-batches × layers × kernels per
    layer × the fixed time each kernel costs besides its work (the CPU's launch and eager
    dispatch, the GPU's start-up). It does not shrink with fewer tokens, so it dominates
    short micro-batches. torch.compile cuts the count (:data:`COMPILED_BLOCK_FORWARD_KERNELS`);
    CUDA graphs, which remove the overhead itself, are not modelled."""
    return micro_batches * layers * kernels * kernel_overhead_us * 1e-6


def pipeline_bubble_factor(pipeline_parallel: int, micro_batches_per_step: Number) -> Number:
    """Time stretch of a 1F1B pipeline schedule: (m + p − 1) ÷ m for p stages and m
    micro-batches per optimizer step (Narayanan et al. 2021, §2.2: bubble fraction (p − 1)/m)."""
    return (micro_batches_per_step + pipeline_parallel - 1.0) / micro_batches_per_step


@dataclass(frozen=True)
class Dequantisation:
    """What a quantised base's library does to each 4-bit weight, per pass."""

    contiguous_bytes_per_param: float
    """HBM bytes moved by kernels whose operands have one shape, besides reading the packed
    weight and the matmul reading the bf16 copy."""
    broadcast_bytes_per_param: float
    """HBM bytes moved by kernels with a broadcast operand (PyTorch's non-vectorised path)."""
    packed_read_broadcast: bool
    """Whether the kernel that reads the packed weight broadcasts an operand."""
    kernels: int
    """Kernels it launches per quantised linear layer and pass."""
    in_backward: bool
    """Whether the backward dequantises again (else autograd keeps the dequantised copy)."""


DEQUANTISATION = {
    "nf4": Dequantisation(
        contiguous_bytes_per_param=2.0,
        broadcast_bytes_per_param=0.0,
        packed_read_broadcast=False,
        kernels=2,
        in_backward=True,
    ),
    "gptq": Dequantisation(
        contiguous_bytes_per_param=7.0,
        broadcast_bytes_per_param=9.0,
        packed_read_broadcast=True,
        kernels=9,
        in_backward=False,
    ),
}
"""``nf4`` (bitsandbytes ``Linear4bit``): one fused CUDA kernel reads the packed weight and
writes the bf16 copy, 2 bytes, after dequantising the absmax constants (a second kernel);
``MatMul4Bit.backward`` dequantises again for the input gradient. ``gptq`` (AutoGPTQ's
``QuantLinear`` with its CUDA kernel off, as training and ``disable_exllama`` leave it, and
for any input of 128 rows or more) unpacks in PyTorch ops, per weight: a right shift of the
packed int32 expanded eight ways by a shift vector, both broadcast (read the packed 0.5,
write 4), a cast to int8 (read 4, write 1), a mask in place (1 + 1), the zero points
subtracted, broadcast over each group (1 + 1), the scales multiplied in, broadcast, into fp16
(1 + 2): 7 bytes in contiguous kernels, 9 (and the packed read) in broadcast ones, 5 kernels,
and 4 more for the zero points; the fp16 weight is then an ordinary ``torch.matmul`` operand
that autograd keeps for the backward."""


def dequantise_seconds(
    quantised_parameters: Number,
    quantised_bytes: float,
    kind: Dequantisation,
    checkpointing: str,
    micro_batches: Number,
    bandwidth_gbps: float,
    contiguous_share: Number,
    broadcast_share: Number,
    every_layers: int = 1,
) -> Number:
    """GPU-seconds spent dequantising a 4-bit base: every micro-batch dequantises every
    quantised weight once per pass that needs it (the forward, the recomputed forward under
    ``full`` checkpointing, and the backward when the library dequantises again), memory-bound
    passes of the packed read (b_q) and the library's bytes per parameter, each kind of kernel
    at its share of the bandwidth (:func:`memory_bound_seconds`; Dettmers et al. 2023, §3:
    "we dequantize the storage data type to the computation data type to perform the forward
    and backward pass"). It does not shrink with fewer tokens: it dominates short sequences."""
    packed_broadcast = quantised_bytes if kind.packed_read_broadcast else 0.0
    contiguous = quantised_parameters * (quantised_bytes - packed_broadcast + kind.contiguous_bytes_per_param)
    broadcast = quantised_parameters * (packed_broadcast + kind.broadcast_bytes_per_param)
    per_pass = memory_bound_seconds(contiguous, bandwidth_gbps, contiguous_share) + memory_bound_seconds(
        broadcast, bandwidth_gbps, broadcast_share
    )
    return per_pass * dequantise_passes(kind, checkpointing, every_layers) * micro_batches


def dequantise_passes(kind: Dequantisation, checkpointing: str, every_layers: int = 1) -> float:
    """Passes of one micro-batch that dequantise: forward, backward if the library does it
    again, recomputed forward under ``full`` checkpointing (its share of the layers; the
    dequantised weight feeds a matmul, so ``op_selective``, which keeps the matmuls'
    outputs, does not dequantise again)."""
    again = recompute.matmul_recompute_share(checkpointing, every_layers)
    return 1.0 + (1.0 if kind.in_backward else 0.0) + again


QUANTISED_LINEARS = 7
"""Linear layers of a decoder layer a 4-bit base quantises: q, k, v, o, gate, up, down."""


def dequantise_kernels_per_layer(kind: Dequantisation, checkpointing: str, every_layers: int = 1) -> float:
    """Kernels one layer's dequantisation launches per micro-batch: the library's kernels
    per linear × 7 linears × the passes that dequantise."""
    return kind.kernels * QUANTISED_LINEARS * dequantise_passes(kind, checkpointing, every_layers)


def optimizer_step_bytes_per_param(
    weight_bytes: float, gradient_bytes: float, master_bytes: float, moment_bytes: float
) -> float:
    """HBM traffic of one optimizer step per trained parameter: read the gradient, the
    master copy and the moments, write the master copy and the moments back, and write the
    compute weights (read them too when they are their own master). Mixed-precision AdamW:
    2 + 2·(4 + 8) + 2 = 28 bytes; pure-bf16 AdamW: 2 + 2·4 + 2·2 = 14 bytes."""
    weights = weight_bytes if master_bytes > 0 else 2.0 * weight_bytes
    return gradient_bytes + 2.0 * (master_bytes + moment_bytes) + weights


def optimizer_step_seconds(
    trained_parameters_per_gpu: Number, bytes_per_param: float, bandwidth_gbps: float | None, share: Number
) -> Number:
    """Seconds of one optimizer step, memory-bandwidth bound: the bytes it reads and writes
    (:func:`optimizer_step_bytes_per_param`) at the share of the bandwidth element-wise
    kernels reach (:func:`memory_bound_seconds`; PyTorch's fused and foreach AdamW read and
    write whole contiguous tensors)."""
    return memory_bound_seconds(trained_parameters_per_gpu * bytes_per_param, bandwidth_gbps, share)


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
