"""Value of information (issue 25 item 2): the regression estimator of EVPPI checked against a
case with a closed form, then on the worked examples' own draws."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ftcost_helpers.engine.value_of_information import (
    OTHER,
    evpi,
    evppi,
    fine_tune_or_not,
    group_of,
    value_of_information,
)


def normal_positive_part(mean: float, sd: float) -> float:
    """E[max(Y, 0)] for Y ~ N(mean, sd²) = mean·Φ(mean/sd) + sd·φ(mean/sd)."""
    z = mean / sd
    cdf = 0.5 * (1 + math.erf(z / math.sqrt(2)))
    pdf = math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    return mean * cdf + sd * pdf


def test_evppi_matches_the_closed_form_of_two_normal_inputs():
    # V = X1 + X2, X1 ~ N(−10,000, 30,000²), X2 ~ N(+4,000, 10,000²); options: V or 0.
    # E[V | X1] = X1 + 4,000 ~ N(−6,000, 30,000²), so
    # EVPPI(X1) = E[max(X1 + 4,000, 0)] − max(−6,000, 0) = normal_positive_part(−6,000, 30,000);
    # EVPPI(X2) = normal_positive_part(−6,000, 10,000); EVPI = normal_positive_part(−6,000, √(30,000² + 10,000²)).
    rng = np.random.default_rng(7)
    x1 = rng.normal(-10_000, 30_000, 200_000)
    x2 = rng.normal(4_000, 10_000, 200_000)
    values = fine_tune_or_not(x1 + x2)
    assert evppi(values, x1) == pytest.approx(normal_positive_part(-6_000, 30_000), rel=0.03)
    assert evppi(values, x2) == pytest.approx(normal_positive_part(-6_000, 10_000), rel=0.06)
    assert evpi(values) == pytest.approx(normal_positive_part(-6_000, math.hypot(30_000, 10_000)), rel=0.03)
    # Both inputs together are everything: EVPPI = EVPI.
    assert evppi(values, np.column_stack([x1, x2])) == pytest.approx(evpi(values), rel=0.01)


def test_an_input_that_does_not_move_the_value_is_worth_nothing():
    rng = np.random.default_rng(3)
    x1, noise = rng.normal(0, 1, 50_000), rng.normal(0, 1, 50_000)
    values = fine_tune_or_not(x1)
    assert evppi(values, noise) == pytest.approx(0.0, abs=0.005)


def test_a_decision_no_draw_could_change_is_worth_nothing():
    # Every draw positive: fine-tuning wins whatever is learnt; EVPI = 0.
    values = fine_tune_or_not(np.linspace(1_000, 5_000, 1_000))
    assert evpi(values) == pytest.approx(0.0, abs=1e-9)
    assert evppi(values, np.linspace(0, 1, 1_000)) == pytest.approx(0.0, abs=1e-6)


def test_groups_by_path():
    assert (
        group_of("pricebook.utilisation_defaults.adapters_small")
        == "GPU throughput (utilisation, communication, memory)"
    )
    assert group_of("pricebook.gpu_rates_usd_per_gpu_hour.h100_sxm.neocloud_spot") == "GPU prices"
    assert group_of("engineering.engineer_weeks") == "Engineering"
    assert group_of("alternative.api.usd_per_month") == "What the fine-tune replaces"
    assert group_of("something.new") == OTHER


def test_the_examples_rank_groups_within_evpi(book, examples):
    from ftcost_helpers.engine.uncertainty import simulate

    for params in examples.values():
        simulation = simulate(params, book, draws=4_000)
        values = fine_tune_or_not(simulation.cash_flow[:, -1])
        stated = value_of_information(values, ["Plan", "Keep"], simulation.inputs, "go or not")
        worths = [group["worth_usd"] for group in stated["groups"]]
        assert worths == sorted(worths, reverse=True)
        assert all(0.0 <= worth <= stated["evpi_usd"] + 0.01 for worth in worths)


def test_summary_and_document_state_the_recommendation_and_what_to_measure(book):
    import datetime as dt

    from ftcost_helpers.engine.loading import project_root
    from ftcost_helpers.engine.money import usd
    from ftcost_helpers.report.document import client_document
    from ftcost_helpers.report.figures import client_figures

    source = project_root() / "params" / "clients" / "example_b.yaml"
    figures = client_figures(source, book, dt.date(2026, 12, 7), "2026-12-07T00:00:00Z")
    voi = figures.summary["value_of_information"]
    names = [option["name"] for option in voi["options"]]
    assert names[0] == "Plan as filed" and names[-1] == "Keep the alternative"
    from ftcost_helpers.engine.scenarios import compare_scenarios

    runnable = [r.name for r in compare_scenarios(figures.params, book)[1:] if r.feasibility.feasible]
    assert names[1:-1] == runnable  # a scenario that cannot run is no option
    best = max(voi["options"], key=lambda option: option["expected_value_usd"])
    assert voi["chosen_on_expected_value"] == best["name"]
    page = client_document(figures)
    assert '<section id="measure"' in page and best["name"] in page
    top = voi["groups"][0]
    if top["worth_usd"] >= 0.5:
        assert usd(top["worth_usd"]) in page and top["measurement"] in page


def test_one_plan_without_an_alternative_has_nothing_to_choose(book, examples):
    from ftcost_helpers.engine.uncertainty import simulate
    from ftcost_helpers.engine.value_of_information import plan_value_of_information

    plan = examples["c"].model_copy(update={"scenarios": []})
    assert plan.alternative.kind == "none"
    assert plan_value_of_information(plan, book, simulate(plan, book, draws=500)) is None


def test_the_notebook_sentence_says_when_nothing_is_worth_measuring():
    from ftcost_helpers.views.advice_views import worth_sentence

    nil = {"chosen_on_expected_value": "Plan as filed", "evpi_usd": 0.0, "groups": []}
    assert "No measurement before signing could change it" in worth_sentence(nil)
    some = {
        "chosen_on_expected_value": "Plan as filed",
        "evpi_usd": 700.0,
        "groups": [{"group": "GPU prices", "measurement": "quotes from GPU providers", "worth_usd": 696.0}],
    }
    assert "gpu prices (quotes from GPU providers): up to USD 696" in worth_sentence(some)
    assert "nothing to choose" in worth_sentence(None)
