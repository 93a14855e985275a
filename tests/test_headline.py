"""The headline: every figure page 1 shows, on one basis, adding up to each other
(engine/headline.py). Expected figures are worked by hand or from the source's examples."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.headline import (
    add_months,
    chance_of_break_even,
    headline,
    month_end,
    month_start,
    plan_headline,
    resolve_basis,
)
from ftcost_helpers.engine.loading import deep_merge, load_params, params_from_mapping, read_yaml
from ftcost_helpers.engine.summary import summarise
from ftcost_helpers.engine.uncertainty import simulate

TODAY = dt.date(2026, 6, 1)

# The bank-like plan of tests/test_audit.py: 400M input + 40M output tokens a month on one
# H100 serving 400 tokens/s; 440e6 / 2,628,000 s = 167.4 tokens/s on average, × 3 = 502.3 at
# peak, so two H100s carry it. One more H100 on neocloud on-demand for 730 hours a month at
# the price book's midpoint USD 2.20/GPU-hour: 730 × 2.20 = USD 1,606 a month more.
BANK_VOLUMES = {
    "alternative": {
        "api": {"usd_per_month": None, "input_tokens_million_per_month": 400, "output_tokens_million_per_month": 40}
    },
    "serving": {"tokens_per_second": 400},
}


def test_calendar_months_clip_to_the_month_length():
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2028, 1, 31), 1) == dt.date(2028, 2, 29)  # a leap year
    assert add_months(dt.date(2026, 11, 15), 2) == dt.date(2027, 1, 15)
    # Month 1 begins on the start date; month 6 of a programme starting 1 June ends 30 November.
    assert month_start(dt.date(2026, 6, 1), 1) == dt.date(2026, 6, 1)
    assert month_start(dt.date(2026, 6, 1), 7) == dt.date(2026, 12, 1)
    assert month_end(dt.date(2026, 6, 1), 6) == dt.date(2026, 11, 30)
    assert month_end(dt.date(2026, 6, 1), 24) == dt.date(2028, 5, 31)


def test_chance_of_break_even_counts_draws_paid_back_by_each_month():
    # Two draws, months 0..3. Draw 1 reaches 0 in month 2, draw 2 never.
    cash = np.array([[-10.0, -5.0, 0.0, 5.0], [-10.0, -8.0, -6.0, -4.0]])
    assert chance_of_break_even(cash, np.zeros(3)).tolist() == [0.0, 0.5, 0.5]
    # USD 1 a month more running cost: draw 1 becomes -10, -6, -2, +2, so month 3.
    assert chance_of_break_even(cash, np.ones(3)).tolist() == [0.0, 0.0, 0.5]


@pytest.fixture(scope="module")
def example_a(book, example_files):
    params = load_params(example_files["a"], book)
    return estimate(params, book, today=TODAY), simulate(params, book)


def test_the_base_case_basis_is_the_sources_example(example_a):
    breakdown, simulation = example_a
    h = headline(breakdown, simulation, "base_case")
    # 001_6c04196dc11ea2b6.txt, example A: USD 88,550, break-even in month 5 against USD 22k a month.
    assert round(h.programme_usd) == 88_550
    assert h.contingency_usd == pytest.approx(0.0, abs=1e-6)
    assert h.alternative_usd_per_month == 22_000
    assert h.break_even_month == 5
    # Month 5 of a programme that starts on 1 June 2026 ends on 31 October 2026.
    assert h.as_dict()["break_even_date"] == "2026-10-31"
    assert h.tco_usd == pytest.approx(breakdown.tco)


@pytest.mark.parametrize("basis", ["p50", "p80", "base_case"])
def test_page_one_adds_up_on_every_basis(example_a, basis):
    breakdown, simulation = example_a
    h = headline(breakdown, simulation, basis)
    d = h.as_dict()
    # Net saving = alternative − running; TCO = programme + every month's running cost.
    assert d["net_saving_usd_per_month"] == pytest.approx(d["alternative_usd_per_month"] - d["running_usd_per_month"])
    assert h.tco_usd == pytest.approx(h.programme_usd + sum(h.running_in_month(m) for m in range(1, 25)))
    # The programme is the line items plus the contingency, and the schedule spends it all.
    assert h.programme_usd == pytest.approx(h.base_case_programme_usd + h.contingency_usd)
    assert h.spend_by_month.sum() == pytest.approx(h.programme_usd)
    # Break-even by hand: the first month whose running total of (alternative − running),
    # less the programme spent at the start (no build period), is at or above zero.
    position, month = -h.programme_usd, None
    for m in range(1, 25):
        position += h.alternative_usd_per_month - h.running_in_month(m)
        if position >= 0:
            month = m
            break
    assert h.break_even_month == month


def test_percentile_bases_read_the_simulation(example_a):
    breakdown, simulation = example_a
    p50, p80 = headline(breakdown, simulation, "p50"), headline(breakdown, simulation, "p80")
    assert p50.programme_usd == pytest.approx(np.median(simulation.programme_total))
    assert p80.programme_usd == pytest.approx(np.percentile(simulation.programme_total, 80))
    # P80 is prudent on both sides: costs at their 80th percentile, the saving at its 20th.
    assert p80.programme_usd > p50.programme_usd
    assert p80.running_usd_per_month == pytest.approx(np.percentile(simulation.running_monthly, 80))
    assert p80.alternative_usd_per_month == pytest.approx(np.percentile(simulation.alternative_monthly, 20))
    assert p80.tco_usd > p50.tco_usd


def test_the_chance_is_read_at_the_headline_month(example_a):
    breakdown, simulation = example_a
    h = headline(breakdown, simulation, "p50")
    month = h.break_even_month
    expected = np.mean(simulation.break_even_month <= month)  # no correction: the draws' own months
    assert h.chance_by(month) == pytest.approx(expected)
    assert h.as_dict()["break_even_chance"] == pytest.approx(round(expected, 4))


def test_the_verdict_and_summary_state_the_headline(example_a):
    breakdown, simulation = example_a
    summary = summarise(breakdown, simulation, "p50")
    h = summary["headline"]
    assert h["basis"] == "p50"
    for key in ("running_usd_per_month", "net_saving_usd_per_month", "tco_usd", "break_even_month"):
        assert summary[key] == h[key]
    assert f"pays back in month {h['break_even_month']} " in summary["verdict"]["sentence"]
    assert summary["break_even_chance_by_month"] == h["chance_of_break_even_by_month"]
    # The areas are the line items: they add to programme_total_usd, and the contingency
    # takes that to the headline's programme cost.
    assert sum(summary["areas_usd"].values()) == pytest.approx(summary["programme_total_usd"], abs=0.05)
    assert h["base_case_programme_usd"] + h["contingency_usd"] == pytest.approx(h["programme_usd"], abs=0.02)


def test_serving_short_of_its_load_is_in_the_headline(book, example_files):
    raw = deep_merge(read_yaml(example_files["a"]), BANK_VOLUMES)
    params = params_from_mapping(raw, example_files["a"], book)
    breakdown = estimate(params, book, today=TODAY)
    planned = headline(breakdown, None, "base_case")
    needed = plan_headline(breakdown, None, "base_case")
    assert needed.serving_shortfall_usd_per_month == pytest.approx(1_606.0)
    assert needed.running_usd_per_month - planned.running_usd_per_month == pytest.approx(1_606.0)
    # 24 months in service (no build period): USD 1,606 × 24 = USD 38,544 more to own it.
    assert needed.tco_usd - planned.tco_usd == pytest.approx(38_544.0)
    assert "SERVING_BELOW_LOAD" in {w.code for w in breakdown.warnings}


def test_a_plan_that_carries_its_load_has_no_correction(example_a):
    breakdown, _ = example_a
    assert plan_headline(breakdown, None, "base_case").serving_shortfall_usd_per_month == 0.0


def test_dates_follow_the_build_period(book, example_files):
    raw = deep_merge(
        read_yaml(example_files["a"]), {"programme": {"build_months": 3}, "maintenance": {"start_month": 2}}
    )
    params = params_from_mapping(raw, example_files["a"], book)
    h = headline(estimate(params, book, today=TODAY), None, "base_case").as_dict()
    # Build in months 1-3 (June-August 2026); in service from month 4, 1 September 2026;
    # maintenance from the second month in service: month 3 + 2 = 5, 1 October 2026.
    assert (h["launch_month"], h["launch_date"]) == (4, "2026-09-01")
    assert (h["maintenance_from_month"], h["maintenance_from_date"]) == (5, "2026-10-01")


def test_the_basis_comes_from_the_client_then_the_firm(book, example_files):
    params = load_params(example_files["a"], book)
    assert resolve_basis(params) == "p50"
    assert resolve_basis(params, "p80") == "p80"
    chosen = params.model_copy(update={"report": params.report.model_copy(update={"basis": "base_case"})})
    assert resolve_basis(chosen, "p80") == "base_case"


def test_a_percentile_basis_needs_a_simulation(example_a):
    breakdown, _ = example_a
    with pytest.raises(ValueError, match="needs a Monte Carlo"):
        headline(breakdown, None, "p50")
    with pytest.raises(ValueError, match="basis must be one of"):
        headline(breakdown, None, "p99")
