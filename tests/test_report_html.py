"""The client report's headline cards say why break-even is what it is."""

from __future__ import annotations

import pytest

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.summary import summarise
from ftcost_helpers.engine.uncertainty import simulate
from ftcost_helpers.report.html import key_figures


@pytest.mark.parametrize(
    ("name", "month", "note"),
    [
        ("a", "5", "against the frontier-API bill it replaces"),
        ("b", "4", "against the staff time it replaces"),
        ("c", "none", "no alternative to save against: the fine-tune is the product"),
    ],
)
def test_break_even_card(examples, book, name, month, note):
    html = key_figures(summarise(estimate(examples[name], book)))
    assert f'<div class="label">Break-even month</div><div class="value">{month}</div>' in html
    assert note in html


def test_break_even_card_gives_the_monte_carlo_chance(examples, book):
    simulation = simulate(examples["a"], book)
    summary = summarise(estimate(examples["a"], book), simulation.range_usd(), simulation.break_even_probability())
    chance = summary["break_even_chance_by_month"]
    assert len(chance) == examples["a"].horizon_months and chance == sorted(chance)
    assert f"{chance[4]:.0%} chance by then" in key_figures(summary)


def test_a_plan_that_never_pays_back_says_so(examples, book):
    plan = examples["a"].model_copy(update={"horizon_months": 3})
    html = key_figures(summarise(estimate(plan, book)))
    assert "does not pay back within 3 months" in html
