"""Memory per GPU of one training plan, term by term (:data:`MEMORY_TERMS`): the breakdown
on a number of GPUs, the phase that sets the peak, a pilot's calibration of it, the loading
peak of a quantised base and the host memory offloading takes. The formulas live in
:mod:`memory`, :mod:`allocator` and :mod:`checkpointing`; this module wires a plan's keys to
them."""

from __future__ import annotations

import numpy as np

from ftcost_helpers.engine.model import allocator, architecture, blocks, checkpointing, compute, memory, work
from ftcost_helpers.engine.model.training_shape import Shape, frozen_with_gradients
from ftcost_helpers.engine.pricebook import MethodSpec, PriceBook
from ftcost_helpers.engine.quantities import Number
from ftcost_helpers.engine.schema import Params

MEMORY_TERMS = (
    "weights",
    "gradients",
    "optimizer_states",
    "activations",
    "logits",
    "gathered_layer",
    "step_buffer",
    "overhead",
)
"""The terms of memory per GPU, in the order they stack. An RL plan adds ``rollout`` (the
inference engine's weights and KV cache, :func:`rollout_memory_gb`)."""


def memory_breakdown(p: Params, book: PriceBook, shape: Shape, trained: Number, gpus: Number) -> dict[str, Number]:
    """GB per GPU of each memory term on ``gpus`` GPUs (see :mod:`memory` and :mod:`allocator`)."""
    t, method = p.training, work.method_spec(p, book)
    precision, mp = t.precision, t.tensor_parallel * t.pipeline_parallel
    dp = memory.state_shards(gpus, t.tensor_parallel, t.pipeline_parallel)
    plan_work, copies = work.method_work(p), work.frozen_copies(p, method)
    trained = trained * plan_work.trained_models  # PPO's critic trains beside the policy
    embeddings = architecture.embedding_parameters(shape.vocab, shape.hidden, shape.tied)
    frozen_weight_bytes, quantised = _frozen_storage(p, method)
    frozen = memory.frozen_bytes(shape.total * copies, embeddings * copies, frozen_weight_bytes, quantised)
    weights_offloaded = t.offload == "optimizer_and_parameters"
    optimizer_offloaded = t.offload != "none"
    shard_optimizer, shard_gradients = t.sharding != "none", t.sharding in {"gradients", "full"}
    weight_bytes, opt_bytes = memory.WEIGHT_BYTES[precision], memory.optimizer_bytes_per_param(precision, t.optimizer)
    layer_bytes = memory.FP8_WEIGHT_BYTES if t.fp8_weights else weight_bytes  # a gathered block's weights
    tokens = t.sequence_length * t.micro_batch_size * plan_work.batch_rows  # chosen and rejected side by side
    gathered = t.sharding == "full" or weights_offloaded
    no_buffer = t.optimizer in memory.QUANTISED_MOMENT_BYTES or optimizer_offloaded or t.optimizer == "adafactor"
    fused_step = no_buffer or allocator.OPTIMIZER_TEMPORARIES[t.optimizer_implementation] == 0.0
    moment_bytes = memory.QUANTISED_MOMENT_BYTES.get(t.optimizer, memory.STATE_PRECISION_BYTES[precision])
    experts = _expert_share(shape)
    trained_experts = experts if method.trains_all_weights else 0.0
    ep = t.expert_parallel
    mixed = t.fsdp_mixed_units and not method.trains_all_weights
    frozen_in_units = frozen_with_gradients(p, method, shape) * plan_work.trained_models
    with_gradients = allocator.gradient_parameters(trained, frozen_in_units, mixed)
    unsharded = allocator.accumulates_unsharded(t.gradient_sync, t.gradient_accumulation_steps)
    shard_gradients = shard_gradients and not unsharded
    gradient_experts = experts if mixed else trained_experts
    gradients = memory.gradients_gb(with_gradients, memory.GRADIENT_BYTES[precision], mp, dp, shard_gradients)
    if optimizer_offloaded and not unsharded:
        gradients = allocator.offloaded_gradients_gb(with_gradients, memory.GRADIENT_BYTES[precision], shape.layers, mp)
    units = allocator.gathered_units(t.fsdp_version) if t.sharding == "full" else 2.0
    pipelined = t.sharding == "full" and t.pipeline_parallel > 1 and not weights_offloaded
    return {
        "weights": memory.weights_gb(
            trained,
            frozen,
            weight_bytes,
            mp,
            dp,
            t.sharding == "full",
            weights_offloaded,
        )
        * allocator.expert_split(experts, ep, dp, t.sharding == "full"),
        "gradients": gradients * allocator.expert_split(gradient_experts, ep, dp, shard_gradients),
        "optimizer_states": memory.optimizer_states_gb(trained, opt_bytes, mp, dp, shard_optimizer, optimizer_offloaded)
        * allocator.expert_split(trained_experts, ep, dp, shard_optimizer),
        "activations": memory.kept_activations_gb(
            _kept_bytes_per_token(p, shape), tokens, t.tensor_parallel, t.context_parallel
        ),
        "logits": memory.logits_gb(
            tokens, shape.vocab, t.tensor_parallel, t.context_parallel, memory.LOGIT_BYTES[t.cross_entropy]
        ),
        "gathered_layer": memory.gathered_layer_gb(
            shape.total, shape.layers, layer_bytes, mp, gathered and not pipelined, units
        )
        + allocator.pipelined_unsharded_gb(
            shape.total * copies + trained,
            trained,
            layer_bytes,
            memory.GRADIENT_BYTES[precision],
            mp,
            pipelined,
        )
        + allocator.root_gathered_gb(
            embeddings * (copies + method.trains_all_weights) / mp,
            frozen_weight_bytes,
            memory.GRADIENT_BYTES[precision] if method.trains_all_weights else 0.0,
            dp,
            t.sharding == "full",
        )
        + _dequantised_copies_gb(p, method, shape, embeddings),
        "step_buffer": memory.step_buffer_gb(trained, moment_bytes, mp, dp, shard_optimizer, fused_step)
        * allocator.expert_split(trained_experts, ep, dp, shard_optimizer),
        "overhead": book.training_physics.framework_overhead_gb + 0.0 * shape.total,
    } | work.rollout_term(p, book, shape)


def _frozen_storage(p: Params, method: MethodSpec) -> tuple[float, float | None]:
    """(bytes per weight of the frozen embeddings and head, bytes per weight of the frozen
    blocks' linear layers or None when they are the same): the precision's weight bytes and
    a quantised base's (:func:`_quantised_bytes`); under ``fp8_weights`` the blocks at
    :data:`memory.FP8_WEIGHT_BYTES` and the embeddings and head in bf16."""
    if p.training.fp8_weights:
        return memory.BF16, memory.FP8_WEIGHT_BYTES
    return memory.WEIGHT_BYTES[p.training.precision], _quantised_bytes(p, method)


def _quantised_bytes(p: Params, method: MethodSpec) -> float | None:
    """Bytes per weight of a quantised base: the method's (NF4 with double quantisation), or
    NF4 without it when the plan says so (:func:`allocator.nf4_bytes_per_param`)."""
    stored = method.quantised_base_bytes_per_param
    if stored is None or p.training.quantised_base != "nf4" or p.training.nf4_double_quant:
        return stored
    return stored - allocator.nf4_bytes_per_param(True) + allocator.nf4_bytes_per_param(False)


def _expert_share(shape: Shape) -> Number:
    """Share of the parameters in the routed experts' MLPs (0 for a dense model): the mixture
    layers' E MLPs of width i (:func:`blocks.mlp_parameters`; shared experts and dense first
    layers are not split) over the total."""
    if shape.experts <= 1:
        return 0.0
    kind = shape.blocks
    expert = blocks.mlp_parameters(shape.hidden, shape.intermediate, kind.mlp, kind.biases)
    routed = (shape.layers - kind.dense_layers) * expert * shape.experts
    return np.minimum(routed / shape.total, 1.0)


def _kept_bytes_per_token(p: Params, shape: Shape) -> Number:
    """Activation bytes per token of the longest sequence the stack keeps under the plan's
    checkpointing policy (:func:`checkpointing.kept_bytes_per_token`)."""
    t, kind = p.training, shape.blocks
    args = (shape.layers, shape.hidden, shape.query_width, shape.kv_width, shape.heads, shape.intermediate)
    stack = blocks.stack_activation_bytes(*args, shape.routed, kind)
    inner = blocks.stack_inner_mlp_bytes(shape.layers, shape.intermediate, shape.routed, kind)
    alternate = blocks.stack_alternate_matmul_bytes(*args, shape.routed, kind)
    scores = 0.0 if t.memory_efficient_attention else 5.0 * shape.heads * t.sequence_length
    layers = blocks.checkpointed_layers(shape.layers, kind)
    stack = stack - memory.fp8_activation_input_saving(inner, t.fp8_activations)
    stack = stack - memory.frozen_mlp_unsaved_bytes(inner, shape.layers, shape.hidden, t.frozen_mlp_unsaved)
    return checkpointing.kept_bytes_per_token(
        stack, scores, layers, shape.hidden, inner, t.activation_checkpointing, t.checkpoint_every_layers, alternate
    )


def _dequantised_copies_gb(p: Params, method: MethodSpec, shape: Shape, embeddings: Number) -> Number:
    """GB of a quantised base's dequantised copies kept for the backward (0 for other methods)."""
    t = p.training
    if method.quantised_base_bytes_per_param is None:
        return 0.0 * shape.total
    kept = not compute.DEQUANTISATION[t.quantised_base].in_backward
    quantised = (shape.total - embeddings) * work.frozen_copies(p, method)
    return memory.dequantised_copies_gb(
        quantised,
        shape.layers,
        t.tensor_parallel * t.pipeline_parallel,
        kept,
        t.activation_checkpointing,
        t.checkpoint_every_layers,
    )


MEMORY_LABELS = {
    "weights": "Weights",
    "gradients": "Gradients",
    "optimizer_states": "Optimizer states",
    "activations": "Activations",
    "logits": "Logits and loss (fp32)",
    "gathered_layer": "Working layer copies (FSDP gather, offload, dequantised base)",
    "step_buffer": "Optimizer-step buffer",
    "overhead": "CUDA and framework",
    "rollout": "RL rollout engine (weights, KV)",
}
"""How each memory term reads in a table or a legend."""


def peak_phase_terms(terms: dict[str, float]) -> dict[str, float]:
    """The terms of whichever phase sets the peak (floats, base case): the forward/backward
    phase without the step's buffer, or the optimizer step without activations, logits and
    the gathered layer, or an RL plan's rollout (the states and the rollout engine). Their sum
    is the peak of :func:`peak_of`."""
    phases = {
        "forward_backward": {"step_buffer", "rollout"},
        "step": {"activations", "logits", "gathered_layer", "rollout"},
        "rollout": {"activations", "logits", "gathered_layer", "step_buffer"},
    }
    sums = {phase: sum(v for name, v in terms.items() if name not in dropped) for phase, dropped in phases.items()}
    if "rollout" not in terms:
        sums.pop("rollout")
    dropped = phases[max(sums, key=lambda phase: sums[phase])]
    return {name: (0.0 if name in dropped else value) for name, value in terms.items()}


def peak_of(terms: dict[str, Number]) -> Number:
    """The peak over the phases of a breakdown (see :func:`memory.peak_gb`)."""
    return memory.peak_gb(*(terms[name] for name in MEMORY_TERMS), terms.get("rollout", 0.0))


def calibrated_memory(terms: dict[str, Number], ratio: float) -> dict[str, Number]:
    """The memory terms with every tensor term scaled by a pilot's measured ÷ estimated
    peak (the CUDA and framework overhead, which the allocator's peak does not count, kept)."""
    if ratio == 1.0:
        return terms
    return {name: value if name == "overhead" else value * ratio for name, value in terms.items()}


def loading_peak_gb(p: Params, method: MethodSpec, shape: Shape, terms: dict[str, Number]) -> Number:
    """Live GB while a quantised base loads: its resident weights plus the largest block
    matrix (h × i, an MLP projection) in bf16 before quantisation; 0 for other methods."""
    if method.quantised_base_bytes_per_param is None:
        return 0.0 * shape.total
    largest = shape.hidden * np.maximum(shape.intermediate, shape.hidden)
    return allocator.loading_peak_gb(terms["weights"], largest / p.training.tensor_parallel, memory.BF16)


def host_memory_gb(p: Params, book: PriceBook, shape: Shape, trained: Number) -> Number:
    """GB of host memory per GPU holding offloaded states: the optimizer states and the
    gradients (``optimizer``), and the weights too (``optimizer_and_parameters``), each as
    large as it would be on the GPU (0 without offload); on NVMe the states and weights live
    on the drives and the host holds the gradients."""
    t = p.training
    if t.offload == "none":
        return 0.0 * trained
    on_gpu = p.model_copy(update={"training": t.model_copy(update={"offload": "none"})})
    moved = memory_breakdown(on_gpu, book, shape, trained, t.gpus_per_run)
    offloaded = ("optimizer_states", "gradients") + (("weights",) if t.offload == "optimizer_and_parameters" else ())
    on_drives = ("optimizer_states", "weights") if t.offload_device == "nvme" else ()
    return sum(moved[name] for name in offloaded if name not in on_drives)
