"""A scenario that names another model is costed as that model (issue 27, What to build #2),
and what one file or one section describes stays its own: an own GPU's label names one GPU
in a file, and a second file read with the same price book cannot use the first one's GPU.

On main, a scenario switching example A (Qwen2.5-7B, 7.6B) to Llama-3.1-70B kept the plan's
28 layers and 7.6B parameters under the 70B's name; a serving GPU sharing the training GPU's
label replaced its spec; ``validate A B`` let B train on a GPU only A described.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from ftcost_helpers.cli import main
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.loading import ParamsError, load_params, load_price_book, read_yaml
from ftcost_helpers.engine.overrides import load_plan, scenario_params

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_A = ROOT / "params" / "clients" / "example_a.yaml"

# Example A's corpus: 14,000 pairs × 2,000 tokens × 3 epochs (defaults.yaml) = 84,000,000
# tokens per run, packed (padding_efficiency 1), at 4,096 tokens per sequence (defaults.yaml).
TOKENS_PER_RUN = 14_000 * 2_000 * 3
SEQUENCE = 4_096


def plan_with_scenarios(tmp_path: Path, *scenarios: dict[str, Any], change: Callable | None = None) -> Path:
    """Example A with ``scenarios`` in place of its own, written to ``tmp_path``."""
    data = read_yaml(EXAMPLE_A)
    data["scenarios"] = list(scenarios)
    if change is not None:
        change(data)
    path = tmp_path / "client.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def scenario_plan(path: Path, index: int = 0):
    book = load_price_book()
    params = load_plan(path, book)
    return scenario_params(params, book, params.scenarios[index], index, path), book


FULL_SFT_NO_RECOMPUTE = {"method": "full_sft", "activation_checkpointing": "none"}


def test_a_70b_scenario_of_a_7b_plan_is_costed_as_the_70b(tmp_path) -> None:
    """params/models.yaml, meta-llama/Llama-3.1-70B: 70.6B parameters, 80 layers, hidden 8,192,
    64 heads (8 KV), MLP 28,672, vocabulary 128,256, untied.

    FLOPs per run by hand (full SFT trains every weight, no recomputation; compute.flops_per_token):
    weights 6·N = 6 × 70.6e9 = 423,600,000,000 per token; attention 6·L·s·(a·d) with
    a·d = 64 × 128 = 8,192: 6 × 80 × 4,096 × 8,192 = 16,106,127,360 per token; together
    439,706,127,360 per token × 84,000,000 tokens = 3.6935314698e19 (full SFT's algorithm
    multiplier is 1 in the price book)."""
    scenario = {
        "name": "Llama 70B",
        "overrides": {"base_model": {"name": "meta-llama/Llama-3.1-70B"}, "training": FULL_SFT_NO_RECOMPUTE},
    }
    plan, book = scenario_plan(plan_with_scenarios(tmp_path, scenario))
    model = plan.base_model
    assert (model.name, model.parameters_billion, model.layers, model.hidden_size) == (
        "meta-llama/Llama-3.1-70B",
        70.6,
        80,
        8192,
    )
    assert (model.attention_heads, model.kv_heads, model.intermediate_size, model.vocab_size) == (64, 8, 28672, 128256)
    compute = evaluate(plan, book).compute
    assert float(compute.total_parameters) == pytest.approx(70.6e9)
    per_token = 6 * 70.6e9 + 6 * 80 * SEQUENCE * (64 * 128)
    assert per_token == pytest.approx(439_706_127_360)
    assert float(compute.flops_per_run) == pytest.approx(per_token * TOKENS_PER_RUN, rel=1e-9)


def test_the_same_scenario_on_main_would_have_costed_the_7b(tmp_path) -> None:
    """The contrast the fix removes: with the plan's own architecture (Qwen2.5-7B as example A
    gives it: 7.6B, 28 layers, hidden 3,584, 28 heads) the same full-SFT run would take
    (6 × 7.6e9 + 6 × 28 × 4,096 × 3,584) × 84e6 = 48,066,313,216 × 84e6 = 4.0376e18 FLOPs,
    about a ninth of the 70B's; the scenario's figure is the 70B's, not this."""
    scenario = {
        "name": "Llama 70B",
        "overrides": {"base_model": {"name": "meta-llama/Llama-3.1-70B"}, "training": FULL_SFT_NO_RECOMPUTE},
    }
    plan, book = scenario_plan(plan_with_scenarios(tmp_path, scenario))
    seven_b = (6 * 7.6e9 + 6 * 28 * SEQUENCE * 3584) * TOKENS_PER_RUN
    assert seven_b == pytest.approx(4.0376e18, rel=1e-4)
    assert float(evaluate(plan, book).compute.flops_per_run) > 9 * seven_b


def test_an_moe_scenario_takes_the_experts_and_active_count(tmp_path) -> None:
    """mistralai/Mixtral-8x7B-v0.1 in the catalogue: 46.7B in all, 12.9B active, 8 experts,
    2 per token, 32 layers, 32 heads of 128. FLOPs use the active count: (6 × 12.9e9 +
    6 × 32 × 4,096 × 4,096) = 77,400,000,000 + 3,221,225,472 = 80,621,225,472 per token."""
    scenario = {
        "name": "Mixtral",
        "overrides": {"base_model": {"name": "mistralai/Mixtral-8x7B-v0.1"}, "training": FULL_SFT_NO_RECOMPUTE},
    }
    plan, book = scenario_plan(plan_with_scenarios(tmp_path, scenario))
    model = plan.base_model
    assert (model.parameters_billion, model.active_parameters_billion) == (46.7, 12.9)
    assert (model.experts, model.experts_per_token, model.layers) == (8, 2, 32)
    per_token = 6 * 12.9e9 + 6 * 32 * SEQUENCE * 4096
    assert per_token == 80_621_225_472
    assert float(evaluate(plan, book).compute.flops_per_run) == pytest.approx(per_token * TOKENS_PER_RUN, rel=1e-9)


def test_a_scenario_may_name_a_config_json_next_to_the_client_file(tmp_path) -> None:
    config = {
        "model_type": "llama",
        "hidden_size": 2048,
        "num_hidden_layers": 16,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "intermediate_size": 8192,
        "vocab_size": 128256,
        "tie_word_embeddings": True,
    }
    (tmp_path / "small.json").write_text(json.dumps(config), encoding="utf-8")
    scenario = {"name": "Small", "overrides": {"base_model": {"name": "our-1b", "config_json": "small.json"}}}
    plan, _ = scenario_plan(plan_with_scenarios(tmp_path, scenario))
    assert (plan.base_model.name, plan.base_model.layers, plan.base_model.hidden_size) == ("our-1b", 16, 2048)
    # attention 2·2048·(32·64) + 2·2048·(8·64) = 8,388,608 + 2,097,152 = 10,485,760; MLP
    # 3·2048·8192 = 50,331,648; 16 layers × 60,817,408 = 973,078,528; tied embeddings
    # 128,256 × 2,048 = 262,668,288: 1,235,746,816 → 1.236 billion.
    assert plan.base_model.parameters_billion == pytest.approx(1.236)


def test_a_scenario_keys_win_over_the_new_models(tmp_path) -> None:
    scenario = {
        "name": "70B, longer vocabulary",
        "overrides": {"base_model": {"name": "meta-llama/Llama-3.1-70B", "vocab_size": 200000}},
    }
    plan, _ = scenario_plan(plan_with_scenarios(tmp_path, scenario))
    assert (plan.base_model.layers, plan.base_model.vocab_size) == (80, 200000)


@pytest.mark.parametrize("name", ["Qwen/Qwen2.5-7B", "qwen2.5-7b", "Qwen2.5-7B"])
def test_naming_the_plans_own_model_keeps_the_plans_figures(tmp_path, name: str) -> None:
    """The plan gives 7.6 (its model card) where the catalogue has 7.61: the same model named
    another way is no switch, so the plan's own figure stays (and a tweak merges over it)."""
    scenario = {"name": "Same", "overrides": {"base_model": {"name": name, "layers": 30}}}
    plan, _ = scenario_plan(plan_with_scenarios(tmp_path, scenario))
    assert (plan.base_model.parameters_billion, plan.base_model.layers) == (7.6, 30)


def test_a_figure_alone_changes_the_plans_model(tmp_path) -> None:
    scenario = {"name": "Heavier", "overrides": {"base_model": {"parameters_billion": 8.0}}}
    plan, _ = scenario_plan(plan_with_scenarios(tmp_path, scenario))
    assert (plan.base_model.name, plan.base_model.parameters_billion, plan.base_model.layers) == (
        "Qwen/Qwen2.5-7B",
        8.0,
        28,
    )


def test_a_model_with_no_architecture_to_take_is_refused(tmp_path, capsys) -> None:
    """A name the catalogue lacks, with no config.json and no keys: nothing to cost it with."""
    path = plan_with_scenarios(tmp_path, {"name": "Mystery", "overrides": {"base_model": {"name": "acme/secret-9b"}}})
    status = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert status == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: {path}: scenarios.0 (Mystery): base_model.name: 'acme/secret-9b'")
    assert "not in the model catalogue" in lines[0] and "base_model.layers" in lines[0]


def test_a_scenario_s_missing_config_json_is_one_line(tmp_path, capsys) -> None:
    path = plan_with_scenarios(
        tmp_path, {"name": "Gone", "overrides": {"base_model": {"name": "x", "config_json": "nope.json"}}}
    )
    status = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert status == 1 and len(err.strip().splitlines()) == 1, err
    assert "scenarios.0 (Gone): base_model.config_json: file not found" in err


# --------------------------------------------------------------------------- own GPUs are the file's own

LAB_80 = {"label": "Lab card", "memory_gb": 80, "bf16_tflops": 400, "memory_bandwidth_gbps": 2000}
LAB_24 = {"label": "Lab card", "memory_gb": 24, "bf16_tflops": 80, "memory_bandwidth_gbps": 900}


def _own_training(data: dict[str, Any]) -> None:
    data["training"].update(gpu=dict(LAB_80), tier="local_owned", rate_usd_per_gpu_hour=1.0)
    data.pop("scenarios", None)


def test_serving_cannot_redefine_the_training_gpu_s_label(tmp_path, capsys) -> None:
    """On main the serving spec (24 GB) replaced the training one (80 GB) under own_lab_card."""

    def change(data: dict[str, Any]) -> None:
        _own_training(data)
        data["serving"].update(gpu=dict(LAB_24), rate_usd_per_gpu_hour=1.0)

    path = plan_with_scenarios(tmp_path, change=change)
    status = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert status == 1 and len(err.strip().splitlines()) == 1, err
    assert f"{path}: serving.gpu.label: 'Lab card' already names a GPU with other figures in this file" in err
    assert "80 GB" in err


def test_the_same_gpu_described_twice_is_one_gpu(tmp_path, book) -> None:
    def change(data: dict[str, Any]) -> None:
        _own_training(data)
        data["serving"].update(gpu=dict(LAB_80), rate_usd_per_gpu_hour=1.0)

    params = load_params(plan_with_scenarios(tmp_path, change=change), book)
    assert params.training.gpu == params.serving.gpu == "own_lab_card"
    assert book.gpus["own_lab_card"].memory_gb == 80


def test_a_scenario_cannot_redefine_the_plans_gpu(tmp_path, capsys) -> None:
    scenario = {"name": "Smaller card", "overrides": {"training": {"gpu": dict(LAB_24)}}}

    def change(data: dict[str, Any]) -> None:
        _own_training(data)
        data["scenarios"] = [scenario]

    path = plan_with_scenarios(tmp_path, change=change)
    status = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert status == 1 and len(err.strip().splitlines()) == 1, err
    assert "scenarios.0 (Smaller card): training.gpu.label: 'Lab card' already names a GPU" in err


def test_a_second_file_cannot_use_a_gpu_only_the_first_defines(tmp_path, capsys) -> None:
    first = tmp_path / "a"
    second = tmp_path / "b"
    first.mkdir(), second.mkdir()
    defines = plan_with_scenarios(first, change=_own_training)

    def borrows(data: dict[str, Any]) -> None:
        data["training"].update(gpu="own_lab_card", tier="local_owned", rate_usd_per_gpu_hour=1.0)
        data.pop("scenarios", None)

    uses = plan_with_scenarios(second, change=borrows)
    status = main(["validate", str(defines), str(uses)])
    captured = capsys.readouterr()
    assert status == 1
    assert f"ok: {defines}" in captured.out
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"error: {uses}: training.gpu: unknown GPU 'own_lab_card'")


def test_files_read_one_after_another_keep_their_own_figures(tmp_path) -> None:
    """Two files, one label, two GPUs: each file is read with its own card."""
    book = load_price_book()
    small = tmp_path / "small"
    small.mkdir()

    def smaller(data: dict[str, Any]) -> None:
        _own_training(data)
        data["training"]["gpu"] = dict(LAB_24)

    load_params(plan_with_scenarios(tmp_path, change=_own_training), book)
    assert book.gpus["own_lab_card"].memory_gb == 80
    load_params(plan_with_scenarios(small, change=smaller), book)
    assert book.gpus["own_lab_card"].memory_gb == 24


def test_an_own_gpu_cannot_take_a_price_book_gpu_s_name(tmp_path) -> None:
    book = load_price_book()
    book.gpus["own_lab_card"] = book.gpus["h100_sxm"]  # a price book that itself has the key

    with pytest.raises(ParamsError, match=r"training\.gpu\.label: 'Lab card' gives the name 'own_lab_card'"):
        load_params(plan_with_scenarios(tmp_path, change=_own_training), book)
