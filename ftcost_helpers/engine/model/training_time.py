"""FLOPs and GPU-hours of one training run, sorted by what bounds them: the matmuls' roofline,
attention, kernel overheads, dequantisation, the pipeline's bubble, the optimizer steps,
host transfers, paging and the exposed communication. The formulas live in :mod:`compute`,
:mod:`offload` and :mod:`preference`; this module wires a plan's keys to them."""

from __future__ import annotations

import numpy as np

from ftcost_helpers.engine.model import architecture, batches, blocks, compute, memory, offload, preference, work
from ftcost_helpers.engine.model.training_parallel import (
    communication_gpu_seconds,
    data_parallel_replicas,
    offloaded_weight_bytes,
)
from ftcost_helpers.engine.model.training_shape import Shape, frozen_with_gradients, trained_parameters
from ftcost_helpers.engine.model.utilisation import band_factor
from ftcost_helpers.engine.pricebook import GpuSpec, MethodSpec, PriceBook
from ftcost_helpers.engine.quantities import Number
from ftcost_helpers.engine.schema import Params


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
    stepped = offload.step_work(p, offloaded_weight_bytes(p, method, shape, trained), trained)
    batch_tokens = row * t.micro_batch_size * t.gradient_accumulation_steps * data_parallel_replicas(p)
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
    communication = communication_gpu_seconds(p, book, method, shape, trained, steps, busy)
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


def paging_gpu_hours(p: Params, book: PriceBook, overflow: Number, steps: Number) -> Number:
    """GPU-hours a run spends paging optimizer states that do not fit the GPU: every step
    moves the overflow in and out over the host link (:func:`offload.paging_bytes_per_step`),
    while every GPU waits; 0 when nothing overflows."""
    per_step = compute.host_transfer_seconds(offload.paging_bytes_per_step(overflow), offload.host_link_gbps(p, book))
    return p.training.gpus_per_run * steps * per_step / compute.SECONDS_PER_HOUR
