"""Memory as the allocators count it: the vendor's capacity in GiB, the CUDA context outside
PyTorch's allocator, the caching allocator's fragmentation, reserved against allocated, and
the fit verdict with its uncertainty; and the memory terms that move state off the GPU or
split it (offload, paged optimizers, expert parallelism), the loading peak of a quantised
base and NF4's quantisation constants.

Every function is pure and broadcasts over numpy arrays. Units: GB = 1e9 bytes, as the rest
of the engine; GiB = 2^30 bytes only where a vendor's capacity is read.
"""

from __future__ import annotations

import numpy as np

from ftcost_helpers.engine.quantities import Number

BYTES_PER_GIB = 2.0**30
GB_PER_GIB = BYTES_PER_GIB / 1e9
"""1 GiB = 1.073741824 GB. A GPU sold as "80 GB" has 80 GiB of HBM (nvidia-smi shows an
A100 80GB's 81,920 MiB): its capacity is 80 × 1.073741824 = 85.90 GB."""

FITS, BORDERLINE, DOES_NOT_FIT = "fits", "borderline", "does not fit"
VERDICTS = (FITS, BORDERLINE, DOES_NOT_FIT)
"""The fit verdicts: the need's P90 within capacity, its P10–P90 straddling capacity, or its
P10 beyond capacity."""


def capacity_gb(vendor_memory: Number, ecc_reserved_share: float = 0.0) -> Number:
    """GB on the device of a GPU whose datasheet says ``vendor_memory`` "GB": the vendors'
    memory sizes are binary (GiB), so × 1.073741824, less what ECC takes on a GDDR card that
    runs with it on (6.25 %: an A10G's 24 GiB leave 22.5 GiB = 24.16 GB)."""
    return vendor_memory * GB_PER_GIB * (1.0 - ecc_reserved_share)


def usable_gb(capacity: Number, context: Number, fragmentation: Number, headroom: Number = 0.0) -> Number:
    """GB the caching allocator can hand out as live tensors: (capacity − CUDA context) ×
    (1 − fragmentation) × (1 − a plan's extra headroom). Fragmentation is the share of the
    allocator's reserve that is not allocated, 1 − allocated ÷ reserved (Guo et al. 2024,
    GMLake, ASPLOS, §2's definition); the reserve can grow to what the context leaves.

    An 80 GB A100 with a 1.3 GB context and 2 % fragmentation: (85.90 − 1.3) × 0.98 = 82.91 GB."""
    return (capacity - context) * (1.0 - fragmentation) * (1.0 - headroom)


def reserved_gb(allocated: Number, fragmentation: Number) -> Number:
    """GB the caching allocator reserves to hold ``allocated`` GB of live tensors
    (``torch.cuda.max_memory_reserved`` against ``max_memory_allocated``): allocated ÷ (1 − f)."""
    return allocated / (1.0 - fragmentation)


def device_need_gb(allocated: Number, context: Number, fragmentation: Number, headroom: Number = 0.0) -> Number:
    """GB of the device a run needs: the CUDA context plus the allocator's reserve (what
    nvidia-smi shows), grossed up by a plan's extra headroom. The inverse of
    :func:`usable_gb`: need ≤ capacity exactly when allocated ≤ usable."""
    return context + reserved_gb(allocated, fragmentation) / (1.0 - headroom)


def verdict(need_p10: float, need_p90: float, capacity: float) -> str:
    """``fits`` when even the P90 need is within capacity, ``does not fit`` when even the P10
    need exceeds it, ``borderline`` when the P10–P90 straddles it."""
    if need_p90 <= capacity:
        return FITS
    if need_p10 > capacity:
        return DOES_NOT_FIT
    return BORDERLINE


def gathered_units(fsdp_version: int) -> float:
    """FSDP units whose full weights are on a GPU at once. FSDP2 frees a unit's all-gathered
    weights as soon as it is done, so the current and the prefetched unit: 2. FSDP1 hands the
    all-gather buffers to the compute stream with ``recordStream``, so the caching allocator
    cannot reuse them until that stream passes, holding one more unit: 3 (PyTorch FSDP2 design,
    pytorch/pytorch issue #114299, "FSDP2 ... avoids recordStream ... deterministic memory")."""
    return 3.0 if fsdp_version == 1 else 2.0


def gradient_parameters(trained_parameters: Number, frozen_in_units: Number, mixed_units: bool) -> Number:
    """Parameters whose gradients a GPU holds: the trained ones, N_trained; with FSDP1 units
    whose flat parameter holds frozen weights beside trained ones, N_trained + the frozen
    weights of those units. Under ``use_orig_params=True`` the original parameters are views
    of the flat parameter, which requires a gradient when any of them does, so autograd fills
    its gradient whole (PyTorch FSDP docs, ``FullyShardedDataParallel``: mixing frozen and
    non-frozen parameters in one instance makes "the gradient memory usage ... equivalent to
    not freezing those parameters"). ``frozen_in_units``: the frozen weights wrapped with
    trained ones (a LoRA model wrapped by block: every block's weights, the embeddings and
    output head, a unit of their own, left out)."""
    return trained_parameters + (frozen_in_units if mixed_units else 0.0 * frozen_in_units)


def accumulates_unsharded(gradient_sync: str, accumulation_steps: int) -> bool:
    """Whether sharded gradients are held whole while micro-batches accumulate: when they are
    reduced once per step (``gradient_sync: step``) over more than one micro-batch. FSDP1's
    post-backward hook returns before its reduce-scatter while gradients are not synchronised,
    so each unit's unsharded gradient stays in ``flat_param.grad`` until the last micro-batch
    (PyTorch ``torch/distributed/fsdp/_runtime_utils.py``, ``_post_backward_hook``: ``if not
    state._sync_gradients: ... return``; ``no_sync()`` docstring: "FSDP will accumulate the
    full model gradients (instead of gradient shards) until the eventual sync", and with CPU
    offload "the gradients will not be offloaded to CPU when inside the context manager")."""
    return gradient_sync == "step" and accumulation_steps > 1


def pipelined_unsharded_gb(
    parameters: Number,
    trained_parameters: Number,
    weight_bytes: float,
    gradient_bytes: float,
    model_parallel: int,
    pipelined: bool,
) -> Number:
    """GB a pipeline stage under FSDP/ZeRO-3 holds unsharded through the step: its whole
    weights and its gradients, N·b_w/(t·p) + N_trained·b_g/(t·p), over the sharded shares
    counted elsewhere. With pipeline parallel the stage's FSDP units are not resharded between
    micro-batches (torchtitan ``apply_fsdp``: "For PP, do not reshard after forward to avoid
    per-microbatch all-gathers"), and PyTorch's pipeline schedule runs every backward but the
    last with ``set_reshard_after_backward(False)`` and ``set_requires_gradient_sync(False)``,
    so the unsharded gradients accumulate until the last micro-batch's backward
    (``torch.distributed.pipelining.stage``, ``backward_maybe_with_nosync``). 0 without pipeline
    parallel or without sharded weights. In place of the two gathered layers FSDP holds
    otherwise (:func:`memory.gathered_layer_gb`)."""
    if not pipelined:
        return 0.0 * parameters
    return (parameters * weight_bytes + trained_parameters * gradient_bytes) / model_parallel / 1e9


def root_gathered_gb(
    embedding_parameters: Number, weight_bytes: float, gradient_bytes: float, data_parallel: Number, full: bool
) -> Number:
    """GB of the root FSDP unit (input embedding, output head) kept whole from the forward
    through the backward, over its sharded share already counted: FSDP does not reshard the
    root after the forward because the backward gathers it at once (PyTorch ``fully_shard``
    docs, ``reshard_after_forward``: the root's is set to False), and the root's gradients are
    reduce-scattered only when its backward ends, the last of all, so the head's full gradient
    is held through the backward: N_emb·(b_w + b_g)·(1 − 1/d), b_g = 0 when the embeddings do
    not train."""
    if not full:
        return 0.0 * embedding_parameters
    return embedding_parameters * (weight_bytes + gradient_bytes) * (1.0 - 1.0 / data_parallel) / 1e9


def expert_split(expert_share: Number, expert_parallel: int, data_parallel: Number, sharded: bool) -> Number:
    """Factor on a state's per-GPU GB when expert parallelism splits the experts: experts on
    EP ranks drawn from the data-parallel ranks, each holding E/ep experts (and ZeRO/FSDP then
    sharding them over d/ep). With a share s of the parameters in experts, the state's divisor
    is d for the rest (1 unsharded) and max(ep, d) for the experts: the per-GPU GB computed for
    the rest's divisor × ((1 − s) + s·d_rest/d_experts)."""
    rest = data_parallel if sharded else 1.0
    experts = np.maximum(expert_parallel, rest)
    return (1.0 - expert_share) + expert_share * rest / experts


def offloaded_gradients_gb(
    trained_parameters: Number, gradient_bytes: float, layers: int, model_parallel: int
) -> Number:
    """GB of gradients left on a GPU when they are offloaded (ZeRO-Offload, Ren et al. 2021,
    §4.1: gradients move to host memory as they are reduced; FSDP ``CPUOffload``: gradients
    offloaded with the parameters): one layer's worth in flight, N/L·b_g ÷ (tensor × pipeline)."""
    return trained_parameters / layers * gradient_bytes / model_parallel / 1e9


OPTIMIZER_TEMPORARIES = {"foreach": 1.0, "fused": 0.0, "for_loop": 0.0}
"""Full-size temporaries one optimizer step allocates, in moments' sizes, by PyTorch AdamW's
implementation: ``foreach`` (the default on CUDA) computes √v for every parameter in one
multi-tensor call (``torch._foreach_sqrt``), one buffer of the moments' size; ``fused``
updates each parameter in one kernel, no buffer; ``for_loop`` one parameter's buffer at a
time, negligible (torch/optim/adamw.py, ``_multi_tensor_adamw``, ``_fused_adamw``,
``_single_tensor_adamw``)."""


NF4_CODE_BITS = 4.0
NF4_BLOCK = 64
DOUBLE_QUANT_BLOCK = 256


def nf4_bytes_per_param(double_quant: bool) -> float:
    """Bytes per quantised weight of NF4 (Dettmers et al. 2023, QLoRA §3): a 4-bit code plus
    one fp32 absmax per 64-weight block, 32/64 = 0.5 bits; double quantisation stores the
    absmaxes in 8 bits with one fp32 constant per 256 of them, 8/64 + 32/(64·256) = 0.127
    bits. (4 + 0.5)/8 = 0.5625 bytes, or (4 + 0.127)/8 = 0.516."""
    constants = 8.0 / NF4_BLOCK + 32.0 / (NF4_BLOCK * DOUBLE_QUANT_BLOCK) if double_quant else 32.0 / NF4_BLOCK
    return (NF4_CODE_BITS + constants) / 8.0


def loading_peak_gb(resident_gb: Number, largest_matrix_parameters: Number, load_bytes: float) -> Number:
    """GB while a quantised base loads: what is already resident (the quantised blocks, the
    embeddings) plus one matrix in its checkpoint precision before it is quantised
    (bitsandbytes quantises a ``Params4bit`` as it moves to the GPU, tensor by tensor)."""
    return resident_gb + largest_matrix_parameters * load_bytes / 1e9


def paged_gb(optimizer_states: Number, paged: bool) -> Number:
    """GB of optimizer states that page to host memory when the GPU runs short (bitsandbytes'
    paged optimizers keep them in CUDA unified memory, evicted page by page: Dettmers et al.
    2023, QLoRA §3, "Paged Optimizers"); they count toward the peak but not toward the fit."""
    return optimizer_states if paged else 0.0 * optimizer_states
