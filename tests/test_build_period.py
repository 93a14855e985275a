"""A build period: programme spend spread over the build months, running costs and savings
from launch, break-even counted from the programme's start (issue 15)."""

from __future__ import annotations

import numpy as np
import pytest

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.loading import ParamsError, deep_merge, params_from_mapping, read_yaml
from ftcost_helpers.engine.model import roi
from ftcost_helpers.engine.uncertainty import simulate

# Worked example A (001_6c04196dc11ea2b6.txt): programme USD 88,550 = dataset 38,000 + compute
# 1,150 + eval 6,200 + engineering 43,200. Against the USD 22,000/month API it runs eval at
# USD 1,800/month and one H100 on neocloud_on_demand (price book USD 1.80–2.60, base 2.20)
# for 730 h: 1,606/month. Net saving 22,000 − 1,800 − 1,606 = USD 18,594 a month, flat until
# maintenance starts in month 7 after launch. 88,550 / 18,594 = 4.76: break-even in month 5.
PROGRAMME = 88_550
NET_SAVING = 22_000 - 1_800 - 730 * 2.20
AREAS = {"dataset": 38_000, "compute": 1_150, "eval": 6_200, "engineering": 43_200}


def plan_a(example_files, book, programme: dict):
    data = deep_merge(read_yaml(example_files["a"]), {"programme": programme})
    return params_from_mapping(data, "example_a + build", book)


def test_weights_of_each_profile():
    # front_loaded, B = 3: 3/6, 2/6, 1/6 (data and training first); even: 1/3 each.
    assert roi.build_weights(3, "front_loaded") == pytest.approx([0, 3 / 6, 2 / 6, 1 / 6])
    assert roi.build_weights(3, "even") == pytest.approx([0, 1 / 3, 1 / 3, 1 / 3])
    assert roi.build_weights(3, [1, 2]) == pytest.approx([0, 1 / 2, 1 / 2, 0])
    assert roi.build_weights(0, "front_loaded") == pytest.approx([1])  # all in month 0, as before


def test_three_build_months_break_even_three_months_later(example_files, book):
    without = estimate(plan_a(example_files, book, {"build_months": 0}), book)
    with_build = estimate(plan_a(example_files, book, {"build_months": 3}), book)
    assert without.break_even_month == 5  # ⌈88,550 / 18,594⌉ = ⌈4.76⌉
    assert with_build.break_even_month == 8  # the same 5 operating months after a 3-month build
    # Month 5 without a build and month 8 with one: −88,550 + 5 × 18,594 = USD 4,420.
    assert without.cash_flow[5] == pytest.approx(-PROGRAMME + 5 * NET_SAVING, abs=1)
    assert with_build.cash_flow[8] == pytest.approx(-PROGRAMME + 5 * NET_SAVING, abs=1)


def test_front_loaded_spend_during_the_build(example_files, book):
    b = estimate(plan_a(example_files, book, {"build_months": 3, "spend_profile": "front_loaded"}), book)
    # Month 0 is the start (nothing spent yet); then 3/6, 5/6 and all of 88,550 by launch.
    expected = [0, -PROGRAMME * 3 / 6, -PROGRAMME * 5 / 6, -PROGRAMME]
    assert b.cash_flow[:4] == pytest.approx(expected, abs=1)
    assert b.cash_flow[4] == pytest.approx(-PROGRAMME + NET_SAVING, abs=1)  # first month in production


def test_per_area_months(example_files, book):
    profile = {"dataset": [1], "compute": [2]}
    b = estimate(plan_a(example_files, book, {"build_months": 2, "spend_profile": profile}), book)
    # Month 1: dataset 38,000 + half of eval and engineering (6,200 + 43,200) / 2 = 24,700 → 62,700.
    # Month 2: compute 1,150 + the other 24,700 = 25,850. Together 88,550.
    assert b.cash_flow[1] == pytest.approx(-62_700, abs=1)
    assert b.cash_flow[2] == pytest.approx(-62_700 - 25_850, abs=1)


def test_running_costs_and_maintenance_start_at_launch(example_files, book):
    b = estimate(plan_a(example_files, book, {"build_months": 3}), book)
    running = np.asarray(b.base.running_by_month)
    assert running[:3] == pytest.approx([0, 0, 0])  # months 1–3: building, nothing runs yet
    assert running[3] == pytest.approx(1_800 + 730 * 2.20)  # month 4: eval + serving
    # Example A's maintenance starts in month 7 after launch: month 3 + 7 = 10 from the start.
    assert running[8] == pytest.approx(running[3])
    assert running[9] > running[8]


def test_monte_carlo_draws_follow_the_build(example_files, book):
    sim = simulate(plan_a(example_files, book, {"build_months": 3}), book, draws=200)
    assert np.all(sim.break_even_month[np.isfinite(sim.break_even_month)] > 3)


@pytest.mark.parametrize(
    ("programme", "problem"),
    [
        ({"build_months": 24}, "must be shorter than horizon_months"),
        ({"build_months": 2, "spend_profile": {"dataset": [3]}}, "within the build months 1..2"),
        ({"build_months": 2, "spend_profile": {"marketing": [1]}}, "programme.spend_profile"),
        ({"build_months": -1}, "build_months"),
    ],
)
def test_impossible_build_plans_are_refused(example_files, book, programme, problem):
    with pytest.raises(ParamsError, match=problem):
        plan_a(example_files, book, programme)


def test_build_months_stop_at_sixty(example_files, book):
    # the schema's bound is 0..60 months (params/README.md); a 120-month horizon leaves the
    # horizon rule out of it, so only the bound can refuse 61
    def plan(months: int):
        data = deep_merge(read_yaml(example_files["a"]), {"programme": {"build_months": months}, "horizon_months": 120})
        return params_from_mapping(data, "example_a + build", book)

    assert plan(60).programme.build_months == 60
    with pytest.raises(ParamsError, match=r"programme\.build_months: .*60"):
        plan(61)


def test_the_cash_flow_chart_and_text_show_the_build(example_files, book):
    from matplotlib.patches import Rectangle

    from ftcost_helpers.engine.headline import headline
    from ftcost_helpers.views import charts
    from ftcost_helpers.views.text_report import headline_text

    b = estimate(plan_a(example_files, book, {"build_months": 3}), book)
    ax = charts.cash_flow_chart(b).axes[0]
    spans = [p for p in ax.patches if isinstance(p, Rectangle) and "Build" in str(p.get_label())]
    assert len(spans) == 1
    assert spans[0].get_label() == "Build: months 1–3 (no saving yet)"
    assert (spans[0].get_x(), spans[0].get_x() + spans[0].get_width()) == (0, 3)  # months 0 to 3 shaded
    assert "launch after month 3" in ax.get_xlabel()
    # Month 8 of a programme starting on 1 June 2026 ends on 31 January 2027; launch is month 4.
    text = headline_text(headline(b, None, "base_case"), "api", width=120)
    assert "Break-even: month 8, end of January 2027" in text
    assert "Launch: month 4, September 2026" in text
    without = estimate(plan_a(example_files, book, {"build_months": 0}), book)
    assert not [p for p in charts.cash_flow_chart(without).axes[0].patches if "Build" in str(p.get_label())]


def test_the_monthly_costs_chart_runs_nothing_during_the_build(example_files, book):
    from ftcost_helpers.views import charts

    b = estimate(plan_a(example_files, book, {"build_months": 3}), book)
    ax = charts.monthly_costs_chart(b).axes[0]

    def bar_total(month: int) -> float:
        bars = [p for p in ax.patches if p.get_width() == pytest.approx(0.8)]
        return sum(p.get_height() for p in bars if abs(p.get_x() + 0.4 - month) < 1e-9)

    # Months 1–3 build: no eval (1,800) or serving (730 h × 2.20 = 1,606) yet; month 4 both.
    assert [bar_total(month) for month in (1, 2, 3)] == [0, 0, 0]
    assert bar_total(4) == pytest.approx(1_800 + 730 * 2.20)
    alternative = next(line for line in ax.lines if "Replaced" in line.get_label())
    # The step line holds 0 over months 1–3 and USD 22,000 from month 4 (x = month − 0.5).
    assert list(alternative.get_ydata()[:4]) == [0, 0, 0, 22_000]
    assert "launch after month 3" in ax.get_xlabel()
    assert "frontier-API bill" in alternative.get_label()
