"""The audit's thresholds at their edges, with the figures its messages quote worked out by hand.

Thresholds are the price book's (params/pricebook.yaml, from 001_6c04196dc11ea2b6.txt):
budget split 60–70 % data/eval/labelling and 5–15 % compute, "far" meaning more than 10
points outside; dataset ≥ 3× compute; implied utilisation 5–46 %; maintenance USD
8,000–25,000 a quarter; a per-1k API price above USD 150 per 1M looks like a per-1M price.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from ftcost_helpers.engine.audit import audit, implied_utilisation
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.loading import deep_merge, params_from_mapping, read_yaml
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.schema import Params

SECOND_PLAN = Path(__file__).parent / "fixtures" / "second_plan.yaml"

ZERO_LINES = {
    "training": {"runs": 1, "failed_runs": 0, "sweep_trials": 0, "rate_usd_per_gpu_hour": 3.0},
    "dataset": {
        "annotation_hours": 0,
        "annotation_minutes_per_pair": 0,
        "synthetic_tokens_million": 0,
        "synthetic_verification_usd": 0,
        "pii_redaction_usd": 0,
        "adjudication_usd": 0,
        "decontamination_usd": 0,
    },
    "evaluation": {"setup_usd": 0, "runs_during_programme": 0},
    "engineering": {"engineer_weeks": 0},
    "compliance": {"hipaa_usd": 0},
    "serving": {"setup_usd": 0},
}
"""The second plan with one run of 2 GPUs × 10 h × USD 3.00 = USD 60 of compute and every
other one-time line at zero; a test then sets the dataset (curation) and engineering amounts."""


def plan_with(book: PriceBook, changes: dict[str, Any]) -> Params:
    return params_from_mapping(deep_merge(read_yaml(SECOND_PLAN), changes), "second plan", book)


def split_plan(book: PriceBook, dataset_usd: float, other_usd: float) -> Params:
    """Compute USD 60, dataset ``dataset_usd`` (curation), engineering ``other_usd``."""
    changes = deep_merge(
        ZERO_LINES, {"dataset": {"curation_usd": dataset_usd}, "engineering": {"other_usd": other_usd}}
    )
    return plan_with(book, changes)


def found(params: Params, book: PriceBook) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for finding in audit(params, book, evaluate(params, book)):
        result.setdefault(finding.code, []).append(finding.message)
    return result


# ---------------------------------------------------------------- budget split


def test_split_plan_adds_up(book):
    # 60 + 500 + 440 = 1,000
    run = evaluate(split_plan(book, 500, 440), book)
    assert float(run.programme_total) == pytest.approx(1_000.0)
    assert float(run.area_total("compute")) == pytest.approx(60.0)


def test_data_share_exactly_ten_points_below_the_band_is_not_far(book):
    # 500 of 1,000 = 50 % = 60 % − 10 points: on the tolerance's edge, not beyond it
    assert "BUDGET_SPLIT_DATA" not in found(split_plan(book, 500, 440), book)


def test_data_share_just_below_the_tolerance(book):
    # 499 of 1,000 = 49.9 %: reaching 60 % means moving 600 − 499 = USD 101 into data
    (message,) = found(split_plan(book, 499, 441), book)["BUDGET_SPLIT_DATA"]
    assert "49.9% of the programme (USD 499 of USD 1,000)" in message
    assert "moving USD 101" in message


def test_data_share_exactly_ten_points_above_the_band_is_not_far(book):
    # 800 of 1,000 = 80 % = 70 % + 10 points: on the edge, not beyond it
    assert "BUDGET_SPLIT_DATA" not in found(split_plan(book, 800, 140), book)


def test_data_share_just_above_the_tolerance(book):
    # 801 of 1,000 = 80.1 %: at 70 % the data budget would be 801 − 700 = USD 101 smaller
    (message,) = found(split_plan(book, 801, 139), book)["BUDGET_SPLIT_DATA"]
    assert "80.1% of the programme" in message and "USD 101 smaller" in message


def test_compute_share_at_and_beyond_the_tolerance(book):
    # compute 60 of 240 = 25 % = 15 % + 10 points: not far; of 239 (25.1 %) it is:
    # bringing it to 15 % frees 60 − 0.15 × 239 = 60 − 35.85 = USD 24
    at_edge = found(split_plan(book, 180, 0), book)
    assert "BUDGET_SPLIT_COMPUTE" not in at_edge
    (message,) = found(split_plan(book, 179, 0), book)["BUDGET_SPLIT_COMPUTE"]
    assert "25.1% of the programme (USD 60 of USD 239)" in message and "frees USD 24" in message


# ---------------------------------------------------------------- dataset against compute


def test_dataset_exactly_three_times_compute_is_enough(book):
    # 3 × USD 60 = USD 180
    assert "DATASET_UNDER_3X_COMPUTE" not in found(split_plan(book, 180, 1_000), book)


def test_dataset_under_three_times_compute(book):
    # 170 is 170 / 60 = 2.8× compute; at 3× the dataset compute would be 170 / 3 = 56.67 (saving
    # 3.33) or the data is under-funded by 180 − 170 = USD 10
    (message,) = found(split_plan(book, 170, 1_000), book)["DATASET_UNDER_3X_COMPUTE"]
    assert "(USD 170) is 2.8× compute (USD 60)" in message
    assert "it would be USD 57, saving USD 3" in message and "under-funded by USD 10" in message


# ---------------------------------------------------------------- implied utilisation


def _utilisation(book: PriceBook, implied: float, booked: float, physics: float) -> list[str]:
    plan = plan_with(book, {})
    run = evaluate(plan, book)
    facts = dataclasses.replace(
        run.compute, implied_utilisation=implied, booked_gpu_hours_per_run=booked, physics_gpu_hours_per_run=physics
    )
    return [f.code + ": " + f.message for f in implied_utilisation(plan, book, dataclasses.replace(run, compute=facts))]


@pytest.mark.parametrize("implied", [0.05, 0.46])
def test_implied_utilisation_on_the_band_edges_is_plausible(book, implied):
    assert _utilisation(book, implied, 20.0, 20.0 * implied / 0.25) == []


def test_implied_utilisation_below_the_band(book):
    # 20 GPU-hours booked per run, 0.5 needed: (20 − 0.5) × 5 runs × USD 4.00 = USD 390 idle
    (message,) = _utilisation(book, 0.0499, 20.0, 0.5)
    assert message.startswith("UTILISATION_IMPLAUSIBLY_LOW")
    assert "imply 5.0% of the GPUs' dense BF16 peak" in message and "about USD 390 of booked GPU time" in message


def test_implied_utilisation_above_the_band(book):
    # 20 booked, 30 needed: (30 − 20) × 5 runs × USD 4.00 = USD 200 short
    (message,) = _utilisation(book, 0.4601, 20.0, 30.0)
    assert message.startswith("UTILISATION_IMPLAUSIBLY_HIGH")
    assert "short by about USD 200 over 5 runs" in message


# ---------------------------------------------------------------- sweep without early stopping


def test_one_sweep_trial_without_early_stopping_is_flagged(book):
    # one trial = one run: 2 GPUs × 10 h × USD 4.00 = USD 80; stopped at 25 %: 80 × 0.25 = USD 20,
    # saving 80 − 20 = USD 60
    changes = {"training": {"sweep_trials": 1, "early_stopped_trial_fraction": 0.25}}
    (message,) = found(plan_with(book, changes), book)["SWEEP_WITHOUT_EARLY_STOPPING"]
    assert "The sweep runs 1 trials to the end with no early stopping: USD 80," in message
    assert "would cost USD 20, saving USD 60" in message


def test_no_sweep_trials_is_not_a_sweep_finding(book):
    # sweep_trials 0 with early stopping off: there is no sweep to stop early
    assert "SWEEP_WITHOUT_EARLY_STOPPING" not in found(plan_with(book, {"training": {"sweep_trials": 0}}), book)


# ---------------------------------------------------------------- maintenance range


@pytest.mark.parametrize(("incremental", "flagged"), [(5_600, False), (22_600, False), (5_599, True), (22_601, True)])
def test_maintenance_on_the_source_range_edges(book, incremental, flagged):
    # 1,000 + 1,000 + incremental + 400 re-train: 5,600 → 8,000 and 22,600 → 25,000 (the edges)
    codes = found(plan_with(book, {"maintenance": {"incremental_data_usd_per_quarter": incremental}}), book)
    assert ("MAINTENANCE_OUTSIDE_SOURCE_RANGE" in codes) == flagged


def test_maintenance_above_names_the_largest_item(book):
    # 1,000 + 1,000 + 22,601 + 400 = 25,001: USD 1 above; migrations 2 a year × 8,000 ÷ 4 = 4,000
    # a quarter are left out of the comparison and named
    changes = {"maintenance": {"incremental_data_usd_per_quarter": 22_601, "migrations_per_year": 2,
                               "migration_usd": 8_000}}  # fmt: skip
    (message,) = found(plan_with(book, changes), book)["MAINTENANCE_OUTSIDE_SOURCE_RANGE"]
    assert "costs USD 25,001 a quarter, USD 1 above" in message
    assert "they add USD 4,000 a quarter here" in message
    assert "The largest item is incremental data (USD 22,601)" in message


# ---------------------------------------------------------------- base model end of life


@pytest.mark.parametrize(
    ("end", "when"),
    [("2027-05-31", "in month 12 of 12"), ("2026-06-30", "in month 1 of 12"), ("2026-05-31", "before the plan starts")],
)
def test_end_of_life_within_the_horizon(book, end, when):
    # start 2026-06-01, 12 months: May 2027 is month (2027 − 2026) × 12 + (5 − 6) + 1 = 12
    # migration USD 8,000–40,000 (price book) plus the USD 800 of compute: USD 8,800–40,800
    (message,) = found(plan_with(book, {"base_model": {"end_of_life": end}}), book)["BASE_MODEL_END_OF_LIFE"]
    assert when in message and "(USD 8,800–40,800)" in message


def test_end_of_life_after_the_horizon(book):
    # June 2027 is month 13 of a 12-month horizon
    assert "BASE_MODEL_END_OF_LIFE" not in found(plan_with(book, {"base_model": {"end_of_life": "2027-06-01"}}), book)


# ---------------------------------------------------------------- serving left out


def test_no_inference_cost_model_moves_break_even(book):
    # without serving: months 1–3 cost 500 (net 15,500), then 3,300 (net 12,700):
    # −55,300 → −39,800 → −24,300 → −8,800 → +3,900: month 4; with serving (2,555 a month) month 5.
    # Serving would add 2,555 a month, 12 × 2,555 = USD 30,660 over 12 months
    (message,) = found(plan_with(book, {"serving": {"modelled": False}}), book)["NO_INFERENCE_COST_MODEL"]
    assert "would add USD 2,555/month, USD 30,660 over 12 months" in message
    assert "break-even moves from month 4 to month 5" in message


# ---------------------------------------------------------------- API prices per 1k


def _api(per_1k: float) -> dict[str, Any]:
    return {"alternative": {"kind": "api", "api": {"input_tokens_million_per_month": 10,
                                                   "input_price_usd_per_1k_tokens": per_1k}}}  # fmt: skip


def test_a_per_1k_price_of_150_per_1m_is_plausible(book):
    # 0.15 per 1k = 150 per 1M: the limit itself, not above it
    assert "API_PRICE_PER_1K_LOOKS_PER_1M" not in found(plan_with(book, _api(0.15)), book)


def test_a_per_1k_price_above_150_per_1m(book):
    # 0.2 per 1k = USD 200 per 1M = 200 / 150 (the plausible maximum) = 1.3×, shown as 1×;
    # 10M tokens × 200 = USD 2,000 a month; read per 1M, 10 × 0.2 = USD 2: overstated by 1,998
    (message,) = found(plan_with(book, _api(0.2)), book)["API_PRICE_PER_1K_LOOKS_PER_1M"]
    assert "means USD 200 per 1M tokens (1× the most a frontier API plausibly" in message
    assert "costs USD 2/month, not USD 2,000: the plan's saving is overstated by USD 1,998/month" in message


def test_the_audit_runs_on_today_only_when_asked(book):
    plan = plan_with(book, {"serving": {"rate_usd_per_gpu_hour": None}})  # priced by the book: aged
    late = book.as_of + dt.timedelta(days=365)
    assert {f.code for f in audit(plan, book, evaluate(plan, book), today=late)} >= {"PRICE_BOOK_STALE"}


def test_a_plan_that_costs_nothing_is_audited_without_a_budget_split(book):
    # no runs and every one-time line at zero: programme USD 0, no share to compute
    plan = plan_with(book, deep_merge(ZERO_LINES, {"training": {"runs": 0}, "dataset": {"curation_usd": 0}}))
    run = evaluate(plan, book)
    assert float(run.programme_total) == 0.0
    codes = {f.code for f in audit(plan, book, run)}
    assert not codes & {"BUDGET_SPLIT_DATA", "BUDGET_SPLIT_COMPUTE", "DATASET_UNDER_3X_COMPUTE"}


def test_owned_hardware_is_never_offered_as_the_cheaper_tier(book):
    # a price book where the H100 is offered only on hyperscaler on-demand and as owned
    # hardware: there is no rented tier to move to, so no saving is claimed
    rates = dict(book.gpu_rates_usd_per_gpu_hour)
    rates["h100_sxm"] = {"hyperscaler_on_demand": rates["h100_sxm"]["hyperscaler_on_demand"],
                         "local_owned": rates["rtx_4090"]["local_owned"]}  # fmt: skip
    narrow = book.model_copy(update={"gpu_rates_usd_per_gpu_hour": rates})
    plan = plan_with(book, {"compliance": {"hipaa": False}})
    assert "ON_DEMAND_HYPERSCALER" not in {f.code for f in audit(plan, narrow, evaluate(plan, narrow))}
