"""Expert parallelism in the fewest-GPUs search, and communication in ``estimate --json``'s
time split for a 70B full fine-tune on 2 nodes × 8 H100 and a mixture of experts with
expert parallelism across nodes: lower bounds worked by hand from the bytes each GPU must
send and the fastest its links can carry them."""

from __future__ import annotations

import json

import pytest
import yaml
from physics_plans import LLAMA_70B, physics_plan_data

from ftcost_helpers import cli
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.fit import plan_fit
from ftcost_helpers.engine.loading import load_price_book, params_from_mapping
from ftcost_helpers.engine.model import training

BOOK = load_price_book()

MIXTRAL = {
    "name": "Mixtral-8x7B",
    "parameters_billion": 46.7,
    "active_parameters_billion": 12.9,
    "layers": 32,
    "hidden_size": 4096,
    "attention_heads": 32,
    "kv_heads": 8,
    "intermediate_size": 14336,
    "experts": 8,
    "experts_per_token": 2,
    "vocab_size": 32000,
}


def _estimate(tmp_path, capsys, data) -> dict:
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert cli.main(["estimate", "--json", str(path)]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)["compute"]


# --- the fewest GPUs of a mixture of experts ------------------------------------------------


def test_the_fewest_gpus_search_splits_the_experts():
    # Mixtral-8x7B LoRA, DDP (no sharding), H100 80GB. The routed experts hold
    # 32 layers × 8 experts × 3 × 4,096 × 14,336 = 45.10e9 of the 46.7e9 parameters, s = 0.9657.
    # Unsplit, the bf16 weights (~93.9 GB) exceed the 82.9 GB an H100 leaves for live tensors, and
    # without sharding no number of replicas helps. Split over 2 EP ranks the weights are
    # 93.9 × (1 − s/2) = 48.6 GB; with the adapters' gradients and states (~3.4 GB), activations
    # and logits (~3.3 GB) it fits: 2 GPUs.
    p = params_from_mapping(
        physics_plan_data({"method": "lora", "gpus_per_run": 8, "sharding": "none"}, MIXTRAL), "plan", BOOK
    )
    shape = training.model_shape(p)
    assert float(training._expert_share(shape)) == pytest.approx(32 * 8 * 3 * 4096 * 14336 / 46.7e9)
    run = evaluate(p, BOOK)
    assert float(run.compute.fewest_gpus) == 2.0
    fit = plan_fit(p, BOOK, run)
    assert fit.verdict == "does not fit"  # the plan as written: EP 1 on 8 GPUs
    assert "split the experts across GPUs (expert parallelism)" in fit.fixes
    # with EP 8 written in the plan it fits, and the search still finds 2
    split = params_from_mapping(
        physics_plan_data({"method": "lora", "gpus_per_run": 8, "sharding": "none", "expert_parallel": 8}, MIXTRAL),
        "plan",
        BOOK,
    )
    run8 = evaluate(split, BOOK)
    assert plan_fit(split, BOOK, run8).fits
    assert float(run8.compute.fewest_gpus) == 2.0


def test_a_dense_model_tries_no_expert_degrees():
    assert training.expert_parallel_candidates(1, 1) == ()
    # 8 experts, the plan's EP 2 kept apart: 1, 4, 8
    assert training.expert_parallel_candidates(8, 2) == (1, 4, 8)


# --- communication in estimate --json -------------------------------------------------------


def test_70b_full_fine_tune_on_two_nodes_shows_communication(tmp_path, capsys):
    # FSDP over 16 GPUs: per GPU and micro-batch the weights all-gathered twice and the
    # gradients reduce-scattered, 3 × 15/16 × 70.6e9 × 2 B = 397.125e9 B. No link carries more
    # than NVLink at the collective share's high end, 450 × 0.82 = 369 GB/s (the network's
    # 8 × 50 × 0.96 = 384 is higher): ≥ 1.07622 s a step. At most the overlap share's high end,
    # 0.9, hides: ≥ 0.107622 s exposed, for each of 16 GPUs and each of tokens ÷ (4,096 × 16)
    # steps.
    data = physics_plan_data({"method": "full_sft", "gpus_per_run": 16, "sharding": "full"}, LLAMA_70B)
    compute = _estimate(tmp_path, capsys, data)
    steps = compute["tokens_per_run"]["base"] / (4096 * 16)
    bound = 16 * steps * 0.1 * 397.125e9 / 369e9 / 3600
    split = compute["time_split_gpu_hours_per_run"]
    assert set(split) == {"matmul", "memory_bound", "communication", "overheads"}
    assert split["communication"] >= bound * 0.999  # the JSON rounds to 4 decimals
    assert split["communication"] > 0.0


def test_a_mixture_with_expert_parallelism_across_nodes_shows_its_all_to_alls(tmp_path, capsys):
    # Mixtral-8x7B full fine-tune on 2 nodes × 8 H100, FSDP, EP 16 (the 8 experts folded over
    # 16 ranks: every rank dispatches to all). Per GPU and micro-batch each MoE layer holds
    # 4,096 tokens × k 2 × h 4,096 × 2 B = 67,108,864 B; an all-to-all sends 15/16 of it, six
    # per layer with the forward recomputed, × 32 layers: 12,079,595,520 B. Of the 15 others 8
    # sit in the other node, so 8/15 of it, 6,442,450,944 B, crosses the network at no more
    # than 50 × 0.96 = 48 GB/s: ≥ 0.134218 s a step, on the critical path (no overlap), for each
    # of 16 GPUs and tokens ÷ (4,096 × 16) steps.
    data = physics_plan_data(
        {"method": "full_sft", "gpus_per_run": 16, "sharding": "full", "expert_parallel": 16}, MIXTRAL
    )
    compute = _estimate(tmp_path, capsys, data)
    steps = compute["tokens_per_run"]["base"] / (4096 * 16)
    per_step = 4096 * 2 * 4096 * 2 * 15 / 16 * 6 * 32 * 8 / 15 / 48e9
    assert per_step == pytest.approx(0.134218, rel=1e-5)
    bound = 16 * steps * per_step / 3600
    assert compute["time_split_gpu_hours_per_run"]["communication"] >= bound * 0.999
