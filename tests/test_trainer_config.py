"""``ftcost export``: the training configuration the costed plan assumes, in key names the
libraries document (tests/fixtures/trainer_keys.yaml, copied from their sources by hand)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
import yaml

from ftcost_helpers.cli import main
from ftcost_helpers.engine.loading import params_from_mapping, read_yaml
from ftcost_helpers.engine.loading import project_root as root
from ftcost_helpers.engine.trainer_config import (
    FORMATS,
    data_parallel_ranks,
    distributed_type,
    nodes,
    trainer_config,
    unsaid,
    zero_stage,
)

DOCUMENTED = yaml.safe_load((Path(__file__).parent / "fixtures" / "trainer_keys.yaml").read_text())
EXAMPLE_A = root() / "params" / "clients" / "example_a.yaml"


GRPO = {
    "algorithm": "grpo",
    "prompts": 8,
    "group_size": 4,
    "prompt_tokens": 28,
    "generation_tokens": 100,
    "prompts_per_step": 8,
    "reward": "verifier",
}


def plan(**training):
    data = read_yaml(EXAMPLE_A)
    if training.get("method") == "rl":
        training = {"rl": GRPO, "trainable_fraction": None} | training
    data["training"].update(training)
    return params_from_mapping(data, "client.yaml")


def dotted_keys(mapping: dict, prefix: str = "") -> list[str]:
    """Every key of a nested mapping, nested ones as ``outer.inner``."""
    keys = []
    for key, value in mapping.items():
        keys.append(prefix + key)
        if isinstance(value, dict):
            keys += dotted_keys(value, f"{prefix}{key}.")
    return keys


VARIANTS = [
    {"method": method, "sharding": sharding, "offload": offload}
    for method, sharding, offload in itertools.product(
        ["lora", "qlora", "full_sft", "dpo", "rl", "continued_pretraining"],
        ["none", "optimizer", "gradients", "full"],
        ["none", "optimizer", "optimizer_and_parameters"],
    )
] + [
    {"precision": "fp8"},
    {"precision": "fp32"},
    {"precision": "bf16"},
    {"optimizer": "paged_adamw_32bit"},
    {"optimizer": "adamw_8bit"},
    {"optimizer": "adamw", "optimizer_implementation": "fused"},
    {"activation_checkpointing": "none"},
    {"activation_checkpointing": "selective"},
    {"compiled": True},
    {"method": "dpo", "dpo": {"loss": "kto", "reference": "precomputed"}},
    {"method": "rl", "rl": GRPO | {"colocated_inference": False, "inference_gpus": 2}},
    {"gpus_per_run": 8, "tensor_parallel": 2, "context_parallel": 2},
]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_key_written_is_one_the_library_documents(fmt, book, examples):
    documented = set(DOCUMENTED[fmt]["keys"])
    plans = list(examples.values()) + [plan(**variant) for variant in VARIANTS]
    for params in plans:
        for pilot in (None, 50):
            keys = dotted_keys(trainer_config(params, book, fmt, pilot))
            assert set(keys) <= documented, (fmt, params.training.method, set(keys) - documented)


def test_optimizer_and_launcher_values_are_documented_values(book, examples):
    plans = list(examples.values()) + [plan(**variant) for variant in VARIANTS]
    for params in plans:
        assert trainer_config(params, book, "trl")["optim"] in DOCUMENTED["trl"]["optim_values"]
        axolotl = trainer_config(params, book, "axolotl")
        assert axolotl.get("rl", "dpo") in DOCUMENTED["axolotl"]["rl_values"]
        launcher = trainer_config(params, book, "accelerate")
        assert launcher["distributed_type"] in DOCUMENTED["accelerate"]["distributed_type_values"]
        assert launcher["mixed_precision"] in DOCUMENTED["accelerate"]["mixed_precision_values"]


def test_the_global_batch_is_micro_batch_times_accumulation_times_replicas(book):
    # 16 GPUs, tensor 2 × context 2 → 16 / 4 = 4 replicas; micro-batch 2, accumulation 4:
    # 2 × 4 × 4 = 32 sequences per optimizer step.
    params = plan(
        gpus_per_run=16, tensor_parallel=2, context_parallel=2, micro_batch_size=2, gradient_accumulation_steps=4
    )
    assert data_parallel_ranks(params.training) == 4
    config = trainer_config(params, book, "deepspeed")
    assert config["train_batch_size"] == 32
    assert config["train_micro_batch_size_per_gpu"] == 2 and config["gradient_accumulation_steps"] == 4


def test_machines_follow_gpus_per_node(book):
    # The H100 SXM is hosted 8 to a node (params/gpus.yaml): 32 GPUs → 4 machines, 9 → 2,
    # and a plan's own gpus_per_node wins: 32 GPUs at 4 a node → 8.
    assert nodes(plan(gpu="h100_sxm", gpus_per_run=32), book) == 4
    assert nodes(plan(gpu="h100_sxm", gpus_per_run=9, sharding="full"), book) == 2
    assert nodes(plan(gpu="h100_sxm", gpus_per_run=32, gpus_per_node=4), book) == 8
    assert trainer_config(plan(gpu="h100_sxm", gpus_per_run=32), book, "accelerate")["num_machines"] == 4


@pytest.mark.parametrize(
    ("sharding", "offload", "stage", "launcher"),
    [
        ("none", "none", 0, "MULTI_GPU"),
        ("optimizer", "none", 1, "DEEPSPEED"),
        ("gradients", "none", 2, "DEEPSPEED"),
        ("full", "none", 3, "FSDP"),
        # Optimizer offload needs ZeRO ≥ 1 (DeepSpeed's offload_optimizer), parameter offload ZeRO-3.
        ("none", "optimizer", 1, "DEEPSPEED"),
        ("gradients", "optimizer", 2, "DEEPSPEED"),
        ("none", "optimizer_and_parameters", 3, "DEEPSPEED"),
        ("full", "optimizer_and_parameters", 3, "FSDP"),
        ("full", "optimizer", 3, "DEEPSPEED"),
    ],
)
def test_sharding_and_offload_choose_the_zero_stage_and_launcher(book, sharding, offload, stage, launcher):
    params = plan(sharding=sharding, offload=offload, gpus_per_run=8)
    assert zero_stage(params.training) == stage
    assert distributed_type(params.training) == launcher
    zero = trainer_config(params, book, "deepspeed")["zero_optimization"]
    assert zero["stage"] == stage
    assert ("offload_optimizer" in zero) == (offload != "none")
    assert ("offload_param" in zero) == (offload == "optimizer_and_parameters")


def test_one_gpu_without_sharding_is_not_distributed(book):
    assert trainer_config(plan(gpus_per_run=1, sharding="none"), book, "accelerate")["distributed_type"] == "NO"


def test_qlora_says_nf4_and_double_quantisation(book):
    config = trainer_config(plan(method="qlora", nf4_double_quant=False), book, "trl")
    assert (config["load_in_4bit"], config["bnb_4bit_quant_type"], config["use_bnb_nested_quant"]) == (
        True,
        "nf4",
        False,
    )
    assert config["use_peft"] is True and config["lora_r"] == 16
    axolotl = trainer_config(plan(method="qlora"), book, "axolotl")
    assert axolotl["adapter"] == "qlora" and axolotl["load_in_4bit"] is True


def test_full_training_has_no_adapter(book):
    assert "use_peft" not in trainer_config(plan(method="full_sft"), book, "trl")
    assert "adapter" not in trainer_config(plan(method="full_sft"), book, "axolotl")


def test_lora_targets(book):
    attention = plan(lora={"rank": 8, "target_modules": "attention"})
    assert trainer_config(attention, book, "trl")["lora_target_modules"] == ["q_proj", "k_proj", "v_proj", "o_proj"]
    assert trainer_config(attention, book, "axolotl")["lora_target_modules"] == ["q_proj", "k_proj", "v_proj", "o_proj"]
    assert trainer_config(plan(), book, "trl")["lora_target_modules"] == "all-linear"
    assert trainer_config(plan(), book, "axolotl")["lora_target_linear"] is True


@pytest.mark.parametrize(
    ("precision", "bf16", "mixed"),
    [("bf16_mixed", True, "bf16"), ("bf16", True, "bf16"), ("fp32", False, "no"), ("fp8", True, "fp8")],
)
def test_precision(book, precision, bf16, mixed):
    params = plan(precision=precision)
    if precision != "fp8":
        assert trainer_config(params, book, "trl")["bf16"] is bf16
    assert trainer_config(params, book, "accelerate")["mixed_precision"] == mixed


def test_the_plans_batch_sequence_and_epochs_are_written(book):
    params = plan(micro_batch_size=3, gradient_accumulation_steps=5, sequence_length=2048, epochs=2, packing=False)
    trl = trainer_config(params, book, "trl")
    assert (trl["per_device_train_batch_size"], trl["gradient_accumulation_steps"]) == (3, 5)
    assert (trl["max_length"], trl["packing"], trl["num_train_epochs"]) == (2048, False, 2.0)
    axolotl = trainer_config(params, book, "axolotl")
    assert (axolotl["micro_batch_size"], axolotl["sequence_len"], axolotl["sample_packing"]) == (3, 2048, False)


def test_a_pilot_logs_every_step_and_checkpoints_at_the_end(book):
    config = trainer_config(plan(), book, "trl", pilot_steps=120)
    assert (config["max_steps"], config["logging_steps"], config["save_steps"]) == (120, 1, 120)


def test_rl_and_dpo_keys(book):
    # GRPO: 4 completions a prompt (group_size), completions up to 100 tokens (the mean, no maximum given).
    config = trainer_config(plan(method="rl"), book, "trl")
    assert (config["num_generations"], config["max_completion_length"], config["vllm_mode"]) == (4, 100, "colocate")
    separate = plan(
        method="rl", rl=GRPO | {"colocated_inference": False, "inference_gpus": 2, "max_generation_tokens": 512}
    )
    config = trainer_config(separate, book, "trl")
    assert (config["max_completion_length"], config["vllm_mode"]) == (512, "server")
    precomputed = plan(method="dpo", dpo={"reference": "precomputed"})
    assert trainer_config(precomputed, book, "trl")["precompute_ref_log_probs"] is True
    assert trainer_config(precomputed, book, "axolotl")["precompute_ref_log_probs"] is True
    assert trainer_config(plan(method="dpo", dpo={"loss": "orpo"}), book, "axolotl")["rl"] == "orpo"


def test_what_a_library_cannot_say_is_said(book):
    lines = unsaid(plan(activation_checkpointing="selective"), "trl")
    assert any("selective has no trl key" in line for line in lines)
    assert any(
        "ZeRO stage 3" in line
        for line in unsaid(plan(sharding="none", offload="optimizer_and_parameters"), "deepspeed")
    )


# ---- the command ---------------------------------------------------------------------------------


def test_export_prints_yaml_that_reads_back_as_the_config(capsys, book, examples):
    assert main(["export", str(EXAMPLE_A), "--format", "axolotl"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# The axolotl configuration the costed plan example_a.yaml assumes")
    assert yaml.safe_load(out) == trainer_config(examples["a"], book, "axolotl")


def test_export_deepspeed_is_json_with_notes_on_stderr(capsys):
    assert main(["export", str(EXAMPLE_A), "--format", "deepspeed"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["zero_optimization"]["stage"] == 3  # example A: sharding full
    assert "note: The deepspeed configuration" in captured.err


def test_export_writes_a_new_file_and_never_overwrites(tmp_path, capsys):
    out = tmp_path / "run.yaml"
    assert main(["export", str(EXAMPLE_A), "--format", "trl", "-o", str(out)]) == 0
    assert yaml.safe_load(out.read_text())["model_name_or_path"] == "Qwen/Qwen2.5-7B"
    out.write_text("mine\n")
    assert main(["export", str(EXAMPLE_A), "--format", "trl", "-o", str(out)]) == 1
    assert out.read_text() == "mine\n"
    assert "already exists" in capsys.readouterr().err


def test_pilot_steps_need_a_trainer_format(capsys):
    assert main(["export", str(EXAMPLE_A), "--format", "accelerate", "--pilot-steps", "10"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--pilot-steps" in err


def test_a_bad_plan_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE_A.read_text().replace("micro_batch_size: 4", "micro_batch_size: -4"))
    assert main(["export", str(bad), "--format", "trl"]) == 1
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "micro_batch_size" in err and "Traceback" not in err


def test_only_a_precomputed_reference_is_said_so(book):
    # DPO with its reference model held (the default) loads it: no precompute key either way.
    assert "precompute_ref_log_probs" not in trainer_config(plan(method="dpo"), book, "axolotl")
    assert trainer_config(plan(method="dpo"), book, "trl")["precompute_ref_log_probs"] is False


def test_fsdp_offloads_only_when_parameters_go_to_the_host(book):
    # TrainingArguments.fsdp: "full_shard auto_wrap", with "offload" when parameters are offloaded.
    assert trainer_config(plan(sharding="full"), book, "trl")["fsdp"] == "full_shard auto_wrap"
    offloaded = plan(sharding="full", offload="optimizer_and_parameters")
    assert trainer_config(offloaded, book, "trl")["fsdp"] == "full_shard offload auto_wrap"


def test_axolotl_names_parallel_degrees_only_above_one(book):
    assert "tensor_parallel_size" not in trainer_config(plan(), book, "axolotl")
    parallel = trainer_config(plan(gpus_per_run=8, tensor_parallel=2, context_parallel=2), book, "axolotl")
    assert (parallel["tensor_parallel_size"], parallel["context_parallel_size"]) == (2, 2)
