"""Sensitivity (tornado data): one input low→high, the rest at base, measured on the plan's
quantity (net value with an alternative, else cost of ownership; see test_sensitivity_decision.py)."""

from __future__ import annotations

import pytest
from drawn_inputs import as_input  # a drawn number as a client file may give it (tests/ is on the path)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.loading import deep_merge, params_from_mapping, read_yaml
from ftcost_helpers.engine.resolve import pick_one_input
from ftcost_helpers.engine.sensitivity import NO_SWING_USD, label, quantity_of, sensitivity
from ftcost_helpers.engine.uncertainty import uncertain_inputs

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def by_path(result):
    return {swing.path: swing for swing in result.rows}


@pytest.mark.parametrize("name", "abc")
def test_sorted_by_swing_largest_first(examples, book, name):
    swings = sensitivity(examples[name], book, top=None).rows
    sizes = [s.swing for s in swings]
    assert sizes == sorted(sizes, reverse=True)
    assert all(s.swing == abs(s.at_high - s.at_low) for s in swings)


@pytest.mark.parametrize("name", "abc")
def test_every_range_the_monte_carlo_draws_is_moved(examples, book, name):
    result = sensitivity(examples[name], book)
    assert result.inputs_moved == len(uncertain_inputs(examples[name], book))
    assert set(by_path(result)) <= set(uncertain_inputs(examples[name], book))


def test_engineer_weeks_swing_of_example_a(examples, book):
    """5 to 9 weeks × 40 h × USD 180 = USD 28,800 of net value, and break-even slips from month 5 to 6."""
    swing = by_path(sensitivity(examples["a"], book))["engineering.engineer_weeks"]
    assert swing.swing == pytest.approx(28_800)
    assert swing.at_low - swing.at_high == pytest.approx(28_800)  # more weeks, less net value
    assert (swing.low_break_even, swing.high_break_even) == (5, 6)


@pytest.mark.parametrize("name", "abc")
def test_each_swing_matches_a_run_with_that_input_moved(examples, book, name):
    params = examples[name]
    result = sensitivity(params, book)
    for swing in result.rows[:5]:
        low = evaluate(params, book, pick_one_input(swing.path, "low"))
        high = evaluate(params, book, pick_one_input(swing.path, "high"))
        assert swing.at_low == pytest.approx(float(quantity_of(low, result.quantity)))
        assert swing.at_high == pytest.approx(float(quantity_of(high, result.quantity)))


def test_an_input_that_enters_no_figure_is_left_out(examples, book):
    paths = set(by_path(sensitivity(examples["a"], book, top=None)))
    # Tokens per second only set the serving cost per 1M tokens; quality loss is a chart.
    assert "serving.tokens_per_second" not in paths
    assert "maintenance.quality_loss_points_per_quarter_unmaintained" not in paths


def test_running_costs_move_the_net_value(examples, book):
    # example B's migrations: 8,000–40,000 each, 2.5 a year (0.625 a quarter), maintained for 6
    # quarters: 32,000 × 0.625 × 6 = 120,000 — the largest driver, though the programme does not move
    result = sensitivity(examples["b"], book)
    assert result.rows[0].path == "maintenance.migration_usd"
    assert result.rows[0].at_low - result.rows[0].at_high == pytest.approx(120_000)


def test_price_book_ranges_appear_only_when_they_move_the_quantity(examples, book):
    paths = set(by_path(sensitivity(examples["a"], book, top=None)))
    assert "pricebook.gpu_rates_usd_per_gpu_hour.h100_sxm.neocloud_on_demand" in paths  # serving rate
    assert "pricebook.gpu_rates_usd_per_gpu_hour.b200.neocloud_on_demand" not in paths


def test_price_book_training_rate_swings_when_no_rate_is_booked(example_files, book):
    data = deep_merge(read_yaml(example_files["a"]), {"training": {"rate_usd_per_gpu_hour": None}})
    params = params_from_mapping(data, "a without a booked rate", book)
    path = "pricebook.gpu_rates_usd_per_gpu_hour.h100_sxm.neocloud_spot"
    swing = by_path(sensitivity(params, book, top=None))[path]
    # the programme's compute: 8 GPUs × 6 h × 14 runs × (1.80 − 1.20) = 403.20; re-training once a
    # quarter at 0.75 (0.5–1.0) of it for the 6 maintained quarters (months 7–24) adds 6 × 0.75 × 403.20
    assert swing.swing == pytest.approx(403.2 * (1 + 6 * 0.75))


@SETTINGS
@given(low=st.floats(0, 40).map(as_input), width=st.floats(0, 40).map(as_input), rate=st.floats(0, 400).map(as_input))
def test_engineering_swing_is_weeks_times_hours_times_rate(example_files, book, low, width, rate):
    changes = {
        "engineering": {"engineer_weeks": {"low": low, "high": low + width, "mode": None}, "rate_usd_per_hour": rate}
    }
    params = params_from_mapping(deep_merge(read_yaml(example_files["a"]), changes), "a", book)
    swings = by_path(sensitivity(params, book, top=None))
    expected = width * 40 * rate
    if expected < NO_SWING_USD:
        assert "engineering.engineer_weeks" not in swings
    else:
        assert swings["engineering.engineer_weeks"].swing == pytest.approx(expected, rel=1e-9, abs=1e-6)


def test_a_plan_without_ranges_has_no_swings(examples, book):
    from ftcost_helpers.engine.resolve import pick_base, resolve

    result = sensitivity(resolve(examples["a"], pick_base), resolve(book, pick_base, "pricebook"))
    assert result.rows == () and result.inputs_moved == 0 and result.drivers_found == 0


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
