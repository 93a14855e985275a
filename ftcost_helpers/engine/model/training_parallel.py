"""The parallelism of one training plan: its degrees and links, the bytes its collectives
move per optimizer step and the GPU-seconds the GPUs wait on them, and the bytes of one
model-parallel rank's weights and gradients. The formulas live in :mod:`communication`;
this module wires a plan's keys to them."""

from __future__ import annotations

import numpy as np

from ftcost_helpers.engine.model import allocator, architecture, communication, compute, memory, preference, work
from ftcost_helpers.engine.model.training_shape import Shape, expert_parameters, frozen_with_gradients
from ftcost_helpers.engine.pricebook import MethodSpec, PriceBook
from ftcost_helpers.engine.quantities import Number
from ftcost_helpers.engine.schema import Params

ACTIVATION_BYTES = {"fp32": 4.0}
"""Bytes per activation element the collectives move: fp32 under ``fp32``, else bf16 (2;
FP8 training keeps its activations between layers in bf16)."""


def degrees(p: Params, book: PriceBook) -> communication.Degrees:
    """The run's parallel degrees and GPUs per node (the plan's, else the GPU's usual)."""
    t = p.training
    per_node = t.gpus_per_node or book.gpus[t.gpu].gpus_per_node
    return communication.Degrees(
        t.tensor_parallel,
        t.context_parallel,
        data_parallel_replicas(p),
        t.pipeline_parallel,
        t.expert_parallel,
        per_node,
    )


def link_speeds(p: Params, book: PriceBook) -> tuple[float | None, float | None]:
    """GB/s per GPU and direction inside a node and between nodes: ``training.interconnect``
    where it gives them, else the GPU catalogue's."""
    gpu, given = book.gpus[p.training.gpu], p.training.interconnect
    intra = given.intra_node_gbps if given and given.intra_node_gbps else gpu.intra_node_gbps
    inter = given.inter_node_gbps if given and given.inter_node_gbps else gpu.inter_node_gbps
    return intra, inter


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


def offloaded_weight_bytes(p: Params, method: MethodSpec, shape: Shape, trained: Number) -> Number:
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


def communication_gpu_seconds(
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


def data_parallel_replicas(p: Params) -> int:
    """Data-parallel replicas: GPUs ÷ (tensor × pipeline × context)."""
    return p.training.gpus_per_run // p.training.model_parallel
