"""Boundaries, distributions and bounds, each checked against a number worked out by hand.

The rules come from the source documents (001_6c04196dc11ea2b6.txt: "Below USD 5,000/month,
prompting a frontier model wins on TCO"; "once you exceed USD 25,000/month") and from the
price book's own thresholds; the quantiles of the uniform and triangular distributions are
the textbook ones; the seed's draws are re-derived with numpy's generator.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ftcost_helpers.engine.audit import audit, model_does_not_fit, price_book_stale
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.fit import plan_fit
from ftcost_helpers.engine.loading import ParamsError, deep_merge, params_from_mapping, read_yaml
from ftcost_helpers.engine.model import compute, memory, roi
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import Range
from ftcost_helpers.engine.schema import Params
from ftcost_helpers.engine.uncertainty import draw_inputs, inverse_cdf, simulate, uncertain_inputs

H100_ELEMENTWISE_BYTES_PER_S = 3350e9 * 0.855
"""Bytes per second an element-wise kernel moves on an H100 SXM: its 3,350 GB/s × 0.855, the
price book's elementwise_bandwidth_share (0.82–0.89) at its base case, the midpoint. The
optimizer step and an NF4 base's dequantisation run at it; the matmuls' weight traffic at
the datasheet 3,350 GB/s."""

SECOND_PLAN = Path(__file__).parent / "fixtures" / "second_plan.yaml"


def plan_with(book: PriceBook, changes: dict[str, Any] | None = None) -> Params:
    """The second plan (tests/fixtures/second_plan.yaml) with ``changes`` merged in."""
    return params_from_mapping(deep_merge(read_yaml(SECOND_PLAN), changes or {}), "second plan", book)


def codes(params: Params, book: PriceBook) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for finding in audit(params, book, evaluate(params, book)):
        found.setdefault(finding.code, []).append(finding.message)
    return found


# ---------------------------------------------------------------- the decision rule


@pytest.mark.parametrize(
    ("spend", "verdict"),
    [
        (4_999.99, "do not fine-tune"),  # below 5,000: prompting wins
        (5_000.0, "only if the task is narrow"),  # exactly 5,000 is not "below 5,000"
        (25_000.0, "only if the task is narrow"),  # exactly 25,000 does not "exceed 25,000"
        (25_000.01, "almost always pays"),  # above 25,000
    ],
)
def test_decision_rule_at_its_edges(book, spend, verdict):
    rule = book.decision_rule_api_usd_per_month
    assert rule == {"do_not_fine_tune_below": 5000, "almost_always_above": 25000}
    assert verdict in roi.decision_rule(spend, rule["do_not_fine_tune_below"], rule["almost_always_above"])


def test_decision_rule_text_names_the_source_thresholds():
    assert roi.decision_rule(100.0, 5000, 25000).startswith("under USD 5,000/month")
    assert roi.decision_rule(10_000.0, 5000, 25000).startswith("USD 5,000–25,000/month")
    assert roi.decision_rule(1e6, 5000, 25000).startswith("above USD 25,000/month")


# ---------------------------------------------------------------- a rate at a band edge


@pytest.mark.parametrize("rate", [2.80, 4.20])
def test_a_training_rate_on_the_band_edge_is_inside(book, rate):
    # H100 SXM hyperscaler on-demand: 2.80–4.20 (price book); the edges are in the band
    found = codes(plan_with(book, {"training": {"rate_usd_per_gpu_hour": rate}}), book)
    assert "RATE_OUTSIDE_PRICE_BOOK" not in found


def test_a_training_rate_just_above_the_band(book):
    # 4.21 against the midpoint 3.50: (4.21 − 3.50) × 200 GPU-hours (100 booked + 20 rerun
    # + 80 sweep) = USD 142 less
    (message,) = codes(plan_with(book, {"training": {"rate_usd_per_gpu_hour": 4.21}}), book)["RATE_OUTSIDE_PRICE_BOOK"]
    assert "USD 4.21/GPU-hour" in message and "is above" in message
    assert "the 200 GPU-hours would cost USD 142 less" in message


def test_a_training_rate_just_below_the_band(book):
    # 2.79: (2.79 − 3.50) × 200 = −142: USD 142 more at the midpoint
    (message,) = codes(plan_with(book, {"training": {"rate_usd_per_gpu_hour": 2.79}}), book)["RATE_OUTSIDE_PRICE_BOOK"]
    assert "is below" in message and "would cost USD 142 more" in message


@pytest.mark.parametrize(("rate", "flagged"), [(2.80, False), (4.20, False), (4.30, True)])
def test_serving_rate_edges(book, rate, flagged):
    # serving 4.30 on 1 GPU × 730 h × 12 months = 8,760 GPU-hours: (4.30 − 3.50) × 8,760 = USD 7,008
    found = codes(plan_with(book, {"serving": {"rate_usd_per_gpu_hour": rate}}), book)
    assert ("RATE_OUTSIDE_PRICE_BOOK" in found) == flagged
    if flagged:
        assert "8,760 GPU-hours over 12 months would cost USD 7,008 less" in found["RATE_OUTSIDE_PRICE_BOOK"][0]


# ---------------------------------------------------------------- the price book's age


def test_price_book_age_in_months_of_30_44_days(book):
    # as of 2026-05-26; 3,044 days later is 100.0 months of 30.44 days
    assert book.age_months(book.as_of + dt.timedelta(days=3044)) == pytest.approx(100.0)


@pytest.mark.parametrize(("days", "stale"), [(0, False), (182, False), (183, True)])
def test_price_book_six_months_old(book, days, stale):
    # six months of 30.44 days = 182.64 days: 182 days (5.98 months) is fresh, 183 (6.01) stale
    assert bool(price_book_stale(book, book.as_of + dt.timedelta(days=days))) == stale


def test_price_book_exactly_at_its_limit_is_not_stale(book):
    # a limit of 25 months: 25 × 30.44 = 761 days exactly; "older than" the limit means > 761
    limited = book.model_copy(update={"price_book_max_age_months": 25})
    assert price_book_stale(limited, limited.as_of + dt.timedelta(days=761)) == []
    (finding,) = price_book_stale(limited, limited.as_of + dt.timedelta(days=762))
    # 762 days = 25.03 months: "25.0 months before 2028-06-26"
    assert finding.code == "PRICE_BOOK_STALE" and "25.0 months before 2028-06-26 (limit: 25 months)" in finding.message


def test_the_audit_checks_the_age_only_when_given_today(book):
    # serving priced by the price book's rates (a plan that books every rate is not aged)
    plan = plan_with(book, {"serving": {"rate_usd_per_gpu_hour": None}})
    run = evaluate(plan, book)
    late = book.as_of + dt.timedelta(days=400)
    assert "PRICE_BOOK_STALE" not in {f.code for f in audit(plan, book, run)}
    assert "PRICE_BOOK_STALE" in {f.code for f in audit(plan, book, run, today=late)}


# ---------------------------------------------------------------- exactly the GPUs it needs


def _with_memory(run, allocated: float, fewest: float):
    """The run with ``allocated`` GB of live tensors per GPU at its peak (none paged)."""
    facts = dataclasses.replace(run.compute, allocated_gb=allocated, paged_gb=0.0, fewest_gpus=fewest)
    return dataclasses.replace(run, compute=facts)


def test_a_plan_whose_need_straddles_the_capacity_is_not_flagged(book):
    # The second plan's H100 holds 80 GiB = 85.899 GB. 80 GB of tensors need the context plus
    # 80 ÷ (1 − fragmentation). P10: the context's P10 on its triangle (0.5, 1.3, 1.5),
    # 0.5 + √(0.1 × 1.0 × 0.8) = 0.783, with the fragmentation at its low end 0 (the allocator
    # frees its cache and retries before out of memory): 80.78 ≤ 85.9. P90: even with the
    # smallest context (0.5 GB) they do not fit once fragmentation exceeds 1 − 80 ÷ 85.4 =
    # 0.063, which the triangle (0, 0.02, 0.43) does in (0.43 − 0.063)² ÷ (0.43 × 0.41) = 76 %
    # ≥ 10 % of draws: beyond 85.9. Borderline, which is never MODEL_DOES_NOT_FIT, even needing
    # 3 GPUs at the base case.
    plan = plan_with(book)
    run = _with_memory(evaluate(plan, book), 80.0, 3.0)
    assert plan_fit(plan, book, run).verdict == "borderline"
    assert model_does_not_fit(plan, book, run) == []
    # 40 GB of tensors need at most 1.5 + 40 ÷ 0.57 = 71.7 GB even at the ranges' ends: fits
    assert plan_fit(plan, book, _with_memory(evaluate(plan, book), 40.0, 2.0)).verdict == "fits"


def test_a_plan_that_needs_one_gpu_more_does_not_fit(book):
    # 90 GB of tensors need at least 0.783 + 90 = 90.78 GB (P10) > 85.9: does not fit; needing 3 GPUs
    # where 2 are booked: compute USD 800 × (3 / 2 − 1) = USD 400 left out
    plan = plan_with(book)
    run = evaluate(plan, book)
    (finding,) = model_does_not_fit(plan, book, _with_memory(run, 90.0, 3.0))
    assert "needs at least 3 GPUs per run" in finding.message and "adds USD 400" in finding.message
    # the plan already shards, uses QLoRA and checkpoints; 1 × 4,096 tokens per micro-batch > 1,024
    # nor pages or offloads its optimizer states
    assert finding.message.endswith(
        "(or: shorten the micro-batch or sequence, page the optimizer states to the host (paged AdamW) or offload "
        "them (ZeRO-Offload), choose a GPU with more memory)."
    )
    (over,) = model_does_not_fit(plan, book, _with_memory(run, 90.0, 2.0))
    assert over.code == "MODEL_DOES_NOT_FIT"


# ---------------------------------------------------------------- physics functions


def test_physics_gpu_hours_divide_by_the_penalty():
    # 3.6e18 FLOPs at 1,000 TFLOPS × 0.5 ÷ penalty 2 = 2.5e14 FLOP/s = 9e17 per hour → 4 GPU-hours
    assert compute.physics_gpu_hours(3.6e18, 1000.0, 0.5, 2.0) == pytest.approx(4.0)
    assert compute.physics_gpu_hours(3.6e18, 1000.0, 0.5, 1.0) == pytest.approx(2.0)


def test_implied_utilisation_with_a_penalty():
    # capacity = 1e15 × 3,600 × 8 GPU-hours ÷ 2 = 1.44e19; 3.6e18 / 1.44e19 = 0.25
    assert compute.implied_utilisation(3.6e18, 1000.0, 8.0, 2.0) == pytest.approx(0.25)
    assert np.isnan(compute.implied_utilisation(3.6e18, 1000.0, 0.0, 2.0))


# ---------------------------------------------------------------- distributions and the seed


def test_inverse_cdf_of_uniform_and_triangular():
    # uniform on [0, 10]: u ↦ 10u, so 0.1 → 1 and 0.9 → 9
    # triangular (0, mode 5, 10): F(x) = x² / 50 below the mode, so u = 0.1 → √5 ≈ 2.2361;
    # above it 1 − (10 − x)² / 50, so u = 0.9 → 10 − √5 ≈ 7.7639
    # triangular (0, mode 2, 10): split at 0.2; u = 0.1 → √(0.1 × 10 × 2) = √2; u = 0.5 → 10 − √40
    lows, highs = np.array([0.0, 0.0, 0.0]), np.array([10.0, 10.0, 10.0])
    modes = np.array([np.nan, 5.0, 2.0])
    uniforms = np.array([[0.1, 0.9], [0.1, 0.9], [0.1, 0.5]])
    draws = inverse_cdf(lows, highs, modes, uniforms)
    assert draws[0] == pytest.approx([1.0, 9.0])
    assert draws[1] == pytest.approx([math.sqrt(5), 10 - math.sqrt(5)])
    assert draws[2] == pytest.approx([math.sqrt(2), 10 - math.sqrt(40)])


def test_inverse_cdf_with_an_offset_low():
    # uniform on [100, 300]: 100 + 0.25 × 200 = 150; triangular (100, 100, 300): a right
    # triangle, F(x) = 1 − ((300 − x) / 200)², so u = 0.75 → 300 − 200 × 0.5 = 200
    draws = inverse_cdf(np.array([100.0, 100.0]), np.array([300.0, 300.0]), np.array([np.nan, 100.0]),
                        np.array([[0.25], [0.75]]))  # fmt: skip
    assert draws[:, 0] == pytest.approx([150.0, 200.0])


def test_draws_follow_numpy_generator_from_the_seed(book):
    # one generator seeded with the seed fills a (inputs × draws) matrix of uniforms, row by
    # row in the order of the inputs; a uniform range [10,000, 30,000] maps u ↦ 10,000 + 20,000 u
    plan = plan_with(book, {"dataset": {"curation_usd": {"low": 10000, "high": 30000}}})
    paths = list(uncertain_inputs(plan, book))
    row = paths.index("dataset.curation_usd")
    uniforms = np.random.default_rng(1234).random((len(paths), 50))
    drawn = draw_inputs(plan, book, 50, 1234)["dataset.curation_usd"]
    assert drawn == pytest.approx(10_000 + 20_000 * uniforms[row])


BIG = 40_000
"""Draws for the percentile tests: the standard error of P50 of a uniform of width 20,000 is
√(0.5 × 0.5 / 40,000) × 20,000 = USD 50 (P10: USD 30); the tolerance is USD 150. The seed is
fixed, so the sampling error is the same on every run."""


@pytest.fixture(scope="module")
def uniform_curation(book):
    plan = plan_with(book, {"dataset": {"curation_usd": {"low": 10000, "high": 30000}}})
    return simulate(plan, book, draws=BIG, seed=7)


def test_percentiles_of_a_uniform_input(uniform_curation):
    # programme = 55,300 + U(10,000, 30,000): P10 = 55,300 + 12,000, P50 + 20,000, P90 + 28,000
    p = uniform_curation.percentiles()
    assert p["p10"] == pytest.approx(67_300, abs=150)
    assert p["p50"] == pytest.approx(75_300, abs=150)
    assert p["p90"] == pytest.approx(83_300, abs=150)
    assert uniform_curation.area_percentiles()["dataset"]["p50"] == pytest.approx(37_000, abs=150)
    assert uniform_curation.area_percentiles()["compute"]["p90"] == pytest.approx(800.0)


def test_tco_percentiles_of_a_uniform_input(uniform_curation):
    # TCO = 117,160 + U(10,000, 30,000)
    p = uniform_curation.tco_percentiles()
    assert p["p10"] == pytest.approx(129_160, abs=150)
    assert p["p90"] == pytest.approx(145_160, abs=150)


def test_cash_flow_band_of_a_uniform_input(uniform_curation):
    # month 12: 74,840 − U(10,000, 30,000): P10 = 74,840 − 28,000, P90 = 74,840 − 12,000
    band = uniform_curation.cash_flow_band()
    assert band["p10"][12] == pytest.approx(46_840, abs=150)
    assert band["p50"][12] == pytest.approx(54_840, abs=150)
    assert band["p90"][12] == pytest.approx(62_840, abs=150)
    assert band["p50"][0] == pytest.approx(-75_300, abs=150)


def test_break_even_probability_of_a_uniform_input(uniform_curation):
    # programme P ~ U(65,300, 85,300); cumulative savings 12,945 a month for months 1–3, then
    # 10,145: month 5 59,125, month 6 69,270, month 7 79,415, month 8 89,560.
    # P(by 5) = 0; P(by 6) = P(P ≤ 69,270) = 3,970 / 20,000 = 0.1985;
    # P(by 7) = 14,115 / 20,000 = 0.70575; P(by 8) = 1
    chance = uniform_curation.break_even_probability()
    assert len(chance) == 12
    assert chance[4] == 0.0
    assert chance[5] == pytest.approx(0.1985, abs=0.01)
    assert chance[6] == pytest.approx(0.70575, abs=0.01)
    assert chance[7] == 1.0 and chance[11] == 1.0


def test_range_usd_is_rounded_to_cents(uniform_curation):
    assert uniform_curation.range_usd()["p50"] == pytest.approx(75_300, abs=150)
    assert all(round(v, 2) == v for v in uniform_curation.range_usd().values())


def test_percentiles_of_a_triangular_input(book):
    # engineering weeks triangular (2, mode 4, 8): split (4 − 2) / 6 = 1/3;
    # P10 = 2 + √(0.1 × 6 × 2) = 3.0954; P50 = 8 − √(0.5 × 6 × 4) = 4.5359; P90 = 8 − √(0.1 × 6 × 4) = 6.4508
    # engineering USD = weeks × 40 h × USD 150 = 6,000 × weeks, + serving set-up USD 1,000
    # SE of P50 ≈ √(0.25 / 40,000) ÷ f(4.536) (= 2 × 3.464 / 24 = 0.289) × 6,000 ≈ USD 52
    plan = plan_with(book, {"engineering": {"engineer_weeks": {"low": 2, "mode": 4, "high": 8}}})
    sim = simulate(plan, book, draws=BIG, seed=11)
    p = sim.area_percentiles()["engineering"]
    assert p["p10"] == pytest.approx(1_000 + 6_000 * (2 + math.sqrt(1.2)), abs=250)
    assert p["p50"] == pytest.approx(1_000 + 6_000 * (8 - math.sqrt(12)), abs=250)
    assert p["p90"] == pytest.approx(1_000 + 6_000 * (8 - math.sqrt(2.4)), abs=250)


def test_simulation_defaults_come_from_the_plan(book):
    plan = plan_with(book, {"uncertainty": {"draws": 321, "seed": 99}})
    sim = simulate(plan, book)
    assert (sim.draws, sim.seed, sim.horizon_months) == (321, 99, 12)
    assert sim.programme_total.shape == (321,) and sim.cash_flow.shape == (321, 13)
    with pytest.raises(ValueError):
        simulate(plan, book, draws=0)


# ---------------------------------------------------------------- schema bounds


def refused(book: PriceBook, changes: dict[str, Any]) -> ParamsError:
    with pytest.raises(ParamsError) as error:
        plan_with(book, changes)
    return error.value


@pytest.mark.parametrize("months", [1, 120])
def test_horizon_within_ten_years_is_accepted(book, months):
    assert plan_with(book, {"horizon_months": months}).horizon_months == months


@pytest.mark.parametrize("months", [0, 121])
def test_horizon_beyond_its_bounds_is_refused(book, months):
    assert refused(book, {"horizon_months": months}).key == "horizon_months"


@pytest.mark.parametrize("key", ["client", "currency", "scenarios"])
def test_a_scenario_cannot_change_the_fixed_keys(book, key):
    value: Any = {"client": "Other", "currency": "USD", "scenarios": []}[key]
    error = refused(book, {"scenarios": [{"name": "x", "overrides": {key: value}}]})
    assert f"a scenario cannot change {key}" in str(error)


def test_a_scenario_may_change_other_top_level_keys(book):
    plan = plan_with(book, {"scenarios": [{"name": "longer", "overrides": {"horizon_months": 36}}]})
    assert plan.scenarios[0].overrides == {"horizon_months": 36}


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"training": {"gpus_per_run": 0}}, "training.gpus_per_run"),
        ({"training": {"failed_run_completed_fraction": 1.01}}, "training.failed_run_completed_fraction"),
        ({"training": {"utilisation": 0}}, "training.utilisation"),
        ({"serving": {"tokens_per_second": 0}}, "serving.tokens_per_second"),
        ({"maintenance": {"start_month": 0}}, "maintenance.start_month"),
        ({"uncertainty": {"seed": -1}}, "uncertainty.seed"),
        ({"uncertainty": {"draws": 0}}, "uncertainty.draws"),
        ({"base_model": {"layers": 0}}, "base_model.layers"),
    ],
)
def test_schema_lower_bounds(book, changes, key):
    assert refused(book, changes).key.startswith(key)


@pytest.mark.parametrize(
    "changes",
    [
        {"training": {"failed_run_completed_fraction": 1.0, "utilisation": 1.0}},
        {"serving": {"gpus": 0}},
        {"uncertainty": {"seed": 0, "draws": 1}},
        {"maintenance": {"start_month": 1}},
        {"base_model": {"layers": 1, "hidden_size": 1, "attention_heads": 1, "vocab_size": 1}},
        {"training": {"sequence_length": 1, "micro_batch_size": 1, "gpus_per_run": 1}},
    ],
)
def test_schema_bounds_are_inclusive(book, changes):
    plan_with(book, changes)


def test_range_bounds():
    # low ≤ mode ≤ high; a range without a mode has the midpoint as its base case
    assert Range(low=2, high=6).base == 4.0
    assert Range(low=2, high=6, mode=3).base == 3.0
    assert Range(low=2, high=2, mode=2).base == 2.0
    for bad in ({"low": 3, "high": 2}, {"low": 1, "high": 2, "mode": 2.5}, {"low": 1, "high": 2, "mode": 0.5}):
        with pytest.raises(ValueError):
            Range(**bad)


# ---------------------------------------------------------------- client text other than the name


HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


def test_base_model_name_in_a_warning_is_plain_text_in_the_report(book):
    # full fine-tuning without a tokenizer change names the base model in its warning
    from ftcost_helpers.report.document import warnings_block

    plan = plan_with(book, {"base_model": {"name": HOSTILE}, "training": {"method": "full_sft"}})
    warnings = audit(plan, book, evaluate(plan, book))
    assert any(HOSTILE in w.message for w in warnings)
    page = warnings_block(warnings, book, plan.horizon_months)
    assert "<img" not in page and "<script" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page


def test_scenario_names_are_plain_text_in_the_scenario_table(book):
    from ftcost_helpers.engine.scenarios import compare_scenarios
    from ftcost_helpers.views.tables import scenarios_table

    plan = plan_with(book, {"scenarios": [{"name": HOSTILE, "overrides": {"training": {"runs": 6}}}]})
    page = scenarios_table(compare_scenarios(plan, book), book)._repr_html_()
    assert "<img" not in page and "<script" not in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page


# ---------------------------------------------------------------- the schema's own defaults


MINIMAL = {
    "client": "Minimal",
    "currency": "USD",
    "start_date": "2026-06-01",
    "horizon_months": 12,
    "base_model": {
        "name": "M",
        "parameters_billion": 1,
        "layers": 2,
        "hidden_size": 64,
        "attention_heads": 2,
        "vocab_size": 100,
    },
    "training": {
        "method": "lora",
        "gpu": "h100_sxm",
        "tier": "neocloud_on_demand",
        "gpus_per_run": 1,
        "hours_per_run": 10,
        "runs": 3,
        "tokens_per_pair": 100,
        "epochs": 1,
        "sequence_length": 128,
        "micro_batch_size": 1,
        "gradient_checkpointing": False,
        "memory_efficient_attention": True,
        "trainable_fraction": 0.01,
        "utilisation": 0.3,
        "sharded": False,
        "memory_headroom_fraction": 0.1,
        "precision": "bf16_mixed",
        "optimizer": "adamw",
        "lora": {"rank": 8, "target_modules": "attention"},
    },
    "dataset": {"pairs": 100},
    "evaluation": {"harness": True, "frozen_test_set": True, "contamination_check": True},
    "maintenance": {"start_month": 1, "quality_loss_points_per_quarter_unmaintained": 5},
    "engineering": {"hours_per_week": 40},
    "compliance": {},
    "serving": {
        "gpu": "h100_sxm",
        "tier": "neocloud_on_demand",
        "gpus": 1,
        "hours_per_month": 100,
        "tokens_per_second": 100,
        "peak_to_average": 3,
    },
    "alternative": {"kind": "none"},
    "uncertainty": {"draws": 10, "seed": 1},
    "programme": {"build_months": 0, "spend_profile": "front_loaded"},
}
"""Only the keys the schema requires (no params/defaults.yaml under it)."""


def test_schema_defaults_mean_not_used():
    # engine/schema.py: a default written in the schema is only ever "not used" (zero, off,
    # absent, one, or the single-GPU layout), so a plan that leaves a key out adds nothing for it
    p = Params.model_validate(MINIMAL)
    t, d, e, m, g, c, s = p.training, p.dataset, p.evaluation, p.maintenance, p.engineering, p.compliance, p.serving
    assert (t.rate_usd_per_gpu_hour, t.failed_runs, t.failed_run_completed_fraction, t.sweep_trials) == (None, 0, 0, 0)
    assert (t.sweep_early_stopping, t.early_stopped_trial_fraction, t.tokenizer_change) == (True, 1.0, False)
    assert (t.gradient_accumulation_steps, t.offload, t.padding_efficiency) == (1, "none", 1.0)
    assert (t.tensor_parallel, t.pipeline_parallel, t.context_parallel, t.model_parallel) == (1, 1, 1, 1)
    assert all(getattr(d, key) == 0 for key in type(d).model_fields if key != "pairs")
    assert (e.setup_usd, e.runs_during_programme, e.judge_examples_per_run, e.judges) == (0, 0, 0, 0)
    assert (e.judge_price_usd_per_call, e.continuous_usd_per_month) == (0, 0)
    assert all(getattr(m, key) == 0 for key in type(m).model_fields if key.endswith(("_quarter", "_usd", "_year")))
    assert (m.retrain_fraction_of_first_compute, g.engineer_weeks, g.rate_usd_per_hour, g.other_usd) == (0, 0, 0, 0)
    assert (c.hipaa, c.redistributes_weights, c.gdpr_usd, c.eu_ai_act_usd, c.soc2_usd, c.hipaa_usd) == (
        False, False, 0, 0, 0, 0,
    )  # fmt: skip
    assert (s.modelled, s.rate_usd_per_gpu_hour, s.setup_usd) == (True, None, 0)
    assert p.base_model.end_of_life is None and p.scenarios == []
    assert (p.base_model.kv_heads, p.base_model.intermediate_size, p.base_model.tied_embeddings) == (None, None, False)
    api = p.alternative.api
    assert (api.usd_per_month, api.model, api.input_tokens_million_per_month, api.output_tokens_million_per_month) == (
        None, None, 0, 0,
    )  # fmt: skip
    labour = p.alternative.labour
    assert (labour.staff, labour.hours_per_staff_per_month, labour.time_saved_fraction) == (0, 0, 0)
    assert (labour.loaded_rate_usd_per_hour, p.alternative.rag.usd_per_month) == (0, 0)
    # the old boolean keys became the new choices
    assert (t.sharding, t.activation_checkpointing) == ("none", "none")


def test_a_minimal_plan_costs_its_booked_runs_only(book):
    # 1 GPU × 10 h × 3 runs at the price book's H100 neocloud on-demand midpoint
    # (1.80 + 2.60) / 2 = 2.20: USD 66; every other line is zero.
    # Running: serving 1 × 100 h × 2.20 = USD 220 a month; TCO 66 + 12 × 220 = USD 2,706
    run = evaluate(Params.model_validate(MINIMAL), book)
    assert float(run.programme_total) == pytest.approx(66.0)
    assert float(run.ongoing_monthly["serving"]) == pytest.approx(220.0)
    assert float(run.tco) == pytest.approx(2_706.0)
    assert np.isnan(run.break_even_month)
    assert float(run.alternative_monthly) == 0.0  # kind "none": nothing is replaced


def test_a_rag_alternative_saves_its_monthly_bill(book):
    rag = Params.model_validate({**MINIMAL, "alternative": {"kind": "rag", "rag": {"usd_per_month": 9000}}})
    assert float(evaluate(rag, book).alternative_monthly) == 9_000.0


@pytest.mark.parametrize(
    ("section", "value"),
    [("client", "x" * 200), ("scenarios", [{"name": "n" * 200}])],
)
def test_names_of_200_characters_are_accepted(section, value):
    Params.model_validate({**MINIMAL, section: value})


# The minimal plan's physics: 1e9 parameters in L = 2 layers of h = 64 with a = 2 heads (h_kv
# = 64), V = 100, untied; LoRA with 1 % trainable (N_a = 1e7), bf16_mixed AdamW, nothing
# sharded or recomputed, s = 128, micro-batch 1, one H100 (989 TFLOPS, 3,350 GB/s, 80 GB).
# Derived MLP width i = (1e9 − 2 × 100 × 64 − 2 × (2 × 64² + 2 × 64 × 64)) ÷ (3 × 64 × 2)
#   = (1e9 − 12,800 − 32,768) ÷ 384 = 999,954,432 ÷ 384 = 2,604,048 exactly.


def test_minimal_plan_memory_breakdown(book):
    # weights (1e7 × 2 + the frozen bf16 base 1e9 × 2) = 2.02 GB; gradients 1e7 × 2 = 0.02 GB;
    # optimizer 1e7 × 12 = 0.12 GB; activations, no recomputation: per token and layer
    # 8 × 64 + 4 × 64 + 4 × 2 = 776 (attention) + 4 × 64 + 8 × 2,604,048 = 20,832,640 (MLP)
    # = 20,833,416 B × 2 layers × 128 tokens = 5,333,354,496 B; logits 128 × 100 × 12 = 153,600 B;
    # nothing gathered (not sharded, not offloaded); step buffer 1e7 × 4 = 0.04 GB; 1.3 overhead
    facts = evaluate(Params.model_validate(MINIMAL), book).compute
    expected = {
        "weights": 2.02,
        "gradients": 0.02,
        "optimizer_states": 0.12,
        "activations": 5.333354496,
        "logits": 0.0001536,
        "gathered_layer": 0.0,
        "step_buffer": 0.04,
        "overhead": 1.3,
    }
    assert {k: float(v) for k, v in facts.memory_breakdown_gb.items()} == pytest.approx(expected, rel=1e-12)
    # forward/backward 2.16 + 5.333354496 + 0.0001536 = 7.4935081 beats the step's 2.16 + 0.04
    assert float(facts.memory_per_gpu_gb) == pytest.approx(7.493508096 + 1.3, rel=1e-12)
    assert float(facts.fewest_gpus) == 1.0 and bool(facts.fits)


def test_minimal_plan_time_terms(book):
    # tokens 100 pairs × 100 × 1 epoch = 10,000; per token 4 × 1e9 + 6 × 1e7 = 4.06e9 weight
    # FLOPs and 3 × 2 × 2 × 128 × 64 = 98,304 attention FLOPs: 4.060098304e13 FLOPs; at 0.3 ×
    # 989 TFLOPS: 0.1368418 s. Steps 10,000 ÷ 128 = 78.125, each moving 1e7 × 28 B at 3,350 GB/s
    # × 0.855 (the price book's element-wise share, base case) = 2,864.25 GB/s (nothing sharded:
    # the one GPU updates every adapter): 0.0076373 s. Kernel overheads:
    # (40 + 5 × 4 attention adapters) × 3 = 180 per layer and micro-batch, × 2 layers × 78.125
    # micro-batches × 6 µs = 0.16875 s. The matmuls stay FLOPs bound: (1e9 × 2 B × 2 passes +
    # 2 × 1e7 × 2 B) × 78.125 ÷ 3,350 GB/s = 0.0942 s < 0.1368 s.
    facts = evaluate(Params.model_validate(MINIMAL), book).compute
    flops = 10_000 * (4.06e9 + 98_304)
    assert float(facts.flops_per_run) == pytest.approx(flops, rel=1e-12)
    step = 78.125 * 1e7 * 28 / 2864.25e9
    launch = 180 * 2 * 78.125 * 6e-6
    assert float(facts.optimizer_step_gpu_hours_per_run) == pytest.approx(step / 3600, rel=1e-9)
    expected = (flops / (989e12 * 0.3) + launch + step) / 3600
    assert float(facts.physics_gpu_hours_per_run) == pytest.approx(expected, rel=1e-9)
    # the architecture's own count: 2 × (2 × 64² + 2 × 64 × 64 + 3 × 64 × 2,604,048) + 12,800
    # = 2 × (16,384 + 499,977,216) + 12,800 = 1e9, the given count
    assert facts.architecture_mismatch == pytest.approx(0.0, abs=1e-12)


def minimal(training: dict[str, Any] | None = None, base_model: dict[str, Any] | None = None) -> Params:
    """The minimal plan with some training or base-model keys changed (a new key replaces
    the legacy one it migrates from: given both, the schema keeps the legacy value)."""
    training = training or {}
    legacy = {"sharded": "sharding", "gradient_checkpointing": "activation_checkpointing"}
    kept = {key: value for key, value in MINIMAL["training"].items() if legacy.get(key) not in training}
    return Params.model_validate(
        {**MINIMAL, "training": {**kept, **training}, "base_model": {**MINIMAL["base_model"], **(base_model or {})}}
    )


MINIMAL_FLOPS = 10_000 * (4.06e9 + 98_304)
"""The minimal plan's FLOPs per run (test_minimal_plan_time_terms)."""
MINIMAL_STEPS = 10_000 / 128
"""Its optimizer steps: 10,000 tokens ÷ (128 × 1 micro-batch × 1 accumulation × 1 replica)."""
MINIMAL_LAUNCH = 180 * 2 * 78.125 * 6e-6
"""Its kernel overheads (test_minimal_plan_time_terms): (40 + 5 × 4 adapters) × 3 = 180 kernels
per layer and micro-batch, × 2 layers × 78.125 micro-batches × the price book's 6 µs."""


def test_fp32_runs_at_the_tf32_peak_with_four_byte_states(book):
    # fp32: matmuls and attention at half the BF16 peak, 989 ÷ 2 = 494.5 TFLOPS; weights,
    # gradients and the frozen base at 4 B, no master copy, fp32 moments 2 × 4 = 8 B; the step
    # reads and writes the weights (their own master): 4 + 2 × (0 + 8) + 2 × 4 = 28 B
    facts = evaluate(minimal({"precision": "fp32"}), book).compute
    terms = {k: float(v) for k, v in facts.memory_breakdown_gb.items()}
    # weights (1e7 + 1e9) × 4 = 4.04 GB; gradients 1e7 × 4; optimizer 1e7 × 8; buffer 1e7 × 4
    assert (terms["weights"], terms["gradients"], terms["optimizer_states"]) == pytest.approx((4.04, 0.04, 0.08))
    assert terms["step_buffer"] == pytest.approx(0.04)
    # the matmuls stay FLOPs bound: (1e9 × 4 B × 2 passes + 2 × 1e7 × 4 B) × 78.125 ÷ 3,350 GB/s
    # = 0.1884 s < 4.06e13 ÷ (494.5e12 × 0.3) = 0.2737 s; the kernels as in bf16
    step = MINIMAL_STEPS * 1e7 * 28 / H100_ELEMENTWISE_BYTES_PER_S
    expected = (MINIMAL_FLOPS / (494.5e12 * 0.3) + MINIMAL_LAUNCH + step) / 3600
    assert float(facts.physics_gpu_hours_per_run) == pytest.approx(expected, rel=1e-9)


def test_fp8_runs_the_matmuls_at_the_fp8_peak_and_attention_at_bf16(book):
    # fp8 (H100: 1,979 TFLOPS for the weight matmuls, attention at 989): the 4.06e13 weight
    # FLOPs at 1,979 × 0.3 and the 9.8304e8 attention FLOPs at 989 × 0.3. Memory: bf16 weights
    # plus their cached FP8 copy, 3 B; bf16 gradients; a bf16 master (none extra) with fp32
    # moments, 8 B; the step: 2 + 2 × (0 + 8) + 2 × 3 = 24 B
    facts = evaluate(minimal({"precision": "fp8"}), book).compute
    terms = {k: float(v) for k, v in facts.memory_breakdown_gb.items()}
    assert (terms["weights"], terms["gradients"], terms["optimizer_states"]) == pytest.approx((3.03, 0.02, 0.08))
    # FLOPs bound still: (1e9 × 1 B × 2 passes + 2 × 1e7 × 2 B) × 78.125 ÷ 3,350 GB/s = 0.0476 s
    # < 4.06e13 ÷ (1,979e12 × 0.3) = 0.0684 s
    step = MINIMAL_STEPS * 1e7 * 24 / H100_ELEMENTWISE_BYTES_PER_S
    expected = (4.06e13 / (1979e12 * 0.3) + 9.8304e8 / (989e12 * 0.3) + MINIMAL_LAUNCH + step) / 3600
    assert float(facts.physics_gpu_hours_per_run) == pytest.approx(expected, rel=1e-9)
    assert float(facts.flops_per_run) == pytest.approx(MINIMAL_FLOPS)  # the same FLOPs, counted once


def test_fp8_on_a_gpu_without_fp8_tensor_cores_runs_at_bf16():
    # the rule of training.matmul_peak_tflops on its own: no FP8 peak, so the BF16 one
    from ftcost_helpers.engine.model import training
    from ftcost_helpers.engine.pricebook import GpuSpec

    a100 = GpuSpec(label="A100", memory_gb=80, bf16_tflops=312, memory_bandwidth_gbps=2039)
    assert training.matmul_peak_tflops("fp8", a100) == 312
    assert training.matmul_peak_tflops("fp32", a100) == 156
    assert training.matmul_peak_tflops("bf16", a100) == 312


def test_gradient_accumulation_takes_fewer_steps(book):
    # 4 micro-batches per step: 10,000 ÷ (128 × 4) = 19.53125 steps, a quarter of the step time;
    # the FLOPs and the memory do not change
    plain, accumulated = (evaluate(minimal({"gradient_accumulation_steps": n}), book).compute for n in (1, 4))
    step = MINIMAL_STEPS / 4 * 1e7 * 28 / H100_ELEMENTWISE_BYTES_PER_S
    assert float(accumulated.optimizer_step_gpu_hours_per_run) == pytest.approx(step / 3600, rel=1e-9)
    assert float(accumulated.flops_per_run) == pytest.approx(MINIMAL_FLOPS)
    assert float(accumulated.memory_per_gpu_gb) == pytest.approx(float(plain.memory_per_gpu_gb))


def test_a_plan_without_utilisation_takes_the_price_book_default(book):
    # LoRA on a 1B model: the price book's adapters_small {0.40, 0.68}, base (0.40 + 0.68) ÷ 2 =
    # 0.54. At 0.54 the matmuls' 4.06e13 FLOPs take 4.06e13 ÷ (989e12 × 0.54) = 0.0760 s, less
    # than their weight traffic (1e9 × 2 B × 2 passes + 2 × 1e7 × 2 B) × 78.125 = 3.15625e11 B
    # ÷ 3,350 GB/s = 0.0942 s: on the roofline they are bandwidth bound
    training = {key: value for key, value in MINIMAL["training"].items() if key != "utilisation"}
    plan = Params.model_validate({**MINIMAL, "training": training})
    facts = evaluate(plan, book).compute
    step = MINIMAL_STEPS * 1e7 * 28 / H100_ELEMENTWISE_BYTES_PER_S
    attention = 10_000 * 98_304 / (989e12 * 0.54)
    expected = (3.15625e11 / 3350e9 + attention + MINIMAL_LAUNCH + step) / 3600
    assert float(facts.physics_gpu_hours_per_run) == pytest.approx(expected, rel=1e-9)


def test_lora_adapters_counted_from_the_architecture(book):
    # no trainable_fraction: rank 8 on the attention only, r × (6h + 2h_kv) per layer =
    # 8 × (384 + 128) = 4,096, × 2 layers = 8,192 adapters; all linear layers add
    # 3 × 8 × (64 + 2,604,048) = 62,498,688 per layer: 2 × (4,096 + 62,498,688) = 125,005,568
    attention = evaluate(minimal({"trainable_fraction": None}), book).compute
    assert float(attention.trained_parameters) == 8_192
    lora = {"rank": 8, "target_modules": "all_linear"}
    linear = evaluate(minimal({"trainable_fraction": None, "lora": lora}), book).compute
    assert float(linear.trained_parameters) == 125_005_568
    # the FLOPs per token follow: 4 × 1e9 + 6 × 125,005,568 + 98,304 attention
    assert float(linear.flops_per_run) == pytest.approx(10_000 * (4e9 + 6 * 125_005_568 + 98_304), rel=1e-12)


# A small mixture of experts: L = 2, h = 64, a = 2, V = 100, i = 32 per expert, E = 4 experts
# of which k = 2 per token. Total 2 × (2 × 64² + 2 × 64² + 4 × 3 × 64 × 32) + 2 × 100 × 64 =
# 2 × (16,384 + 24,576) + 12,800 = 94,720; active 2 × (16,384 + 2 × 6,144) + 12,800 = 70,144.
MOE = {"parameters_billion": 94_720e-9, "intermediate_size": 32, "experts": 4, "experts_per_token": 2}


def test_a_mixture_of_experts_counts_its_routed_experts(book):
    facts = evaluate(minimal(base_model=MOE), book).compute
    assert float(facts.total_parameters) == pytest.approx(94_720)
    assert float(facts.active_parameters) == pytest.approx(70_144)
    assert facts.architecture_mismatch == pytest.approx(0.0, abs=1e-9)
    # 1 % trainable of the total (947.2) in memory; of the active (701.44) in the FLOPs:
    # 4 × 70,144 + 6 × 701.44 = 284,784.64 weight FLOPs + 98,304 attention per token
    assert float(facts.trained_parameters) == pytest.approx(947.2)
    assert float(facts.flops_per_run) == pytest.approx(10_000 * (284_784.64 + 98_304), rel=1e-12)
    # activations per token and layer: 776 (attention) + 4 × 64 + 8 × 32 × 2 routed = 1,544;
    # × 2 layers × 128 tokens = 395,264 B
    assert float(facts.memory_breakdown_gb["activations"]) == pytest.approx(395_264e-9, rel=1e-12)


def test_a_mixture_of_experts_adapts_the_routed_experts_in_the_flops(book):
    # LoRA rank 8 on all linear layers, no trainable_fraction: attention 8 × (6 × 64 + 2 × 64)
    # = 4,096 per layer; MLP 3 × 8 × (64 + 32) = 2,304 per expert: trained (memory) 2 × (4,096
    # + 4 × 2,304) = 26,624; in the FLOPs the 2 routed: 2 × (4,096 + 2 × 2,304) = 17,408
    lora = {"rank": 8, "target_modules": "all_linear"}
    facts = evaluate(minimal({"trainable_fraction": None, "lora": lora}, MOE), book).compute
    assert float(facts.trained_parameters) == 26_624
    assert float(facts.flops_per_run) == pytest.approx(10_000 * (4 * 70_144 + 6 * 17_408 + 98_304), rel=1e-12)


def test_given_active_parameters_win_over_the_architecture(book):
    # active_parameters_billion given: 50,000 active, whatever the routing says
    facts = evaluate(minimal(base_model={**MOE, "active_parameters_billion": 50_000e-9}), book).compute
    assert float(facts.active_parameters) == pytest.approx(50_000)
    assert float(facts.flops_per_run) == pytest.approx(10_000 * (4 * 50_000 + 6 * 500 + 98_304), rel=1e-9)


def test_full_training_of_the_minimal_plan(book):
    # full SFT: every weight trains (1e9), no frozen copy: weights 2, gradients 2, optimizer 12,
    # step buffer 4 GB; FLOPs 6 × 1e9 + 98,304 per token; steps move 1e9 × 28 B each
    facts = evaluate(minimal({"method": "full_sft", "trainable_fraction": None}), book).compute
    terms = {k: float(v) for k, v in facts.memory_breakdown_gb.items()}
    assert (terms["weights"], terms["gradients"], terms["optimizer_states"], terms["step_buffer"]) == pytest.approx(
        (2.0, 2.0, 12.0, 4.0)
    )
    assert float(facts.trained_parameters) == 1e9
    assert float(facts.flops_per_run) == pytest.approx(10_000 * (6e9 + 98_304))
    step = MINIMAL_STEPS * 1e9 * 28 / H100_ELEMENTWISE_BYTES_PER_S
    assert float(facts.optimizer_step_gpu_hours_per_run) == pytest.approx(step / 3600, rel=1e-9)


def test_dpo_counts_chosen_rejected_and_reference_and_holds_two_models(book):
    # DPO (Rafailov et al. 2023, eq. 7) on the minimal plan, every weight trained: per pair the
    # chosen and the rejected row (100 tokens each, 100 pairs, 1 epoch) go forward and backward
    # through the policy, 6 × 1e9 + 98,304 FLOPs per token, and forward through the frozen
    # reference, a third of that: 2e9 + 32,768. FLOPs: 2 × 10,000 × (6e9 + 98,304) + 2 × 10,000
    # × (2e9 + 32,768) = 1.2000196608e14 + 4.000065536e13 = 1.6000262144e14.
    facts = evaluate(minimal({"method": "dpo", "trainable_fraction": None}), book).compute
    flops = 2 * 10_000 * (6e9 + 98_304) + 2 * 10_000 * (2e9 + 32_768)
    assert float(facts.flops_per_run) == pytest.approx(flops, rel=1e-12)
    # Time: micro-batches 78.125 × (2 + 2 ÷ 3 forward-equivalents) = 208.333...; each launches
    # 40 × 3 = 120 kernels a layer: 208.333 × 2 × 120 × 6 µs = 0.3 s. The optimizer steps do
    # not double (a pair is one example): 78.125 × 1e9 × 28 B at 2,864.25 GB/s. FLOPs bound:
    # 1.6000262144e14 ÷ (989e12 × 0.3) = 0.53927 s, above the weight reads (2e9 B × 2 passes +
    # 2e9 B of gradients) × 208.333 ÷ 3,350 GB/s = 0.3731 s.
    step = MINIMAL_STEPS * 1e9 * 28 / H100_ELEMENTWISE_BYTES_PER_S
    launch = 78.125 * (2 + 2 / 3) * 2 * 120 * 6e-6
    expected = (flops / (989e12 * 0.3) + launch + step) / 3600
    assert float(facts.physics_gpu_hours_per_run) == pytest.approx(expected, rel=1e-9)
    # Memory holds two models: the policy 1e9 × 2 B and the reference 1e9 × 2 B = 4 GB of
    # weights; the reference has no gradients (2 GB, the policy's) and no optimizer states (12
    # GB, the policy's); chosen and rejected sit side by side, so activations are twice SFT's
    # 5.333354496 GB (test_minimal_plan_memory_breakdown): 10.666708992 GB.
    terms = {k: float(v) for k, v in facts.memory_breakdown_gb.items()}
    assert (terms["weights"], terms["gradients"], terms["optimizer_states"], terms["step_buffer"]) == pytest.approx(
        (4.0, 2.0, 12.0, 4.0)
    )
    assert terms["activations"] == pytest.approx(2 * 5.333354496, rel=1e-12)
    # Against SFT on the same data (the 10,000 chosen tokens once, 6e9 + 98,304 per token):
    # 1.6000262144e14 ÷ 6.0000983040e13 = 2.6666... (8 of the 3 forward-passes of SFT: 16N ÷ 6N)
    assert float(facts.compute_vs_sft) == pytest.approx(flops / (10_000 * (6e9 + 98_304)), rel=1e-9)


@pytest.mark.parametrize(
    ("dpo", "reference_flops", "weights_gb"),
    [
        # precomputed reference log-probabilities: computed once before training (2 rows × 2
        # epochs' worth ÷ 2 epochs = the 2 rows once), no reference held: 2 GB of weights
        ({"loss": "dpo", "reference": "precomputed"}, 2 * 10_000 * (2e9 + 32_768), 2.0),
        # ORPO and SimPO: no reference at all
        ({"loss": "orpo"}, 0.0, 2.0),
        ({"loss": "simpo"}, 0.0, 2.0),
    ],
)
def test_preference_losses_without_a_reference_model_in_memory(book, dpo, reference_flops, weights_gb):
    # two epochs: 100 pairs × 100 tokens × 2 = 20,000 tokens a row; the policy passes chosen and
    # rejected each epoch: 2 × 20,000 × (6e9 + 98,304); the reference as the case says
    facts = evaluate(minimal({"method": "dpo", "trainable_fraction": None, "epochs": 2, "dpo": dpo}), book).compute
    flops = 2 * 20_000 * (6e9 + 98_304) + reference_flops
    assert float(facts.flops_per_run) == pytest.approx(flops, rel=1e-12)
    assert float(facts.memory_breakdown_gb["weights"]) == pytest.approx(weights_gb)


def test_kto_runs_one_completion_its_kl_pair_and_a_reference(book):
    # KTO (Ethayarajh et al. 2024; TRL's KTOTrainer.forward): per example one completion forward
    # and backward (6e9 + 98,304 a token), the mismatched KL pair forward through the policy
    # without gradients, and both through the reference: 3 forward rows of 2e9 + 32,768.
    # 10,000 × (6e9 + 98,304) + 3 × 10,000 × (2e9 + 32,768) = 1.2000196608e14; one row per
    # example in a micro-batch (activations as SFT's), the reference held (4 GB of weights).
    facts = evaluate(minimal({"method": "dpo", "trainable_fraction": None, "dpo": {"loss": "kto"}}), book).compute
    assert float(facts.flops_per_run) == pytest.approx(10_000 * (6e9 + 98_304) + 3 * 10_000 * (2e9 + 32_768))
    assert float(facts.memory_breakdown_gb["weights"]) == pytest.approx(4.0)
    assert float(facts.memory_breakdown_gb["activations"]) == pytest.approx(5.333354496, rel=1e-12)


def test_selective_recomputation_of_the_minimal_plan(book):
    # selective: attention FLOPs 4 × 32,768 = 131,072 per token (weights unchanged); eager
    # attention keeps the scores, 5 × a × s = 5 × 2 × 128 = 1,280 B per token and layer, which
    # selective recomputation drops again: activations as with FlashAttention, 5,333,354,496 B
    eager = evaluate(minimal({"memory_efficient_attention": False}), book).compute
    assert float(eager.memory_breakdown_gb["activations"]) == pytest.approx((20_833_416 + 1_280) * 256e-9)
    both = {"memory_efficient_attention": False, "activation_checkpointing": "selective"}
    selective = evaluate(minimal(both), book).compute
    assert float(selective.memory_breakdown_gb["activations"]) == pytest.approx(5.333354496)
    assert float(selective.flops_per_run) == pytest.approx(10_000 * (4.06e9 + 131_072))
    # full recomputation: each of 2 layers keeps 2 × 64 B plus one layer's 20,833,416 (+ 1,280
    # eager scores) per token: (256 + 20,834,696) × 128 B
    full = evaluate(minimal({"memory_efficient_attention": False, "activation_checkpointing": "full"}), book).compute
    assert float(full.memory_breakdown_gb["activations"]) == pytest.approx((256 + 20_834_696) * 128e-9)


def test_the_peak_phase_terms_drop_the_other_phase():
    # forward/backward 2 + 1 + 3 + 5 = 11 (without the buffer 4) against the step's 2 + 1 + 3 + 4
    # = 10: the step buffer is dropped. With activations of 1: 7 against 10, the
    # forward/backward-only terms are dropped
    from ftcost_helpers.engine.model.training import peak_phase_terms

    terms = {"weights": 2.0, "gradients": 1.0, "optimizer_states": 3.0, "activations": 5.0, "step_buffer": 4.0}
    assert peak_phase_terms(terms) == {**terms, "step_buffer": 0.0}
    small = {**terms, "activations": 1.0}
    assert peak_phase_terms(small) == {**small, "activations": 0.0}
    tie = {**terms, "activations": 4.0}  # 10 against 10: the forward/backward phase is shown
    assert peak_phase_terms(tie) == {**tie, "step_buffer": 0.0}


def test_fewest_replicas_at_the_boundaries():
    # sharded: 150 GB shards, 10 GB does not, 60 GB usable: 50 GB room, 150 ÷ 50 = exactly 3
    assert memory.fewest_data_parallel(10.0, 150.0, 60.0, True) == 3.0
    assert memory.fewest_data_parallel(10.0, 150.5, 60.0, True) == 4.0  # 3.01 rounds up
    assert memory.fewest_data_parallel(10.0, 10.0, 60.0, True) == 1.0  # never fewer than one
    assert memory.fewest_data_parallel(10.0, 0.0, 60.0, True) == 1.0  # nothing to shard
    assert memory.fewest_data_parallel(60.0, 1.0, 60.0, True) == math.inf  # the fixed part fills it
    assert memory.fewest_data_parallel(60.5, 1.0, 60.0, True) == math.inf
    # unsharded: it fits on one or on none; 10 + 50 = 60 is exactly full
    assert memory.fewest_data_parallel(10.0, 50.0, 60.0, False) == 1.0
    assert memory.fewest_data_parallel(10.0, 50.5, 60.0, False) == math.inf
    # a ratio that float division puts a hair above a whole number: 2.1 ÷ 0.3 =
    # 7.000000000000001 in binary floating point, but 7 replicas hold it
    assert 2.1 / 0.3 > 7
    assert memory.fewest_data_parallel(0.0, 2.1, 0.3, True) == 7.0
    # per draw
    np.testing.assert_array_equal(
        memory.fewest_data_parallel(np.array([10.0, 60.0]), np.array([150.0, 1.0]), 60.0, True), [3.0, math.inf]
    )


def test_peak_at_the_phase_boundary():
    # forward/backward 10 + 2 + 12 + 4 + 1 + 1 = 30 and step 24 + 6 = 30: a tie, 30 + 1.3
    assert memory.peak_gb(10, 2, 12, 4, 1, 1, 6, 1.3) == pytest.approx(31.3)
    # the gathered layer counts in the forward/backward phase only: 24 + 0 + 0 + 9 = 33 vs 24 + 6
    assert memory.peak_gb(10, 2, 12, 0, 0, 9, 6, 0.0) == pytest.approx(33.0)
    np.testing.assert_allclose(memory.peak_gb(10, 2, 12, np.array([0.0, 10.0]), 0, 0, 6, 0), [30.0, 34.0])


def test_memory_helpers():
    # a state split over 4 when its sharding applies, whole otherwise
    assert memory.sharded(100.0, 4, True) == 25.0 and memory.sharded(100.0, 4, False) == 100.0
    # a bf16 base not quantised: every frozen weight at 2 B (the embedding count does not matter)
    assert memory.frozen_bytes(8e9, 1e9, 2.0, None) == 16e9
    # the gathered layer: this and the next of 32 layers, 2 × 8e9 ÷ 32 × 2 B ÷ tensor 2 = 0.5 GB
    assert memory.gathered_layer_gb(8e9, 32, 2.0, 2, True) == pytest.approx(0.5)
    assert memory.gathered_layer_gb(8e9, 32, 2.0, 2, False) == 0.0
    # the step buffer: 7e9 × 4 B ÷ (tensor 1) ÷ 8 sharded = 3.5 GB; none for a fused kernel
    assert memory.step_buffer_gb(7e9, 4.0, 1, 8, True, False) == pytest.approx(3.5)
    assert memory.step_buffer_gb(7e9, 4.0, 2, 8, False, False) == pytest.approx(14.0)
    assert memory.step_buffer_gb(7e9, 4.0, 1, 8, True, True) == 0.0
    # weights with a frozen base: (1e8 × 2 + 16e9) ÷ tensor 2 ÷ 4 under ZeRO-3 = 2.025 GB
    assert memory.weights_gb(1e8, 16e9, 2.0, 2, 4, True, False) == pytest.approx(2.025)
    # logits split by tensor 2 × context 2: 4,096 × 100,000 × 12 ÷ 4 = 1.2288 GB (eager fp32
    # loss); a fused kernel's 4 bytes: 4,096 × 100,000 × 4 ÷ 4 = 0.4096 GB
    assert memory.logits_gb(4096, 100_000, 2, 2) == pytest.approx(1.2288)
    assert memory.logits_gb(4096, 100_000, 2, 2, memory.LOGIT_BYTES["fused"]) == pytest.approx(0.4096)
    # context parallel 4 splits activations: 2 layers × 1,000 B × 400 tokens ÷ 4 = 200,000 B
    assert memory.activations_gb(1000, 100, 2, 400, "none", 0, 1, 4) == pytest.approx(200e-6)
    # full recomputation on this layer: (2 × 2 × 100 + 1,000) × 400 = 560,000 B
    assert memory.activations_gb(1000, 100, 2, 400, "full", 0, 1, 1) == pytest.approx(560e-6)


def test_optimizer_states_by_precision():
    # fp8 keeps a bf16 master (no fp32 copy) and fp32 moments: 0 + 2 × 4 = 8; fp32 AdamW: its
    # weights are the master, 2 × 4 = 8; pure bf16 SGD: one bf16 buffer, 2; paged 8-bit: 4 + 2
    assert memory.optimizer_bytes_per_param("fp8", "adamw") == 8
    assert memory.optimizer_bytes_per_param("fp32", "adamw") == 8
    assert memory.optimizer_bytes_per_param("bf16", "sgd") == 2
    assert memory.optimizer_bytes_per_param("bf16_mixed", "paged_adamw_8bit") == 6
    assert memory.optimizer_bytes_per_param("bf16", "adafactor") == 0


def test_optimizer_step_bytes_of_fp32_weights():
    # fp32 AdamW: no separate master, so the 4-byte weights are read and written: 4 (g) +
    # 2 × (0 + 8) + 2 × 4 = 28; mixed 8-bit AdamW: 2 + 2 × (4 + 2) + 2 = 16
    assert compute.optimizer_step_bytes_per_param(4.0, 4.0, 0.0, 8.0) == 28.0
    assert compute.optimizer_step_bytes_per_param(2.0, 2.0, 4.0, 2.0) == 16.0
    assert compute.optimizer_steps(1e6, 4096) == pytest.approx(244.140625)


@pytest.mark.parametrize(
    ("section", "value"), [("client", "x" * 201), ("client", ""), ("scenarios", [{"name": "n" * 201}])]
)
def test_names_beyond_200_characters_are_refused(section, value):
    with pytest.raises(ValueError):
        Params.model_validate({**MINIMAL, section: value})


@pytest.mark.parametrize(
    ("input_tokens", "output_tokens", "monthly"),
    # USD 0.80 in and 4.00 out per 1M: 5 × 0.80 + 5 × 4.00 = USD 24; output only: 10 × 4.00 = USD 40
    [(5, 5, 24.0), (0, 10, 40.0)],
)
def test_an_api_priced_by_tokens_and_prices(book, input_tokens, output_tokens, monthly):
    prices = {"input_price_usd_per_1m_tokens": 0.8, "output_price_usd_per_1m_tokens": 4.0}
    api = prices | {"input_tokens_million_per_month": input_tokens, "output_tokens_million_per_month": output_tokens}
    plan = plan_with(book, {"alternative": {"kind": "api", "api": api}})
    assert float(evaluate(plan, book).alternative_monthly) == pytest.approx(monthly)


def test_an_api_with_no_tokens_is_refused(book):
    error = refused(book, {"alternative": {"kind": "api", "api": {"input_price_usd_per_1m_tokens": 0.8}}})
    assert "needs alternative.api.usd_per_month" in str(error)


def test_a_misspelt_scenario_key_gets_the_closest(book):
    error = refused(book, {"scenarios": [{"name": "x", "overrides": {"training": {"hours_per_rn": 3}}}]})
    assert "training.hours_per_rn: unknown key (did you mean 'hours_per_run'?)" in str(error)


@pytest.mark.parametrize(("gpus", "per_1m"), [(2, 3.5 * 2 / 1.8), (0, 3.5 / 1.8)])
def test_serving_cost_per_1m_tokens_by_gpu_count(book, gpus, per_1m):
    # USD 3.50 × GPUs ÷ (500 tokens/s × 3,600 s) × 1e6 = 3.5 × GPUs ÷ 1.8; no GPU is priced as one
    plan = plan_with(book, {"serving": {"gpus": gpus}})
    assert float(evaluate(plan, book).serving.usd_per_1m_tokens) == pytest.approx(per_1m)


def test_a_plan_without_training_tokens_keeps_its_hours_in_a_scenario(book):
    # no pairs: no FLOPs, so the physics view gives nothing to scale by and the scenario keeps
    # 10 h per run: 4 GPUs × 10 h × 5 runs + reruns and sweep = 400 GPU-h × 4.00 = USD 1,600
    from ftcost_helpers.engine.overrides import scenario_params
    from ftcost_helpers.engine.schema import Scenario

    plan = plan_with(book, {"dataset": {"pairs": 0}})
    more = scenario_params(plan, book, Scenario(name="four", overrides={"training": {"gpus_per_run": 4}}))
    assert more.training.hours_per_run == 10.0
    assert float(evaluate(more, book).area_total("compute")) == pytest.approx(1_600.0)


def test_a_finished_page_keeps_its_frame_and_loses_the_body_s_script():
    # the body is sanitised (the script goes, the paragraph stays), the head gets the policy
    # right after <meta charset>, and what follows </body> is kept as written
    from ftcost_helpers.report.sanitize import CSP_META, finalise_page

    page = finalise_page(
        '<html><head><meta charset="utf-8"><title>T</title></head>'
        "<body><p>ok</p><script>alert(1)</script></body><!-- end --></html>"
    )
    assert page.startswith('<html><head><meta charset="utf-8">\n' + CSP_META + "<title>T</title></head>")
    assert "<body><p>ok</p></body><!-- end --></html>" in page and page.endswith("</html>")
    assert "alert(1)" not in page


# ---------------------------------------------------------------- serving, the API and the build period


def test_gpus_to_carry_the_peak():
    # 1 GPU at 500 tokens/s; a 1,500 tokens/s peak: ⌈1,500 ÷ 500⌉ = 3 GPUs
    assert roi.gpus_to_carry(1_500.0, 500.0, 1) == 3.0
    # 2 GPUs at 1,000 tokens/s serve 500 each; a 1,200 peak: ⌈2.4⌉ = 3
    assert roi.gpus_to_carry(1_200.0, 1_000.0, 2) == 3.0
    # exactly on a multiple: 1,000 ÷ 500 = 2, not 3
    assert roi.gpus_to_carry(1_000.0, 1_000.0, 2) == 2.0
    # no traffic still needs one GPU; no GPUs given counts as one: ⌈900 ÷ 500⌉ = 2
    assert roi.gpus_to_carry(0.0, 500.0, 1) == 1.0
    assert roi.gpus_to_carry(900.0, 500.0, 0) == 2.0
    np.testing.assert_array_equal(roi.gpus_to_carry(np.array([0.0, 1_500.0]), 500.0, 1), [1.0, 3.0])


def test_average_tokens_per_second():
    # 440M tokens over 730 hours: 440e6 ÷ (730 × 3,600) = 440e6 ÷ 2,628,000 = 167.42770 tokens/s
    assert roi.average_tokens_per_second(440.0, 730.0) == pytest.approx(440e6 / 2_628_000)


def test_api_cost_with_cached_input():
    # 100M input at 2.50 + 40M cached at 1.25 + 20M output at 10.00 = 250 + 50 + 200 = USD 500
    assert roi.api_cost_per_month(100, 20, 2.5, 10, 40, 1.25) == pytest.approx(500.0)
    # a cached price with no cached tokens adds nothing, nor cached tokens without a price
    assert roi.api_cost_per_month(100, 20, 2.5, 10, cached_input_price_usd_per_1m=1.25) == pytest.approx(450.0)
    assert roi.api_cost_per_month(100, 20, 2.5, 10, cached_input_tokens_million=40) == pytest.approx(450.0)


def test_build_weights_of_each_profile():
    # B = 4 front-loaded: 4, 3, 2, 1 over 10; even: 1/4 each; a list repeats a month: [1, 1, 3]
    # puts 2/3 in month 1 and 1/3 in month 3
    assert roi.build_weights(4, "front_loaded") == pytest.approx([0, 0.4, 0.3, 0.2, 0.1])
    assert roi.build_weights(4, "even") == pytest.approx([0, 0.25, 0.25, 0.25, 0.25])
    assert roi.build_weights(3, [1, 1, 3]) == pytest.approx([0, 2 / 3, 0, 1 / 3])
    assert roi.build_weights(1, "front_loaded") == pytest.approx([0, 1])
    assert roi.build_weights(0, "even") == pytest.approx([1])


def test_programme_spend_by_month():
    # compute USD 600 front-loaded over 2 months (2/3, 1/3); data USD 300 in month 0; horizon 3
    weights = {"compute": roi.build_weights(2, "front_loaded"), "dataset": roi.build_weights(0, "even")}
    spend = roi.programme_spend_by_month({"compute": 600.0, "dataset": 300.0}, weights, 3)
    assert spend == pytest.approx([300, 400, 200, 0])
    # per draw: compute {600, 900}: months 1 and 2 get 400/200 and 600/300
    spend = roi.programme_spend_by_month({"compute": np.array([600.0, 900.0])}, {"compute": weights["compute"]}, 2)
    np.testing.assert_allclose(spend, [[0, 400, 200], [0, 600, 300]])


def test_operating_months_start_after_the_build():
    # build 2 over a 5-month horizon: months 1–2 building, 3–5 operating
    assert roi.operating_months(2, 5).tolist() == [0, 0, 1, 1, 1]
    assert roi.operating_months(0, 3).tolist() == [1, 1, 1]


def test_net_saving_waits_for_the_launch():
    # alternative 1,000 a month, running 100: −100 while building, then 900
    operating = roi.operating_months(1, 3)
    assert roi.monthly_net_saving(1_000.0, np.full(3, 100.0), operating) == pytest.approx([-100, 900, 900])
    # the cumulative flow with USD 1,000 spent in month 1: 0, −1,100, −200, 700 → break-even month 3
    cash = roi.cumulative_cash_flow(np.array([0.0, 1_000.0, 0.0, 0.0]), np.array([-100.0, 900.0, 900.0]))
    assert cash == pytest.approx([0, -1_100, -200, 700])
    assert roi.break_even_month(cash) == 3


def test_break_even_at_exactly_zero():
    # 100 spent, 25 saved a month: exactly 0 at month 4, which counts as paid back
    cash = roi.cumulative_cash_flow(np.r_[100.0, np.zeros(5)], np.full(5, 25.0))
    assert cash == pytest.approx([-100, -75, -50, -25, 0, 25])
    assert roi.break_even_month(cash) == 4
    # month 0 at zero (nothing spent) is not a break-even month: the first counted is month 1
    assert roi.break_even_month(roi.cumulative_cash_flow(np.zeros(3), np.zeros(2))) == 1


def test_month_or_none():
    assert roi.month_or_none(float("nan")) is None
    assert roi.month_or_none(5.0) == 5


def test_maintenance_per_quarter_and_month():
    # 2 migrations a year at USD 20,000: 40,000 ÷ 4 = 10,000 a quarter; 9,000 a quarter is 3,000 a month
    from ftcost_helpers.engine.model import maintenance

    assert maintenance.migration_cost_per_quarter(2, 20_000) == pytest.approx(10_000)
    assert maintenance.migration_cost_per_quarter(1, 20_000) == pytest.approx(5_000)
    assert maintenance.monthly_from_quarterly(9_000) == pytest.approx(3_000)
    # start month 2 after a 3-month build: maintained from month 5 of the programme
    assert maintenance.maintained_months(np.arange(1, 8), 2, 3).tolist() == [0, 0, 0, 0, 1, 1, 1]
    # 6 months exactly: two whole quarters, nothing left out; 8 months: the last 2 left out
    assert maintenance.months_maintained_per_quarter(np.ones(6)).tolist() == [3, 3]
    assert maintenance.months_maintained_per_quarter(np.ones(8)).tolist() == [3, 3]
    assert maintenance.months_maintained_per_quarter(np.ones(2)).tolist() == []
