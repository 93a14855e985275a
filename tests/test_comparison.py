"""The one comparison pass (engine/comparison.py): the plan and its scenarios compared once,
drawn once on common random numbers, and read by the cheapest-plan odds, the value of
information, the client document and the workbook alike."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from ftcost_helpers.engine import comparison as comparison_module
from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.cheapest import common_tco_draws
from ftcost_helpers.engine.comparison import compare, plan_comparison
from ftcost_helpers.engine.loading import deep_merge, params_from_mapping, read_yaml
from ftcost_helpers.engine.summary import summarise
from ftcost_helpers.engine.uncertainty import simulate, uncertain_inputs
from ftcost_helpers.report import figures as figures_module
from ftcost_helpers.report.document import client_document
from ftcost_helpers.report.excel import write_workbook
from ftcost_helpers.report.figures import client_figures

DRAWS, SEED = 400, 17
ON_ONE_4090 = {"gpu": "rtx_4090", "tier": "local_owned", "gpus_per_run": 1, "sharding": "none"}
"""Example B's local-card scenario: a 70B base on one 24 GB card does not fit (tests/test_feasibility.py)."""


@pytest.fixture(scope="module")
def plan_b(example_files, book):
    """Example B with two scenarios, each bringing a range the plan does not have: first one
    that cannot run (the local card) with ``engineering.other_usd`` USD 0–1,000, then one that
    can (H200 on spot) with ``engineering.rate_usd_per_hour`` USD 150–210 an hour."""
    data = read_yaml(example_files["b"])
    data["scenarios"] = [
        {
            "name": "Local card",
            "overrides": {"training": ON_ONE_4090, "engineering": {"other_usd": {"low": 0, "high": 1000}}},
        },
        {
            "name": "Spot",
            "overrides": {
                "training": {"tier": "neocloud_spot"},
                "engineering": {"rate_usd_per_hour": {"low": 150, "high": 210}},
            },
        },
    ]
    return params_from_mapping(deep_merge({}, data), "example_b", book)


def test_every_plan_is_drawn_and_keeps_its_rows_whether_or_not_it_can_run(plan_b, book):
    simulation = simulate(plan_b, book, DRAWS, SEED)
    drawn = compare(plan_b, book, simulation)
    assert drawn.can_run == [True, False, True]
    # The rows of uniforms: the plan's P paths first, then "Local card"'s new path
    # (engineering.other_usd, row P), then "Spot"'s (engineering.rate_usd_per_hour, row P + 1):
    # the plan that cannot run keeps its row, so Spot's row does not depend on it. Each is
    # uniform: low + u × (high − low).
    rows = len(uncertain_inputs(plan_b, book))
    uniforms = np.random.default_rng(SEED).random((rows + 2, DRAWS))
    assert np.array_equal(drawn.inputs[1]["engineering.other_usd"], 0 + uniforms[rows] * 1000)
    assert np.array_equal(drawn.inputs[2]["engineering.rate_usd_per_hour"], 150 + uniforms[rows + 1] * 60)
    # The plan's own draws are its simulation's, figure for figure.
    assert np.array_equal(drawn.tco[0], simulation.tco)
    assert np.array_equal(drawn.final_cash[0], simulation.cash_flow[:, -1])
    # The same rule as the cheapest-plan odds' own drawing of the same plans.
    plans = [result.params for result in drawn.results]
    assert np.allclose(drawn.tco, common_tco_draws(plans, book, DRAWS, SEED), rtol=1e-12)


def test_the_value_of_information_reads_the_runnable_scenarios_only(plan_b, book):
    simulation = simulate(plan_b, book, DRAWS, SEED)
    summary = summarise(estimate(plan_b, book), simulation)
    voi = summary["value_of_information"]
    assert [option["name"] for option in voi["options"]] == ["Plan as filed", "Spot", "Keep the alternative"]
    engineering = next(group for group in voi["groups"] if group["group"] == "Engineering")
    # The plan's own engineering range, then Spot's; the local card's range is no option's input.
    assert engineering["inputs"] == ["engineering.engineer_weeks", "engineering.rate_usd_per_hour"]
    odds = {row["name"]: row["probability_cheapest"] for row in summary["scenarios"]}
    assert odds["Local card"] == 0.0  # cannot run: never the cheapest
    assert sum(odds.values()) == pytest.approx(1.0, abs=1e-3)


def test_no_simulation_means_no_draws(plan_b, book):
    compared = plan_comparison(plan_b, book)
    assert compared is not None and not compared.drawn and compared.odds() is None
    assert compared.names == ["Plan as filed", "Local card", "Spot"]


def test_a_report_compares_the_scenarios_once(example_files, book, monkeypatch, tmp_path):
    calls: list[str] = []
    real = comparison_module.compare_scenarios

    def counted(*args, **kwargs):
        calls.append("compare")
        return real(*args, **kwargs)

    monkeypatch.setattr(comparison_module, "compare_scenarios", counted)
    monkeypatch.setattr(figures_module, "compare_scenarios", counted)
    figures = client_figures(example_files["b"], book, dt.date(2026, 12, 1), "2026-12-01T00:00:00+00:00")
    client_document(figures)
    write_workbook(tmp_path / "b.xlsx", figures)
    # summary (its scenarios and value of information), document and workbook: one comparison
    assert calls == ["compare"]
