"""Offload and paging: the time it costs to keep training state in host memory or on NVMe.

ZeRO-Offload (Ren et al. 2021, "ZeRO-Offload: Democratizing Billion-Scale Model Training",
USENIX ATC, §4.1 and Fig. 5) and FSDP's ``CPUOffload`` keep the optimizer states (and the fp32
master weights) in host memory: every optimizer step the gradients travel down to the host
over PCIe, the host's CPUs run the update, and the updated weights travel back up. The step
on the host sits on the critical path (the GPUs wait for their weights; the paper's delayed
parameter update, which hides it, is off by default and changes the arithmetic of training,
so it is not modelled). ZeRO-Infinity (Rajbhandari et al. 2021, SC'21, §5) adds NVMe: the
optimizer states are read from and written back to the drives every step.

Paged optimizers (bitsandbytes; Dettmers et al. 2023, QLoRA §3, "Paged Optimizers") keep
their states in CUDA unified memory: when the GPU runs short the driver evicts pages to the
host and faults them back when the step touches them. A plan that fits only because its
states page out pays for moving the states that do not fit in at the step and out again when
the next forward needs the room.

Every function is pure and broadcasts over numpy arrays. Units: bytes, GB/s (1e9 bytes a
second), seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ftcost_helpers.engine.model import compute, memory
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import Number
from ftcost_helpers.engine.schema import Params

ADAMW_FLOPS_PER_PARAM = 16.0
"""FP32 operations one AdamW update does per parameter, counted op by op: the gradient's
unscaling (1), the first moment m = β1·m + (1 − β1)·g (3), the second v = β2·v + (1 − β2)·g²
(4), √v + ε (2), m ÷ that (1), the step −lr × it added to the weight (2), the decoupled
weight decay −lr·λ·w (2) and the cast of the updated weight to 16 bits for the GPU (1); the
bias corrections are per-tensor scalars folded into the learning rate."""


@dataclass(frozen=True)
class Host:
    """The CPU side of one node, as an offloaded optimizer step uses it."""

    cpu_cores: float
    core_gflops: float
    """FP32 GFLOP/s one core reaches with its vector units (cycles/s × SIMD lanes × 2 for a
    fused multiply-add × FMA units)."""
    memory_bandwidth_gbps: float
    """The node's DRAM bandwidth, GB/s (channels × transfers/s × 8 bytes, all sockets)."""
    bandwidth_share: Number
    """Share of that bandwidth a streaming kernel reaches."""
    optimizer_slowdown: Number
    """How many times slower the host's optimizer is than a bandwidth-bound kernel
    (1 for DeepSpeed's vectorised CPU-Adam; PyTorch's own CPU optimizer is 5–7× slower)."""
    nvme_gbps: float
    """GB/s the node's NVMe drives read and write (ZeRO-Infinity's offload device)."""


def host_step_seconds(parameters_per_node: Number, bytes_per_param: float, host: Host) -> Number:
    """Seconds the host takes for one optimizer step of ``parameters_per_node`` parameters
    (every GPU of the node offloads to the same CPUs and DRAM): a roofline of the bytes the
    update streams (:func:`compute.optimizer_step_bytes_per_param`: 28 per parameter in
    mixed-precision AdamW) at the reached DRAM bandwidth and its FLOPs
    (:data:`ADAMW_FLOPS_PER_PARAM`) on every core, the longer of the two, × the optimizer's
    slowdown. A 7B model on a node of 614.4 GB/s at a share of 0.7: 7e9 × 28 ÷ 430.08e9 =
    0.456 s; its 1.12e11 FLOPs on 112 cores of 128 GFLOP/s take 7.8 ms, so the DRAM bounds it."""
    streamed = parameters_per_node * bytes_per_param / (host.memory_bandwidth_gbps * 1e9 * host.bandwidth_share)
    computed = parameters_per_node * ADAMW_FLOPS_PER_PARAM / (host.cpu_cores * host.core_gflops * 1e9)
    return np.maximum(streamed, computed)[()] * host.optimizer_slowdown


def nvme_step_seconds(bytes_per_node: Number, nvme_gbps: float) -> Number:
    """Seconds one step spends on NVMe under ZeRO-Infinity: the bytes the node's drives read
    and write (:attr:`StepWork.nvme_bytes`; reads and writes share the drives) at their
    bandwidth."""
    return bytes_per_node / (nvme_gbps * 1e9)


def reached_host_link_gbps(pcie_gbps: float | None, fallback_gbps: float, share: Number) -> Number:
    """GB/s one GPU moves to or from the host: its PCIe link's datasheet figure per direction
    × the share copies reach, or the price book's reached figure for a GPU without one."""
    if pcie_gbps is None:
        return fallback_gbps
    return pcie_gbps * share


def overflow_gb(allocated_gb: Number, usable_gb: Number, paged_gb: Number) -> Number:
    """GB of paged optimizer states that do not fit the GPU and live on the host: what the
    live tensors need beyond the usable memory, never more than the pageable states, never
    less than 0 (a run that fits pages nothing out)."""
    return np.clip(np.asarray(allocated_gb) - usable_gb, 0.0, paged_gb)[()]


def paging_bytes_per_step(overflow: Number) -> Number:
    """Bytes one GPU moves over its host link per step for paged states: the overflow faulted
    in when the optimizer step touches it and evicted again when the next forward needs the
    room, 2 × overflow (GB → bytes)."""
    return 2.0 * overflow * 1e9


# --- a plan's offload, wired to the formulas above ----------------------------------------


def host_of(p: Params, book: PriceBook) -> Host:
    """The plan's host: ``training.host`` key by key, else the price book's
    ``training_physics.host_*`` (a DGX H100's CPUs and DRAM)."""
    given, physics = p.training.host, book.training_physics
    slowdown = physics.pytorch_host_optimizer_slowdown if given.optimizer == "pytorch" else 1.0
    return Host(
        given.cpu_cores or physics.host_cpu_cores,
        given.core_gflops or physics.host_core_gflops,
        given.memory_bandwidth_gbps or physics.host_memory_bandwidth_gbps,
        physics.host_bandwidth_share,
        slowdown,
        given.nvme_gbps or physics.nvme_gbps,
    )


def host_link_gbps(p: Params, book: PriceBook) -> Number:
    """GB/s one GPU of the plan reaches to and from its host (:func:`reached_host_link_gbps`)."""
    physics = book.training_physics
    return reached_host_link_gbps(
        book.gpus[p.training.gpu].host_link_gbps, physics.host_link_gbps, physics.host_link_share
    )


def gpus_per_host(p: Params, book: PriceBook) -> int:
    """GPUs of the run that share one host: a node's, or the run's when it is smaller."""
    t = p.training
    return min(t.gpus_per_run, t.gpus_per_node or book.gpus[t.gpu].gpus_per_node)


@dataclass(frozen=True)
class StepWork:
    """Per GPU and optimizer step: what its optimizer updates and where the bytes go."""

    parameters: Number
    """Trained parameters whose update this GPU owns (÷ model parallel, ÷ data parallel when sharded)."""
    gpu_bytes_per_param: float
    """HBM bytes per parameter of the update on the GPU (0 when the host runs it)."""
    host_bytes_per_param: float
    """DRAM bytes per parameter of the update on the host (0 when the GPU runs it)."""
    link_bytes: Number
    """Bytes over the GPU's host link: gradients down and weights up, and offloaded weights
    streamed in for every micro-batch's forward and backward."""
    nvme_bytes: Number
    """Bytes this GPU's share of the drives reads and writes per step on NVMe (ZeRO-Infinity;
    0 in host memory): the master weights and moments read and written back, 2·(b_m + b_o)
    per parameter, and offloaded weights read for every forward and backward."""


def step_work(p: Params, replica_weight_bytes: Number, trained: Number) -> StepWork:
    """What one GPU's optimizer step moves (:class:`StepWork`). Offloaded optimizer
    (ZeRO-Offload): gradients go to the host and updated weights come back, b_g + b_w per
    trained parameter, and the host runs the update, streaming the same bytes per parameter
    as the GPU would (:func:`compute.optimizer_step_bytes_per_param`). Offloaded weights
    (FSDP ``CPUOffload(offload_params=True)``, ZeRO-3 offload) live on the host, so the update
    sends nothing back: they stream in for the forward and the backward of every micro-batch
    instead, twice this GPU's share
    (÷ data parallel) of ``replica_weight_bytes``, a model-parallel rank's weights as stored
    (a quantised base at its packed bytes: FSDP offloads the 4-bit storage). On NVMe the
    master weights and moments (and the offloaded weights) live on the drives."""
    t = p.training
    precision = t.precision
    mp = t.tensor_parallel * t.pipeline_parallel
    dp = t.gpus_per_run // t.model_parallel
    per_gpu = trained / mp / (dp if t.sharding != "none" else 1)
    moment_bytes = memory.MOMENTS[t.optimizer] * memory.QUANTISED_MOMENT_BYTES.get(
        t.optimizer, memory.STATE_PRECISION_BYTES[precision]
    )
    weight_bytes, gradient_bytes = memory.WEIGHT_BYTES[precision], memory.GRADIENT_BYTES[precision]
    master = memory.MASTER_BYTES[precision]
    step = compute.optimizer_step_bytes_per_param(weight_bytes, gradient_bytes, master, moment_bytes)
    if t.offload == "none":
        return StepWork(per_gpu, step, 0.0, 0.0 * per_gpu, 0.0 * per_gpu)
    streamed, uploaded = 0.0 * per_gpu, per_gpu * weight_bytes
    if t.offload == "optimizer_and_parameters":
        streamed = 2.0 * replica_weight_bytes / dp * t.gradient_accumulation_steps
        uploaded = 0.0 * per_gpu  # the updated weights stay on the host until the next forward streams them
    link = per_gpu * gradient_bytes + uploaded + streamed
    drives = 2.0 * per_gpu * (master + moment_bytes) + streamed
    nvme = drives if t.offload_device == "nvme" else 0.0 * drives
    return StepWork(per_gpu, 0.0, step, link, nvme)


def offloaded_step_seconds(p: Params, book: PriceBook, work: StepWork) -> Number:
    """Seconds per optimizer step the GPUs wait on their host: the update on the host's
    CPUs (:func:`host_step_seconds`) and, on NVMe, the states read and written
    (:func:`nvme_step_seconds`), for every GPU the host serves; 0 without offload."""
    if p.training.offload == "none":
        return 0.0 * work.parameters
    host, sharing = host_of(p, book), gpus_per_host(p, book)
    update = host_step_seconds(work.parameters * sharing, work.host_bytes_per_param, host)
    return update + nvme_step_seconds(work.nvme_bytes * sharing, host.nvme_gbps)
