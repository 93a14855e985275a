"""Strict types and the rules between keys (issue 27, What to build #2).

Booleans are not numbers and numbers are not booleans, anywhere a user can write one: the
client file, a scenario's overrides, a config.json, a rates overlay, an own GPU. Counts are
whole numbers; ``peak_to_average`` is at least 1 (params/README.md); active parameters lie
above zero and at most the total. Each refusal is one line naming the file and the key, exit
1; the boundary values either side are accepted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from ftcost_helpers.cli import main
from ftcost_helpers.engine.loading import load_params, read_yaml
from ftcost_helpers.engine.overrides import load_plan

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_A = ROOT / "params" / "clients" / "example_a.yaml"
Change = Callable[[dict[str, Any]], None]


def client_file(tmp_path: Path, change: Change, name: str = "client.yaml") -> Path:
    """Example A without its scenarios, ``change(data)`` applied, written to ``tmp_path``."""
    data = read_yaml(EXAMPLE_A)
    data.pop("scenarios")
    change(data)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def refused(capsys, path: Path, file: Path, *fragments: str, extra: tuple[str, ...] = ()) -> str:
    """``validate`` exits 1 with exactly one line, naming ``file`` and every fragment."""
    status = main(["validate", str(path), *extra])
    err = capsys.readouterr().err
    assert status == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: {file}: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def put(section: str, key: str, value: Any) -> Change:
    return lambda data: data.setdefault(section, {}).__setitem__(key, value)


def put_base(key: str, value: Any) -> Change:
    return put("base_model", key, value)


# --------------------------------------------------------------------------- the client file

NOT_A_NUMBER, NOT_A_BOOLEAN, NOT_WHOLE = "must be a number, not true", "must be true or false", "must be a whole number"
ACTIVE_ABOVE_TOTAL = "more than parameters_billion"
CLIENT_CASES = [
    # (key as the message names it, words of the problem, change): booleans where numbers go ...
    ("programme.build_months", NOT_A_NUMBER, put("programme", "build_months", True)),
    (
        "alternative.api.input_tokens_per_request",
        NOT_A_NUMBER,
        put("alternative", "api", {"usd_per_month": 1, "input_tokens_per_request": True}),
    ),
    ("training.tokens_per_pair", NOT_A_NUMBER, put("training", "tokens_per_pair", True)),
    (
        "programme.spend_profile.dataset.0",
        NOT_A_NUMBER,
        lambda d: d.setdefault("programme", {}).update(build_months=2, spend_profile={"dataset": [True]}),
    ),
    # ... numbers and words where booleans go
    ("training.compiled", NOT_A_BOOLEAN, put("training", "compiled", 1)),
    ("training.compiled", NOT_A_BOOLEAN, put("training", "compiled", "yes")),
    ("training.memory_efficient_attention", NOT_A_BOOLEAN, put("training", "memory_efficient_attention", "true")),
    ("compliance.hipaa", NOT_A_BOOLEAN, put("compliance", "hipaa", 0)),
    ("serving.modelled", NOT_A_BOOLEAN, put("serving", "modelled", 1.0)),
    ("base_model.tied_embeddings", NOT_A_BOOLEAN, put_base("tied_embeddings", 1)),
    # counts are whole numbers
    ("base_model.layers", f"{NOT_WHOLE}, got 28.7", put_base("layers", 28.7)),
    ("training.gpus_per_run", NOT_A_NUMBER, put("training", "gpus_per_run", True)),
    # ranges and rules between keys
    ("serving.peak_to_average", "must be at least 1", put("serving", "peak_to_average", 0.5)),
    ("serving.peak_to_average", "must be at least 1", put("serving", "peak_to_average", {"low": 0.8, "high": 2})),
    ("base_model.active_parameters_billion", "must be greater than 0", put_base("active_parameters_billion", 0)),
    ("base_model.active_parameters_billion", ACTIVE_ABOVE_TOTAL, put_base("active_parameters_billion", 7.7)),
    # a range of active parameters whose high (8) exceeds the total's low (7.5): some draws
    # would use more parameters than the model has
    (
        "base_model.active_parameters_billion",
        f"{ACTIVE_ABOVE_TOTAL} at its lowest (7.5)",
        lambda d: d["base_model"].update(
            parameters_billion={"low": 7.5, "high": 8}, active_parameters_billion={"low": 7, "high": 8}
        ),
    ),
]


@pytest.mark.parametrize(
    ("key", "problem", "change"), CLIENT_CASES, ids=[f"{i}-{key}" for i, (key, _, _) in enumerate(CLIENT_CASES)]
)
def test_a_wrong_type_or_rule_in_a_client_file_is_one_line(tmp_path, capsys, key: str, problem: str, change) -> None:
    path = client_file(tmp_path, change)
    refused(capsys, path, path, f": {key}: {problem}")


def test_the_boundaries_are_accepted(tmp_path, book) -> None:
    """The values just inside each rule pass: a peak equal to the average (1), active
    parameters equal to the total, a range of active whose high equals the total's low,
    a whole number written 28.0 (YAML float, integral), booleans as booleans."""

    def change(data: dict[str, Any]) -> None:
        data["serving"]["peak_to_average"] = 1
        data["base_model"].update(
            parameters_billion={"low": 7.6, "high": 8}, active_parameters_billion={"low": 7, "high": 7.6}
        )
        data["training"].update(compiled=True, memory_efficient_attention=False)
        data["programme"] = {"build_months": 2, "spend_profile": {"dataset": [1, 2]}}

    params = load_params(client_file(tmp_path, change), book)
    assert params.serving.peak_to_average == 1
    assert params.training.compiled is True and params.programme.build_months == 2


# --------------------------------------------------------------------------- scenarios, after their overrides

SCENARIO_CASES = [
    ("serving.peak_to_average", {"serving": {"peak_to_average": 0.9}}),
    ("training.compiled", {"training": {"compiled": 1}}),
    ("programme.build_months", {"programme": {"build_months": True}}),
    # 8 active against the plan's total of 7.6: the rule is checked on the merged plan
    ("base_model.active_parameters_billion", {"base_model": {"active_parameters_billion": 8}}),
    # the plan's total lowered under an active count the plan gave
    ("base_model.active_parameters_billion", {"base_model": {"parameters_billion": 5}}),
]


@pytest.mark.parametrize(
    ("key", "overrides"), SCENARIO_CASES, ids=[f"{i}-{key}" for i, (key, _) in enumerate(SCENARIO_CASES)]
)
def test_a_scenario_is_held_to_the_same_rules_after_its_overrides(tmp_path, capsys, key: str, overrides: dict) -> None:
    def change(data: dict[str, Any]) -> None:
        data["base_model"]["active_parameters_billion"] = 7.0  # a plan that passes (7.0 ≤ 7.6)
        data["scenarios"] = [{"name": "Hostile", "overrides": overrides}]

    path = client_file(tmp_path, change)
    refused(capsys, path, path, f"scenarios.0 (Hostile): {key}")


# --------------------------------------------------------------------------- config.json

LLAMA_8B = json.loads(
    (Path(__file__).parent / "fixtures" / "configs" / "llama-3.1-8b.json").read_text(encoding="utf-8")
)
"""Llama-3.1-8B's config.json (tests/fixtures/configs)."""

CONFIG_CASES = [
    # (setting, value, words of the problem)
    ("num_hidden_layers", True, "whole number, got true"),  # on main: read as 1 layer, a 7B costed as 1.3B
    ("num_attention_heads", 28.7, "whole number, got 28.7"),  # on main: truncated to 28
    ("num_attention_heads", 0, "at least 1, got 0"),  # on main: ZeroDivisionError
    ("num_attention_heads", "32", 'whole number, got "32"'),
    ("hidden_size", None, "missing"),
    ("tie_word_embeddings", 1, "true or false, got 1"),
    ("num_key_value_heads", False, "whole number, got false"),
]


@pytest.mark.parametrize(("setting", "value", "problem"), CONFIG_CASES, ids=[f"{s}-{v!r}" for s, v, _ in CONFIG_CASES])
def test_a_config_json_setting_of_the_wrong_type_is_refused(
    tmp_path, capsys, setting: str, value: Any, problem: str
) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({**LLAMA_8B, setting: value}), encoding="utf-8")
    path = client_file(tmp_path, lambda d: d.update(base_model={"name": "our-llama", "config_json": "config.json"}))
    refused(capsys, path, config, f"{config}: {setting}: ", problem)


SHAPE_CASES = [
    # (settings over LLAMA_8B, the setting named, words of the problem)
    ({"num_hidden_layers": 10**30}, "num_hidden_layers", "at most 1,000,000,000"),
    ({"sliding_window": 128, "layer_types": "sliding_attention"}, "layer_types", "must be a list"),
    ({"sliding_window": 128, "layer_types": ["sliding_attention"] * 33}, "layer_types", "33 sliding layers"),
    ({"sliding_window": 128, "use_sliding_window": 0}, "use_sliding_window", "true or false, got 0"),
    ({"sliding_window": 128, "sliding_window_pattern": 0}, "sliding_window_pattern", "at least 1, got 0"),
    ({"num_local_experts": 8, "first_k_dense_replace": 40}, "first_k_dense_replace", "40 is more than"),
]


@pytest.mark.parametrize(("settings", "setting", "problem"), SHAPE_CASES, ids=[c[1] for c in SHAPE_CASES])
def test_a_config_json_whose_settings_do_not_fit_together_is_refused(tmp_path, capsys, settings, setting, problem):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({**LLAMA_8B, **settings}), encoding="utf-8")
    path = client_file(tmp_path, lambda d: d.update(base_model={"name": "our-llama", "config_json": "config.json"}))
    refused(capsys, path, config, f"{config}: {setting}: ", problem)


def test_the_same_config_json_with_whole_numbers_is_read(tmp_path, book) -> None:
    (tmp_path / "config.json").write_text(json.dumps(LLAMA_8B), encoding="utf-8")
    path = client_file(tmp_path, lambda d: d.update(base_model={"name": "our-llama", "config_json": "config.json"}))
    model = load_params(path, book).base_model
    assert (model.layers, model.attention_heads, model.kv_heads) == (32, 32, 8)


# --------------------------------------------------------------------------- price book, overlays, own GPUs

OVERLAY_CASES = [
    ("gpus.h100_sxm.memory_gb", {"gpus": {"h100_sxm": {"label": "H100", "memory_gb": True, "bf16_tflops": 989}}}),
    ("price_book_max_age_months", {"price_book_max_age_months": True}),
    ("methods.lora.trains_all_weights", {"methods": {"lora": {"trains_all_weights": 0}}}),
    ("api_typical_input_tokens_per_request", {"api_typical_input_tokens_per_request": 2000.5}),
    ("as_of", {"as_of": 20260501}),  # on main: read as 20,260,501 seconds after 1970-01-01
    (
        "gpu_rates_usd_per_gpu_hour.h100_sxm.neocloud_spot.low",
        {"gpu_rates_usd_per_gpu_hour": {"h100_sxm": {"neocloud_spot": {"low": True, "high": 2}}}},
    ),
]


@pytest.mark.parametrize(("key", "content"), OVERLAY_CASES, ids=[key for key, _ in OVERLAY_CASES])
def test_a_rates_overlay_of_the_wrong_type_names_the_overlay(tmp_path, capsys, key: str, content: dict) -> None:
    overlay = tmp_path / "rates.yaml"
    overlay.write_text(yaml.safe_dump({"as_of": "2026-05-01", "source": "test", **content}), encoding="utf-8")
    refused(capsys, EXAMPLE_A, overlay, f": {key}: ", extra=("--rates", str(overlay)))


OWN_GPU_CASES = [
    ("memory_gb", float("inf")),  # on main: accepted, then a traceback writing JSON
    ("memory_gb", True),
    ("bf16_tflops", "989"),
    ("memory_bandwidth_gbps", float("nan")),
]


@pytest.mark.parametrize(("key", "value"), OWN_GPU_CASES, ids=[f"{k}-{v!r}" for k, v in OWN_GPU_CASES])
def test_an_own_gpu_takes_finite_numbers_only(tmp_path, capsys, key: str, value: Any) -> None:
    gpu = {"label": "Lab card", "memory_gb": 32, "bf16_tflops": 100, key: value}
    path = client_file(tmp_path, lambda d: d["training"].update(gpu=gpu, rate_usd_per_gpu_hour=1.0))
    refused(capsys, path, path, f"training.gpu.{key}: ")


def test_the_worked_examples_still_load_with_strict_types(book, example_files) -> None:
    for name, path in example_files.items():
        assert load_plan(path, book).client, name
