"""Offload and paging as time (engine/model/offload.py): the host's optimizer step, the PCIe
link both ways, NVMe (ZeRO-Infinity) and paged optimizer states that do not fit. Expected
figures are worked by hand in the comments."""

from __future__ import annotations

import numpy as np
import pytest
from physics_plans import physics_plan_data

from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.fit import plan_fit
from ftcost_helpers.engine.loading import load_price_book, params_from_mapping, project_root, read_yaml
from ftcost_helpers.engine.model import offload

BOOK = load_price_book()
DGX = offload.Host(
    cpu_cores=112,
    core_gflops=128,
    memory_bandwidth_gbps=614.4,
    bandwidth_share=0.7,
    optimizer_slowdown=1.0,
    nvme_gbps=7,
)


# --- formulas, by hand ----------------------------------------------------------------------


def test_the_host_step_is_bound_by_dram_on_a_dgx():
    # 7e9 parameters × 28 B = 1.96e11 B at 614.4 × 0.7 = 430.08 GB/s: 0.45573 s; the FLOPs,
    # 7e9 × 16 = 1.12e11 on 112 × 128 GFLOP/s = 1.4336e13/s, take 7.8125 ms.
    assert offload.host_step_seconds(7e9, 28.0, DGX) == pytest.approx(1.96e11 / 430.08e9)
    # PyTorch's optimizer on the host: 6 × that.
    slow = offload.Host(112, 128, 614.4, 0.7, 6.0, 7)
    assert offload.host_step_seconds(7e9, 28.0, slow) == pytest.approx(6 * 1.96e11 / 430.08e9)


def test_few_cores_bound_the_host_step_by_its_flops():
    # 1 core of 2 GFLOP/s: 7e9 × 16 ÷ 2e9 = 56 s, far above DRAM's 0.45573 s.
    one_core = offload.Host(1, 2, 614.4, 0.7, 1.0, 7)
    assert offload.host_step_seconds(7e9, 28.0, one_core) == pytest.approx(56.0)
    # nothing to update: 0 s
    assert offload.host_step_seconds(0.0, 28.0, DGX) == 0.0


def test_nvme_moves_the_states_at_the_drives_bandwidth():
    # 1.4e11 B read and written at 7 GB/s: 20 s.
    assert offload.nvme_step_seconds(1.4e11, 7.0) == pytest.approx(20.0)


def test_the_host_link_is_the_gpus_pcie_as_reached_else_the_books_figure():
    # PCIe Gen5 x16 64 GB/s × 0.78 = 49.92; a GPU without one: the book's 25.
    assert offload.reached_host_link_gbps(64.0, 25.0, 0.78) == pytest.approx(49.92)
    assert offload.reached_host_link_gbps(None, 25.0, 0.78) == 25.0


def test_only_the_paged_states_that_do_not_fit_move():
    # 50 GB live on 40 GB usable with 30 GB pageable: 10 GB overflow, 2 × 10 GB = 2e10 B a step.
    assert offload.overflow_gb(50.0, 40.0, 30.0) == pytest.approx(10.0)
    assert offload.paging_bytes_per_step(10.0) == pytest.approx(2e10)
    # a run that fits pages nothing; never more than the pageable states.
    assert offload.overflow_gb(30.0, 40.0, 30.0) == 0.0
    assert offload.overflow_gb(90.0, 40.0, 30.0) == pytest.approx(30.0)
    # per draw
    np.testing.assert_allclose(offload.overflow_gb(np.array([50.0, 35.0]), 40.0, 30.0), [10.0, 0.0])


# --- plans ------------------------------------------------------------------------------------

LLAMA_7B = {
    "name": "Llama-2-7B",
    "parameters_billion": 6.74,
    "layers": 32,
    "hidden_size": 4096,
    "attention_heads": 32,
    "intermediate_size": 11008,
    "vocab_size": 32000,
}


def _plan(training=None, base_model=None):
    """A full fine-tune on one H100, its optimizer offloaded to the host (Llama-2-7B unless
    ``base_model``)."""
    offloaded = {
        "method": "full_sft",
        "gpus_per_run": 1,
        "sharding": "none",
        "offload": "optimizer",
        **(training or {}),
    }
    return params_from_mapping(physics_plan_data(offloaded, base_model or LLAMA_7B), "plan", BOOK)


def _steps(facts, tokens_per_step: float) -> float:
    return float(facts.tokens_per_run) / tokens_per_step


def test_zero_offload_of_a_7b_full_fine_tune_on_one_h100_by_hand():
    # 6.74e9 trained parameters, bf16 mixed AdamW. On the host: 6.74e9 × 28 B ÷ 430.08 GB/s =
    # 0.438802 s a step. Over PCIe Gen5 (49.92 GB/s): 6.74e9 × (2 + 2) B = 2.696e10 B, 0.540064 s.
    p = _plan()
    facts = evaluate(p, BOOK).compute
    steps = _steps(facts, 4096)
    host = 6.74e9 * 28 / 430.08e9
    link = 6.74e9 * 4 / 49.92e9
    assert float(facts.optimizer_step_gpu_hours_per_run) == pytest.approx(steps * host / 3600)
    assert float(facts.host_transfer_gpu_hours_per_run) == pytest.approx(steps * link / 3600)
    # both sit in the split: the host step with the memory-bound work, the link with communication
    split = facts.time_split_gpu_hours_per_run
    assert float(split["memory_bound"]) >= steps * host / 3600
    assert float(split["communication"]) == pytest.approx(steps * link / 3600)
    # it fits where the same run without offload does not: 6.74e9 × (2 + 2 + 12) B = 107.84 GB
    # of weights, gradients and states against 80 GiB = 85.9 GB; offloaded, the weights' 13.48 GB
    # and one layer's gradients stay.
    assert plan_fit(p, BOOK, evaluate(p, BOOK)).verdict == "fits"
    on_gpu = _plan({"offload": "none"})
    assert plan_fit(on_gpu, BOOK, evaluate(on_gpu, BOOK)).verdict == "does not fit"


def test_the_gpus_of_a_node_share_their_host():
    # 8 GPUs, ZeRO-2 with offload: each updates 6.74e9 ÷ 8; the host updates all 6.74e9 a step,
    # 0.438802 s, which each of the 8 GPUs waits for: 8 × steps × 0.438802 s.
    facts = evaluate(_plan({"gpus_per_run": 8, "sharding": "gradients"}), BOOK).compute
    steps = _steps(facts, 4096 * 8)
    assert float(facts.optimizer_step_gpu_hours_per_run) == pytest.approx(8 * steps * 6.74e9 * 28 / 430.08e9 / 3600)
    # a plan's own host: 2 sockets of 8 DDR4-3200 channels, 409.6 GB/s (× 0.7 = 286.72)
    own = evaluate(
        _plan({"gpus_per_run": 8, "sharding": "gradients", "host": {"memory_bandwidth_gbps": 409.6}}), BOOK
    ).compute
    assert float(own.optimizer_step_gpu_hours_per_run) == pytest.approx(8 * steps * 6.74e9 * 28 / 286.72e9 / 3600)


def test_nvme_offload_adds_the_drives():
    # ZeRO-Infinity: the 6.74e9 × 12 B of master weights and moments read and written back a
    # step, 2 × 8.088e10 = 1.6176e11 B at 7 GB/s = 23.1086 s, on top of the host's 0.438802 s.
    facts = evaluate(_plan({"offload_device": "nvme"}), BOOK).compute
    steps = _steps(facts, 4096)
    per_step = 6.74e9 * 28 / 430.08e9 + 2 * 6.74e9 * 12 / 7e9
    assert float(facts.optimizer_step_gpu_hours_per_run) == pytest.approx(steps * per_step / 3600)
    # the host then holds the gradients only (the states are on the drives)
    cpu = evaluate(_plan(), BOOK).compute
    assert float(facts.host_memory_gb) < float(cpu.host_memory_gb)
    assert float(facts.host_memory_gb) == pytest.approx(6.74e9 * 2 / 1e9, rel=0.01)


def test_no_offload_no_host_time():
    facts = evaluate(_plan({"offload": "none", "method": "lora"}), BOOK).compute
    assert float(facts.host_transfer_gpu_hours_per_run) == 0.0


def test_a_run_that_fits_only_by_paging_pays_for_the_paging():
    # 7B full fine-tune on one H100 with paged 32-bit AdamW: the 6.74e9 × 12 B = 80.88 GB of
    # master weights and moments can page out. Live tensors beyond the usable memory are the
    # overflow; every step moves it in and out over PCIe Gen5 (49.92 GB/s): 2 × overflow.
    p = _plan({"offload": "none", "optimizer": "paged_adamw_32bit"})
    facts = evaluate(p, BOOK).compute
    overflow = float(facts.allocated_gb) - float(facts.usable_gb_per_gpu)
    assert 0 < overflow < float(facts.paged_gb)  # fits by paging part of the states
    steps = _steps(facts, 4096)
    paging = steps * 2 * overflow * 1e9 / 49.92e9 / 3600
    assert float(facts.host_transfer_gpu_hours_per_run) == pytest.approx(paging)
    split = facts.time_split_gpu_hours_per_run
    assert float(split["communication"]) == pytest.approx(paging)
    assert sum(float(v) for v in split.values()) == pytest.approx(float(facts.physics_gpu_hours_per_run))
    assert plan_fit(p, BOOK, evaluate(p, BOOK)).fits
    # LoRA on the same GPU with paged AdamW fits outright: nothing pages, no time.
    lora = evaluate(_plan({"offload": "none", "optimizer": "paged_adamw_32bit", "method": "lora"}), BOOK).compute
    assert float(lora.host_transfer_gpu_hours_per_run) == 0.0


def test_zero_offloads_13b_on_one_32gb_v100_is_never_called_does_not_fit():
    # "It can train models with over 13 billion parameters on a single GPU" (Ren et al. 2021,
    # ZeRO-Offload, abstract; a V100 32GB). GPT-3 13B's shape (Brown et al. 2020, Table 2.1:
    # 40 layers, d_model 5,140, 40 heads of 128); sequences of 1,024 one at a time (an
    # assumption: the abstract gives no batch). On the GPU stay the 13e9 × 2 B = 26 GB of fp16
    # weights, one layer's gradients (13e9 ÷ 40 × 2 B = 0.65 GB) and the checkpointed
    # activations, against 32 GiB = 34.36 GB: fits or borderline, never "does not fit".
    data = read_yaml(project_root() / "params" / "clients" / "example_a.yaml")
    data.pop("scenarios")
    data["training"].update(
        {
            "method": "full_sft",
            "gpu": {"label": "V100 32GB", "memory_gb": 32, "bf16_tflops": 125},
            "tier": "local_owned",
            "rate_usd_per_gpu_hour": 1.0,
            "gpus_per_run": 1,
            "micro_batch_size": 1,
            "sequence_length": 1024,
            "sharding": "none",
            "activation_checkpointing": "full",
            "offload": "optimizer",
        }
    )
    data["base_model"] = {
        "name": "GPT-3 13B",
        "parameters_billion": 13.0,
        "layers": 40,
        "hidden_size": 5140,
        "attention_heads": 40,
        "head_dim": 128,
        "vocab_size": 50257,
    }
    p = params_from_mapping(data, "plan", BOOK)
    run = evaluate(p, BOOK)
    assert float(run.compute.memory_breakdown_gb["weights"]) == pytest.approx(26.0, rel=0.01)
    assert float(run.compute.memory_breakdown_gb["gradients"]) == pytest.approx(0.65, rel=0.01)
    assert plan_fit(p, BOOK, run).verdict in {"fits", "borderline"}
    # without offload the 13e9 × 12 B of states alone (156 GB) could never fit
    on_gpu = params_from_mapping({**data, "training": {**data["training"], "offload": "none"}}, "plan", BOOK)
    assert plan_fit(on_gpu, BOOK, evaluate(on_gpu, BOOK)).verdict == "does not fit"


def test_step_work_by_hand():
    # 7B on one H100, bf16 mixed AdamW: the GPU's update streams 28 B a parameter; offloaded,
    # the host streams them instead, the link carries 2 + 2 B a parameter, and NVMe reads and
    # writes the 4 + 8 B of master weights and moments: 2 × 12 = 24 B a parameter.
    trained = np.array([0.0, 6.74e9])  # a draw with nothing to train: every term 0, never 0 ÷ 0
    none = offload.step_work(_plan({"offload": "none"}), 0.0, trained)
    assert (none.gpu_bytes_per_param, none.host_bytes_per_param) == (28.0, 0.0)
    waits = offload.offloaded_step_seconds(_plan({"offload": "none"}), BOOK, none)
    for zeros in (none.link_bytes, none.nvme_bytes, waits):  # one 0 per draw
        assert np.shape(zeros) == (2,)
        np.testing.assert_array_equal(zeros, [0.0, 0.0])
    cpu = offload.step_work(_plan(), 0.0, trained)
    assert (cpu.gpu_bytes_per_param, cpu.host_bytes_per_param) == (0.0, 28.0)
    np.testing.assert_allclose(cpu.link_bytes, [0.0, 6.74e9 * 4])
    assert np.shape(cpu.nvme_bytes) == (2,)
    np.testing.assert_array_equal(cpu.nvme_bytes, [0.0, 0.0])
    nvme = offload.step_work(_plan({"offload_device": "nvme"}), 0.0, trained)
    np.testing.assert_allclose(nvme.nvme_bytes, [0.0, 2 * 6.74e9 * 12])
    # weights offloaded too, 1.348e10 B of them (6.74e9 × 2 B), streamed in for the forward and
    # the backward, 2.696e10 B over the link and, on NVMe, read from the drives; the updated
    # weights stay on the host (no upload after the step): link 1.348e10 of gradients +
    # 2.696e10 = 4.044e10 B; drives 1.6176e11 + 2.696e10 = 1.8872e11 B.
    both = offload.step_work(
        _plan({"offload": "optimizer_and_parameters", "offload_device": "nvme"}), 1.348e10, trained
    )
    np.testing.assert_allclose(both.link_bytes, [2.696e10, 4.044e10])
    np.testing.assert_allclose(both.nvme_bytes, [2.696e10, 1.8872e11])


def test_the_drives_of_a_node_serve_all_its_gpus():
    # 8 GPUs, ZeRO-2, NVMe: each GPU owns 6.74e9 ÷ 8 parameters; the node's host updates all
    # 6.74e9 (6.74e9 × 28 ÷ 430.08e9 s) and its drive reads and writes all 2 × 6.74e9 × 12 B at
    # 7 GB/s: 23.1086 s more a step.
    p = _plan({"gpus_per_run": 8, "sharding": "gradients", "offload_device": "nvme"})
    work = offload.step_work(p, 0.0, 6.74e9)
    assert offload.offloaded_step_seconds(p, BOOK, work) == pytest.approx(
        6.74e9 * 28 / 430.08e9 + 2 * 6.74e9 * 12 / 7e9
    )
