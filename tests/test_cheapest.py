"""Which option wins, and how often (engine/cheapest.py): hand-derived shares and the shared
random streams."""

from __future__ import annotations

import datetime as dt
import html

import numpy as np
import pytest

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.cheapest import common_tco_draws, option_odds, probability_cheapest, shared_paths
from ftcost_helpers.engine.loading import deep_merge, params_from_mapping, read_yaml
from ftcost_helpers.engine.summary import summarise
from ftcost_helpers.engine.uncertainty import simulate
from ftcost_helpers.report.document import client_document
from ftcost_helpers.report.figures import client_figures
from ftcost_helpers.views.odds import odds_sentence


def test_an_option_cheaper_in_every_draw_wins_every_draw():
    # costs 1 and 2 in each of three draws: the first is cheapest 3 times of 3 → 1.0, the other 0.0
    shares = probability_cheapest(np.array([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]))
    assert shares.tolist() == [1.0, 0.0]


def test_a_tie_splits_the_draw():
    # draw 1: A=1 < B=2 (A wins); draw 2: A=B=5 (half each); draw 3: A=4 > B=3 (B wins)
    # A: (1 + 0.5 + 0) / 3 = 0.5; B: (0 + 0.5 + 1) / 3 = 0.5
    shares = probability_cheapest(np.array([[1.0, 5.0, 4.0], [2.0, 5.0, 3.0]]))
    assert shares.tolist() == [0.5, 0.5]


def test_three_options_shares_sum_to_one():
    # draw 1: C (1.0); draw 2: A and B tie (0.5 each); draw 3: A; draw 4: B
    # A: (0 + 0.5 + 1 + 0) / 4 = 0.375; B: (0 + 0.5 + 0 + 1) / 4 = 0.375; C: 1 / 4 = 0.25
    costs = np.array([[3.0, 1.0, 1.0, 9.0], [3.0, 1.0, 2.0, 1.0], [2.0, 4.0, 3.0, 5.0]])
    assert probability_cheapest(costs).tolist() == [0.375, 0.375, 0.25]


def test_symmetric_options_win_about_half_the_draws():
    # two independent draws of one distribution: P(X < Y) = 1/2 by symmetry; with 200,000
    # draws the share's standard error is sqrt(0.25 / 200,000) ≈ 0.0011, so ±0.01 is 9 σ
    rng = np.random.default_rng(7)
    shares = probability_cheapest(rng.normal(100.0, 10.0, size=(2, 200_000)))
    assert shares == pytest.approx([0.5, 0.5], abs=0.01)


def test_an_option_that_cannot_run_is_never_the_cheapest():
    # A is cheaper in every draw but cannot run: B wins them all
    costs = np.array([[1.0, 1.0], [2.0, 2.0]])
    assert probability_cheapest(costs, [False, True]).tolist() == [0.0, 1.0]
    assert probability_cheapest(costs, [False, False]).tolist() == [0.0, 0.0]


def _plan(example_files, book, name, changes=None, scenarios=()):
    data = deep_merge(read_yaml(example_files[name]), changes or {})
    data["scenarios"] = list(scenarios)
    return params_from_mapping(data, f"example_{name}", book)


def test_the_plan_draws_exactly_its_own_simulation(example_files, book):
    # the plan's paths come first, so its rows of the shared uniforms are those simulate draws
    plan = _plan(example_files, book, "a")
    costs = common_tco_draws([plan], book, 500, 11)
    assert np.array_equal(costs[0], simulate(plan, book, 500, 11).tco)


def test_a_plan_beside_itself_ties_in_every_draw(example_files, book):
    # same plan, same streams: equal cost in each draw, so each wins half of every draw → 0.5
    # exactly (independent streams would give about 0.5, never exactly)
    plan = _plan(example_files, book, "a")
    odds = option_odds(["one", "two"], [plan, plan], [True, True], book, 400, 3)
    assert [o.probability_cheapest for o in odds] == [0.5, 0.5]


def test_a_fixed_saving_wins_every_draw_on_shared_streams(example_files, book):
    # the scenario differs only by USD 1,000 less of other engineering, a fixed amount: on the
    # same streams its cost of ownership is the plan's minus 1,000 in every draw → 1.0 / 0.0.
    # Drawn independently, the programme's spread (P10–P90 tens of thousands) would hand
    # the plan many draws.
    plan = _plan(example_files, book, "a", {"engineering": {"other_usd": 5000}})
    cheaper = _plan(example_files, book, "a", {"engineering": {"other_usd": 4000}})
    costs = common_tco_draws([plan, cheaper], book, 1000, 5)
    assert np.allclose(costs[0] - costs[1], 1000.0)
    assert probability_cheapest(costs).tolist() == [0.0, 1.0]


def test_a_scenario_input_the_plan_lacks_gets_its_own_row(example_files, book):
    plan = _plan(example_files, book, "a")
    ranged = _plan(example_files, book, "a", {"engineering": {"other_usd": {"low": 0, "high": 10}}})
    rows = shared_paths([plan, ranged], book)
    plan_rows = shared_paths([plan], book)
    assert list(rows)[: len(plan_rows)] == list(plan_rows)
    assert rows["engineering.other_usd"] == len(plan_rows)


def test_summary_json_gives_each_scenario_its_probability(examples, book):
    params = examples["a"]
    breakdown = estimate(params, book)
    summary = summarise(breakdown, simulate(params, book, 300, 1))
    rows = summary["scenarios"]
    assert [row["name"] for row in rows[1:]] == [s.name for s in params.scenarios]
    shares = [row["probability_cheapest"] for row in rows]
    assert sum(shares) == pytest.approx(1.0, abs=1e-3)  # each rounded to 4 places
    assert all(0.0 <= share <= 1.0 for share in shares)
    assert rows[0]["tco_usd"] == pytest.approx(float(breakdown.base.tco), abs=0.01)
    without = summarise(breakdown)["scenarios"]
    assert all(row["probability_cheapest"] is None for row in without)


def test_the_sentence_ranks_the_plans_likeliest_first():
    # shares 0.28, 0.45, 0.0, 0.27: B first, then A, then D; C never
    text = odds_sentence(["A", "B", "C", "D"], [0.28, 0.45, 0.0, 0.27], 24)
    assert text == (
        "Over 24 months the cheapest plan is B in 45% of the draws, A in 28%, D in 27%; C is never the cheapest "
        "(every plan drawn on the same random streams)."
    )
    assert odds_sentence(["A"], [None], 24) == ""  # no simulation, no chances


def test_the_client_document_says_how_often_each_plan_wins(book, example_files):
    figures = client_figures(example_files["a"], book, dt.date(2026, 12, 1), "2026-12-01T00:00:00+00:00")
    page = client_document(figures)
    rows = figures.summary["scenarios"]
    best = max(rows, key=lambda row: row["probability_cheapest"])
    assert f"the cheapest plan is {html.escape(best['name'])} in {best['probability_cheapest']:.0%}" in page
