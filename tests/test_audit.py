"""The plan audit: every code is raised by a plan that makes the mistake and not by one
that avoids it; the worked examples raise exactly the warnings the report names."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from ftcost_helpers.engine.audit import AUDIT_CODES, Finding, audit
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.loading import deep_merge, params_from_mapping, read_yaml
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import Range
from ftcost_helpers.engine.scenarios import compare_scenarios

PLAN_START = dt.date(2026, 6, 1)
FULL_FT = "FULL_FT_WITHOUT_TOKENIZER_CHANGE"
MAINTENANCE = "MAINTENANCE_OUTSIDE_SOURCE_RANGE"
FRESH = dt.date(2026, 6, 1)


def findings(example_files: dict[str, Path], book: PriceBook, name: str, changes: dict[str, Any], today=FRESH):
    """The audit of worked example ``name`` with ``changes`` merged into its file."""
    data = deep_merge(read_yaml(example_files[name]), changes)
    params = params_from_mapping(data, f"example_{name} + changes", book)
    return audit(params, book, evaluate(params, book), today=today)


def codes(found: list[Finding]) -> set[str]:
    return {finding.code for finding in found}


OFF_PRICE_API = {
    "alternative": {
        "api": {
            "usd_per_month": None,
            "input_tokens_million_per_month": 1000,
            "output_tokens_million_per_month": 200,
            "input_price_usd_per_1k_tokens": 2.5,
            "output_price_usd_per_1k_tokens": 10,
        }
    }
}
TRUE_PER_1K_API = {
    "alternative": {
        "api": {
            "usd_per_month": None,
            "input_tokens_million_per_month": 1000,
            "output_tokens_million_per_month": 200,
            "input_price_usd_per_1k_tokens": 0.0025,
            "output_price_usd_per_1k_tokens": 0.01,
        }
    }
}
# The bank-like plan of issue 15: 400M input + 40M output tokens a month on one H100 serving
# 400 tokens/s. Over 730 serving hours: 440e6 / (730 × 3600 = 2,628,000 s) = 167.4 tokens/s on
# average; × 3 (serving.peak_to_average) = 502.3 at peak > 400. At 600 tokens/s it carries them.
BANK_VOLUMES = {
    "alternative": {
        "api": {"usd_per_month": None, "input_tokens_million_per_month": 400, "output_tokens_million_per_month": 40}
    },
    "serving": {"tokens_per_second": 400},
}
BANK_CARRIED = deep_merge(BANK_VOLUMES, {"serving": {"tokens_per_second": 600}})
ON_TOGETHER = {"training": {"provider": "managed", "managed": {"service": "together", "price_usd_per_1m_tokens": 0.48}}}
ON_FIREWORKS = {"training": {"provider": "managed", "managed": {"service": "fireworks"}}}
LOCAL_CARD = {"training": {"gpu": "rtx_4090", "tier": "local_owned", "gpus_per_run": 1, "sharded": False}}

# code: (example, changes that raise it, today), (example, changes that avoid it, today)
CASES: dict[str, tuple[tuple[str, dict, dt.date], tuple[str, dict, dt.date]]] = {
    "RATE_OUTSIDE_PRICE_BOOK": (("b", {}, FRESH), ("a", {}, FRESH)),
    "API_PRICE_PER_1K_LOOKS_PER_1M": (("a", OFF_PRICE_API, FRESH), ("a", TRUE_PER_1K_API, FRESH)),
    "BUDGET_SPLIT_DATA": (("b", {}, FRESH), ("c", {}, FRESH)),
    "BUDGET_SPLIT_COMPUTE": (("a", {"training": {"runs": 500}}, FRESH), ("a", {}, FRESH)),
    "DATASET_UNDER_3X_COMPUTE": (("a", {"training": {"runs": 400}}, FRESH), ("a", {"training": {"runs": 100}}, FRESH)),
    "FULL_FT_WITHOUT_TOKENIZER_CHANGE": (("c", {}, FRESH), ("c", {"training": {"tokenizer_change": True}}, FRESH)),
    "SWEEP_WITHOUT_EARLY_STOPPING": (
        ("a", {"training": {"sweep_trials": 20, "sweep_early_stopping": False}}, FRESH),
        ("a", {"training": {"sweep_trials": 20, "sweep_early_stopping": True}}, FRESH),
    ),
    "ON_DEMAND_HYPERSCALER": (
        ("a", {"training": {"tier": "hyperscaler_on_demand", "rate_usd_per_gpu_hour": None}}, FRESH),
        ("c", {"training": {"rate_usd_per_gpu_hour": None}}, FRESH),  # hyperscaler, but HIPAA-bound
    ),
    "NO_EVAL_HARNESS": (("a", {"evaluation": {"harness": False}}, FRESH), ("a", {}, FRESH)),
    "NO_FROZEN_TEST_SET": (("a", {"evaluation": {"frozen_test_set": False}}, FRESH), ("a", {}, FRESH)),
    "NO_CONTAMINATION_CHECK": (("a", {"evaluation": {"contamination_check": False}}, FRESH), ("a", {}, FRESH)),
    "NO_INFERENCE_COST_MODEL": (("a", {"serving": {"modelled": False}}, FRESH), ("a", {}, FRESH)),
    "SERVING_BELOW_LOAD": (("a", BANK_VOLUMES, FRESH), ("a", BANK_CARRIED, FRESH)),
    "BASE_MODEL_END_OF_LIFE": (
        ("a", {"base_model": {"end_of_life": "2028-05-31"}}, FRESH),  # month 24 of 24
        ("a", {"base_model": {"end_of_life": "2028-06-01"}}, FRESH),  # month 25
    ),
    "MAINTENANCE_OUTSIDE_SOURCE_RANGE": (
        ("c", {"maintenance": {"incremental_data_usd_per_quarter": 20000}}, FRESH),  # 34,125 a quarter
        ("a", {"maintenance": {"migration_usd": 100000}}, FRESH),  # migrations are outside the range
    ),
    "MODEL_DOES_NOT_FIT": (("b", LOCAL_CARD, FRESH), ("b", {}, FRESH)),
    "UTILISATION_IMPLAUSIBLY_LOW": (("a", {}, FRESH), ("b", {}, FRESH)),
    "UTILISATION_IMPLAUSIBLY_HIGH": (("b", {"training": {"hours_per_run": 2}}, FRESH), ("b", {}, FRESH)),
    "ARCHITECTURE_MISMATCH": (
        # Qwen2.5-7B's shape (MLP 18,944, 4 KV heads) counts 7.62B, not 14B.
        ("a", {"base_model": {"parameters_billion": 14, "intermediate_size": 18944, "kv_heads": 4}}, FRESH),
        ("a", {"base_model": {"intermediate_size": 18944, "kv_heads": 4}}, FRESH),
    ),
    "PRICE_BOOK_STALE": (("a", {}, dt.date(2027, 6, 1)), ("a", {}, dt.date(2026, 6, 1))),
    # Together AI bills unpacked examples at the maximum length (its fine-tuning pricing page)
    "MANAGED_UNPACKED_BILLING": (
        ("a", deep_merge(ON_TOGETHER, {"training": {"packing": False}}), FRESH),
        ("a", deep_merge(ON_TOGETHER, {"training": {"packing": True}}), FRESH),
    ),
    "MANAGED_SERVICE_END_OF_LIFE": (
        ("a", deep_merge(ON_FIREWORKS, {"training": {"managed": {"end_of_life": "2028-05-31"}}}), FRESH),  # month 24
        ("a", deep_merge(ON_FIREWORKS, {"training": {"managed": {"end_of_life": "2028-06-01"}}}), FRESH),  # month 25
    ),
    # issue 24: example A in EUR starts 2026-06-01; the ECB table of 2024-06-28 is 23.1 months
    # older (703 days ÷ 30.44), past the 6-month limit; in USD nothing is converted
    "FX_RATE_STALE": (("a", {"currency": "EUR"}, FRESH), ("a", {}, FRESH)),
}


def test_every_code_has_cases_and_codes_are_unique():
    assert set(CASES) == set(AUDIT_CODES)
    assert len(AUDIT_CODES) == len(set(AUDIT_CODES))


@pytest.mark.parametrize("code", AUDIT_CODES)
def test_code_is_raised_by_the_mistake(example_files, book, code):
    name, changes, today = CASES[code][0]
    raised = [f for f in findings(example_files, book, name, changes, today) if f.code == code]
    assert raised, f"{code} not raised"
    for finding in raised:
        assert finding.area in {"compute", "dataset", "eval", "maintenance", "roi"}
        assert re.search(r"\d", finding.message), "a message says by how much"


@pytest.mark.parametrize("code", AUDIT_CODES)
def test_code_is_not_raised_without_the_mistake(example_files, book, code):
    name, changes, today = CASES[code][1]
    assert code not in codes(findings(example_files, book, name, changes, today))


def test_worked_examples_raise_the_reported_warnings(example_files, book):
    assert codes(findings(example_files, book, "a", {})) == {"BUDGET_SPLIT_DATA", "UTILISATION_IMPLAUSIBLY_LOW"}
    assert codes(findings(example_files, book, "b", {})) == {"RATE_OUTSIDE_PRICE_BOOK", "BUDGET_SPLIT_DATA"}
    assert codes(findings(example_files, book, "c", {})) == {
        "RATE_OUTSIDE_PRICE_BOOK",
        "FULL_FT_WITHOUT_TOKENIZER_CHANGE",
        "UTILISATION_IMPLAUSIBLY_LOW",
    }


def message(example_files, book, name, changes, code, today=FRESH) -> str:
    (found,) = [f for f in findings(example_files, book, name, changes, today) if f.code == code]
    return found.message


def test_serving_below_load_names_the_gpus_that_carry_it_and_their_cost(example_files, book):
    text = message(example_files, book, "a", BANK_VOLUMES, "SERVING_BELOW_LOAD")
    # 167.4 tokens/s on average, 502.3 at peak (see BANK_VOLUMES); one H100 gives 400, so
    # ⌈502.3 / 400⌉ = 2 GPUs. Example A serves on neocloud_on_demand H100, USD 1.80–2.60 in the
    # price book, base 2.20: 2 × 730 h × 2.20 = USD 3,212/month, 1 × 730 × 2.20 = 1,606 more.
    assert "167 tokens/s on average and 502 at peak" in text
    assert "2 × H100 SXM on neocloud_on_demand would carry the peak: USD 3,212/month, USD 1,606 more" in text
    # example A plans one serving GPU: "1 × H100 SXM serves", two would "serve"
    assert "the deployment's 1 × H100 SXM serves 400 tokens/s" in text
    two = {**BANK_VOLUMES, "serving": {**BANK_VOLUMES.get("serving", {}), "gpus": 2, "tokens_per_second": 400}}
    assert "2 × H100 SXM serve 400 tokens/s" in message(example_files, book, "a", two, "SERVING_BELOW_LOAD")


def test_rate_message_gives_the_band_and_the_saving(example_files, book):
    text = message(example_files, book, "b", {}, "RATE_OUTSIDE_PRICE_BOOK")
    # 288 GPU-hours × (4.86111 − 2.90 midpoint) = 564.8
    assert "USD 2.40–3.40" in text and "288 GPU-hours" in text and "USD 565 less" in text


def test_serving_rate_outside_the_book_is_flagged_under_roi(example_files, book):
    found = findings(example_files, book, "a", {"serving": {"rate_usd_per_gpu_hour": 9.0}})
    assert [f.area for f in found if f.code == "RATE_OUTSIDE_PRICE_BOOK"] == ["roi"]


def test_per_1k_message_gives_the_corrected_monthly_bill(example_files, book):
    text = message(example_files, book, "a", OFF_PRICE_API, "API_PRICE_PER_1K_LOOKS_PER_1M")
    # read per 1k: 1000 × 2,500 + 200 × 10,000 = 4,500,000; read per 1M: 2,500 + 2,000 = 4,500
    assert "USD 2,500 per 1M" in text and "USD 4,500/month, not USD 4,500,000" in text


def test_per_1k_client_wording_gives_the_worst_price_and_the_corrected_bill(example_files, book):
    (found,) = [
        f for f in findings(example_files, book, "a", OFF_PRICE_API) if f.code == "API_PRICE_PER_1K_LOOKS_PER_1M"
    ]
    # the output price 10 per 1k is 10,000 per 1M, 10,000 / 150 (the price book's plausible
    # most) = 66.7×; the bill as in test_per_1k_message_gives_the_corrected_monthly_bill
    assert "up to USD 10,000 per million tokens, 67× the most any frontier API charges" in found.client_message
    assert "the API costs USD 4,500/month, not USD 4,500,000" in found.client_message


def test_serving_below_load_client_wording(example_files, book):
    (found,) = [f for f in findings(example_files, book, "a", BANK_VOLUMES) if f.code == "SERVING_BELOW_LOAD"]
    # the figures of test_serving_below_load_names_the_gpus_that_carry_it_and_their_cost
    assert "167 tokens a second on average and 502 at the busiest times" in found.client_message
    assert "2 × H100 SXM on neocloud_on_demand would carry the peak: USD 3,212/month, USD 1,606 more" in (
        found.client_message
    )


@pytest.mark.parametrize(
    ("before", "after", "said"),
    [
        (5.0, 5.0, "break-even stays month 5"),
        (5.0, 7.0, "break-even moves from month 5 to month 7"),
        (5.0, float("nan"), "break-even moves from month 5 to never within the horizon"),
        (float("nan"), 9.0, "break-even moves from never within the horizon to month 9"),
        (float("nan"), float("nan"), "there is still no break-even within the horizon"),
    ],
)
def test_how_a_fix_moves_the_break_even(before, after, said):
    from ftcost_helpers.engine.audit import _break_even_shift

    assert _break_even_shift(before, after) == said


def test_budget_split_message_says_how_much_to_move(example_files, book):
    text = message(example_files, book, "b", {}, "BUDGET_SPLIT_DATA")
    # 60% of 94,800 = 56,880; data and eval = 26,000 + 9,800 = 35,800
    assert "37.8%" in text and "USD 21,080" in text


def test_budget_split_flags_a_data_share_far_above_the_band(example_files, book):
    text = message(example_files, book, "a", {"engineering": {"engineer_weeks": 0}}, "BUDGET_SPLIT_DATA")
    assert "above" in text


def test_sweep_message_gives_the_saving(example_files, book):
    changes = {"training": {"sweep_trials": 20, "sweep_early_stopping": False, "early_stopped_trial_fraction": 0.25}}
    text = message(example_files, book, "a", changes, "SWEEP_WITHOUT_EARLY_STOPPING")
    sweep = 8 * 6 * 20 * 1.71131  # GPUs × hours × trials × rate
    assert f"USD {sweep:,.0f}" in text and f"saving USD {sweep * 0.75:,.0f}" in text


def test_hyperscaler_message_names_the_cheaper_tier(example_files, book):
    changes = {"training": {"tier": "hyperscaler_on_demand", "rate_usd_per_gpu_hour": None}}
    text = message(example_files, book, "a", changes, "ON_DEMAND_HYPERSCALER")
    # 672 GPU-hours × (3.50 − 1.50 spot midpoint) = 1,344
    assert "neocloud_spot" in text and "USD 1,344 less" in text


def test_no_inference_model_says_how_break_even_moves(example_files, book):
    text = message(example_files, book, "b", {"serving": {"modelled": False}}, "NO_INFERENCE_COST_MODEL")
    # 4 GPUs × 730 h × USD 2.20 (H100 neocloud on-demand midpoint) = 6,424 a month
    assert "USD 6,424/month" in text and "break-even moves from month 3 to month 4" in text
    text = message(example_files, book, "a", {"serving": {"modelled": False}}, "NO_INFERENCE_COST_MODEL")
    assert "USD 1,606/month" in text and "break-even stays at month 5" in text


def test_end_of_life_before_the_start_is_flagged(example_files, book):
    text = message(example_files, book, "a", {"base_model": {"end_of_life": "2026-01-01"}}, "BASE_MODEL_END_OF_LIFE")
    assert "before the plan starts" in text


def test_end_of_life_on_the_start_day_is_month_one(example_files, book):
    # example A starts on 2026-06-01 with a 24-month horizon: retired that very day is within
    # month 1 of the plan, not before it starts
    changes = {"base_model": {"end_of_life": "2026-06-01"}}
    assert "in month 1 of 24" in message(example_files, book, "a", changes, "BASE_MODEL_END_OF_LIFE")


def test_model_that_fits_on_no_count_of_gpus_says_so(example_files, book):
    changes = {**LOCAL_CARD, "base_model": {"parameters_billion": 400}}
    text = message(example_files, book, "b", changes, "MODEL_DOES_NOT_FIT")
    assert "fits on no number" in text


def test_model_that_needs_more_gpus_gives_the_count_and_cost(example_files, book):
    changes = {"training": {"method": "full_sft", "gpus_per_run": 2, "tokenizer_change": True}}
    text = message(example_files, book, "c", changes, "MODEL_DOES_NOT_FIT")
    assert re.search(r"at least \d+ GPUs per run", text) and "USD" in text


def test_audit_without_today_skips_the_price_book_age(example_files, book):
    data = read_yaml(example_files["a"])
    params = params_from_mapping(data, "a", book)
    assert "PRICE_BOOK_STALE" not in codes(audit(params, book, evaluate(params, book)))


def test_full_ft_saving_is_the_scenario_tables_lora(example_files, book):
    """The audit quotes what the model computes for LoRA, the figure the scenario table shows
    for example C's LoRA scenario (same hardware, fewer GPUs: the cost is in GPU-hours), not
    the compute divided by the source's 10–30×."""
    params = params_from_mapping(read_yaml(example_files["c"]), "example_c", book)
    results = {r.name: r for r in compare_scenarios(params, book)}
    plan, lora = results["Plan as filed"], results["LoRA on 8 × H100 (hyperscaler, BAA)"]
    assert lora.method == "lora" and lora.gpus_per_run == 8 and plan.gpus_per_run == 32
    # Hours follow the physics at the same utilisation (22.2B: the large band for both).
    # Per token, N = 22.2e9, 56 layers, hidden 6,144, 8 KV heads, MLP 16,384 (the catalogue's
    # Mistral-Small), sequence 4,096: full with recompute 8·N + 8·56·4096·6144 = 177.6e9 +
    # 11.274e9 = 188.874e9; LoRA (rank 16, all linear: 56·(16·(6·6144 + 2·1024) + 3·16·(6144 +
    # 16,384)) = 95.42e6) 6·N + 6·95.42e6 + 11.274e9 = 145.047e9. Per micro-batch of 4,096
    # tokens at the large band's base utilisation 0.48 of 989 TFLOPS: full 4096 × 188.874e9 ÷
    # 474.72e12 = 1.62965 s, LoRA 4096 × 145.047e9 ÷ 474.72e12 = 1.25150 s; kernel overheads at
    # the price book's base 6 µs: full 56 layers × (40 × 3 + 40 recomputed) = 8,960 kernels,
    # 0.05376 s; LoRA 56 × (75 × 3 + 75) = 16,800, 0.1008 s (the matmuls stay FLOPs bound:
    # 22.2e9 × 2 B × 3 passes ÷ 3,350 GB/s = 40 ms). FSDP communication, 0.3 of it exposed
    # (overlap midpoint 0.7), at 450 GB/s × 0.745 = 335.25 GB/s (the 32 GPUs' 4 nodes share 8
    # cards of 50 GB/s × 0.91 = 364 GB/s a node, so NVLink bounds the ring): full on 32,
    # 3 × 31/32 × 44.4e9 B = 129.04e9 B, 0.11547 s; LoRA on 8, 2 × 7/8 × (44.4e9 + 0.19084e9) +
    # 7/8 × 0.19084e9 = 78.20e9 B, 0.06998 s. The full plan's AdamW step per GPU: 0.694e9 × 28 B
    # ÷ (3,350 GB/s × 0.855) = 0.00678 s. Ratio (1.25150 + 0.1008 + 0.06998) ÷ (1.62965 +
    # 0.05376 + 0.11547 + 0.00678) = 1.42228 ÷ 1.80566 = 0.78768: 13,500 × 0.78768 ≈ 10,634.
    assert lora.compute_usd == pytest.approx(10_634, rel=2e-3) and plan.compute_usd == pytest.approx(13_500)
    text = message(example_files, book, "c", {}, "FULL_FT_WITHOUT_TOKENIZER_CHANGE")
    # The audit keeps the plan's 32 GPUs, the scenario 8: LoRA's gathers on 32 GPUs send 31/32
    # of the weights, not 7/8: 2 × 31/32 × 44.59084e9 + 31/32 × 0.19084e9 = 86.579e9 B, 0.3 ×
    # ÷ 335.25 GB/s = 0.07748 s, 0.00750 s more a micro-batch than on 8: × (1.42228 + 0.00750)
    # ÷ 1.42228 = 1.00527, USD 10,634 → 10,690.
    quoted = re.search(r"compute would cost USD ([\d,]+) instead of USD 13,500, saving USD ([\d,]+)", text)
    lora_quoted, saving = (float(group.replace(",", "")) for group in quoted.groups())
    assert lora_quoted == pytest.approx(lora.compute_usd * 1.00527, abs=5)
    assert saving == pytest.approx(plan.compute_usd - lora.compute_usd * 1.00527, abs=5)
    tco = re.search(r"\(USD ([\d,]+) over the 24-month cost of ownership", text)
    # over the cost of ownership each compute dollar counts 1 + 6 quarters of re-training
    # (months 7–24) × 0.75 of the first compute (retrain fraction's midpoint) = 5.5 times
    extra = lora.compute_usd * 0.00527
    assert float(tco.group(1).replace(",", "")) == pytest.approx(plan.tco_usd - lora.tco_usd - 5.5 * extra, rel=1e-3)
    # Full: 16 B × 22.2e9 = 355.2 GB sharded, plus the step's fp32 √v buffer 4 B × 22.2e9 =
    # 88.8 GB; an H100's 80 GiB = 85.899 GB less the 1.3 GB context, × (1 − 0.02 fragmentation)
    # = 82.907 GB for tensors: 444 ÷ 82.907 = 5.36, so 6 GPUs.
    assert "the plan's 32 GPUs or on the 1 GPU LoRA needs at least (full training: 6 GPUs)" in text
    assert "USD 450" not in text and "1,350" not in text


def test_full_ft_message_reads_the_sources_claims_from_the_price_book(example_files, book):
    changed = book.model_copy(update={"lora_matches_full_ft_share": Range(low=0.7, high=0.8)})
    params = params_from_mapping(read_yaml(example_files["c"]), "example_c", changed)
    (found,) = [f for f in audit(params, changed, evaluate(params, changed)) if f.code == FULL_FT]
    assert "in 70–80% of cases" in found.message and "85–95%" not in found.message


def test_maintenance_above_the_source_range_names_the_gap(example_files, book):
    text = message(example_files, book, "c", {"maintenance": {"incremental_data_usd_per_quarter": 20000}}, MAINTENANCE)
    # 2,000 + 2,000 + 20,000 + 10,125 re-train = 34,125; 9,125 above 25,000; migrations 15,000
    assert "costs USD 34,125 a quarter, USD 9,125 above the source's USD 8,000–25,000" in text
    assert "they add USD 15,000 a quarter here" in text and "incremental data (USD 20,000)" in text


def test_maintenance_below_the_source_range_is_flagged(example_files, book):
    changes = {"maintenance": {"incremental_data_usd_per_quarter": 0, "re_evaluation_usd_per_quarter": 1000}}
    text = message(example_files, book, "a", changes, MAINTENANCE)
    # 1,000 + 2,000 + 0 + 863 re-train = 3,863, 4,137 below 8,000
    assert "costs USD 3,863 a quarter, USD 4,137 below" in text


def test_worked_examples_are_inside_the_maintenance_range_without_migrations(example_files, book):
    """Every example costs USD 26–36k a quarter; without migrations, which the source's range
    leaves out, each is inside USD 8–25k."""
    for name in "abc":
        assert MAINTENANCE not in codes(findings(example_files, book, name, {}))


ANALYST_WORDS = re.compile(
    r"\b[a-z_]+\.[a-z_]+\b"  # a key path: serving.peak_to_average, alternative.api
    r"|\b\w+_\w+\b"  # a key or a file's stem left as it is
    r"|config\.json|--[a-z]"  # a file only an analyst opens, a command-line flag
    r"|usd per|peak to average|parameters billion"  # keys the document spelt out word by word
)


@pytest.mark.parametrize("code", AUDIT_CODES)
def test_what_a_client_reads_of_each_warning_names_no_key_file_or_flag(example_files, book, code):
    """The client document prints each finding's client wording through ``client_text``
    (tiers, GPUs, methods and sources by name; snake_case spelt out). Before, three warnings
    reached the client as "alternative.api.input price usd per 1k tokens", "serving.peak to
    average" and "parameters billion ... the model's config.json"."""
    from ftcost_helpers.report.document import client_text

    name, changes, today = CASES[code][0]
    for finding in [f for f in findings(example_files, book, name, changes, today) if f.code == code]:
        text = client_text(finding.for_client, book)
        assert ANALYST_WORDS.findall(text) == [], text
