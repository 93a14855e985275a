"""Sensitivity, scenario plans and slugs, with every expected figure worked out by hand from
the second plan (tests/fixtures/second_plan.yaml; its figures are derived line by line in
tests/test_hand_derived_plan.py: programme USD 55,300, TCO 117,160, break-even month 5)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import pytest

from ftcost_helpers.engine import scenarios
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.loading import deep_merge, params_from_mapping, read_yaml
from ftcost_helpers.engine.overrides import scenario_params
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.schema import Params, Scenario
from ftcost_helpers.engine.sensitivity import Swing, label, sensitivity
from ftcost_helpers.report.slug import slugify

SECOND_PLAN = Path(__file__).parent / "fixtures" / "second_plan.yaml"


def plan_with(book: PriceBook, changes: dict[str, Any] | None = None) -> Params:
    return params_from_mapping(deep_merge(read_yaml(SECOND_PLAN), changes or {}), "second plan", book)


def scenario(plan: Params, book: PriceBook, overrides: dict[str, Any]) -> Params:
    return scenario_params(plan, book, Scenario(name="s", overrides=overrides))


def compute_usd(params: Params, book: PriceBook) -> float:
    return float(evaluate(params, book).area_total("compute"))


# ---------------------------------------------------------------- sensitivity


def swing(**fields: Any) -> Swing:
    base = dict(path="p", label="P", low_total=0.0, high_total=0.0, swing=0.0, low_break_even=None,
                high_break_even=None, low_tco=0.0, high_tco=0.0, input_low=0.0, input_high=0.0)  # fmt: skip
    return Swing(**(base | fields))


def test_break_even_swing():
    # both ends never pay back: no swing; one end only: infinite; months 5 and 8: 3 months
    assert swing().break_even_swing == 0.0
    assert swing(low_break_even=5).break_even_swing == math.inf
    assert swing(high_break_even=5).break_even_swing == math.inf
    assert swing(low_break_even=8, high_break_even=5).break_even_swing == 3.0


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("engineering.rate_usd_per_hour", "Engineering: rate (USD/hour)"),
        ("training.runs", "Training: runs"),
        ("dataset.curation_usd", "Dataset: curation (USD)"),
        ("training.early_stopped_trial_fraction", "Training: early stopped trial (share)"),
        (
            "pricebook.gpu_rates_usd_per_gpu_hour.h100_sxm.hyperscaler_on_demand",
            "Price book: gpu rates, h100 sxm, hyperscaler on demand (USD/GPU-hour)",
        ),
        ("base_model.parameters_billion", "Base model: parameters (billion)"),
        ("maintenance", "Maintenance"),
    ],
)
def test_labels(path, text):
    assert label(path) == text


def test_sensitivity_of_one_uniform_input(book):
    # curation {10,000, 30,000}, base 20,000: programme 65,300 at low and 85,300 at high (swing
    # 20,000); TCO 117,160 + 10,000 = 127,160 and + 30,000 = 147,160. Break-even: cumulative
    # savings 69,270 by month 6 ≥ 65,300; 79,415 by 7 < 85,300 ≤ 89,560 by 8 → months 6 and 8.
    # The plan's other ranges (early-stopped share: the sweep runs without early stopping;
    # quality loss unmaintained) move nothing: listed with 0, by path. The price book's ranges
    # move nothing either (both rates are booked) and are left out.
    plan = plan_with(book, {"dataset": {"curation_usd": {"low": 10000, "high": 30000}}})
    swings = sensitivity(plan, book)
    assert [s.path for s in swings] == [
        "dataset.curation_usd",
        "maintenance.quality_loss_points_per_quarter_unmaintained",
        "training.early_stopped_trial_fraction",
    ]
    top = swings[0]
    assert (top.low_total, top.high_total, top.swing) == pytest.approx((65_300, 85_300, 20_000))
    assert (top.low_tco, top.high_tco) == pytest.approx((127_160, 147_160))
    assert (top.low_break_even, top.high_break_even, top.break_even_swing) == (6, 8, 2.0)
    assert (top.input_low, top.input_high) == (10_000, 30_000)
    # with curation at its base 20,000 the programme is 75,300: 69,270 < 75,300 ≤ 79,415 → month 7
    assert all(s.swing == 0 and s.low_break_even == s.high_break_even == 7 for s in swings[1:])
    assert all(s.low_total == s.high_total == pytest.approx(75_300) for s in swings[1:])


def test_sensitivity_of_the_early_stopped_share(book):
    # with early stopping the sweep is 2 × 10 h × 4 trials × share × USD 4 = 320 × share:
    # 64 at 0.2, 112 at 0.35 (swing 48); the re-train (0.5 × compute each quarter) moves by
    # 24 a quarter, 8 a month for months 4–12: TCO swing 48 + 9 × 8 = 120
    plan = plan_with(book, {"training": {"sweep_early_stopping": True}})
    (share,) = [s for s in sensitivity(plan, book) if s.path == "training.early_stopped_trial_fraction"]
    assert share.high_total - share.low_total == pytest.approx(48.0)
    assert share.swing == pytest.approx(48.0)
    assert share.high_tco - share.low_tco == pytest.approx(120.0)


def test_a_price_book_range_that_moves_only_the_tco_is_listed(book):
    # serving from the price book: H100 hyperscaler on-demand 2.80–4.20 (base 3.50, as booked).
    # 1 GPU × 730 h × 12 months = 8,760 GPU-hours: TCO 117,160 ∓ 0.70 × 8,760 = 111,028 / 123,292;
    # the programme does not move; break-even stays month 5 at both ends
    # (2.80: net 13,456 × 3 + 10,656 × 2 = 61,680 ≥ 55,300; 4.20: 12,434 × 3 + 9,634 × 2 = 56,570)
    plan = plan_with(book, {"serving": {"rate_usd_per_gpu_hour": None}})
    path = "pricebook.gpu_rates_usd_per_gpu_hour.h100_sxm.hyperscaler_on_demand"
    (rate,) = [s for s in sensitivity(plan, book) if s.path == path]
    assert rate.swing == 0.0
    assert (rate.low_tco, rate.high_tco) == pytest.approx((111_028, 123_292))
    assert (rate.low_break_even, rate.high_break_even) == (5, 5)
    assert path not in {s.path for s in sensitivity(plan, book, include_price_book=False)}


def test_ties_are_ordered_by_break_even_then_tco_swing():
    # equal programme swings: the larger break-even swing first, then the larger TCO swing
    from ftcost_helpers.engine.sensitivity import _tornado_order

    a = swing(path="a", swing=10.0, low_break_even=5, high_break_even=6, low_tco=0.0, high_tco=1.0)
    b = swing(path="b", swing=10.0, low_break_even=5, high_break_even=8, low_tco=0.0, high_tco=1.0)
    c = swing(path="c", swing=10.0, low_break_even=5, high_break_even=6, low_tco=0.0, high_tco=9.0)
    d = swing(path="d", swing=20.0)
    e = swing(path="e", swing=10.0, low_break_even=5)
    assert [s.path for s in sorted([a, b, c, d, e], key=_tornado_order)] == ["d", "e", "b", "c", "a"]


# ---------------------------------------------------------------- scenario plans


def test_hours_given_by_the_scenario_are_kept(book):
    # 7 h given: 2 × 7 × 5 + 2 × 7 × 2 × 0.5 + 2 × 7 × 4 = 70 + 14 + 56 = 140 GPU-h × 4 = USD 560
    given = scenario(plan_with(book), book, {"training": {"epochs": 8, "hours_per_run": 7}})
    assert given.training.hours_per_run == 7.0
    assert compute_usd(given, book) == pytest.approx(560.0)


def test_a_new_tier_drops_the_booked_rate(book):
    # without HIPAA, on H100 neocloud spot: the booked 4.00 is dropped for the book's midpoint
    # (1.20 + 1.80) / 2 = 1.50; the same GPU-hours (200): USD 300
    spot = scenario(plan_with(book), book, {"compliance": {"hipaa": False}, "training": {"tier": "neocloud_spot"}})
    assert spot.training.rate_usd_per_gpu_hour is None
    assert compute_usd(spot, book) == pytest.approx(300.0)
    # the serving section keeps its own booked rate: 1 × 730 × 3.50 = USD 2,555 a month
    assert float(evaluate(spot, book).ongoing_monthly["serving"]) == pytest.approx(2_555.0)


def test_a_new_tier_with_its_own_rate_keeps_it(book):
    # 200 GPU-hours × USD 1.00 = USD 200
    own = scenario(
        plan_with(book),
        book,
        {"compliance": {"hipaa": False}, "training": {"tier": "neocloud_spot", "rate_usd_per_gpu_hour": 1.0}},
    )
    assert compute_usd(own, book) == pytest.approx(200.0)


def test_the_same_gpu_named_again_keeps_the_booked_rate(book):
    same = scenario(plan_with(book), book, {"training": {"gpu": "h100_sxm"}})
    assert same.training.rate_usd_per_gpu_hour == 4.0
    assert compute_usd(same, book) == pytest.approx(800.0)


def test_a_new_serving_tier_drops_the_serving_rate(book):
    # serving on neocloud spot: (1.20 + 1.80) / 2 = 1.50 × 730 h = USD 1,095 a month
    spot = scenario(plan_with(book), book, {"compliance": {"hipaa": False}, "serving": {"tier": "neocloud_spot"}})
    assert float(evaluate(spot, book).ongoing_monthly["serving"]) == pytest.approx(1_095.0)
    assert spot.training.rate_usd_per_gpu_hour == 4.0


def test_fits_needs_the_gpus_it_books(book):
    run = evaluate(plan_with(book), book)

    def with_fewest(n: float):
        return dataclasses.replace(run, compute=dataclasses.replace(run.compute, fewest_gpus=n))

    assert scenarios._fits(with_fewest(2.0), 2) is True
    assert scenarios._fits(with_fewest(3.0), 2) is False
    assert scenarios._fits(with_fewest(math.inf), 2) is False


# ---------------------------------------------------------------- slugs


def test_slug_length_is_cut_at_sixty():
    # 61 letters: cut to 60 (no hyphen to cut at); "ab-" × 30 (89 characters): the first 60
    # end in a hyphen, so the slug is 19 × "ab-" + "ab" (59 characters)
    assert slugify("a" * 60) == "a" * 60
    assert slugify("a" * 55 + " bcde") == "a" * 55 + "-bcde"  # exactly 60 with a hyphen: kept whole
    assert slugify("a" * 61) == "a" * 60
    assert slugify("ab-" * 30) == "ab-" * 19 + "ab"
    assert slugify("abc def", max_length=5) == "abc"
