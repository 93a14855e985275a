"""The notebooks' reading-the-result verdicts follow the figures."""

from __future__ import annotations

import pytest

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.views.readings import (
    booked_against_physics,
    eval_crossover_month,
    one_time_against_monthly_eval,
    utilisation_verdict,
)


@pytest.mark.parametrize(
    ("implied", "verdict"),
    [(0.50, "look optimistic"), (0.05, "booked hours are generous"), (0.20, "close to the 25% assumed")],
)
def test_utilisation_verdict(implied, verdict):
    assert verdict in utilisation_verdict(implied, 0.25, 0.46)


def test_example_a_books_generous_hours(examples, book):
    # FLOPs per token: 6·7.6e9 = 45.6e9 (LoRA: 4·N + recompute 2·N) + adapters 6·40.3e6 = 0.24e9
    # + attention 8·28·4096·3584 = 3.29e9: 49.13e9; × 84e6 tokens = 4.127e18 FLOPs, over
    # 8 × 6 = 48 GPU-hours at 989 TFLOPS (1.709e20 FLOPs): 2.4% of peak.
    text = booked_against_physics(estimate(examples["a"], book))
    assert "48.0 GPU-hours" in text and "2.4% of peak" in text and "generous" in text


@pytest.mark.parametrize(("one_time", "monthly", "month"), [(6_200, 1_800, 4), (31_000, 0, None), (100, 100, 1)])
def test_eval_crossover_month(one_time, monthly, month):
    assert eval_crossover_month(one_time, monthly) == month


@pytest.mark.parametrize(
    ("name", "ending"),
    [
        ("a", "From month 4 the monthly cost has overtaken the set-up."),
        ("c", "The plan budgets no continuous evaluation against production traffic."),
    ],
)
def test_eval_reading(examples, book, name, ending):
    assert one_time_against_monthly_eval(estimate(examples[name], book)).endswith(ending)


def test_eval_set_up_can_stay_the_larger_cost(examples, book):
    plan = examples["a"].model_copy(update={"horizon_months": 3})
    assert one_time_against_monthly_eval(estimate(plan, book)).endswith("the set-up stays the larger cost.")
