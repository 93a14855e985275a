"""Communication: the bytes each parallelism's collectives move per optimizer step, and
the time they take over the link they cross.

Bytes are per GPU and count what each GPU sends over its link, the "bus" volume of NCCL's
performance notes (NVIDIA/nccl-tests ``doc/PERFORMANCE.md``): a ring all-reduce of S bytes
on n GPUs sends 2(n − 1)/n · S from each GPU, an all-gather or a reduce-scatter of a
result of S bytes (n − 1)/n · S, an all-to-all of S bytes held per GPU (n − 1)/n · S (each
GPU keeps its own share and sends the rest). Time is those bytes over the bus bandwidth a
collective reaches on the link: inside a node when the group fits one, else the link
between nodes (a ring is as slow as its slowest hop).

Which collectives run per step (one micro-batch of b sequences of s tokens, a gradient
accumulation of m micro-batches, L layers of hidden width h):

- data parallel (no sharding, ZeRO-1, ZeRO-2): the gradients once per step, an all-reduce
  (or a reduce-scatter and an all-gather of the updated weights: the same volume; Rajbhandari
  et al. 2020, ZeRO, §7: "the same communication volume as data parallelism");
- ZeRO-3 / FSDP: every micro-batch all-gathers the weights for its forward and again for its
  backward and reduce-scatters its gradients (ZeRO §7.2.2: 1.5× data parallelism's volume);
- tensor parallel: two all-reduces of the b·s·h activations per layer in the forward and two
  in the backward (Shoeybi et al. 2019, Megatron-LM, §3, Fig. 4: "g" and "f"), two more when
  the forward is recomputed (sequence parallelism swaps each for an all-gather and a
  reduce-scatter of the same volume: Korthikanti et al. 2022, §4.2.2);
- pipeline parallel: each micro-batch sends its activations forward and their gradients back
  across each stage boundary (Narayanan et al. 2021, §2.2), point to point;
- context parallel: each layer's keys and values travel round the ring in the forward, and
  their gradients with them in the backward (Liu et al. 2023, Ring Attention, §3);
- expert parallel: each MoE layer sends every token's hidden state to its k experts and back
  (dispatch and combine) in the forward, and the gradients both ways in the backward: four
  all-to-alls (Lepikhin et al. 2020, GShard, §2.2; Rajbhandari et al. 2022, DeepSpeed-MoE, §5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ftcost_helpers.engine.quantities import Number


def all_reduce_bytes(size_bytes: Number, group: Number) -> Number:
    """Bytes each GPU sends in a ring all-reduce of ``size_bytes``: 2(n − 1)/n · S (a
    reduce-scatter then an all-gather); 0 on one GPU."""
    return 2.0 * all_gather_bytes(size_bytes, group)


def all_gather_bytes(size_bytes: Number, group: Number) -> Number:
    """Bytes each GPU sends in a ring all-gather (or reduce-scatter) whose whole result is
    ``size_bytes``: (n − 1)/n · S; 0 on one GPU."""
    return size_bytes * (group - 1.0) / group


def all_to_all_bytes(held_bytes: Number, group: Number) -> Number:
    """Bytes each GPU sends in an all-to-all of ``held_bytes`` it holds, spread evenly over
    the group: all but its own share, (n − 1)/n · S; 0 on one GPU."""
    return all_gather_bytes(held_bytes, group)


def crosses_nodes(group: int, stride: int, gpus_per_node: int) -> bool:
    """Whether a group of ``group`` GPUs, ``stride`` ranks apart, spans more than one node.
    Ranks fill a node before the next (the order Megatron-LM and torchtitan lay out their
    meshes: tensor, context, data/expert, pipeline from innermost out), so a group spans
    ``group × stride`` consecutive ranks; a group of one crosses nothing."""
    return group > 1 and group * stride > gpus_per_node


def members_per_node(group: int, stride: int, gpus_per_node: int) -> int:
    """Members of a group that share a node: the node's GPUs ``stride`` apart, at most the
    group (1 when the stride is a node or more)."""
    return min(group, max(1, gpus_per_node // stride))


@dataclass(frozen=True)
class Links:
    """GB/s per GPU and direction a collective reaches on each link: the datasheet's figure
    × the share collectives reach on that kind of link (price book
    ``collective_bandwidth_share`` inside a node, ``network_bandwidth_share`` between nodes)."""

    intra_node: Number
    inter_node: Number


def reached_links(intra_gbps: float, inter_gbps: float, intra_share: Number, inter_share: Number) -> Links:
    """The links at the bandwidth collectives reach on them."""
    return Links(intra_gbps * intra_share, inter_gbps * inter_share)


def ring_gbps(group: int, stride: int, gpus_per_node: int, links: Links) -> Number:
    """Bus bandwidth (GB/s per GPU) of a ring collective: the link inside the node for a
    group in one node. A group across nodes runs one ring per network card, each leaving the
    node once (NCCL builds a ring through the node's GPUs over NVLink and across the network
    on one card per ring), so the members in a node share their cards: m × the network per
    GPU, never more than the link inside the node. Measured: 8 A100 per node with 4 × 200
    Gb/s cards, two nodes, all-reduce bus bandwidth 86 GB/s of "the theoretical value (100
    GB/s)" (NVIDIA/nccl-tests issue #175); 45 GB/s with 4 GPUs per node and 90 GB/s with 8
    on the same cluster (NVIDIA/nccl issue #1168)."""
    if not crosses_nodes(group, stride, gpus_per_node):
        return links.intra_node
    return np.minimum(links.intra_node, members_per_node(group, stride, gpus_per_node) * links.inter_node)[()]


def collective_seconds(bytes_per_gpu: Number, gbps: Number) -> Number:
    """Seconds to send ``bytes_per_gpu`` at a bus bandwidth (GB/s, as reached)."""
    return bytes_per_gpu / (gbps * 1e9)


def all_to_all_seconds(sent_bytes: Number, group: int, stride: int, gpus_per_node: int, links: Links) -> Number:
    """Seconds of an all-to-all in which each GPU sends ``sent_bytes`` spread evenly over the
    other n − 1 members: the share bound for members in its own node goes over the link
    inside the node and the rest over the link between nodes, both at once, so the slower
    of the two sets the time. A group inside one node sends everything inside it. Each GPU
    sends through its own network card: "as the number of nodes increases, it will go down to
    1x the network bandwidth per GPU" (S. Jeaugey, NVIDIA/nccl-tests issue #130, on all-to-all
    bus bandwidth)."""
    if group <= 1:
        return 0.0 * sent_bytes
    in_node = members_per_node(group, stride, gpus_per_node)
    remote = (group - in_node) / (group - 1.0)
    local = (in_node - 1.0) / (group - 1.0)
    inside = collective_seconds(sent_bytes * local, links.intra_node)
    between = collective_seconds(sent_bytes * remote, links.inter_node)
    return np.maximum(inside, between)[()]


def point_to_point_seconds(sent_bytes: Number, group: int, stride: int, gpus_per_node: int, links: Links) -> Number:
    """Seconds of sends between pipeline stages: each GPU sends to its counterpart in the next
    stage, over its own network card when the stages sit in different nodes."""
    gbps = links.inter_node if crosses_nodes(group, stride, gpus_per_node) else links.intra_node
    return collective_seconds(sent_bytes, gbps)


def exposed_seconds(overlappable: Number, on_critical_path: Number, compute: Number, overlap_share: Number) -> Number:
    """Seconds of communication the GPUs wait for: the collectives on the critical path in
    full, and of those that can run under the compute (data-parallel and FSDP ones) the share
    not overlapped, but never less than what exceeds the compute there is to hide them under."""
    hidden = np.minimum(overlappable * overlap_share, compute)
    return (overlappable - hidden + on_critical_path)[()]


@dataclass(frozen=True)
class Degrees:
    """A run's parallel degrees: GPUs per replica of each kind, and GPUs per node."""

    tensor: int
    context: int
    data: int
    pipeline: int
    expert: int
    gpus_per_node: int

    @property
    def data_stride(self) -> int:
        """Ranks between two members of a data-parallel (or expert-parallel) group."""
        return self.tensor * self.context

    @property
    def expert_replicas(self) -> int:
        """Copies of each expert: data ÷ EP ranks (1 when EP reaches past the data-parallel
        ranks into the tensor-parallel ones, as Megatron-Core's "parallel folding" allows)."""
        return max(1, self.data // self.expert)

    @property
    def pipeline_stride(self) -> int:
        """Ranks between two pipeline stages of one replica."""
        return self.tensor * self.context * self.data


@dataclass(frozen=True)
class StepBytes:
    """What one GPU's collectives move per optimizer step, by parallelism (bytes sent)."""

    data: Number
    tensor: Number
    pipeline: Number
    context: Number
    expert: Number
    expert_data: Number = 0.0
    """The experts' own data-parallel collectives: each expert is replicated on data ÷ EP
    ranks, an EP group apart, and synchronised over those alone."""


def data_parallel_bytes(
    gradient_bytes: Number,
    weight_bytes: Number,
    data: int,
    sharding: str,
    micro_batches: Number,
    reductions: Number | None = None,
) -> Number:
    """Bytes one GPU sends per step for data parallelism: ``gradient_bytes`` and
    ``weight_bytes`` are its replica share's gradients and weights (whole, before sharding).
    No sharding, ZeRO-1 and ZeRO-2: one gradient all-reduce per step. ZeRO-3 / FSDP, per
    micro-batch: the weights all-gathered for the forward and for the backward; the gradients
    reduce-scattered ``reductions`` times a step, after every micro-batch unless they are
    synchronised once per step (FSDP ``no_sync()``: :func:`allocator.accumulates_unsharded`)."""
    if sharding == "full":
        scatters = micro_batches if reductions is None else reductions
        return 2.0 * all_gather_bytes(weight_bytes, data) * micro_batches + all_gather_bytes(gradient_bytes, data) * (
            scatters
        )
    return all_reduce_bytes(gradient_bytes, data)


def tensor_parallel_bytes(
    activation_bytes: Number, tensor: int, layers_per_stage: float, micro_batches: int, recomputed: bool
) -> Number:
    """Bytes one GPU sends per step for tensor parallelism: per layer and micro-batch four
    all-reduces of the b·s·h activations (two forward, two backward), six with the forward
    recomputed."""
    per_layer = (6.0 if recomputed else 4.0) * all_reduce_bytes(activation_bytes, tensor)
    return per_layer * layers_per_stage * micro_batches


def pipeline_parallel_bytes(activation_bytes: Number, pipeline: int, tensor: int, micro_batches: int) -> Number:
    """Bytes one GPU sends per step across pipeline stages: each micro-batch's activations
    forward and their gradients back, b·s·h each, split over the tensor-parallel ranks
    (Megatron-LM's scatter/gather of the send: Narayanan et al. 2021, §4.1); none on one stage."""
    if pipeline <= 1:
        return 0.0 * activation_bytes
    return 2.0 * activation_bytes / tensor * micro_batches


def context_parallel_bytes(
    key_value_bytes: Number, context: int, layers_per_stage: float, micro_batches: int, recomputed: bool
) -> Number:
    """Bytes one GPU sends per step for context parallelism's ring: per layer the keys and
    values of the whole sequence pass round the ring (an all-gather's volume) in the forward,
    again in the backward with their gradients returned (three such passes, four with the
    forward recomputed)."""
    passes = 4.0 if recomputed else 3.0
    return passes * all_gather_bytes(key_value_bytes, context) * layers_per_stage * micro_batches


def expert_parallel_bytes(
    routed_bytes: Number, expert: int, moe_layers_per_stage: float, micro_batches: int, recomputed: bool
) -> Number:
    """Bytes one GPU sends per step for expert parallelism: per MoE layer and micro-batch
    four all-to-alls of its routed hidden states (tokens × k × h × bytes: dispatch and
    combine, forward and backward), six with the forward recomputed."""
    per_layer = (6.0 if recomputed else 4.0) * all_to_all_bytes(routed_bytes, expert)
    return per_layer * moe_layers_per_stage * micro_batches


def step_seconds(moved: StepBytes, degrees: Degrees, links: Links) -> tuple[Number, Number]:
    """(seconds that can overlap the compute, seconds on the critical path) of one GPU's
    collectives per step, each over the link its group crosses."""
    per_node = degrees.gpus_per_node

    def ring(bytes_moved: Number, group: int, stride: int) -> Number:
        return collective_seconds(bytes_moved, ring_gbps(group, stride, per_node, links))

    overlappable = ring(moved.data, degrees.data, degrees.data_stride) + ring(
        moved.expert_data, degrees.expert_replicas, degrees.data_stride * degrees.expert
    )
    critical = (
        ring(moved.tensor, degrees.tensor, 1)
        + ring(moved.context, degrees.context, degrees.tensor)
        + all_to_all_seconds(moved.expert, degrees.expert, degrees.data_stride, per_node, links)
        + point_to_point_seconds(moved.pipeline, degrees.pipeline, degrees.pipeline_stride, per_node, links)
    )
    return overlappable, critical
