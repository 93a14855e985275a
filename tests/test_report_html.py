"""The client document's headline cards say why break-even is what it is (the decision
cards of :mod:`ftcost_helpers.report.document`; ``report/html.py`` keeps only the index's
style and notebook titles)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.summary import summarise
from ftcost_helpers.engine.uncertainty import simulate
from ftcost_helpers.report.figures import ClientFigures
from ftcost_helpers.report.front import decision_cards
from ftcost_helpers.report.html import notebook_title


def cards(plan, book, simulation=None) -> str:
    breakdown = estimate(plan, book)
    summary = summarise(breakdown, simulation, "base_case")
    return decision_cards(ClientFigures(Path("x.yaml"), plan, breakdown, summary, simulation))


@pytest.mark.parametrize(
    ("name", "month", "note"),
    [
        ("a", "month 5", "end of October 2026"),
        ("b", "month 4", "end of September 2026"),
        ("c", "none", "nothing to pay back against"),
    ],
)
def test_break_even_card(examples, book, name, month, note):
    # worked examples (001_…): A pays back in month 5, B in month 4, C replaces nothing; both
    # start on 1 June 2026, so month 5 ends in October and month 4 in September
    html = cards(examples[name], book)
    assert f'<div class="label">Break-even</div><div class="value">{month}</div>' in html
    assert note in html


def test_break_even_card_gives_the_monte_carlo_chance(examples, book):
    simulation = simulate(examples["a"], book)
    chance = simulation.break_even_probability()
    assert len(chance) == examples["a"].horizon_months and list(chance) == sorted(chance)
    assert f"{chance[4]:.0%} chance of having paid back by then" in cards(examples["a"], book, simulation)


def test_a_plan_that_never_pays_back_says_so(examples, book):
    # 3 months of USD 9,806.50 net saving cannot pay back USD 88,550
    plan = examples["a"].model_copy(update={"horizon_months": 3})
    assert "does not pay back within 3 months" in cards(plan, book)


def test_notebook_title_is_its_first_heading_in_plain_text():
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_markdown_cell("Intro\n\n## *Compute* `cost`\n")]
    )
    assert notebook_title(nb, "fallback") == "Compute cost"
    assert notebook_title(nbformat.v4.new_notebook(), "fallback") == "fallback"
