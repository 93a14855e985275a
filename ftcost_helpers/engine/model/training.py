"""The compute area's physics and memory views of one plan: the architecture's parameter
counts, FLOPs and time per run, and memory per GPU as a breakdown with fit and the fewest
GPUs. The formulas live in :mod:`architecture`, :mod:`compute` and :mod:`memory`; this
module only wires a plan's keys to them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ftcost_helpers.engine.model import (
    allocator,
    architecture,
    batches,
    blocks,
    checkpointing,
    communication,
    compute,
    memory,
    offload,
    preference,
    work,
)
from ftcost_helpers.engine.model.calibrated import memory_ratio
from ftcost_helpers.engine.model.utilisation import band_factor
from ftcost_helpers.engine.pricebook import GpuSpec, MethodSpec, PriceBook
from ftcost_helpers.engine.quantities import Number
from ftcost_helpers.engine.schema import Params

BILLION = 1e9
ARCHITECTURE_TOLERANCE = 0.10
"""The given parameter count and the architecture's may differ by this share before the
audit says so (embeddings, biases and norms the formulas leave out are ~1–3%)."""

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


@dataclass(frozen=True)
class ComputeFacts:
    """What the compute area found besides its cost lines."""

    rate_usd_per_gpu_hour: Number
    rate_source: str
    booked_gpu_hours: Number
    booked_gpu_hours_per_run: Number
    rerun_gpu_hours: Number
    tokens_per_run: Number
    flops_per_run: Number
    physics_gpu_hours_per_run: Number
    physics_hours_per_run: Number
    implied_utilisation: Number
    state_gb: Number
    activations_gb: Number
    memory_per_gpu_gb: Number
    usable_gb_per_gpu: Number
    fewest_gpus: Number
    memory_breakdown_gb: dict[str, Number] = field(default_factory=dict)
    utilisation: Number = 0.0
    total_parameters: Number = 0.0
    active_parameters: Number = 0.0
    trained_parameters: Number = 0.0
    architecture_parameters: Number = 0.0
    optimizer_step_gpu_hours_per_run: Number = 0.0
    host_transfer_gpu_hours_per_run: Number = 0.0
    capacity_gb_per_gpu: Number = 0.0
    """The GPU's memory in GB (the vendor's GiB × 1.073741824)."""
    allocated_gb: Number = 0.0
    """Live tensors at the peak (``max_memory_allocated``): the peak less the CUDA context,
    or the loading peak of a quantised base when that is higher."""
    reserved_gb: Number = 0.0
    """The caching allocator's reserve at the peak (``max_memory_reserved``)."""
    paged_gb: Number = 0.0
    """Optimizer states that page to the host under pressure (paged optimizers)."""
    loading_peak_gb: Number = 0.0
    """Live tensors while a quantised base loads (0 for other methods)."""
    host_memory_gb: Number = 0.0
    """Host memory per GPU for offloaded states (ZeRO-Offload, FSDP CPU offload)."""
    communication_gpu_hours_per_run: Number = 0.0
    time_split_gpu_hours_per_run: dict[str, Number] = field(default_factory=dict)
    """GPU-hours per run by what bounds them: matmul, memory_bound, communication, overheads
    (and ``rollout`` for an RL plan)."""
    compute_vs_sft: Number = 1.0
    """Physics GPU-hours of the plan ÷ those of SFT on the same data, training the same weights
    (all, or the adapters), at the plan's own efficiency: a result of the method's work (DPO's
    chosen, rejected and reference passes; RL's rollouts and extra models), 1 for SFT, LoRA and
    continued pre-training."""
    rollout_gpu_hours_per_run: Number = 0.0
    """GPU-hours per run of generating RL rollouts (0 for other methods)."""
    rl_samples_per_run: Number = 0.0
    """Generated samples per run (prompts × group size × epochs; 0 for other methods)."""

    @property
    def fits(self) -> Number:
        """Whether the live tensors that cannot page out fit the usable memory (per draw)."""
        return np.asarray(self.allocated_gb) - np.asarray(self.paged_gb) <= self.usable_gb_per_gpu

    @property
    def architecture_mismatch(self) -> float:
        """|architecture's count − given count| ÷ given count (base case)."""
        return float(np.max(architecture.relative_mismatch(self.total_parameters, self.architecture_parameters)))


@dataclass(frozen=True)
class Shape:
    """The model's architecture as the formulas take it (derived keys filled in)."""

    layers: int
    hidden: int
    heads: int
    kv_heads: int
    vocab: int
    tied: bool
    experts: int
    routed: int
    intermediate: Number
    total: Number
    active: Number
    architecture_total: Number
    head_dim: int | None = None
    sliding_window: int | None = None
    sliding_layers: int = 0
    blocks: blocks.Blocks = field(default_factory=blocks.Blocks)

    @property
    def query_width(self) -> float:
        """a·d: the query projection's and the attention output's width."""
        return architecture.query_width(self.hidden, self.heads, self.head_dim)

    @property
    def kv_width(self) -> float:
        """a_kv·d: the key and value projections' width."""
        return architecture.kv_width(self.hidden, self.heads, self.kv_heads, self.head_dim)


def model_blocks(p: Params) -> blocks.Blocks:
    """What sets the model's blocks apart from the Llama block (:class:`blocks.Blocks`):
    dense MLP, parallel blocks, biases, an encoder, shared experts, dense first layers, MLA."""
    return blocks.blocks_from_keys(dict(p.base_model))


def model_shape(p: Params) -> Shape:
    """The architecture with its derived keys: KV heads, head dimension, MLP width, active
    parameters."""
    m = p.base_model
    kv_heads = m.kv_heads or m.attention_heads
    experts, routed = m.experts or 1, m.experts_per_token or 1
    total = m.parameters_billion * BILLION
    shape = (m.layers, m.hidden_size, m.attention_heads, kv_heads)
    vocab, tied, d, kind = m.vocab_size, m.tied_embeddings, m.head_dim, model_blocks(p)
    if m.intermediate_size is None:
        width = blocks.derived_intermediate_size(total, *shape, vocab, tied, experts, d, kind)
    else:
        width = float(m.intermediate_size)
    counted = blocks.total_parameters(*shape, width, vocab, tied, experts, d, kind)
    if m.active_parameters_billion is not None:
        active = m.active_parameters_billion * BILLION
    elif experts > 1 or kind.encoder_decoder:
        active = blocks.active_parameters(*shape, width, vocab, tied, routed, d, kind)
    else:
        active = total
    sliding = 0
    if m.sliding_window:  # every layer slides unless the file says how many
        sliding = m.layers if m.sliding_window_layers is None else m.sliding_window_layers
    return Shape(
        *shape, vocab, tied, experts, routed, width, total, active, counted, d, m.sliding_window, sliding, kind
    )


def trained_parameters(p: Params, method: MethodSpec, shape: Shape, active: bool = False) -> Number:
    """Parameters that get gradients: all of them, or the adapters (``trainable_fraction``
    when given, else from the LoRA rank and target modules). ``active``: only those a token
    passes through (the routed experts' adapters), which is what the FLOPs count."""
    if method.trains_all_weights:
        return shape.active if active else shape.total
    if p.training.trainable_fraction is not None:
        return p.training.trainable_fraction * (shape.active if active else shape.total)
    lora = p.training.lora
    adapters = blocks.lora_parameters(
        lora.rank,
        lora.target_modules,
        shape.layers,
        shape.hidden,
        shape.heads,
        shape.kv_heads,
        shape.intermediate,
        shape.routed if active else shape.experts,
        shape.head_dim,
        shape.blocks,
    )
    return adapters / 2.0 if active and shape.blocks.encoder_decoder else adapters


def default_utilisation(p: Params, method: MethodSpec, book: PriceBook) -> Number:
    """The plan's utilisation, else the price book's default for the method and model size."""
    if p.training.utilisation is not None:
        return p.training.utilisation
    return book.default_utilisation(method.trains_all_weights, p.base_model.parameters_billion)


def matmul_peak_tflops(precision: str, gpu: GpuSpec) -> float:
    """Dense peak the matmuls run at: FP8 for ``fp8``, TF32 (half the BF16 peak on A100,
    H100 and B200 datasheets) for ``fp32``, else BF16."""
    if precision == "fp8" and gpu.fp8_tflops is not None:
        return gpu.fp8_tflops
    return gpu.bf16_tflops / 2.0 if precision == "fp32" else gpu.bf16_tflops


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


def frozen_with_gradients(p: Params, method: MethodSpec, shape: Shape, active: bool = False) -> Number:
    """Frozen weights that get gradients all the same: under ``fsdp_mixed_units`` (FSDP1 units
    mixing frozen and trained weights, :func:`allocator.gradient_parameters`) every block's
    weights, the total (``active``: a token's active) parameters less the embeddings and head,
    a frozen unit of their own; none otherwise, and none when every weight trains."""
    parameters = shape.active if active else shape.total
    if not p.training.fsdp_mixed_units or method.trains_all_weights:
        return 0.0 * parameters
    return parameters - architecture.embedding_parameters(shape.vocab, shape.hidden, shape.tied)


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


def fewest_gpus(p: Params, book: PriceBook, shape: Shape, trained: Number, usable: Number) -> Number:
    """The fewest GPUs on which the run fits, keeping the plan's tensor, pipeline and
    context degrees: their product × the fewest data-parallel replicas (inf when none do).
    A mixture of experts may also split its experts differently: every expert-parallel degree
    from 1 to the experts in powers of two (and the plan's own) is tried, each needing at
    least as many GPUs as EP ranks, and the fewest GPUs over them is the answer."""
    t = p.training
    best = _fewest_replicas(p, book, shape, trained, usable)
    if t.expert_parallel > 1:
        best = np.maximum(best, np.ceil(t.expert_parallel / t.model_parallel))
    for ep in expert_parallel_candidates(shape.experts, t.expert_parallel):
        split = p.model_copy(update={"training": t.model_copy(update={"expert_parallel": ep})})
        replicas = np.maximum(_fewest_replicas(split, book, shape, trained, usable), np.ceil(ep / t.model_parallel))
        best = np.minimum(best, replicas)
    return (best * t.model_parallel)[()]


def expert_parallel_candidates(experts: int, planned: int) -> tuple[int, ...]:
    """Expert-parallel degrees the fewest-GPUs search tries besides the plan's: powers of two
    up to the experts (none for a dense model)."""
    if experts <= 1:
        return ()
    return tuple(ep for ep in (2**k for k in range(int(np.log2(experts)) + 1)) if ep != planned)


def _fewest_replicas(p: Params, book: PriceBook, shape: Shape, trained: Number, usable: Number) -> Number:
    """The fewest data-parallel replicas on which the plan fits (inf when none do): the
    memory that shards falls as 1/d, the rest stays (:func:`memory.fewest_data_parallel`),
    in both phases of the peak."""
    t = p.training
    one = memory_breakdown(p, book, shape, trained, t.model_parallel)
    many = memory_breakdown(p, book, shape, trained, 1e30 * t.model_parallel)
    fixed_fb = sum(many[name] for name in MEMORY_TERMS if name != "step_buffer")
    fixed_step = many["weights"] + many["gradients"] + many["optimizer_states"] + many["step_buffer"] + many["overhead"]
    sharded_fb = sum(one[name] - many[name] for name in ("weights", "gradients", "optimizer_states"))
    sharded_step = sharded_fb + one["step_buffer"] - many["step_buffer"]
    shards = t.sharding != "none"
    replicas = np.maximum(
        memory.fewest_data_parallel(fixed_fb, sharded_fb, usable, shards),
        memory.fewest_data_parallel(fixed_step, sharded_step, usable, shards),
    )
    if "rollout" in many:  # RL's rollout phase: the states and the engine (its batch as the plan spreads it)
        fixed_rollout = many["weights"] + many["gradients"] + many["optimizer_states"] + many["rollout"]
        rollout = memory.fewest_data_parallel(fixed_rollout + many["overhead"], sharded_fb, usable, shards)
        replicas = np.maximum(replicas, rollout)
    return replicas


def time_terms(p: Params, book: PriceBook, shape: Shape, trained: Number, tokens: Number) -> dict[str, Number]:
    """FLOPs and GPU-hours of one run: compute (a roofline of the matmuls' FLOPs and weight
    traffic, attention, kernel overheads, dequantisation, the pipeline's bubble), the
    optimizer steps, host transfers and the exposed communication; ``split_gpu_hours`` sorts
    them by what bounds them (matmul, memory_bound, communication, overheads)."""
    t, gpu, method = p.training, book.gpus[p.training.gpu], work.method_spec(p, book)
    processed = compute.processed_tokens(tokens, t.padding_efficiency)
    row = batches.row_tokens(t.sequence_length, t.packing, t.mean_sequence_length)
    matmul, attention = compute.flops_per_token(
        shape.active,
        0.0 if method.trains_all_weights else trained_parameters(p, method, shape, active=True),
        method.trains_all_weights,
        blocks.attention_layer_equivalents(shape.layers, shape.blocks),
        blocks.attention_width_for_flops(shape.query_width, shape.heads, shape.blocks.latent),
        row,
        t.activation_checkpointing,
        shape.sliding_layers,
        shape.sliding_window,
        t.checkpoint_every_layers,
        frozen_with_gradients(p, method, shape, active=True),
    )
    plan_work, epochs = work.method_work(p), work.epochs_of(p)
    forward_matmul, forward_attention = work.forward_flops_per_token(p, shape, row)
    matmul_flops = preference.run_flops(plan_work, matmul, forward_matmul, processed, epochs)
    attention_flops = preference.run_flops(plan_work, attention, forward_attention, processed, epochs)
    passes = preference.forward_equivalents(plan_work, epochs, work.FORWARD_SHARE)
    micro_batches = processed * passes / (row * t.micro_batch_size)
    utilisation = default_utilisation(p, method, book)
    if t.utilisation is None:  # the book's band, carried to this GPU and matmul shape
        utilisation = utilisation * band_factor(
            book.calibrated_ridge_span(),
            gpu.bf16_tflops,
            gpu.memory_bandwidth_gbps,
            row * t.micro_batch_size / t.context_parallel,
            shape.hidden,
            shape.intermediate / t.tensor_parallel,
        )
    peaks = (matmul_peak_tflops(t.precision, gpu), gpu.bf16_tflops / 2.0 if t.precision == "fp32" else gpu.bf16_tflops)
    with_gradients = trained + frozen_with_gradients(p, method, shape)
    roofline = (_matmul_bytes(p, shape, with_gradients, micro_batches), gpu.memory_bandwidth_gbps)
    flops = (matmul_flops, attention_flops)
    seconds = compute.compute_seconds(*flops, *peaks, utilisation, method.throughput_penalty, *roofline)
    at_utilisation = compute.compute_seconds(*flops, *peaks, utilisation, method.throughput_penalty)
    if t.compiled and gpu.memory_bandwidth_gbps:
        saved = _compile_saved_seconds(p, book, shape, processed * passes)
        at_peak = compute.compute_seconds(*flops, *peaks, 1.0, method.throughput_penalty, *roofline)
        seconds = np.maximum(seconds - saved, at_peak)
    matmul_seconds = np.minimum(seconds, at_utilisation)
    memory_seconds = seconds - matmul_seconds + _dequantise_seconds(p, book, method, shape, micro_batches)
    launch = _launch_seconds(p, book, method, shape, micro_batches)
    bubble = compute.pipeline_bubble_factor(t.pipeline_parallel, t.gradient_accumulation_steps)
    stepped = offload.step_work(p, _offloaded_weight_bytes(p, method, shape, trained), trained)
    batch_tokens = row * t.micro_batch_size * t.gradient_accumulation_steps * _dp(p)
    steps = compute.optimizer_steps(processed * plan_work.trained / plan_work.batch_rows, batch_tokens)
    step_seconds = compute.optimizer_step_seconds(
        stepped.parameters,
        stepped.gpu_bytes_per_param,
        gpu.memory_bandwidth_gbps,
        book.training_physics.elementwise_bandwidth_share,
    ) + offload.offloaded_step_seconds(p, book, stepped)
    transfer_seconds = 0.0 * stepped.link_bytes
    if t.offload != "none":
        transfer_seconds = compute.host_transfer_seconds(stepped.link_bytes, offload.host_link_gbps(p, book))
    gpus = t.gpus_per_run
    busy = (matmul_seconds + memory_seconds + launch) * bubble
    communication = _communication_gpu_seconds(p, book, method, shape, trained, steps, busy)
    split = {
        "matmul": matmul_seconds,
        "memory_bound": memory_seconds + gpus * steps * step_seconds,
        "communication": communication + gpus * steps * transfer_seconds,
        "overheads": busy - matmul_seconds - memory_seconds,
    }
    if t.method == "rl" and t.rl is not None:
        peak = matmul_peak_tflops(t.precision, gpu)
        split["rollout"] = work.rollout_wall_seconds(p, book, shape, peak, utilisation) * gpus
    return {
        "flops": matmul_flops + attention_flops,
        "compute_gpu_hours": busy / compute.SECONDS_PER_HOUR,
        "step_gpu_hours": gpus * steps * step_seconds / compute.SECONDS_PER_HOUR,
        "transfer_gpu_hours": gpus * steps * transfer_seconds / compute.SECONDS_PER_HOUR,
        "communication_gpu_hours": communication / compute.SECONDS_PER_HOUR,
        "split_gpu_hours": {name: value / compute.SECONDS_PER_HOUR for name, value in split.items()},
        "steps": steps,
        "utilisation": utilisation,
        "sft_flops": (matmul + attention) * processed,
    }


ACTIVATION_BYTES = {"fp32": 4.0}
"""Bytes per activation element the collectives move: fp32 under ``fp32``, else bf16 (2;
FP8 training keeps its activations between layers in bf16)."""


def degrees(p: Params, book: PriceBook) -> communication.Degrees:
    """The run's parallel degrees and GPUs per node (the plan's, else the GPU's usual)."""
    t = p.training
    per_node = t.gpus_per_node or book.gpus[t.gpu].gpus_per_node
    return communication.Degrees(
        t.tensor_parallel, t.context_parallel, _dp(p), t.pipeline_parallel, t.expert_parallel, per_node
    )


def link_speeds(p: Params, book: PriceBook) -> tuple[float | None, float | None]:
    """GB/s per GPU and direction inside a node and between nodes: ``training.interconnect``
    where it gives them, else the GPU catalogue's."""
    gpu, given = book.gpus[p.training.gpu], p.training.interconnect
    intra = given.intra_node_gbps if given and given.intra_node_gbps else gpu.intra_node_gbps
    inter = given.inter_node_gbps if given and given.inter_node_gbps else gpu.inter_node_gbps
    return intra, inter


def expert_parameters(shape: Shape) -> Number:
    """Parameters in the routed experts: with E experts of e parameters each, k per token,
    total − active = (E − k)·e, so E·e = (total − active)·E / (E − k); 0 for a dense model."""
    if shape.experts <= 1 or shape.experts <= shape.routed:
        return 0.0 * shape.total
    return (shape.total - shape.active) * shape.experts / (shape.experts - shape.routed)


def step_bytes(
    p: Params, book: PriceBook, method: MethodSpec, shape: Shape, trained: Number
) -> communication.StepBytes:
    """What one GPU's collectives move per optimizer step (see :mod:`communication`). The
    routed experts are split over the expert-parallel ranks and synchronised only among
    their own replicas (data ÷ EP of them); the rest of the model over every data-parallel
    rank. Under tensor parallelism a mixture of experts runs with sequence parallelism
    (Megatron-Core requires it), so each rank dispatches its 1/TP of the micro-batch's tokens."""
    t, d = p.training, degrees(p, book)
    passes = preference.forward_equivalents(work.method_work(p), work.epochs_of(p), work.FORWARD_SHARE)
    micro_batches = t.gradient_accumulation_steps * passes
    experts = expert_parameters(shape)
    embeddings = architecture.embedding_parameters(shape.vocab, shape.hidden, shape.tied)
    counted = np.where(np.asarray(shape.total) > 0, shape.total, 1.0)  # a 0-parameter model: none
    trained_share = trained / counted
    gradient_share = (trained + frozen_with_gradients(p, method, shape)) / counted
    dense_weights = _replica_bytes(p, method, shape.total - experts, trained_share, embeddings)[1]
    dense_gradients = _replica_bytes(p, method, shape.total - experts, gradient_share, embeddings)[0]
    expert_weights = _replica_bytes(p, method, experts / t.expert_parallel, trained_share)[1]
    expert_gradients = _replica_bytes(p, method, experts / t.expert_parallel, gradient_share)[0]
    once = allocator.accumulates_unsharded(t.gradient_sync, t.gradient_accumulation_steps)
    reductions = micro_batches / t.gradient_accumulation_steps if once else micro_batches
    tokens = t.micro_batch_size * t.sequence_length / t.context_parallel
    element = ACTIVATION_BYTES.get(t.precision, 2.0)
    layers = shape.layers / t.pipeline_parallel
    recomputed = t.activation_checkpointing == "full"
    moe_layers = layers if shape.experts > 1 else 0.0
    key_values = t.micro_batch_size * t.sequence_length * 2.0 * shape.kv_width * element
    hidden = tokens * shape.hidden * element
    return communication.StepBytes(
        data=communication.data_parallel_bytes(
            dense_gradients, dense_weights, d.data, t.sharding, micro_batches, reductions
        ),
        tensor=communication.tensor_parallel_bytes(hidden, d.tensor, layers, micro_batches, recomputed),
        pipeline=communication.pipeline_parallel_bytes(hidden, d.pipeline, d.tensor, micro_batches),
        context=communication.context_parallel_bytes(key_values, d.context, layers, micro_batches, recomputed),
        expert=communication.expert_parallel_bytes(
            hidden * shape.routed / d.tensor, d.expert, moe_layers, micro_batches, recomputed
        ),
        expert_data=communication.data_parallel_bytes(
            expert_gradients, expert_weights, d.expert_replicas, t.sharding, micro_batches, reductions
        ),
    )


def _offloaded_weight_bytes(p: Params, method: MethodSpec, shape: Shape, trained: Number) -> Number:
    """Bytes of one model-parallel rank's weights as offloading stores them (0 unless the
    weights are offloaded): :func:`_replica_bytes` of the whole model."""
    if p.training.offload != "optimizer_and_parameters":
        return 0.0 * trained
    embeddings = architecture.embedding_parameters(shape.vocab, shape.hidden, shape.tied)
    share = trained / np.where(np.asarray(shape.total) > 0, shape.total, 1.0)
    return _replica_bytes(p, method, shape.total, share, embeddings)[1]


def _replica_bytes(
    p: Params, method: MethodSpec, parameters: Number, trained_share: Number, embeddings: Number = 0.0
) -> tuple[Number, Number]:
    """(gradient bytes, weight bytes) of ``parameters`` on one model-parallel rank (÷ tensor ×
    pipeline), ``trained_share`` of them trained: gradients in their precision; weights as the
    matmuls read them, the frozen copies at a quantised base's bytes where there is one (the
    ``embeddings`` among them staying at the compute precision: :func:`memory.frozen_bytes`)."""
    t = p.training
    per_rank = 1.0 / (t.tensor_parallel * t.pipeline_parallel)
    trained = parameters * trained_share * per_rank
    weight_bytes = compute.MATMUL_OPERAND_BYTES[t.precision]
    frozen = memory.frozen_bytes(
        parameters * work.frozen_copies(p, method),
        embeddings * work.frozen_copies(p, method),
        weight_bytes,
        method.quantised_base_bytes_per_param,
    )
    return trained * memory.GRADIENT_BYTES[t.precision], trained * weight_bytes + frozen * per_rank


def _communication_gpu_seconds(
    p: Params, book: PriceBook, method: MethodSpec, shape: Shape, trained: Number, steps: Number, busy: Number
) -> Number:
    """GPU-seconds over the run that the GPUs wait on collectives: per step, the exposed
    communication (:func:`communication.exposed_seconds`) against each GPU's share of the
    ``busy`` compute GPU-seconds; × steps × GPUs. Nothing on one GPU, or on a GPU whose links
    are unknown (a client's own GPU without them)."""
    intra, inter = link_speeds(p, book)
    gpus = p.training.gpus_per_run
    if gpus == 1 or intra is None or inter is None:
        return 0.0 * busy
    physics = book.training_physics
    moved = step_bytes(p, book, method, shape, trained)
    links = communication.reached_links(
        intra, inter, physics.collective_bandwidth_share, physics.network_bandwidth_share
    )
    overlappable, critical = communication.step_seconds(moved, degrees(p, book), links)
    counted_steps = np.where(np.asarray(steps) > 0, steps, 1.0)  # no step (no tokens): no communication
    per_step = communication.exposed_seconds(
        overlappable, critical, busy / (gpus * counted_steps), physics.communication_overlap_share
    )
    return per_step * steps * gpus


def _matmul_bytes(p: Params, shape: Shape, trained: Number, micro_batches: Number) -> Number:
    """HBM bytes of the weight matmuls over the run, summed over the GPUs (see
    :func:`compute.matmul_traffic_bytes`). Each context-parallel GPU reads its weights for
    its share of the tokens, so the weights are read c times per micro-batch."""
    t = p.training
    return compute.matmul_traffic_bytes(
        shape.total * t.context_parallel,
        compute.MATMUL_OPERAND_BYTES[t.precision],
        compute.weight_passes(t.activation_checkpointing, t.checkpoint_every_layers),
        trained,
        memory.GRADIENT_BYTES[t.precision],
        micro_batches,
    )


def _compile_saved_seconds(p: Params, book: PriceBook, shape: Shape, tokens: Number) -> Number:
    """GPU-seconds ``torch.compile`` saves over the run by fusing element-wise ops (see
    :func:`compute.fused_elementwise_bytes_per_token_layer`); a token passes its routed experts."""
    per_token_layer = compute.fused_elementwise_bytes_per_token_layer(
        shape.hidden, shape.query_width, shape.kv_width, shape.intermediate * shape.routed
    )
    passes = compute.elementwise_passes(p.training.activation_checkpointing, p.training.checkpoint_every_layers)
    bandwidth = book.gpus[p.training.gpu].memory_bandwidth_gbps
    share = book.training_physics.elementwise_bandwidth_share
    return compute.compile_saved_seconds(tokens, shape.layers, per_token_layer, passes, bandwidth, share)


def _launch_seconds(p: Params, book: PriceBook, method: MethodSpec, shape: Shape, micro_batches: Number) -> Number:
    """GPU-seconds of kernel overheads over the run: every GPU of a replica launches the
    kernels of its layers (L ÷ pipeline stages) for each of its micro-batches."""
    t = p.training
    adapted = 0 if method.trains_all_weights else compute.ADAPTED_LINEARS[t.lora.target_modules]
    dequantise = 0.0
    if method.quantised_base_bytes_per_param is not None:
        dequantise = compute.dequantise_kernels_per_layer(
            compute.DEQUANTISATION[t.quantised_base], t.activation_checkpointing, t.checkpoint_every_layers
        )
    kernels = compute.kernels_per_layer(
        adapted, t.activation_checkpointing, dequantise, t.compiled, t.checkpoint_every_layers
    )
    layers_times_gpus = shape.layers * t.tensor_parallel * t.context_parallel
    return compute.launch_seconds(micro_batches, layers_times_gpus, kernels, book.training_physics.kernel_overhead_us)


def _dequantise_seconds(p: Params, book: PriceBook, method: MethodSpec, shape: Shape, micro_batches: Number) -> Number:
    """GPU-seconds of dequantising a quantised base over the run (0 for other methods)."""
    t = p.training
    if method.quantised_base_bytes_per_param is None or book.gpus[t.gpu].memory_bandwidth_gbps is None:
        return 0.0 * micro_batches
    blocks = shape.total - architecture.embedding_parameters(shape.vocab, shape.hidden, shape.tied)
    return compute.dequantise_seconds(
        blocks * t.context_parallel,
        method.quantised_base_bytes_per_param,
        compute.DEQUANTISATION[t.quantised_base],
        t.activation_checkpointing,
        micro_batches,
        book.gpus[t.gpu].memory_bandwidth_gbps,
        book.training_physics.elementwise_bandwidth_share,
        book.training_physics.broadcast_bandwidth_share,
        t.checkpoint_every_layers,
    )


def _dp(p: Params) -> int:
    """Data-parallel replicas: GPUs ÷ (tensor × pipeline × context)."""
    return p.training.gpus_per_run // p.training.model_parallel


def physics_view(p: Params, book: PriceBook) -> dict[str, object]:
    """Everything :class:`ComputeFacts` needs from the physics and memory views."""
    t, gpu, method = p.training, book.gpus[p.training.gpu], work.method_spec(p, book)
    shape = model_shape(p)
    trained = trained_parameters(p, method, shape)
    tokens = work.run_tokens(p)
    time = time_terms(p, book, shape, trained, tokens)
    terms = calibrated_memory(memory_breakdown(p, book, shape, trained, t.gpus_per_run), memory_ratio(p))
    physics = book.training_physics
    capacity = allocator.capacity_gb(gpu.memory_gb, gpu.ecc_reserved_share)
    fragmentation = physics.allocator_fragmentation_share
    usable = allocator.usable_gb(capacity, physics.framework_overhead_gb, fragmentation, t.memory_headroom_fraction)
    loading = _loading_peak_gb(p, method, shape, terms)
    allocated = np.maximum(peak_of(terms) - terms["overhead"], loading)[()]
    paged = allocator.paged_gb(terms["optimizer_states"], t.optimizer in memory.PAGED_OPTIMIZERS)
    split, paging_hours = time["split_gpu_hours"], 0.0
    if t.optimizer in memory.PAGED_OPTIMIZERS:
        paging_hours = _paging_gpu_hours(p, book, offload.overflow_gb(allocated, usable, paged), time["steps"])
        split = {**split, "communication": split["communication"] + paging_hours}
    physics_hours = sum(split.values())
    return {
        "tokens_per_run": tokens,
        "flops_per_run": time["flops"],
        "physics_gpu_hours_per_run": physics_hours,
        "physics_hours_per_run": physics_hours / t.gpus_per_run,
        "implied_utilisation": compute.implied_utilisation(
            time["flops"],
            gpu.bf16_tflops,
            t.gpus_per_run * t.hours_per_run * work.training_share(time["split_gpu_hours"], physics_hours),
            method.throughput_penalty,
        ),
        "state_gb": terms["weights"] + terms["gradients"] + terms["optimizer_states"],
        "activations_gb": terms["activations"] + terms["logits"],
        "memory_per_gpu_gb": peak_of(terms),
        "usable_gb_per_gpu": usable,
        "fewest_gpus": fewest_gpus(p, book, shape, trained, usable + terms["overhead"]),
        "memory_breakdown_gb": terms,
        "utilisation": time["utilisation"],
        "total_parameters": shape.total,
        "active_parameters": shape.active,
        "trained_parameters": trained,
        "architecture_parameters": shape.architecture_total,
        "optimizer_step_gpu_hours_per_run": time["step_gpu_hours"],
        "host_transfer_gpu_hours_per_run": time["transfer_gpu_hours"] + paging_hours,
        "capacity_gb_per_gpu": capacity,
        "allocated_gb": allocated,
        "reserved_gb": allocator.reserved_gb(allocated, fragmentation),
        "paged_gb": paged,
        "loading_peak_gb": loading,
        "host_memory_gb": _host_memory_gb(p, book, shape, trained),
        "communication_gpu_hours_per_run": time["communication_gpu_hours"],
        "time_split_gpu_hours_per_run": split,
        **work.work_facts(p, time, physics_hours),
    }


def _paging_gpu_hours(p: Params, book: PriceBook, overflow: Number, steps: Number) -> Number:
    """GPU-hours a run spends paging optimizer states that do not fit the GPU: every step
    moves the overflow in and out over the host link (:func:`offload.paging_bytes_per_step`),
    while every GPU waits; 0 when nothing overflows."""
    per_step = compute.host_transfer_seconds(offload.paging_bytes_per_step(overflow), offload.host_link_gbps(p, book))
    return p.training.gpus_per_run * steps * per_step / compute.SECONDS_PER_HOUR


def calibrated_memory(terms: dict[str, Number], ratio: float) -> dict[str, Number]:
    """The memory terms with every tensor term scaled by a pilot's measured ÷ estimated
    peak (the CUDA and framework overhead, which the allocator's peak does not count, kept)."""
    if ratio == 1.0:
        return terms
    return {name: value if name == "overhead" else value * ratio for name, value in terms.items()}


def _loading_peak_gb(p: Params, method: MethodSpec, shape: Shape, terms: dict[str, Number]) -> Number:
    """Live GB while a quantised base loads: its resident weights plus the largest block
    matrix (h × i, an MLP projection) in bf16 before quantisation; 0 for other methods."""
    if method.quantised_base_bytes_per_param is None:
        return 0.0 * shape.total
    largest = shape.hidden * np.maximum(shape.intermediate, shape.hidden)
    return allocator.loading_peak_gb(terms["weights"], largest / p.training.tensor_parallel, memory.BF16)


def _host_memory_gb(p: Params, book: PriceBook, shape: Shape, trained: Number) -> Number:
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
