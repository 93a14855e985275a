"""Context- and expert-parallel collectives, worked by hand (engine/model/communication.py):
the key/value ring's bytes, the strides that place a group in or across nodes, the link each
kind of group crosses and the sum of the collectives on the critical path. Links of 450 GB/s
inside a node and 50 GB/s per GPU between nodes (an H100 SXM node's, taken as reached)."""

from __future__ import annotations

import numpy as np
import pytest

from ftcost_helpers.engine.model import communication

LINKS = communication.Links(450.0, 50.0)


def test_context_parallel_passes_the_keys_and_values_round_the_ring():
    # one sequence of 8,192 tokens, keys and values 2 × 1,024 wide in bf16:
    # 8,192 × 2 × 1,024 × 2 B = 33,554,432 B per layer; a ring of 4 sends 3/4 of it,
    # 25,165,824 B, three times per layer (forward, backward with the gradients back),
    # × 16 layers × 2 micro-batches = 2,415,919,104 B; four times with the forward recomputed,
    # 3,221,225,472 B.
    key_values = 8192 * 2 * 1024 * 2.0
    assert communication.context_parallel_bytes(key_values, 4, 16, 2, False) == pytest.approx(2_415_919_104)
    assert communication.context_parallel_bytes(key_values, 4, 16, 2, True) == pytest.approx(3_221_225_472)
    # a ring of 2 sends half: 16,777,216 × 3 × 16 × 2 = 1,610,612,736 B; one GPU sends nothing
    assert communication.context_parallel_bytes(key_values, 2, 16, 2, False) == pytest.approx(1_610_612_736)
    assert communication.context_parallel_bytes(key_values, 1, 16, 2, False) == 0.0


def test_strides_multiply_the_inner_degrees():
    # tensor 2 × context 4: a data-parallel group's members are 8 ranks apart; pipeline
    # stages 2 × 4 × data 2 = 16 apart.
    degrees = communication.Degrees(tensor=2, context=4, data=2, pipeline=2, expert=1, gpus_per_node=8)
    assert degrees.data_stride == 8
    assert degrees.pipeline_stride == 16
    # data 2 at stride 8 on nodes of 8: one member per node, one network card each, 50 GB/s:
    # 1e9 B of gradients take 0.02 s (at stride 2 they would share a node: 450 GB/s).
    moved = communication.StepBytes(data=1e9, tensor=0.0, pipeline=0.0, context=0.0, expert=0.0)
    overlappable, critical = communication.step_seconds(moved, degrees, LINKS)
    assert overlappable == pytest.approx(0.02)
    assert critical == 0.0


def test_expert_replicas_and_their_stride():
    # data 16, EP 8: each expert has 16 // 8 = 2 replicas; EP 8 on data 8: 1; EP 16 on data 4
    # (EP folded into other ranks): at least 1; data 24, EP 16: 24 // 16 = 1 whole replica.
    assert communication.Degrees(1, 1, 16, 1, 8, 8).expert_replicas == 2
    assert communication.Degrees(1, 1, 8, 1, 8, 8).expert_replicas == 1
    assert communication.Degrees(1, 1, 4, 1, 16, 8).expert_replicas == 1
    assert communication.Degrees(1, 1, 24, 1, 16, 8).expert_replicas == 1
    # data 16 on nodes of 8 with EP 8: an expert's 2 replicas sit an EP group apart, 1 × 8 = 8
    # ranks, one per node: their ring has one card per node, 50 GB/s; 5e9 B take 0.1 s. The
    # other weights' ring (16 ranks at stride 1) has 8 members per node, 8 × 50 = 400 GB/s
    # (below NVLink's 450): 4e9 B take 0.01 s. Both overlap the compute: 0.11 s.
    degrees = communication.Degrees(tensor=1, context=1, data=16, pipeline=1, expert=8, gpus_per_node=8)
    moved = communication.StepBytes(data=4e9, tensor=0.0, pipeline=0.0, context=0.0, expert=0.0, expert_data=5e9)
    overlappable, critical = communication.step_seconds(moved, degrees, LINKS)
    assert overlappable == pytest.approx(0.11)
    assert critical == 0.0


def test_pipeline_sends_cross_nodes_only_when_the_stages_do():
    # 1e9 B to the next stage: across nodes over one card, 50 GB/s, 0.02 s; inside a node over
    # NVLink, 450 GB/s, 1/450 s.
    assert communication.point_to_point_seconds(1e9, 2, 16, 8, LINKS) == pytest.approx(0.02)
    assert communication.point_to_point_seconds(1e9, 2, 4, 8, LINKS) == pytest.approx(1e9 / 450e9)


def test_every_collective_on_the_critical_path_adds_up():
    # tensor 2 × context 2 × data 4 × pipeline 2 = 32 GPUs on 4 nodes of 8, EP 4:
    # - tensor 2 at stride 1, inside a node: 4.5e9 B ÷ 450 GB/s = 0.01 s
    # - context 2 at stride 2 (ranks 0 and 2), inside a node: 9e9 B ÷ 450 GB/s = 0.02 s
    # - expert 4 at stride 2 × 2 = 4: 2 members per node (8 ÷ 4), so of the 3 others 1 shares
    #   the node and 2 do not: 7.5e9 B × 2/3 = 5e9 B over 50 GB/s (0.1 s) while 2.5e9 B go over
    #   NVLink (0.0056 s): 0.1 s
    # - pipeline 2 at stride 2 × 2 × 4 = 16, across nodes: 1e9 B ÷ 50 GB/s = 0.02 s
    # critical path: 0.01 + 0.02 + 0.1 + 0.02 = 0.15 s.
    # - data 4 at stride 4: 2 members per node, 2 × 50 = 100 GB/s; 8e9 B: 0.08 s, overlappable.
    degrees = communication.Degrees(tensor=2, context=2, data=4, pipeline=2, expert=4, gpus_per_node=8)
    moved = communication.StepBytes(data=8e9, tensor=4.5e9, pipeline=1e9, context=9e9, expert=7.5e9)
    overlappable, critical = communication.step_seconds(moved, degrees, LINKS)
    assert overlappable == pytest.approx(0.08)
    assert critical == pytest.approx(0.15)


def test_a_context_ring_across_nodes_shares_the_cards_of_its_node():
    # tensor 4 × context 4 on nodes of 8: the context ring's members are 4 ranks apart, 2 per
    # node, so 2 × 50 = 100 GB/s: 1e10 B take 0.1 s; tensor 4 at stride 1 stays on NVLink:
    # 9e9 B take 0.02 s; 0.12 s on the critical path.
    degrees = communication.Degrees(tensor=4, context=4, data=1, pipeline=1, expert=1, gpus_per_node=8)
    moved = communication.StepBytes(data=0.0, tensor=9e9, pipeline=0.0, context=1e10, expert=0.0)
    assert communication.step_seconds(moved, degrees, LINKS) == (0.0, pytest.approx(0.12))


def test_a_tensor_parallel_group_of_a_whole_node_stays_on_nvlink():
    # tensor 8 at stride 1 on nodes of 8: ranks 0–7, one node, NVLink 450 GB/s: 9e9 B take
    # 0.02 s (at stride 2 it would span two nodes, 4 members each sharing 4 cards: 200 GB/s).
    degrees = communication.Degrees(tensor=8, context=1, data=1, pipeline=1, expert=1, gpus_per_node=8)
    moved = communication.StepBytes(data=0.0, tensor=9e9, pipeline=0.0, context=0.0, expert=0.0)
    assert communication.step_seconds(moved, degrees, LINKS) == (0.0, pytest.approx(0.02))


def test_members_per_node_count_whole_gpus():
    # nodes of 6 GPUs (as Summit's), tensor 4, a data group of 3 at stride 4: ranks 0, 4, 8;
    # node 0 (ranks 0–5) holds two of them, node 1 (6–11) one, and that node's single card
    # bounds the ring: 6 // 4 = 1 member a node (never 1.5), 1 × 50 = 50 GB/s.
    assert communication.members_per_node(3, 4, 6) == 1
    assert communication.ring_gbps(3, 4, 6, LINKS) == 50.0


def test_an_expert_group_of_two_sends_its_all_to_all():
    # EP 2 one node apart (stride 8): the one other member is remote, all 1e9 B over 50 GB/s,
    # 0.02 s; EP 2 in one node (stride 1): all over NVLink, 1e9 ÷ 450e9 s.
    assert communication.all_to_all_seconds(1e9, 2, 8, 8, LINKS) == pytest.approx(0.02)
    assert communication.all_to_all_seconds(1e9, 2, 1, 8, LINKS) == pytest.approx(1e9 / 450e9)
    # a group of one sends nothing, draw by draw (a draw with nothing to send included)
    none = communication.all_to_all_seconds(np.array([0.0, 2e9]), 1, 1, 8, LINKS)
    assert np.shape(none) == (2,)
    assert not np.any(none)


def test_the_share_kept_in_the_node_goes_over_the_node_link():
    # EP 16 on nodes of 8 with a slow node link (100 GB/s) and a fast network (1,000 GB/s): of
    # 15e9 B, the 7/15 bound for the 7 node mates (7e9 B) take 0.07 s, the 8/15 for the other
    # node (8e9 B) 0.008 s: 0.07 s.
    links = communication.Links(100.0, 1000.0)
    assert communication.all_to_all_seconds(15e9, 16, 1, 8, links) == pytest.approx(0.07)


def test_two_pipeline_stages_send_and_one_does_not():
    # 2 stages: 2 × 1e8 B ÷ tensor 1 × 4 micro-batches = 8e8 B; one stage: 0 per draw, a draw
    # with no activations (a 0-parameter model) included.
    assert communication.pipeline_parallel_bytes(1e8, 2, 1, 4) == pytest.approx(8e8)
    none = communication.pipeline_parallel_bytes(np.array([0.0, 2e8]), 1, 1, 4)
    assert np.shape(none) == (2,)
    assert not np.any(none)
