"""Communication as the third bound of a step (engine/model/communication.py): the bytes
each collective moves, the link it crosses, what overlap hides, and the time split that
``estimate --json`` reports. Expected figures are worked by hand in the comments."""

from __future__ import annotations

import json

import pytest
import yaml
from physics_plans import LLAMA_70B, physics_plan_data

from ftcost_helpers import cli
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.loading import load_gpus, load_price_book, params_from_mapping
from ftcost_helpers.engine.model import communication, training
from ftcost_helpers.engine.quantities import base_value

BOOK = load_price_book()
GB = 1e9


# --- collectives, by hand ---------------------------------------------------------------


def test_ring_all_reduce_sends_twice_the_all_gather():
    # 8 GPUs, 1 GB: all-gather 7/8 GB = 0.875 GB; all-reduce 2 × 7/8 = 1.75 GB.
    assert communication.all_gather_bytes(1 * GB, 8) == pytest.approx(0.875 * GB)
    assert communication.all_reduce_bytes(1 * GB, 8) == pytest.approx(1.75 * GB)
    # an all-to-all keeps its own eighth: 7/8 GB.
    assert communication.all_to_all_bytes(1 * GB, 8) == pytest.approx(0.875 * GB)


def test_a_group_of_one_sends_nothing():
    assert communication.all_reduce_bytes(5 * GB, 1) == 0.0
    assert communication.all_gather_bytes(5 * GB, 1) == 0.0


def test_which_link_a_group_crosses():
    # tensor 8 (stride 1) on 8-GPU nodes: ranks 0–7, one node.
    assert not communication.crosses_nodes(8, 1, 8)
    # data 2 at stride 8 (after tensor 8): ranks 0 and 8, two nodes.
    assert communication.crosses_nodes(2, 8, 8)
    # data 16 at stride 1: 16 consecutive ranks, two nodes; a group of one crosses nothing.
    assert communication.crosses_nodes(16, 1, 8)
    assert not communication.crosses_nodes(1, 64, 8)
    # a ring over 16 GPUs in 2 nodes: the 8 GPUs of a node share their 8 cards, 8 × 50 = 400.
    links = communication.Links(450.0, 50.0)
    assert communication.ring_gbps(16, 1, 8, links) == 400.0
    assert communication.ring_gbps(8, 1, 8, links) == 450.0
    # one member per node (stride 8): one card, 50; 4 per node (stride 2): 200.
    assert communication.ring_gbps(2, 8, 8, links) == 50.0
    assert communication.ring_gbps(8, 2, 8, links) == 200.0
    # PCIe cards (32 GB/s) with 6.25 GB/s each to the network: 8 × 6.25 = 50, above the
    # 32 GB/s inside the node, which then bounds the ring.
    assert communication.ring_gbps(16, 1, 8, communication.Links(32.0, 6.25)) == 32.0
    # the links as collectives reach them: 450 × 0.8 and 50 × 0.9
    reached = communication.reached_links(450.0, 50.0, 0.8, 0.9)
    assert (reached.intra_node, reached.inter_node) == pytest.approx((360.0, 45.0))


def test_fsdp_on_two_nodes_of_eight_h100_by_hand():
    # 70B bf16 parameters: W = 70e9 × 2 B = 140 GB, gradients in bf16 also 140 GB.
    # ZeRO-3/FSDP per micro-batch: all-gather W for the forward and again for the backward,
    # reduce-scatter the gradients: 3 × 15/16 × 140 GB = 393.75 GB from each GPU.
    sent = communication.data_parallel_bytes(140 * GB, 140 * GB, 16, "full", 1)
    assert sent == pytest.approx(393.75 * GB)
    # two micro-batches per step gather twice as much.
    assert communication.data_parallel_bytes(140 * GB, 140 * GB, 16, "full", 2) == pytest.approx(787.5 * GB)
    # 16 GPUs span both nodes: one ring per network card, each leaving the node once, so the
    # 8 GPUs of a node share 8 × 50 GB/s (8 × 400 Gb/s ConnectX-7); at 0.8 of each link,
    # 8 × 40 = 320 GB/s, below NVLink's 450 × 0.8 = 360: 393.75 ÷ 320 = 1.23046875 s per step.
    links = communication.Links(360.0, 40.0)
    moved = communication.StepBytes(data=sent, tensor=0.0, pipeline=0.0, context=0.0, expert=0.0)
    degrees = communication.Degrees(tensor=1, context=1, data=16, pipeline=1, expert=1, gpus_per_node=8)
    overlappable, critical = communication.step_seconds(moved, degrees, links)
    assert overlappable == pytest.approx(1.23046875)
    assert critical == 0.0
    # with TP 8 inside each node the data-parallel group is 2 GPUs, one per node: their ring
    # has one card per node, 50 GB/s × 0.8 = 40 GB/s (all-gathers of an eighth of the weights:
    # 3 × 1/2 × 17.5 GB = 26.25 GB, 0.65625 s).
    tp8 = communication.Degrees(tensor=8, context=1, data=2, pipeline=1, expert=1, gpus_per_node=8)
    sent_tp8 = communication.data_parallel_bytes(17.5 * GB, 17.5 * GB, 2, "full", 1)
    assert sent_tp8 == pytest.approx(26.25 * GB)
    moved_tp8 = communication.StepBytes(data=sent_tp8, tensor=0.0, pipeline=0.0, context=0.0, expert=0.0)
    assert communication.step_seconds(moved_tp8, tp8, links)[0] == pytest.approx(0.65625)
    # the same 16 GPUs in one node of 16 (NVLink 450 GB/s × 0.8 = 360 GB/s): 1.09375 s.
    one_node = communication.Degrees(tensor=1, context=1, data=16, pipeline=1, expert=1, gpus_per_node=16)
    assert communication.step_seconds(moved, one_node, links)[0] == pytest.approx(1.09375)


def test_plain_data_parallel_all_reduces_the_gradients_once_per_step():
    # DDP / ZeRO-1 / ZeRO-2: 2 × 7/8 × 16 GB = 28 GB whatever the accumulation.
    for sharding in ("none", "optimizer", "gradients"):
        assert communication.data_parallel_bytes(16 * GB, 16 * GB, 8, sharding, 4) == pytest.approx(28 * GB)


def test_tensor_parallel_all_reduces_by_hand():
    # b·s·h = 1 × 4096 × 8192 × 2 B = 67,108,864 B per all-reduce; TP 2: 2 × 1/2 = 1 × that;
    # 4 per layer (6 recomputed) × 20 layers × 32 micro-batches.
    activations = 4096 * 8192 * 2.0
    assert communication.tensor_parallel_bytes(activations, 2, 20, 32, False) == pytest.approx(
        activations * 4 * 20 * 32
    )
    assert communication.tensor_parallel_bytes(activations, 2, 20, 32, True) == pytest.approx(activations * 6 * 20 * 32)
    assert communication.tensor_parallel_bytes(activations, 1, 20, 32, False) == 0.0


def test_pipeline_sends_by_hand():
    # each micro-batch: activations forward and gradients back, split over TP 2:
    # 2 × 67,108,864 ÷ 2 × 32 = 2,147,483,648 B; one stage sends nothing.
    activations = 4096 * 8192 * 2.0
    assert communication.pipeline_parallel_bytes(activations, 4, 2, 32) == pytest.approx(2_147_483_648)
    assert communication.pipeline_parallel_bytes(activations, 1, 2, 32) == 0.0


def test_expert_all_to_all_bytes_by_hand():
    # Qwen3-30B-A3B-like: 4 × 4096 tokens, k = 8 experts each, h = 2048, bf16:
    # 16,384 × 8 × 2048 × 2 = 536,870,912 B held per all-to-all; EP 8 sends 7/8 of it,
    # 469,762,048 B; 4 all-to-alls per layer × 48 layers × 16 micro-batches
    # = 1,443,109,011,456 B per step; recomputed forward: 6 per layer, 2,164,663,517,184 B.
    held = 16384 * 8 * 2048 * 2.0
    assert communication.expert_parallel_bytes(held, 8, 48, 16, False) == pytest.approx(1_443_109_011_456)
    assert communication.expert_parallel_bytes(held, 8, 48, 16, True) == pytest.approx(2_164_663_517_184)
    assert communication.expert_parallel_bytes(held, 1, 48, 16, False) == 0.0


def test_an_all_to_all_across_nodes_sends_most_over_the_network():
    # EP 64 on 8-GPU nodes: of the 63 others, 7 share the node and 56 do not. 63 GB sent:
    # 56 GB over 50 GB/s (1.12 s) and 7 GB over 450 GB/s (0.0156 s) at once: 1.12 s.
    seconds = communication.all_to_all_seconds(63 * GB, 64, 1, 8, communication.Links(450.0, 50.0))
    assert seconds == pytest.approx(1.12)
    # EP 8 inside one node: all 63 GB over NVLink, 0.14 s.
    assert communication.all_to_all_seconds(63 * GB, 8, 1, 8, communication.Links(450.0, 50.0)) == pytest.approx(0.14)


def test_overlap_hides_a_share_but_never_more_than_the_compute():
    # 10 s of gradient collectives, share 0.7, 20 s of compute: 3 s exposed; 2 s of tensor-
    # parallel all-reduces on the critical path add in full: 5 s.
    assert communication.exposed_seconds(10.0, 2.0, 20.0, 0.7) == pytest.approx(5.0)
    # only 4 s of compute to hide under: 10 − 4 = 6 s exposed (more than 3), + 2 = 8 s.
    assert communication.exposed_seconds(10.0, 2.0, 4.0, 0.7) == pytest.approx(8.0)
    # no overlap: everything shows.
    assert communication.exposed_seconds(10.0, 0.0, 20.0, 0.0) == pytest.approx(10.0)


# --- plans ------------------------------------------------------------------------------


def _data(training=None, base_model=None):
    """A full fine-tune on 16 H100, fully sharded (Llama-3.1-70B unless ``base_model``)."""
    sharded = {"method": "full_sft", "gpus_per_run": 16, "sharding": "full", **(training or {})}
    return physics_plan_data(sharded, base_model or LLAMA_70B)


def _plan(training=None, base_model=None):
    return params_from_mapping(_data(training, base_model), "plan", BOOK)


def test_a_single_gpu_plan_has_no_communication():
    facts = evaluate(_plan({"gpus_per_run": 1, "method": "lora"}, None), BOOK).compute
    assert float(facts.communication_gpu_hours_per_run) == 0.0
    assert float(facts.time_split_gpu_hours_per_run["communication"]) == 0.0


def test_70b_full_fine_tune_on_two_nodes_by_hand():
    # Per GPU and step (one micro-batch of 4,096 tokens): FSDP moves 3 × 15/16 × 141.2 GB =
    # 397.125 GB (70.6e9 × 2 B of weights gathered twice, as many gradient bytes reduced).
    # The ring crosses the two nodes on their 8 cards each: 8 × 50 GB/s × 0.91 (the network
    # share's midpoint) = 364 GB/s, above NVLink's 450 × 0.745 = 335.25 GB/s, which bounds it:
    # 1.18456 s. The compute per GPU and step (~5 s at utilisation 0.4) is longer than the
    # 0.7 (the overlap share's midpoint) of it that hides, so 0.3 × 1.18456 s shows.
    p = _plan()
    facts = evaluate(p, BOOK).compute
    physics = BOOK.training_physics
    share, network = base_value(physics.collective_bandwidth_share), base_value(physics.network_bandwidth_share)
    overlap = base_value(physics.communication_overlap_share)
    assert (share, network, overlap) == (pytest.approx(0.745), pytest.approx(0.91), pytest.approx(0.7))
    per_step = 3 * 15 / 16 * 70.6e9 * 2 / (450e9 * share)
    assert per_step == pytest.approx(1.18456, rel=1e-4)
    steps = float(facts.tokens_per_run) / (4096 * 16)
    busy = _busy(facts)
    assert busy / (16 * steps) * 3600 > overlap * per_step  # enough compute to hide under
    expected = 16 * steps * per_step * (1 - overlap) / 3600
    assert float(facts.communication_gpu_hours_per_run) == pytest.approx(expected, rel=1e-9)


def _busy(facts) -> float:
    """GPU-hours of the compute a run's communication can hide under."""
    return (
        float(facts.physics_gpu_hours_per_run)
        - float(facts.optimizer_step_gpu_hours_per_run)
        - float(facts.host_transfer_gpu_hours_per_run)
        - float(facts.communication_gpu_hours_per_run)
    )


def test_too_little_compute_leaves_the_rest_exposed():
    # micro-batches of 128 tokens: ~0.16 s of compute per step against 1.18456 s of gathers;
    # the overlap hides no more than the compute, so exposed = 1.18456 − compute.
    p = _plan({"sequence_length": 128})
    facts = evaluate(p, BOOK).compute
    per_step = 3 * 15 / 16 * 70.6e9 * 2 / (450e9 * 0.745)
    steps = float(facts.tokens_per_run) / (128 * 16)
    busy = _busy(facts)
    assert busy / (16 * steps) * 3600 < 0.7 * per_step
    expected = 16 * steps * per_step / 3600 - busy
    assert float(facts.communication_gpu_hours_per_run) == pytest.approx(expected, rel=1e-9)


def test_the_network_bounds_the_ring_once_it_is_slower_than_nvlink():
    two_nodes = evaluate(_plan(), BOOK).compute
    one_node = evaluate(_plan({"gpus_per_node": 16}), BOOK).compute
    slower_network = evaluate(_plan({"interconnect": {"inter_node_gbps": 12.5}}), BOOK).compute
    slower_nvlink = evaluate(_plan({"interconnect": {"intra_node_gbps": 100}}), BOOK).compute
    # NVLink (335.25 GB/s reached) bounds the ring on two nodes as on one.
    assert float(one_node.communication_gpu_hours_per_run) == pytest.approx(
        float(two_nodes.communication_gpu_hours_per_run)
    )
    # 12.5 GB/s per GPU (100 Gb/s): 8 × 12.5 × 0.91 = 91 GB/s, 335.25 ÷ 91 = 3.684 × slower.
    assert float(slower_network.communication_gpu_hours_per_run) == pytest.approx(
        float(two_nodes.communication_gpu_hours_per_run) * 335.25 / 91
    )
    # a 100 GB/s link inside the node: 74.5 GB/s reached bounds the ring, 4.5 × slower.
    assert float(slower_nvlink.communication_gpu_hours_per_run) == pytest.approx(
        float(two_nodes.communication_gpu_hours_per_run) * 4.5
    )


def test_the_split_adds_up_to_the_physics_hours():
    facts = evaluate(_plan(), BOOK).compute
    split = facts.time_split_gpu_hours_per_run
    assert set(split) == {"matmul", "memory_bound", "communication", "overheads"}
    assert sum(float(v) for v in split.values()) == pytest.approx(float(facts.physics_gpu_hours_per_run))
    assert float(split["communication"]) > 0.0


QWEN3_MOE = {
    "name": "Qwen3-30B-A3B",
    "parameters_billion": 30.5,
    "active_parameters_billion": 3.3,
    "layers": 48,
    "hidden_size": 2048,
    "attention_heads": 32,
    "kv_heads": 4,
    "head_dim": 128,
    "intermediate_size": 768,
    "experts": 128,
    "experts_per_token": 8,
    "vocab_size": 151936,
}


def test_expert_parallel_plan_times_its_all_to_alls():
    # 8 H100, EP 8: the all-to-alls stay on NVLink and sit on the critical path.
    moe = {"gpus_per_run": 8, "micro_batch_size": 4, "expert_parallel": 8, "method": "continued_pretraining"}
    p = _plan(moe, dict(QWEN3_MOE))
    shape = training.model_shape(p)
    method = BOOK.methods[p.training.method]
    moved = training.step_bytes(p, BOOK, method, shape, training.trained_parameters(p, method, shape))
    # 4 × 4096 tokens × k 8 × h 2048 × 2 B × 7/8 × 6 (recomputed) × 48 layers × 1 micro-batch
    assert float(moved.expert) == pytest.approx(16384 * 8 * 2048 * 2 * 7 / 8 * 6 * 48)
    # the routed experts (E·e = (30.5 − 3.3)e9 × 128/120 = 29.01e9) are split 8 ways and each
    # has one replica (data 8 ÷ EP 8): no data-parallel traffic for them.
    assert float(training.expert_parameters(shape)) == pytest.approx(27.2e9 * 128 / 120)
    assert float(moved.expert_data) == 0.0
    facts = evaluate(p, BOOK).compute
    without = evaluate(_plan({**moe, "expert_parallel": 1}, dict(QWEN3_MOE)), BOOK).compute
    assert float(facts.communication_gpu_hours_per_run) > 0.0
    assert float(facts.communication_gpu_hours_per_run) != float(without.communication_gpu_hours_per_run)


def test_estimate_json_has_the_time_split(tmp_path, capsys):
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(_data(), sort_keys=False), encoding="utf-8")
    assert cli.main(["estimate", "--json", str(path)]) == 0, capsys.readouterr().err
    summary = json.loads(capsys.readouterr().out)
    split = summary["compute"]["time_split_gpu_hours_per_run"]
    assert set(split) == {"matmul", "memory_bound", "communication", "overheads"}
    assert split["communication"] > 0.0


def test_every_catalogue_gpu_names_its_links():
    for key, gpu in load_gpus().gpus.items():
        assert gpu.intra_node_gbps > gpu.inter_node_gbps > 0, key
        assert gpu.interconnect, key
    # H100 SXM: NVLink 900 GB/s both ways → 450 one way; 400 Gb/s ConnectX-7 → 50 GB/s.
    h100 = BOOK.gpus["h100_sxm"]
    assert (h100.intra_node_gbps, h100.inter_node_gbps, h100.gpus_per_node) == (450.0, 50.0, 8)
    # the price book's own H100 entry keeps the catalogue's links it does not restate.
    assert BOOK.gpus["a100_80gb"].intra_node_gbps == 300.0


def test_a_plan_with_nothing_to_train_waits_on_no_collective():
    # No pairs and a 0-parameter model (the schema accepts both): no step, no byte to move, so
    # no communication, and the physics view stays finite (0 GPU-hours) rather than 0 ÷ 0.
    data = _data(base_model={**LLAMA_70B, "parameters_billion": 0.0})
    data["dataset"]["pairs"] = 0
    facts = evaluate(params_from_mapping(data, "plan", BOOK), BOOK).compute
    assert float(base_value(facts.communication_gpu_hours_per_run)) == 0.0
    assert float(base_value(facts.physics_gpu_hours_per_run)) == 0.0
