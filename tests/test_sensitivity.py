"""Sensitivity (tornado data): one input low→high, the rest at base."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.loading import deep_merge, params_from_mapping, read_yaml
from ftcost_helpers.engine.resolve import pick_one_input, range_inputs
from ftcost_helpers.engine.sensitivity import label, sensitivity

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def by_path(swings):
    return {swing.path: swing for swing in swings}


@pytest.mark.parametrize("name", "abc")
def test_sorted_by_swing_largest_first(examples, book, name):
    swings = sensitivity(examples[name], book)
    sizes = [s.swing for s in swings]
    assert sizes == sorted(sizes, reverse=True)
    assert all(s.swing == abs(s.high_total - s.low_total) for s in swings)


@pytest.mark.parametrize("name", "abc")
def test_every_range_of_the_plan_is_listed(examples, book, name):
    assert set(range_inputs(examples[name])) <= set(by_path(sensitivity(examples[name], book)))


def test_engineer_weeks_swing_of_example_a(examples, book):
    """5 to 9 weeks × 40 h × USD 180 = USD 28,800, and break-even slips from month 5 to 6."""
    swing = by_path(sensitivity(examples["a"], book))["engineering.engineer_weeks"]
    assert swing.swing == pytest.approx(28_800)
    assert swing.low_total == pytest.approx(88_550 - 1 * 40 * 180, abs=0.01)
    assert (swing.low_break_even, swing.high_break_even) == (5, 6)
    assert sensitivity(examples["a"], book)[0].path == "engineering.engineer_weeks"


@pytest.mark.parametrize("name", "abc")
def test_each_swing_matches_a_run_with_that_input_moved(examples, book, name):
    params = examples[name]
    for swing in sensitivity(params, book)[:5]:
        low = evaluate(params, book, pick_one_input(swing.path, "low"))
        high = evaluate(params, book, pick_one_input(swing.path, "high"))
        assert swing.low_total == pytest.approx(float(low.programme_total))
        assert swing.high_total == pytest.approx(float(high.programme_total))
        assert swing.high_tco == pytest.approx(float(high.tco))


def test_an_input_that_enters_no_total_has_zero_swing(examples, book):
    swings = by_path(sensitivity(examples["a"], book))
    # Tokens per second only set the serving cost per 1M tokens; quality loss is a chart.
    for path in ("serving.tokens_per_second", "maintenance.quality_loss_points_per_quarter_unmaintained"):
        assert swings[path].swing == 0
        assert swings[path].low_tco == swings[path].high_tco
        assert swings[path].low_break_even == swings[path].high_break_even


def test_running_costs_move_tco_and_break_even_but_not_the_programme(examples, book):
    swing = by_path(sensitivity(examples["b"], book))["maintenance.migration_usd"]
    assert swing.swing == 0 and swing.high_tco > swing.low_tco


def test_price_book_ranges_appear_only_when_they_move_something(examples, book):
    paths = set(by_path(sensitivity(examples["a"], book)))
    assert "pricebook.gpu_rates_usd_per_gpu_hour.h100_sxm.neocloud_on_demand" in paths  # serving rate
    assert "pricebook.gpu_rates_usd_per_gpu_hour.b200.neocloud_on_demand" not in paths
    assert not any(p.startswith("pricebook.") for p in by_path(sensitivity(examples["a"], book, False)))


def test_price_book_training_rate_swings_when_no_rate_is_booked(example_files, book):
    data = deep_merge(read_yaml(example_files["a"]), {"training": {"rate_usd_per_gpu_hour": None}})
    params = params_from_mapping(data, "a without a booked rate", book)
    swing = by_path(sensitivity(params, book))["pricebook.gpu_rates_usd_per_gpu_hour.h100_sxm.neocloud_spot"]
    assert swing.swing == pytest.approx(8 * 6 * 14 * (1.80 - 1.20))


@SETTINGS
@given(low=st.floats(0, 40), width=st.floats(0, 40), rate=st.floats(0, 400))
def test_engineering_swing_is_weeks_times_hours_times_rate(example_files, book, low, width, rate):
    changes = {
        "engineering": {"engineer_weeks": {"low": low, "high": low + width, "mode": None}, "rate_usd_per_hour": rate}
    }
    params = params_from_mapping(deep_merge(read_yaml(example_files["a"]), changes), "a", book)
    swing = by_path(sensitivity(params, book))["engineering.engineer_weeks"]
    assert swing.swing == pytest.approx(width * 40 * rate, rel=1e-9, abs=1e-6)


def test_a_plan_without_ranges_has_no_swings(examples, book):
    from ftcost_helpers.engine.resolve import pick_base, resolve

    assert sensitivity(resolve(examples["a"], pick_base), resolve(book, pick_base, "pricebook")) == []


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("engineering.engineer_weeks", "Engineering: engineer weeks"),
        ("engineering.rate_usd_per_hour", "Engineering: rate (USD/hour)"),
        ("maintenance.migration_usd", "Maintenance: migration (USD)"),
        ("dataset.annotation_hours", "Dataset: annotation (hours)"),
        (
            "pricebook.gpu_rates_usd_per_gpu_hour.h100_sxm.neocloud_spot",
            "Price book: gpu rates, h100 sxm, neocloud spot (USD/GPU-hour)",
        ),
    ],
)
def test_labels_read_as_words(path, text):
    assert label(path) == text
