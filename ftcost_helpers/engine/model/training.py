"""The compute area's physics and memory views of one plan: the architecture's parameter
counts, FLOPs and time per run, and memory per GPU as a breakdown with fit and the fewest
GPUs, gathered into :class:`ComputeFacts`. The formulas live in :mod:`architecture`,
:mod:`compute` and :mod:`memory`; the wiring of a plan's keys to them, by concern, in
:mod:`training_shape` (the model's shape, the trained parameters), :mod:`training_memory`
(memory per GPU), :mod:`training_fewest_gpus`, :mod:`training_time` (FLOPs and GPU-hours)
and :mod:`training_parallel` (degrees, links, collectives). Their names are re-exported here,
where the rest of the package and the tests have always imported them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ftcost_helpers.engine.model import allocator, architecture, compute, memory, offload, work
from ftcost_helpers.engine.model.calibrated import memory_ratio
from ftcost_helpers.engine.model.training_fewest_gpus import expert_parallel_candidates, fewest_gpus
from ftcost_helpers.engine.model.training_memory import (
    MEMORY_LABELS,
    MEMORY_TERMS,
    _expert_share,  # noqa: F401  (tests/test_expert_parallel_fit.py checks the share on its own)
    calibrated_memory,
    host_memory_gb,
    loading_peak_gb,
    memory_breakdown,
    peak_of,
    peak_phase_terms,
)
from ftcost_helpers.engine.model.training_parallel import ACTIVATION_BYTES, degrees, link_speeds, step_bytes
from ftcost_helpers.engine.model.training_shape import (
    ARCHITECTURE_TOLERANCE,
    BILLION,
    Shape,
    expert_parameters,
    frozen_with_gradients,
    model_blocks,
    model_shape,
    trained_parameters,
)
from ftcost_helpers.engine.model.training_time import (
    default_utilisation,
    matmul_peak_tflops,
    paging_gpu_hours,
    time_terms,
)
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import Number
from ftcost_helpers.engine.schema import Params

__all__ = [
    "ACTIVATION_BYTES",
    "ARCHITECTURE_TOLERANCE",
    "BILLION",
    "MEMORY_LABELS",
    "MEMORY_TERMS",
    "ComputeFacts",
    "Shape",
    "calibrated_memory",
    "default_utilisation",
    "degrees",
    "expert_parallel_candidates",
    "expert_parameters",
    "fewest_gpus",
    "frozen_with_gradients",
    "link_speeds",
    "matmul_peak_tflops",
    "memory_breakdown",
    "model_blocks",
    "model_shape",
    "peak_of",
    "peak_phase_terms",
    "physics_view",
    "step_bytes",
    "time_terms",
    "trained_parameters",
]


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
    loading = loading_peak_gb(p, method, shape, terms)
    allocated = np.maximum(peak_of(terms) - terms["overhead"], loading)[()]
    paged = allocator.paged_gb(terms["optimizer_states"], t.optimizer in memory.PAGED_OPTIMIZERS)
    split, paging_hours = time["split_gpu_hours"], 0.0
    if t.optimizer in memory.PAGED_OPTIMIZERS:
        paging_hours = paging_gpu_hours(p, book, offload.overflow_gb(allocated, usable, paged), time["steps"])
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
        "host_memory_gb": host_memory_gb(p, book, shape, trained),
        "communication_gpu_hours_per_run": time["communication_gpu_hours"],
        "time_split_gpu_hours_per_run": split,
        **work.work_facts(p, time, physics_hours),
    }
