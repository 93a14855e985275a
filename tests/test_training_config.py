"""The training-configuration and architecture keys: defaults, the legacy-key migration and
the one-line messages for set-ups that cannot run."""

from __future__ import annotations

import pytest

from ftcost_helpers.engine.loading import ParamsError, params_from_mapping, read_yaml
from ftcost_helpers.engine.loading import project_root as root

EXAMPLE_A = root() / "params" / "clients" / "example_a.yaml"


def plan(training: dict | None = None, base_model: dict | None = None):
    data = read_yaml(EXAMPLE_A)
    data["training"].update(training or {})
    data["base_model"].update(base_model or {})
    return params_from_mapping(data, "client.yaml")


def problem(training: dict | None = None, base_model: dict | None = None) -> str:
    with pytest.raises(ParamsError) as caught:
        plan(training, base_model)
    return str(caught.value)


def test_defaults_are_the_common_recipe():
    t = plan().training
    assert (t.precision, t.optimizer, t.offload, t.sharding) == ("bf16_mixed", "adamw", "none", "full")
    assert (t.tensor_parallel, t.pipeline_parallel, t.context_parallel) == (1, 1, 1)
    assert t.activation_checkpointing == "full"
    assert (t.lora.rank, t.lora.target_modules) == (16, "all_linear")


@pytest.mark.parametrize(
    ("old", "value", "new", "expected"),
    [
        ("sharded", False, "sharding", "none"),
        ("sharded", True, "sharding", "full"),
        ("gradient_checkpointing", False, "activation_checkpointing", "none"),
    ],
)
def test_old_boolean_keys_keep_working(old, value, new, expected):
    assert getattr(plan({old: value}).training, new) == expected


def test_an_old_key_with_a_non_boolean_says_what_to_write():
    message = problem({"sharded": "zero3"})
    assert "sharded is replaced by sharding" in message and "sharding: full or sharding: none" in message


def test_parallel_degrees_must_divide_the_gpus():
    # 8 GPUs with tensor 3: 8 is not a multiple of 3 × 1 × 1.
    message = problem({"gpus_per_run": 8, "tensor_parallel": 3})
    assert "training.gpus_per_run" in message and "not a multiple" in message


def test_tensor_parallel_must_divide_the_heads():
    # Example A's model has 40 heads; 6 GPUs of tensor parallel 6 divide the GPUs but not 40.
    message = problem({"gpus_per_run": 6, "tensor_parallel": 6}, {"attention_heads": 40})
    assert "training.tensor_parallel" in message


def test_qlora_in_fp32_is_refused():
    assert "training.precision" in problem({"method": "qlora", "precision": "fp32"})


def test_fp8_needs_fp8_tensor_cores():
    assert "no FP8" in problem({"gpu": "a100_80gb", "tier": "neocloud_on_demand", "precision": "fp8"})


def test_more_routed_experts_than_experts():
    assert "base_model.experts_per_token" in problem(base_model={"experts": 8, "experts_per_token": 16})


def test_more_active_than_total_parameters():
    message = problem(base_model={"parameters_billion": 30.5, "active_parameters_billion": 33})
    assert "base_model.active_parameters_billion" in message


def test_a_raw_parameter_count_is_caught():
    message = problem(base_model={"parameters_billion": 32_800_000_000})
    assert "base_model.parameters_billion" in message and "raw parameter count" in message and "32.8" in message
