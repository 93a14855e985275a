"""What following each warning's advice saves over the horizon, worked out by hand on the
second plan (tests/fixtures/second_plan.yaml), and the order page 1 shows warnings in.

The second plan, by hand: compute = runs 2 GPUs × 10 h × 5 × USD 4.00 = 400, failed runs
2 × 10 × 2 × 0.5 × 4.00 = 80, sweep 2 × 10 × 4 trials × 4.00 = 320: USD 800. Maintenance
re-trains once a quarter at 0.5 × that first compute, from month 4 (after launch) of 12.
Serving: 1 H100 × 730 h × USD 3.50 = USD 2,555 a month. The price book's H100 bands
(params/pricebook.yaml): hyperscaler on-demand 2.80–4.20, neocloud spot 1.20–1.80 (midpoint
1.50, the cheapest rented tier).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ftcost_helpers.engine.audit import Finding, audit, ranked
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.loading import deep_merge, params_from_mapping, read_yaml
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.schema import Params

SECOND_PLAN = Path(__file__).parent / "fixtures" / "second_plan.yaml"
OPEN = {"compliance": {"hipaa": False}}
"""No HIPAA constraint: hyperscaler on-demand is then a cost mistake."""
BUILD_3 = {"programme": {"build_months": 3}}


def plan_with(book: PriceBook, *changes: dict[str, Any]) -> Params:
    data = read_yaml(SECOND_PLAN)
    for change in changes:
        data = deep_merge(data, change)
    return params_from_mapping(data, "second plan", book)


def findings(params: Params, book: PriceBook, code: str) -> list[Finding]:
    return [f for f in audit(params, book, evaluate(params, book)) if f.code == code]


def test_serving_on_demand_is_costed_over_the_months_after_launch(book):
    # 3 build months of 12: serving runs in months 4–12, 9 months × 730 h = 6,570 GPU-hours;
    # (3.50 − 1.50) × 6,570 = USD 13,140 (over the whole horizon it would be 17,520: wrong).
    (serving,) = [f for f in findings(plan_with(book, OPEN, BUILD_3), book, "ON_DEMAND_HYPERSCALER") if f.area == "roi"]
    assert "the 6,570 GPU-hours over the 9 months after launch would cost USD 13,140 less" in serving.message
    assert serving.saving_usd == pytest.approx(13_140, abs=0.01)


def test_serving_on_demand_without_a_build_period(book):
    # 12 months × 730 h = 8,760 GPU-hours × 2.00 = USD 17,520
    (serving,) = [f for f in findings(plan_with(book, OPEN), book, "ON_DEMAND_HYPERSCALER") if f.area == "roi"]
    assert "the 8,760 GPU-hours over 12 months would cost USD 17,520 less" in serving.message
    assert serving.saving_usd == pytest.approx(17_520, abs=0.01)


def test_training_on_demand_saves_its_re_trains_too(book):
    # 200 GPU-hours (100 booked + 20 failed + 80 sweep) × (4.00 − 1.50) = USD 500 of compute.
    # Without a build maintenance runs months 4–12: 3 quarters × 0.5 × 500 = 750 more: 1,250.
    # With 3 build months it starts in month 7: months 7–12, 2 quarters × 0.5 × 500 = 500: 1,000.
    for changes, saving in (((OPEN,), 1_250), ((OPEN, BUILD_3), 1_000)):
        found = findings(plan_with(book, *changes), book, "ON_DEMAND_HYPERSCALER")
        (training,) = [f for f in found if f.area == "compute"]
        assert training.saving_usd == pytest.approx(saving, abs=0.01)
        assert f"would cost USD 500 less (USD {saving:,} over the 12-month cost of ownership" in training.message


def test_early_stopping_saving(book):
    # kept share 0.275 (the middle of the defaults' 0.2–0.35): the sweep's 320 falls to 88,
    # saving 232; re-trains repeat it 1.5 times over months 4–12: 232 × 2.5 = USD 580.
    (sweep,) = findings(plan_with(book), book, "SWEEP_WITHOUT_EARLY_STOPPING")
    assert sweep.saving_usd == pytest.approx(232 * 2.5, abs=0.01)
    assert "saving USD 232 (USD 580 over the 12-month cost of ownership" in sweep.message


def test_a_booked_rate_above_the_band(book):
    # USD 5.00 booked, band 2.80–4.20, midpoint 3.50: 200 GPU-hours × 1.50 = 300, × 2.5 with re-trains = 750
    (rate,) = findings(plan_with(book, {"training": {"rate_usd_per_gpu_hour": 5.0}}), book, "RATE_OUTSIDE_PRICE_BOOK")
    assert rate.saving_usd == pytest.approx(750, abs=0.01)


def test_serving_left_out_costs_its_months_after_launch(book):
    # 2,555 a month over the 9 months after a 3-month build: USD 22,995 the estimate leaves out
    (left_out,) = findings(plan_with(book, BUILD_3, {"serving": {"modelled": False}}), book, "NO_INFERENCE_COST_MODEL")
    assert "would add USD 2,555/month, USD 22,995 over the 9 months after launch" in left_out.message
    assert left_out.saving_usd == pytest.approx(-22_995, abs=0.01)


def test_a_per_1k_price_read_per_1m_lowers_the_saving(book):
    # 10M input tokens a month at 0.2 per 1k = USD 2,000; per 1M, USD 2: 1,998 a month less
    # saved, over 12 months: USD 23,976 the plan overstates.
    api = {"alternative": {"kind": "api", "api": {"input_tokens_million_per_month": 10,
                                                  "input_price_usd_per_1k_tokens": 0.2}}}  # fmt: skip
    (per_1k,) = findings(plan_with(book, api), book, "API_PRICE_PER_1K_LOOKS_PER_1M")
    assert per_1k.saving_usd == pytest.approx(-1_998 * 12, abs=0.01)


def test_practices_and_checks_carry_no_saving(book):
    plan = plan_with(book, {"evaluation": {"harness": False, "frozen_test_set": False}})
    found = {f.code: f for f in audit(plan, book, evaluate(plan, book))}
    assert found["NO_EVAL_HARNESS"].saving_usd is None and found["NO_FROZEN_TEST_SET"].saving_usd is None
    assert found["BUDGET_SPLIT_DATA"].saving_usd is None


def test_ranked_by_what_is_at_stake_then_severity():
    sweep = Finding("SWEEP_WITHOUT_EARLY_STOPPING", "compute", "sweep", 100.0)
    tier = Finding("ON_DEMAND_HYPERSCALER", "compute", "tier", 100.0)
    short = Finding("MODEL_DOES_NOT_FIT", "compute", "does not fit", -500.0)
    stale = Finding("PRICE_BOOK_STALE", "compute", "stale")
    harness = Finding("NO_EVAL_HARNESS", "eval", "no harness")
    small = Finding("RATE_OUTSIDE_PRICE_BOOK", "compute", "rate", 0.0)
    # USD 500 short outranks USD 100 saved; the two 100s keep the audit's order; a zero saving
    # is still a costed one; then the uncosted, medium before low.
    assert ranked([stale, sweep, harness, tier, small, short]) == [short, sweep, tier, small, harness, stale]


def test_summary_carries_the_saving_and_severity(book):
    plan = plan_with(book, OPEN, BUILD_3)
    (serving,) = [f for f in findings(plan, book, "ON_DEMAND_HYPERSCALER") if f.area == "roi"]
    record = serving.as_dict()
    assert record["saving_usd"] == 13_140.0 and record["severity"] == "high" and record["client_message"] is None
