"""Scenario comparison: overrides merged over the plan, validated by the same schema."""

from __future__ import annotations

from typing import Any

import pytest

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.loading import ParamsError, deep_merge, params_from_mapping, read_yaml
from ftcost_helpers.engine.scenarios import BASE_PLAN_NAME, compare_scenarios
from ftcost_helpers.engine.schema import Scenario


def plan_with(example_files, book, name: str, scenarios: list[dict[str, Any]], changes: dict | None = None):
    data = deep_merge(read_yaml(example_files[name]), changes or {})
    data["scenarios"] = scenarios
    return params_from_mapping(data, f"example_{name}", book)


def only(example_files, book, name: str, overrides: dict[str, Any], changes: dict | None = None):
    """The plan and its one scenario's results."""
    params = plan_with(example_files, book, name, [{"name": "s", "overrides": overrides}], changes)
    base, scenario = compare_scenarios(params, book)
    return base, scenario


@pytest.mark.parametrize("name", "abc")
def test_the_plan_comes_first_and_matches_the_estimate(examples, book, name):
    results = compare_scenarios(examples[name], book)
    breakdown = estimate(examples[name], book)
    base = results[0]
    assert base.name == BASE_PLAN_NAME
    assert base.programme_total_usd == pytest.approx(breakdown.programme_total)
    assert base.compute_usd == pytest.approx(breakdown.areas_usd["compute"])
    assert base.monthly_usd == pytest.approx(sum(breakdown.ongoing_monthly_usd.values()))
    assert base.break_even_month == breakdown.break_even_month


@pytest.mark.parametrize("name", "abc")
def test_every_example_names_its_scenarios(examples, book, name):
    results = compare_scenarios(examples[name], book)
    assert len(results) == 1 + len(examples[name].scenarios) >= 4
    assert [r.name for r in results[1:]] == [s.name for s in examples[name].scenarios]


def test_the_examples_cover_method_gpu_tier_local_card_and_alternatives(examples):
    overrides = [s.overrides for p in examples.values() for s in p.scenarios]
    training = [o.get("training", {}) for o in overrides]
    assert {t.get("method") for t in training} >= {"lora", "qlora", "full_sft"}
    assert {"rtx_4090", "a100_80gb", "b200", "h200"} <= {t.get("gpu") for t in training}
    assert {"hyperscaler_on_demand", "neocloud_spot", "local_owned"} <= {t.get("tier") for t in training}
    assert {"api", "rag"} <= {o.get("alternative", {}).get("kind") for o in overrides}


def test_an_alternative_only_scenario_keeps_the_programme(example_files, book):
    base, rag = only(example_files, book, "a", {"alternative": {"kind": "rag", "rag": {"usd_per_month": 15000}}})
    assert rag.programme_total_usd == base.programme_total_usd
    assert rag.hours_per_run == base.hours_per_run
    assert rag.alternative_monthly_usd == 15000
    assert rag.break_even_month is not None and rag.break_even_month > base.break_even_month


def test_a_new_gpu_drops_the_booked_rate_and_scales_hours_by_peak(example_files, book):
    _, a100 = only(example_files, book, "a", {"training": {"gpu": "a100_80gb"}})
    # The FLOPs scale with the dense peak, 989 / 312; the kernel overheads do not. Per
    # micro-batch of 4 × 4,096 tokens (Qwen2.5-7B LoRA, rank 16 on all linears, N_a =
    # 40,370,176): 16,384 × (6 × 7.6e9 + 6 × N_a + 8 × 28 × 4096 × 3584) = 16,384 × 49.1305e9
    # FLOPs at 0.54 of 989 TFLOPS = 1.50722 s on the H100, × 989 / 312 = 4.77771 s on the A100;
    # kernels 28 layers × 300 × 6 µs = 0.0504 s on both (the matmuls stay FLOPs bound:
    # 45.8 GB ÷ 2,039 GB/s = 22 ms). FSDP over the 8 GPUs of one node gathers the replica's
    # weights twice per micro-batch and reduce-scatters the adapters' gradients: 2 × 7/8 ×
    # (7.6e9 + N_a) × 2 B + 7/8 × N_a × 2 B = 26.812e9 B, over NVLink at 450 (H100) or 300
    # (A100) GB/s × 0.745, 0.3 of it exposed (the overlap share's midpoint 0.7 hides the rest
    # under the compute): 0.023993 s on the H100, 0.035990 s on the A100.
    # (4.77771 + 0.0504 + 0.03599) ÷ (1.50722 + 0.0504 + 0.023993) = 3.07541, × 6 h.
    # The adapters' optimizer step (bandwidth-bound) is ~1e-5 of the hours.
    assert a100.hours_per_run == pytest.approx(6 * 3.07541, rel=2e-4)
    assert a100.compute_usd == pytest.approx(8 * a100.hours_per_run * 14 * 1.10)  # A100 spot midpoint


def test_a_rate_given_by_the_scenario_is_kept(example_files, book):
    _, a100 = only(example_files, book, "a", {"training": {"gpu": "a100_80gb", "rate_usd_per_gpu_hour": 1.0}})
    assert a100.compute_usd == pytest.approx(8 * a100.hours_per_run * 14 * 1.0)


def test_hours_given_by_the_scenario_are_kept(example_files, book):
    _, scenario = only(example_files, book, "a", {"training": {"gpu": "a100_80gb", "hours_per_run": 10}})
    assert scenario.hours_per_run == 10


def test_fewer_gpus_take_longer_for_the_same_gpu_hours(example_files, book):
    base, scenario = only(example_files, book, "a", {"training": {"gpus_per_run": 2}})
    # The FLOPs' GPU-hours stay; the FSDP gathers send 1/2 of the weights from each GPU
    # instead of 7/8: per micro-batch 2 × ½ × 15.2807e9 + ½ × 0.0807e9 = 15.321e9 B at
    # 335.25 GB/s, 0.3 exposed: 0.013710 s against 0.023993 s on 8 (see above). 6 h × 8 ÷ 2 ×
    # (1.50722 + 0.0504 + 0.013710) ÷ (1.50722 + 0.0504 + 0.023993) = 24 × 0.99350 = 23.844 h.
    # Fewer replicas also mean more, larger optimizer steps, a bandwidth-bound term ~1e-4.
    assert scenario.hours_per_run == pytest.approx(23.844, rel=1e-3)
    assert scenario.compute_usd == pytest.approx(base.compute_usd * 0.99350, rel=1e-3)


def test_a_tier_change_alone_keeps_the_hours(example_files, book):
    base, scenario = only(example_files, book, "a", {"training": {"tier": "hyperscaler_on_demand"}})
    assert scenario.hours_per_run == base.hours_per_run
    assert scenario.compute_usd == pytest.approx(8 * 6 * 14 * 3.50)
    assert "ON_DEMAND_HYPERSCALER" in scenario.warnings


def test_full_fine_tune_takes_the_physics_ratio_of_flops(example_files, book):
    base, full = only(example_files, book, "a", {"training": {"method": "full_sft"}})
    assert full.method == "full_sft" and full.hours_per_run > base.hours_per_run
    assert "FULL_FT_WITHOUT_TOKENIZER_CHANGE" in full.warnings


def test_a_70b_model_does_not_fit_a_local_24gb_card(examples, book):
    results = {r.name: r for r in compare_scenarios(examples["b"], book)}
    local = results["QLoRA on a local 24 GB card"]
    assert not local.fits and "MODEL_DOES_NOT_FIT" in local.warnings
    assert results[BASE_PLAN_NAME].fits


def test_lora_is_cheaper_than_the_full_fine_tune_on_the_same_baa_tier(examples, book):
    results = {r.name: r for r in compare_scenarios(examples["c"], book)}
    assert results["LoRA on 8 × H100 (hyperscaler, BAA)"].compute_usd < results[BASE_PLAN_NAME].compute_usd


def test_a_hipaa_scenario_on_a_tier_without_baa_is_refused(examples, book):
    plan = examples["c"].model_copy(
        update={"scenarios": [Scenario(name="Spot", overrides={"training": {"tier": "neocloud_spot"}})]}
    )
    with pytest.raises(ParamsError, match=r"scenarios.0 \(Spot\): training.tier.*BAA"):
        compare_scenarios(plan, book)


def test_scenarios_do_not_change_the_plan(examples, book):
    before = examples["a"].model_dump()
    compare_scenarios(examples["a"], book)
    assert examples["a"].model_dump() == before


def test_an_unknown_override_key_is_rejected_on_load_with_a_suggestion(example_files, book):
    with pytest.raises(ParamsError) as error:
        plan_with(example_files, book, "a", [{"name": "typo", "overrides": {"training": {"gpux": "h200"}}}])
    assert "scenarios.0.overrides" in str(error.value) and "did you mean 'gpu'" in str(error.value)


def test_an_unknown_section_is_rejected_on_load(example_files, book):
    with pytest.raises(ParamsError, match="did you mean 'training'"):
        plan_with(example_files, book, "a", [{"name": "typo", "overrides": {"trainig": {"gpu": "h200"}}}])


def test_a_scenario_cannot_rename_the_client(example_files, book):
    with pytest.raises(ParamsError, match="cannot change client"):
        plan_with(example_files, book, "a", [{"name": "x", "overrides": {"client": "someone else"}}])


def test_a_scenario_needs_a_name(example_files, book):
    with pytest.raises(ParamsError, match=r"scenarios\.0\.name"):
        plan_with(example_files, book, "a", [{"overrides": {}}])


def test_a_bad_value_names_the_scenario_and_the_key(example_files, book):
    params = plan_with(example_files, book, "a", [{"name": "Big GPU", "overrides": {"training": {"gpu": "h900"}}}])
    with pytest.raises(ParamsError) as error:
        compare_scenarios(params, book, "example_a.yaml")
    text = str(error.value)
    assert text.startswith("example_a.yaml: scenarios.0 (Big GPU): training.gpu: unknown GPU 'h900'")


def test_a_negative_override_is_rejected(example_files, book):
    params = plan_with(example_files, book, "a", [{"name": "neg", "overrides": {"training": {"runs": -3}}}])
    with pytest.raises(ParamsError, match="must not be negative"):
        compare_scenarios(params, book)


def test_results_read_as_a_table(examples, book):
    row = compare_scenarios(examples["a"], book)[1].as_dict()
    assert "params" not in row
    assert {"name", "compute_usd", "programme_total_usd", "monthly_usd", "break_even_month"} <= set(row)
