"""Managed fine-tuning from the dated price list, serving shapes and serving throughput from
physics: hand-derived figures."""

from __future__ import annotations

import numpy as np
import pytest

from ftcost_helpers.engine.audit import audit
from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.corrections import serving_shortfall
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.loading import ParamsError, deep_merge, params_from_mapping, read_yaml
from ftcost_helpers.engine.model import managed, serving
from ftcost_helpers.engine.model.serving_plan import MANAGED_ITEM
from ftcost_helpers.engine.scenarios import compare_scenarios

FIREWORKS = {"training": {"provider": "managed", "managed": {"service": "fireworks"}}}


def plan(example_files, book, changes, name="a"):
    return params_from_mapping(deep_merge(read_yaml(example_files[name]), changes), f"example_{name}", book)


def compute_lines(params, book):
    return {line.item: float(line.value) for line in evaluate(params, book).lines if line.area == "compute"}


# ------------------------------------------------------------------ managed fine-tuning


def test_a_job_is_billed_tokens_times_the_price():
    # 3 epochs × 14,000 pairs × 2,000 tokens = 84,000,000 tokens × USD 0.50 / 1M = USD 42
    tokens = managed.job_tokens_billed(managed.dataset_tokens_billed(14_000, 2_000, 4_096, True, True), 3, 1e6, False)
    assert tokens == 84_000_000
    assert managed.job_cost(tokens, 0.50) == pytest.approx(42.0)
    # the minimum charge wins below it: 1,000 tokens × 0.50 / 1M = 0.0005 < USD 5
    assert managed.job_cost(1_000, 0.50, 5.0) == 5.0


def test_unpacked_data_is_billed_at_the_maximum_length_where_the_service_says_so():
    # Together AI: unpacked, 14,000 pairs × 4,096 tokens = 57,344,000 a pass, not 28,000,000
    assert managed.dataset_tokens_billed(14_000, 2_000, 4_096, False, True) == 57_344_000
    assert managed.dataset_tokens_billed(14_000, 2_000, 4_096, False, False) == 28_000_000
    assert managed.dataset_tokens_billed(14_000, 2_000, 4_096, True, True) == 28_000_000
    # padding: 14,000 × (4,096 − 2,000) × 3 epochs × 14 jobs = 1,232,448,000 tokens
    assert managed.unpacked_waste_tokens(14_000, 2_000, 4_096, 3, 14) == 1_232_448_000


def test_evaluation_tokens_count_only_where_billed():
    # 3 × 1,000,000 + 2,000,000 validation tokens = 5,000,000
    assert managed.job_tokens_billed(1_000_000, 3, 2_000_000, True) == 5_000_000
    assert managed.job_tokens_billed(1_000_000, 3, 2_000_000, False) == 3_000_000


def test_the_size_bracket_sets_the_price():
    # Fireworks (fireworks.ai/pricing): up to 16B USD 0.50, 16.1B–80B USD 3.00 per 1M tokens
    brackets = [(16.0, 0.50), (80.0, 3.00)]
    prices = managed.bracket_price(np.array([7.6, 16.0, 16.1, 70.0, 81.0]), brackets)
    assert prices[:4].tolist() == [0.50, 0.50, 3.00, 3.00]
    assert np.isnan(prices[4])
    assert managed.bracket_price(7.6, brackets) == 0.50


def test_a_managed_plan_prices_from_the_dated_list(example_files, book):
    # example A: 14 runs (mode) × 3 epochs × 14,000 pairs × 2,000 tokens × USD 0.50 / 1M
    # = 14 × USD 42 = USD 588 (Qwen2.5-7B, 7.6B: Fireworks' up-to-16B bracket)
    lines = compute_lines(plan(example_files, book, FIREWORKS), book)
    assert lines[MANAGED_ITEM] == pytest.approx(588.0)
    assert lines["Failed runs (rerun tax)"] == 0.0
    source = next(line.source for line in evaluate(plan(example_files, book, FIREWORKS), book).lines)
    assert "fireworks.ai/pricing" in source and "2026-12-07" in source


def test_failed_jobs_and_sweep_trials_pay_their_share(example_files, book):
    # 2 failed jobs × 0.4 done × USD 42 = 33.60; 4 trials × 0.5 (early stopped) × 42 = 84
    changes = deep_merge(
        FIREWORKS,
        {
            "training": {
                "failed_runs": 2,
                "failed_run_completed_fraction": 0.4,
                "sweep_trials": 4,
                "early_stopped_trial_fraction": 0.5,
            }
        },
    )
    lines = compute_lines(plan(example_files, book, changes), book)
    assert lines["Failed runs (rerun tax)"] == pytest.approx(33.6)
    assert lines["Hyper-parameter sweep"] == pytest.approx(84.0)


def test_a_quoted_price_with_unpacked_billing_and_evaluation(example_files, book):
    # Together (no confirmed rate: the quoted USD 0.48): unpacked 3 × 14,000 × 4,096 =
    # 172,032,000 + 1,000,000 validation = 173,032,000 tokens × 0.48 / 1M = 83.05536 a job;
    # × 14 runs = 1,162.77504
    changes = {
        "training": {
            "provider": "managed",
            "packing": False,
            "managed": {"service": "together", "price_usd_per_1m_tokens": 0.48, "evaluation_tokens_million_per_run": 1},
        }
    }
    assert compute_lines(plan(example_files, book, changes), book)[MANAGED_ITEM] == pytest.approx(1162.77504)


def test_a_service_without_a_confirmed_price_asks_for_the_quote(example_files, book):
    with pytest.raises(ParamsError, match=r"training\.managed\.price_usd_per_1m_tokens: Together AI"):
        plan(example_files, book, {"training": {"provider": "managed", "managed": {"service": "together"}}})
    with pytest.raises(ParamsError, match="unknown managed service 'nowhere'"):
        plan(example_files, book, {"training": {"provider": "managed", "managed": {"service": "nowhere"}}})
    with pytest.raises(ParamsError, match=r"needs training\.managed"):
        plan(example_files, book, {"training": {"provider": "managed"}})
    # full fine-tuning is not priced on Fireworks' page
    with pytest.raises(ParamsError, match="no sft_full price"):
        plan(example_files, book, deep_merge(FIREWORKS, {"training": {"method": "full_sft"}}))


def test_the_unpacked_waste_finding_costs_packing(example_files, book):
    # packing saves 14 jobs × 3 × 14,000 × (4,096 − 2,000) tokens × 0.48 / 1M = 591.57504 of
    # compute, and as much again in each quarterly re-train the plan carries (the saving is
    # the cash at the horizon): at least the compute saving
    changes = {
        "training": {
            "provider": "managed",
            "packing": False,
            "managed": {"service": "together", "price_usd_per_1m_tokens": 0.48},
        }
    }
    params = plan(example_files, book, changes)
    found = [f for f in audit(params, book, evaluate(params, book)) if f.code == "MANAGED_UNPACKED_BILLING"]
    assert len(found) == 1
    assert found[0].saving_usd >= 591.575 - 0.01
    assert "51%" in found[0].message  # 1 − 2,000 / 4,096 = 0.512


def test_a_managed_scenario_compares_with_the_plan(example_files, book):
    params = plan(example_files, book, {"scenarios": [{"name": "Managed fine-tuning service", "overrides": FIREWORKS}]})
    base, managed_result = compare_scenarios(params, book)
    # the plan's compute is its booked GPUs, USD 1,150; the service's USD 588 (above)
    assert base.compute_usd == pytest.approx(1150.0, abs=0.01)
    assert managed_result.compute_usd == pytest.approx(588.0)


# ------------------------------------------------------------------ serving shapes


def test_shape_formulas_by_hand():
    # shared base: USD 2,000 a month over 4 adapters = 500 each
    assert serving.shared_base_cost(2000.0, 4) == 500.0
    # serverless: 440M tokens × USD 0.20 = 88; batch at 50 % off: 44
    assert serving.per_token_cost(440.0, 0.20) == pytest.approx(88.0)
    assert serving.per_token_cost(440.0, 0.20, 0.5) == pytest.approx(44.0)


def test_endpoint_replica_hours_by_hand():
    # 100M tokens over 200 busy hours = 100e6 / 720,000 s = 138.9 tokens/s: one replica of
    # 200 tokens/s for 200 h, and min_replicas × the other 530 h
    assert serving.endpoint_replica_hours(100.0, 200.0, 200.0, 730.0, 1, np.inf) == pytest.approx(730.0)
    assert serving.endpoint_replica_hours(100.0, 200.0, 200.0, 730.0, 0, np.inf) == pytest.approx(200.0)
    # 400M: 555.6 tokens/s → ⌈2.78⌉ = 3 replicas × 200 h = 600 (scaled to zero otherwise)
    assert serving.endpoint_replica_hours(400.0, 200.0, 200.0, 730.0, 0, np.inf) == pytest.approx(600.0)
    # capped at 2 replicas: 400
    assert serving.endpoint_replica_hours(400.0, 200.0, 200.0, 730.0, 0, 2) == pytest.approx(400.0)
    # no traffic: the least replicas, at least one while busy: 1 × 200 + 0 × 530
    assert serving.endpoint_replica_hours(0.0, 200.0, 200.0, 730.0, 0, np.inf) == pytest.approx(200.0)


def test_serving_shapes_on_example_a(example_files, book):
    # example A serves on one H100 at USD 2.20/h (neocloud on-demand midpoint): 730 h = 1,606
    volume = {"tokens_million_per_month": 440}
    cases = {
        "dedicated": ({}, 1606.0),
        # Fireworks serverless, up to 16B: 440 × 0.20 = 88
        "serverless": ({"shape": "serverless", "service": "fireworks", **volume}, 88.0),
        # 440 × 0.20 × (1 − 0.5) = 44
        "batch": ({"shape": "batch", "price_usd_per_1m_tokens": 0.2, "batch_discount_fraction": 0.5, **volume}, 44.0),
        # 1,606 ÷ 4 adapters = 401.50
        "shared_base": ({"shape": "shared_base", "adapters": 4}, 401.5),
        # 440M over 200 busy h = 611.1 tokens/s on replicas of 275 (A's base-case throughput,
        # 150–400 midpoint) → 3 replicas × 200 h × USD 2.20 = 1,320 (scaled to zero otherwise)
        "endpoint": ({"shape": "endpoint", "min_replicas": 0, "busy_hours_per_month": 200, **volume}, 1320.0),
        # the same endpoint idling on one replica: + 530 h × 2.20 = 1,166 → 2,486
        "endpoint_idle": ({"shape": "endpoint", "min_replicas": 1, "busy_hours_per_month": 200, **volume}, 2486.0),
    }
    for name, (changes, expected) in cases.items():
        params = plan(example_files, book, {"serving": changes})
        assert estimate(params, book).ongoing_monthly_usd["serving"] == pytest.approx(expected), name


def test_a_per_token_shape_needs_its_price_volume_and_discount(example_files, book):
    with pytest.raises(ParamsError, match=r"serving\.tokens_million_per_month"):
        plan(example_files, book, {"serving": {"shape": "serverless", "service": "fireworks"}})
    with pytest.raises(ParamsError, match=r"serving\.price_usd_per_1m_tokens"):
        plan(example_files, book, {"serving": {"shape": "serverless", "tokens_million_per_month": 10}})
    with pytest.raises(ParamsError, match=r"serving\.batch_discount_fraction"):
        plan(
            example_files,
            book,
            {"serving": {"shape": "batch", "price_usd_per_1m_tokens": 0.2, "tokens_million_per_month": 10}},
        )
    with pytest.raises(ParamsError, match="min_replicas"):
        plan(example_files, book, {"serving": {"shape": "endpoint", "min_replicas": 3, "max_replicas": 2}})


def test_a_serverless_scenario_compares_with_the_plan(example_files, book):
    serverless = {"serving": {"shape": "serverless", "service": "fireworks", "tokens_million_per_month": 440}}
    params = plan(example_files, book, {"scenarios": [{"name": "Serverless LoRA serving", "overrides": serverless}]})
    base, per_token = compare_scenarios(params, book)
    # running per month: the plan's serving USD 1,606 becomes 88, everything else the same
    assert base.monthly_usd - per_token.monthly_usd == pytest.approx(1606.0 - 88.0)


# ------------------------------------------------------------------ throughput from physics


def test_kv_cache_bytes_per_token():
    # Llama-3.1-8B: 2 (K, V) × 32 layers × 8 KV heads × 128 × 2 bytes = 131,072
    assert serving.kv_bytes_per_token(32, 8, 128) == 131_072


def test_decode_is_bandwidth_bound_by_hand():
    # 1B parameters (2 GB in bf16), 1e5 KV bytes per token, 1,000 tokens of context, batch 10:
    # read 2e9 + 10 × 1,000 × 1e5 = 3e9 bytes a step at 1,000 GB/s = 3 ms → 10 ÷ 0.003 = 3,333.3
    # tokens/s (compute: 2 × 1e9 × 10 ÷ (1,000e12 × 0.5) = 0.04 ms, not the bound)
    args = dict(gpus=1, bandwidth_gbps=1000, peak_tflops=1000, utilisation=0.5, parameters=1e9, active_parameters=1e9)
    decode = serving.decode_tokens_per_second(**args, kv_bytes=1e5, context_tokens=1000, batch=10, memory_gb=80)
    assert decode == pytest.approx(10 / 0.003)
    # batch 1,000 is capped by memory: (80e9 × 0.9 − 2e9) ÷ 1e8 per sequence = 700 sequences;
    # 2e9 + 700 × 1e8 = 72e9 bytes → 72 ms → 700 ÷ 0.072 = 9,722.2
    capped = serving.decode_tokens_per_second(**args, kv_bytes=1e5, context_tokens=1000, batch=1000, memory_gb=80)
    assert capped == pytest.approx(700 / 0.072)
    # weights that do not fit leave no batch: 0 tokens/s
    assert serving.decode_tokens_per_second(**args, kv_bytes=1e5, context_tokens=1000, batch=10, memory_gb=2) == 0.0


def test_prefill_and_the_mix_by_hand():
    # 1,000 TFLOPS × 0.5 ÷ (2 × 1e9) = 250,000 input tokens/s
    prefill = serving.prefill_tokens_per_second(1, 1000, 0.5, 1e9)
    assert prefill == pytest.approx(250_000)
    # half output at 3,333.3: 1 ÷ (0.5 ÷ 250,000 + 0.5 ÷ 3,333.3) = 1 ÷ 1.52e-4 = 6,578.9
    assert serving.mixed_tokens_per_second(prefill, 10 / 0.003, 0.5) == pytest.approx(1 / 1.52e-4)


def test_a_plan_without_a_throughput_gets_the_physics_one(example_files, book):
    params = plan(example_files, book, {"serving": {"tokens_per_second": None}})
    speed = float(evaluate(params, book).serving.tokens_per_second)
    # Qwen2.5-7B on one H100 at 16 sequences of 4,096 tokens: 15.2 GB of weights + 16 × 4,096 ×
    # 57,344 bytes (2 × 28 layers × 4 KV heads × 128 × 2) = 3.76 GB of KV cache a step at
    # 3,350 GB/s = 5.66 ms → 16 ÷ 0.00566 ≈ 2,830 output tokens/s (all output: no API volumes)
    assert speed == pytest.approx(16 / ((7.6e9 * 2 + 16 * 4096 * 57_344) / 3350e9), rel=1e-6)


def test_the_capacity_check_uses_the_physics_throughput(example_files, book):
    # 4,000M tokens a month over 730 h = 1,522 tokens/s on average, × 3 = 4,566 at peak,
    # above the ~2,830 the physics gives one H100: a second GPU carries it
    volumes = {
        "alternative": {
            "api": {"usd_per_month": None, "input_tokens_million_per_month": 0, "output_tokens_million_per_month": 4000}
        },
        "serving": {"tokens_per_second": None},
    }
    params = plan(example_files, book, volumes)
    shortfall = serving_shortfall(params, book, evaluate(params, book))
    assert shortfall is not None and shortfall.gpus_needed == 2
    serverless = deep_merge(volumes, {"serving": {"shape": "serverless", "service": "fireworks"}})
    params = plan(example_files, book, serverless)
    assert serving_shortfall(params, book, evaluate(params, book)) is None  # the provider carries it


# ------------------------------------------------------------------ the workings restate the engine

WORKINGS_CASES = {
    "managed fireworks": FIREWORKS,
    "managed together unpacked": {
        "training": {
            "provider": "managed",
            "packing": False,
            "managed": {"service": "together", "price_usd_per_1m_tokens": 0.48, "evaluation_tokens_million_per_run": 2},
        }
    },
    "serverless": {"serving": {"shape": "serverless", "service": "fireworks", "tokens_million_per_month": 440}},
    "batch": {
        "serving": {
            "shape": "batch",
            "price_usd_per_1m_tokens": 0.2,
            "batch_discount_fraction": 0.5,
            "tokens_million_per_month": 440,
        }
    },
    "shared base": {"serving": {"shape": "shared_base", "adapters": 4}},
    "endpoint": {"serving": {"shape": "endpoint", "tokens_million_per_month": 440, "busy_hours_per_month": 200}},
    "endpoint on the service": {
        "serving": {"shape": "endpoint", "service": "fireworks", "gpu": "a100_80gb", "tokens_million_per_month": 440}
    },
}


@pytest.mark.parametrize("name", list(WORKINGS_CASES))
def test_the_workings_formulas_give_the_engines_figures(example_files, book, name):
    from ftcost_helpers.report.workings import plan_workings

    params = plan(example_files, book, WORKINGS_CASES[name])
    breakdown = estimate(params, book)
    values = plan_workings(params, book).values()
    assert values["serving_monthly"] == pytest.approx(breakdown.ongoing_monthly_usd["serving"])
    compute = values["training_runs"] + values["failed_runs"] + values["sweep"]
    assert compute == pytest.approx(breakdown.areas_usd["compute"])


def test_booked_gpu_rules_do_not_apply_to_a_managed_service(example_files, book):
    # example B books its H200 at USD 4.86, above the price book's 2.40–3.40: a warning for
    # booked GPUs that a managed service's plan does not have (the service bills tokens)
    booked = plan(example_files, book, {}, "b")
    assert "RATE_OUTSIDE_PRICE_BOOK" in {f.code for f in audit(booked, book, evaluate(booked, book))}
    quoted = {"training": {"provider": "managed", "managed": {"service": "together", "price_usd_per_1m_tokens": 3.0}}}
    managed_plan = plan(example_files, book, quoted, "b")
    codes = {f.code for f in audit(managed_plan, book, evaluate(managed_plan, book))}
    assert not codes & {"RATE_OUTSIDE_PRICE_BOOK", "UTILISATION_IMPLAUSIBLY_LOW", "MODEL_DOES_NOT_FIT"}


def test_a_batch_on_a_service_takes_its_stated_discount(example_files, book):
    # Fireworks: batch "billed at 50% of serverless pricing" (docs.fireworks.ai/serverless/pricing)
    # 440M tokens × USD 0.20 (up to 16B) × (1 − 0.5) = 44
    changes = {"serving": {"shape": "batch", "service": "fireworks", "tokens_million_per_month": 440}}
    params = plan(example_files, book, changes)
    assert estimate(params, book).ongoing_monthly_usd["serving"] == pytest.approx(44.0)
