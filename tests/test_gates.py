"""Stage gates (issue 25 item 3): a programme that may stop before launch, figures derived by
hand from the decision tree (chance of reaching × chance of stopping × what is spent)."""

from __future__ import annotations

import numpy as np
import pytest

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.gates import (
    Gate,
    cost_to_gate,
    expected_break_even_month,
    expected_cash_flow,
    expected_programme_cost,
    launch_chance,
    reach_chances,
    staged_outcome,
    stop_chances,
)
from ftcost_helpers.engine.loading import ParamsError, params_from_mapping, read_yaml
from ftcost_helpers.engine.loading import project_root as root
from ftcost_helpers.engine.summary import summarise
from ftcost_helpers.engine.uncertainty import simulate

EXAMPLE_A = root() / "params" / "clients" / "example_a.yaml"

# Pilot passes 0.8 with 10 % spent; the evaluation gate 0.5 at 40 %; full training 0.9 at 90 %.
GATES = (Gate("Pilot", 0.8, 0.1), Gate("Evaluation gate", 0.5, 0.4), Gate("Full training", 0.9, 0.9))


def test_chances_of_reaching_stopping_and_launching():
    # Reach: 1, 0.8, 0.8 × 0.5 = 0.4. Stop: 1 × 0.2 = 0.2, 0.8 × 0.5 = 0.4, 0.4 × 0.1 = 0.04.
    # Launch: 0.8 × 0.5 × 0.9 = 0.36; the outcomes add to 0.2 + 0.4 + 0.04 + 0.36 = 1.
    assert reach_chances(GATES) == pytest.approx([1.0, 0.8, 0.4])
    assert stop_chances(GATES) == pytest.approx([0.2, 0.4, 0.04])
    assert launch_chance(GATES) == pytest.approx(0.36)


def test_expected_programme_cost_by_hand():
    # C = 100,000: stopped (0.2 × 0.1 + 0.4 × 0.4 + 0.04 × 0.9) × C = 0.216 × C = 21,600;
    # launched 0.36 × C = 36,000; expected 57,600.
    assert expected_programme_cost(GATES, 100_000.0) == pytest.approx(57_600.0)
    # Vectorised over draws: 200,000 → twice as much.
    assert expected_programme_cost(GATES, np.array([100_000.0, 200_000.0])) == pytest.approx([57_600.0, 115_200.0])


def test_one_gate_certain_to_pass_costs_the_programme():
    # p = 1: nothing stops, the expected cost is C itself.
    assert expected_programme_cost((Gate("Only", 1.0, 0.5),), 80_000.0) == pytest.approx(80_000.0)


def test_a_gate_that_never_passes_costs_what_is_spent_by_it():
    # p = 0 at 30 %: every programme stops there, at 0.3 × C; none launches.
    gates = (Gate("Pilot", 0.0, 0.3), Gate("Full", 0.9, 0.9))
    assert expected_programme_cost(gates, 50_000.0) == pytest.approx(15_000.0)
    assert launch_chance(gates) == 0.0


def test_cost_to_each_gate():
    assert cost_to_gate(GATES, 100_000.0) == pytest.approx([10_000.0, 40_000.0, 90_000.0])


def test_break_even_counts_the_chance_of_never_launching():
    # Cumulative cash if launched: −100,000 + 20,000·m, months 0..8 (break-even month 5).
    # Expected: 0.36 × cash − 21,600. Month 7: 0.36 × 40,000 = 14,400 < 21,600;
    # month 8: 0.36 × 60,000 = 21,600 → 0, the first month at or above zero.
    cash = -100_000.0 + 20_000.0 * np.arange(9)
    assert expected_cash_flow(GATES, cash, 100_000.0)[0] == pytest.approx(-36_000.0 - 21_600.0)
    assert expected_break_even_month(GATES, cash, 100_000.0) == 8
    assert expected_break_even_month(GATES, cash[:8], 100_000.0) is None


def test_staged_outcome_as_summary_json():
    cash = -100_000.0 + 20_000.0 * np.arange(9)
    outcome = staged_outcome(GATES, 100_000.0, cash, [0.5] * 4 + [1.0] * 4, programme_draws=np.arange(1, 101) * 1000.0)
    stated = outcome.as_dict()
    assert stated["chance_of_launch"] == 0.36
    assert stated["expected_cost_to_first_decision_usd"] == 10_000.0
    assert stated["expected_programme_usd"] == 57_600.0
    assert [gate["cost_if_stopped_here_usd"] for gate in stated["gates"]] == [10_000.0, 40_000.0, 90_000.0]
    # P(paid back by m) = 0.36 × the chance given a launch: 0.18 for months 1–4, 0.36 after.
    assert stated["chance_of_break_even_by_month"] == [0.18] * 4 + [0.36] * 4
    # numpy's percentile of 1,000..100,000 in steps of 1,000 at 90 %: index 0.9 × 99 = 89.1 →
    # 90,000 + 0.1 × 1,000 = 90,100.
    assert stated["budget_to_production_p90_usd"] == 90_100.0
    assert stated["break_even_month_with_stopping"] == 8


def staged_plan(stages):
    data = read_yaml(EXAMPLE_A)
    data.setdefault("programme", {})["stages"] = stages
    return params_from_mapping(data, "client.yaml")


STAGES = [
    {"name": "Pilot", "chance_of_passing": 0.8, "spent_fraction": 0.1},
    {"name": "Evaluation gate", "chance_of_passing": 0.5, "spent_fraction": 0.4},
    {"name": "Full training", "chance_of_passing": 0.9, "spent_fraction": 0.9},
]


def test_summary_states_the_stages_on_the_headline_basis(book):
    params = staged_plan(STAGES)
    breakdown = estimate(params, book)
    summary = summarise(breakdown, simulate(params, book, draws=2000))
    stages, programme = summary["stages"], summary["headline"]["programme_usd"]
    assert stages["expected_programme_usd"] == pytest.approx(0.576 * programme, abs=0.01)
    assert stages["expected_cost_to_first_decision_usd"] == pytest.approx(0.1 * programme, abs=0.01)
    assert stages["budget_to_production_p90_usd"] == pytest.approx(summary["range_usd"]["p90"], abs=0.01)
    chances = summary["headline"]["chance_of_break_even_by_month"]
    assert stages["chance_of_break_even_by_month"] == pytest.approx([0.36 * p for p in chances], abs=1e-4)


def test_without_stages_the_summary_says_none(book, examples):
    assert summarise(estimate(examples["a"], book))["stages"] is None


@pytest.mark.parametrize(
    ("stages", "words"),
    [
        (
            [
                {"name": "A", "chance_of_passing": 0.5, "spent_fraction": 0.5},
                {"name": "B", "chance_of_passing": 0.5, "spent_fraction": 0.4},
            ],
            "must rise",
        ),
        ([{"name": "A", "chance_of_passing": 1.5, "spent_fraction": 0.5}], "between 0 and 1"),
        ([{"name": "A", "chance_of_passing": 0.5}], "spent_fraction"),
        ([{"name": "A", "chance_of_passing": 0.5, "spent_fraction": 0.2, "cost": 3}], "cost"),
    ],
)
def test_bad_stages_are_one_line_naming_the_key(stages, words):
    with pytest.raises(ParamsError) as caught:
        staged_plan(stages)
    message = str(caught.value)
    assert "programme.stages" in message and words in message


def test_the_document_shows_the_gates_from_the_summary(tmp_path, book):
    import datetime as dt

    import yaml

    from ftcost_helpers.engine.money import usd
    from ftcost_helpers.report.document import client_document
    from ftcost_helpers.report.figures import client_figures

    data = read_yaml(EXAMPLE_A)
    data.setdefault("programme", {})["stages"] = STAGES
    source = tmp_path / "staged.yaml"
    source.write_text(yaml.safe_dump(data), encoding="utf-8")
    figures = client_figures(source, book, dt.date(2026, 12, 7), "2026-12-07T00:00:00Z")
    page = client_document(figures)
    stages = figures.summary["stages"]
    assert '<section id="stages"' in page and "Chance of reaching launch: 36%." in page
    assert usd(stages["expected_programme_usd"]) in page
    assert usd(stages["gates"][1]["cost_if_stopped_here_usd"]) in page
    assert '<section id="stages"' not in client_document(client_figures(EXAMPLE_A, book, dt.date(2026, 12, 7), "x"))
