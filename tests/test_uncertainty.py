"""Monte Carlo: ordered percentiles, single values collapse to the base case, seeding,
the distributions, and the vectorised run against a run per draw."""

from __future__ import annotations

import numpy as np
import pytest
from drawn_inputs import as_input  # a drawn number as a client file may give it (tests/ is on the path)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.loading import deep_merge, params_from_mapping, read_yaml
from ftcost_helpers.engine.model.lines import AREAS
from ftcost_helpers.engine.quantities import Range
from ftcost_helpers.engine.resolve import pick_base, range_inputs, resolve
from ftcost_helpers.engine.uncertainty import draw_inputs, inverse_cdf, simulate

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
DRAWS = 2000


def ordered(p: dict[str, float]) -> bool:
    return p["p10"] <= p["p50"] <= p["p90"]


@pytest.mark.parametrize("name", "abc")
def test_percentiles_are_ordered_for_every_figure(examples, book, name):
    sim = simulate(examples[name], book, draws=DRAWS)
    assert ordered(sim.percentiles())
    assert ordered(sim.tco_percentiles())
    assert all(ordered(p) for p in sim.area_percentiles().values())
    assert set(sim.area_percentiles()) == set(AREAS)


@pytest.mark.parametrize("name", "abc")
def test_draws_lie_between_the_input_corners(examples, book, name):
    """The model rises with every input, so no draw leaves the all-low/all-high corners."""
    breakdown = estimate(examples[name], book)
    low, high = breakdown.programme_range
    sim = simulate(examples[name], book, draws=DRAWS)
    assert np.all(sim.programme_total >= low - 1e-6)
    assert np.all(sim.programme_total <= high + 1e-6)


@st.composite
def range_mapping(draw, lowest: float, highest: float):
    low = as_input(draw(st.floats(lowest, highest)))
    high = as_input(draw(st.floats(low, highest)))
    if draw(st.booleans()):
        return {"low": low, "high": high, "mode": as_input(draw(st.floats(low, high)))}
    return {"low": low, "high": high, "mode": None}  # replaces a mode the file gives


@SETTINGS
@given(
    runs=range_mapping(0, 100),
    weeks=range_mapping(0, 50),
    hours=range_mapping(0, 5000),
    seed=st.integers(0, 2**32 - 1),
)
def test_percentiles_are_ordered_for_any_ranges(example_files, book, runs, weeks, hours, seed):
    changes = {
        "training": {"runs": runs},
        "engineering": {"engineer_weeks": weeks},
        "dataset": {"annotation_hours": hours},
    }
    params = params_from_mapping(deep_merge(read_yaml(example_files["a"]), changes), "a", book)
    sim = simulate(params, book, draws=300, seed=seed)
    assert ordered(sim.percentiles()) and ordered(sim.tco_percentiles())
    probability = sim.break_even_probability()
    assert np.all(np.diff(probability) >= 0) and np.all((probability >= 0) & (probability <= 1))


def test_single_values_give_the_base_case_at_every_percentile(examples, book):
    """With every range of the plan and the price book collapsed to its base case, the
    Monte Carlo has nothing to vary."""
    params, fixed_book = resolve(examples["a"], pick_base), resolve(book, pick_base, "pricebook")
    assert range_inputs(params) == {} and range_inputs(fixed_book) == {}
    sim = simulate(params, fixed_book, draws=500)
    base = estimate(examples["a"], book)
    for figure, expected in ((sim.percentiles(), base.programme_total), (sim.tco_percentiles(), base.tco)):
        assert figure["p10"] == figure["p50"] == figure["p90"] == pytest.approx(expected)
    for area, p in sim.area_percentiles().items():
        assert p["p10"] == p["p90"] == pytest.approx(base.areas_usd[area])
    months = np.arange(1, params.horizon_months + 1)
    assert np.array_equal(sim.break_even_probability(), (months >= base.break_even_month).astype(float))


def test_a_client_file_of_single_values_collapses_its_own_total(example_files, book):
    """A file that gives single values (and a booked rate) leaves nothing uncertain in the
    programme total; the price book's ranges still move what they price (serving)."""
    data = read_yaml(example_files["a"])
    data["training"]["runs"] = 14
    data["dataset"]["annotation_hours"] = 800
    data["engineering"]["engineer_weeks"] = 6
    params = params_from_mapping(data, "a, single values", book)
    p = simulate(params, book, draws=1000).percentiles()
    assert p["p10"] == p["p50"] == p["p90"] == pytest.approx(88_550, abs=0.01)


def test_same_seed_same_draws_other_seed_other_draws(examples, book):
    first = simulate(examples["b"], book, draws=1000, seed=7)
    again = simulate(examples["b"], book, draws=1000, seed=7)
    other = simulate(examples["b"], book, draws=1000, seed=8)
    assert np.array_equal(first.programme_total, again.programme_total)
    assert np.array_equal(first.tco, again.tco)
    assert np.array_equal(first.break_even_month, again.break_even_month, equal_nan=True)
    assert not np.array_equal(first.programme_total, other.programme_total)
    assert first.percentiles() != other.percentiles()


def test_defaults_come_from_the_uncertainty_section(examples, book):
    params = examples["c"]
    sim = simulate(params, book)
    assert sim.draws == params.uncertainty.draws == sim.programme_total.shape[0]
    assert sim.seed == params.uncertainty.seed
    assert np.array_equal(
        sim.programme_total, simulate(params, book, params.uncertainty.draws, params.uncertainty.seed).programme_total
    )


def test_inputs_are_drawn_in_the_stable_order_of_the_ranges(examples, book):
    params = examples["a"]
    drawn = draw_inputs(params, book, 10, 1)
    expected = list(range_inputs(params)) + list(range_inputs(book, "pricebook"))
    assert list(drawn) == expected


def test_each_input_is_drawn_inside_its_range(examples, book):
    inputs = {**range_inputs(examples["b"]), **range_inputs(book, "pricebook")}
    for path, values in draw_inputs(examples["b"], book, 2000, 3).items():
        assert values.min() >= inputs[path].low - 1e-12 and values.max() <= inputs[path].high + 1e-12, path


def test_triangular_with_a_mode_and_uniform_without():
    uniforms = np.linspace(0, 1, 200_001)[None, :-1] + 0.5 / 200_000
    lows, highs = np.array([10.0, 10.0]), np.array([20.0, 20.0])
    modes = np.array([12.0, np.nan])
    triangular, uniform = inverse_cdf(lows, highs, modes, np.vstack([uniforms, uniforms]))
    assert triangular.mean() == pytest.approx((10 + 12 + 20) / 3, rel=1e-4)
    assert np.median(triangular) == pytest.approx(20 - np.sqrt(0.5 * 10 * 8), rel=1e-4)
    assert uniform.mean() == pytest.approx(15, rel=1e-6)
    assert np.median(uniform) == pytest.approx(15, rel=1e-4)


@SETTINGS
@given(
    low=st.floats(0, 1e6),
    width=st.floats(0, 1e6),
    mode_at=st.one_of(st.none(), st.floats(0, 1)),
    uniforms=st.lists(st.floats(0, 1, exclude_max=True), min_size=2, max_size=50),
)
def test_draws_stay_in_range_and_rise_with_the_uniform_number(low, width, mode_at, uniforms):
    high = low + width
    mode = np.nan if mode_at is None else low + mode_at * width
    u = np.sort(np.array(uniforms))[None, :]
    (values,) = inverse_cdf(np.array([low]), np.array([high]), np.array([mode]), u)
    assert np.all(values >= low - 1e-9 * max(1, high)) and np.all(values <= high + 1e-9 * max(1, high))
    assert np.all(np.diff(values) >= -1e-9 * max(1, high))


def test_a_range_of_zero_width_is_its_value():
    (values,) = inverse_cdf(np.array([5.0]), np.array([5.0]), np.array([5.0]), np.array([[0.0, 0.3, 0.99]]))
    assert np.all(values == 5.0)


@pytest.mark.parametrize("name", "abc")
def test_vectorised_run_equals_a_run_per_draw(examples, book, name):
    params = examples[name]
    sim = simulate(params, book, draws=25, seed=11)
    for i in range(sim.draws):
        run = evaluate(params, book, lambda value, path, i=i: float(sim.inputs[path][i]))
        assert float(run.programme_total) == pytest.approx(sim.programme_total[i], rel=1e-12)
        assert float(run.tco) == pytest.approx(sim.tco[i], rel=1e-12)
        month = float(run.break_even_month)
        assert (np.isnan(month) and np.isnan(sim.break_even_month[i])) or month == sim.break_even_month[i]
        for area in AREAS:
            assert float(run.area_total(area)) == pytest.approx(sim.areas[area][i], rel=1e-12)


def test_break_even_probability_counts_the_draws_paid_back_by_each_month(examples, book):
    sim = simulate(examples["a"], book, draws=3000)
    curve = sim.break_even_probability()
    assert curve.shape == (examples["a"].horizon_months,)
    for month in (4, 5, 6):
        assert curve[month - 1] == pytest.approx(np.mean(sim.break_even_month <= month))
    assert curve[0] == 0.0 and curve[-1] == 1.0


def test_no_alternative_never_breaks_even(examples, book):
    sim = simulate(examples["c"], book, draws=500)
    assert np.all(np.isnan(sim.break_even_month))
    assert np.all(sim.break_even_probability() == 0)


def test_cash_flow_band_is_ordered_and_starts_at_the_outlay(examples, book):
    sim = simulate(examples["a"], book, draws=2000)
    band = sim.cash_flow_band()
    assert band["p10"].shape == (examples["a"].horizon_months + 1,)
    assert np.all(band["p10"] <= band["p50"]) and np.all(band["p50"] <= band["p90"])
    assert band["p50"][0] == pytest.approx(-np.median(sim.programme_total))


def test_range_usd_rounds_to_cents_for_the_summary(examples, book):
    sim = simulate(examples["b"], book, draws=1000)
    summary = sim.range_usd()
    assert list(summary) == ["p10", "p50", "p90"]
    assert all(value == round(value, 2) for value in summary.values())


def test_at_least_one_draw_is_required(examples, book):
    with pytest.raises(ValueError, match="draws"):
        simulate(examples["a"], book, draws=0)


def test_ranges_in_the_base_case_are_not_touched(examples):
    """Simulating does not change the validated parameters (ranges stay ranges)."""
    assert isinstance(examples["a"].training.runs, Range)


def test_estimate_json_shows_the_range_around_the_base_and_the_warnings(example_files, capsys):
    import json

    from ftcost_helpers.cli import main

    assert main(["estimate", str(example_files["b"]), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    span = summary["range_usd"]
    assert span["p10"] < summary["programme_total_usd"] == 94_800 < span["p90"]
    assert span["p10"] <= span["p50"] <= span["p90"]
    assert {w["code"] for w in summary["warnings"]} >= {"RATE_OUTSIDE_PRICE_BOOK", "BUDGET_SPLIT_DATA"}


def test_estimate_text_prints_the_monte_carlo_line(example_files, capsys):
    from ftcost_helpers.cli import main

    assert main(["estimate", str(example_files["a"])]) == 0
    assert "Monte Carlo (10,000 draws, seed 20260526): programme total P10 USD" in capsys.readouterr().out
