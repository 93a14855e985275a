"""Feasibility (issue 21, "impossible options flagged"): a plan or scenario that does not fit its
GPUs, cannot serve its load or cannot finish in the hours it books is marked "cannot run as
specified", with its reason, in every table that lists it (notebook 05, the client document,
the workbook), is never the cheapest, and a plan that cannot run gets no pay-back verdict."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import openpyxl
import pytest

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.feasibility import CANNOT_RUN, feasibility, plan_feasibility
from ftcost_helpers.engine.loading import deep_merge, params_from_mapping, read_yaml
from ftcost_helpers.engine.quantities import base_value
from ftcost_helpers.engine.scenarios import BASE_PLAN_NAME, cheapest_that_can_run, compare_scenarios
from ftcost_helpers.engine.schema import Params
from ftcost_helpers.engine.summary import summarise
from ftcost_helpers.report.document import client_document
from ftcost_helpers.report.excel import write_workbook
from ftcost_helpers.report.figures import ClientFigures, client_figures
from ftcost_helpers.views import tables

TODAY = dt.date(2026, 12, 1)
LOCAL_CARD = "QLoRA on a local 24 GB card"
API_SCENARIO = "Against a frontier API instead of labour"
ON_ONE_4090 = {"gpu": "rtx_4090", "tier": "local_owned", "gpus_per_run": 1, "sharding": "none"}
"""Example B's local-card scenario (params/clients/example_b.yaml), as training overrides."""


def plan(example_files, book, name: str, changes: dict[str, Any], drop_rate: bool = False) -> Params:
    """Example ``name`` with ``changes`` merged in (and its booked training rate dropped, as a
    scenario that moves to another GPU drops it)."""
    data = deep_merge(read_yaml(example_files[name]), changes)
    if drop_rate:
        data["training"].pop("rate_usd_per_gpu_hour", None)
    return params_from_mapping(data, f"example_{name}", book)


@pytest.fixture(scope="module")
def scenarios_b(examples, book):
    return {r.name: r for r in compare_scenarios(examples["b"], book)}


@pytest.fixture(scope="module")
def figures_b(example_files, book) -> ClientFigures:
    return client_figures(example_files["b"], book, TODAY, "2026-12-01T00:00:00+00:00")


# ---------------------------------------------------------------- the engine


def test_70b_on_one_4090_does_not_fit_and_says_why(scenarios_b, book) -> None:
    local = scenarios_b[LOCAL_CARD]
    # By hand: Llama-3.3-70B has 70.6e9 parameters; QLoRA keeps them in NF4, 4 bits = 0.5 byte
    # each: 70.6e9 × 0.5 B = 35.3e9 B = 35.3 GB for the frozen weights alone, before adapters,
    # optimizer states and activations. An RTX 4090 has 24 GiB in all, 24 × 1.073741824 =
    # 25.77 GB, and the scenario keeps one card and no sharding: it cannot hold the weights.
    nf4_weights_gb = 70.6e9 * 0.5 / 1e9
    assert nf4_weights_gb == pytest.approx(35.3) and nf4_weights_gb > 24
    assert base_value(local.params.base_model.parameters_billion) == pytest.approx(70.6)
    assert float(evaluate(local.params, book).compute.memory_breakdown_gb["weights"]) >= nf4_weights_gb
    assert not local.feasibility.feasible
    [reason] = local.feasibility.reasons
    assert "does not fit its GPUs" in reason
    needed, capacity = (float(x.replace(",", "")) for x in re.findall(r"([\d,.]+) GB", reason)[:2])
    assert needed >= nf4_weights_gb > 25.8 >= capacity  # 25.77 GB, printed to one decimal
    assert local.feasibility.sentence.startswith(f"{CANNOT_RUN}: the model does not fit its GPUs")


def test_the_plans_that_run_are_feasible_with_no_reason(scenarios_b) -> None:
    for name in (BASE_PLAN_NAME, "H200 on neocloud spot", "B200 on neocloud on-demand"):
        assert scenarios_b[name].feasibility.feasible and scenarios_b[name].feasibility.reasons == ()
        assert scenarios_b[name].feasibility.sentence == ""


def test_serving_below_its_load_is_marked(scenarios_b) -> None:
    api = scenarios_b[API_SCENARIO]
    # By hand: the API scenario moves 1,500M input + 300M output = 1,800M tokens a month to
    # the fine-tune. Over the default 730 serving hours: 1.8e9 ÷ (730 × 3,600 s) = 684.9
    # tokens/s on average, × 3 (peak_to_average default) = 2,054.8 ≈ 2,055 at peak. The plan
    # serves {300, 800} tokens/s on 4 × H100: 550 at its midpoint, well short of 2,055.
    peak = 1_800e6 / (730 * 3600) * 3
    assert peak == pytest.approx(2054.8, abs=0.1)
    assert not api.feasibility.feasible
    [reason] = api.feasibility.reasons
    assert "cannot carry its load" in reason
    assert f"{peak:,.0f} tokens a second" in reason and "serve 550" in reason


def test_an_infeasible_scenario_is_never_the_cheapest(examples, book, scenarios_b) -> None:
    results = compare_scenarios(examples["b"], book)
    local = scenarios_b[LOCAL_CARD]
    # The trap the partner fell into: the plan that cannot run has the lowest figures of all
    # (one owned card at USD 0.15–0.45/h against rented H200s).
    assert local.tco_usd == min(r.tco_usd for r in results)
    assert local.programme_total_usd == min(r.programme_total_usd for r in results)
    for figure in ("tco_usd", "programme_total_usd"):
        cheapest = cheapest_that_can_run(results, figure)
        assert cheapest is not None and cheapest.feasibility.feasible
        assert cheapest.name not in (LOCAL_CARD, API_SCENARIO)
        runnable = [r for r in results if r.name not in (LOCAL_CARD, API_SCENARIO)]
        assert getattr(cheapest, figure) == min(getattr(r, figure) for r in runnable)


def test_when_nothing_can_run_nothing_is_cheapest_and_the_table_says_so(example_files, book) -> None:
    stuck = plan(
        example_files,
        book,
        "b",
        {"training": ON_ONE_4090, "scenarios": [{"name": "Two cards", "overrides": {"training": {"gpus_per_run": 2}}}]},
        drop_rate=True,
    )
    results = compare_scenarios(stuck, book)
    assert [r.feasibility.feasible for r in results] == [False, False]
    assert cheapest_that_can_run(results) is None
    assert tables.scenarios_table(results, book).note == (
        "Every plan here cannot run as specified: none can be recommended as it stands."
    )


def test_a_critical_finding_that_only_misprices_leaves_the_plan_feasible(example_files, book) -> None:
    # Serving left out of the running costs is critical (the figures are wrong) but the plan
    # itself can still run as written.
    unserved = plan(example_files, book, "a", {"serving": {"modelled": False}})
    breakdown = estimate(unserved, book)
    assert "NO_INFERENCE_COST_MODEL" in [w.code for w in breakdown.warnings]
    assert plan_feasibility(breakdown).feasible


def test_hours_below_what_the_gpus_can_do_cannot_run(example_files, book) -> None:
    # Example A books 6 h × 8 H100 per run and raises no utilisation finding, so those hours
    # imply at least 5 % of the GPUs' peak (implied_utilisation_plausible.low). Implied
    # utilisation scales as 1 ÷ hours: at 0.06 h, a hundredth, it is at least 500 %, far beyond
    # the 46 % the best pre-training runs reach (implied_utilisation_plausible.high).
    rushed = plan(example_files, book, "a", {"training": {"hours_per_run": 0.06}})
    breakdown = estimate(rushed, book)
    assert "UTILISATION_IMPLAUSIBLY_HIGH" in [w.code for w in breakdown.warnings]
    result = plan_feasibility(breakdown)
    assert not result.feasible
    assert "cannot finish in the hours booked" in result.reasons[0] and "46%" in result.reasons[0]


def test_feasibility_reads_codes_as_well_as_findings(examples, book, scenarios_b) -> None:
    local = scenarios_b[LOCAL_CARD]
    run = evaluate(local.params, book)
    assert feasibility(local.params, book, run, local.warnings) == local.feasibility
    assert feasibility(local.params, book, run, []).feasible


# ---------------------------------------------------------------- the verdict and summary


def test_a_plan_that_does_not_fit_gets_no_pay_back_verdict(example_files, book) -> None:
    on_a_4090 = plan(example_files, book, "b", {"training": ON_ONE_4090}, drop_rate=True)
    summary = summarise(estimate(on_a_4090, book))
    assert summary["verdict"]["code"] == "cannot_run_as_specified"
    assert "pays back" not in summary["verdict"]["sentence"]
    assert summary["verdict"]["sentence"].startswith("The plan cannot run as specified: the model does not fit")
    assert summary["feasibility"]["feasible"] is False
    # The audit's order: memory first; the plan's 9 h per run on one card is a second reason.
    assert "does not fit its GPUs" in summary["feasibility"]["reasons"][0]
    assert "; ".join(summary["feasibility"]["reasons"]) in summary["verdict"]["sentence"]


def test_a_plan_that_runs_keeps_its_verdict(figures_b) -> None:
    assert figures_b.summary["feasibility"] == {"feasible": True, "reasons": []}
    assert figures_b.summary["verdict"]["code"] == "pays_back"


# ---------------------------------------------------------------- the tables


def test_the_notebook_scenario_table_marks_the_plans_that_cannot_run(examples, book) -> None:
    table = tables.scenarios_table(compare_scenarios(examples["b"], book), book)
    shown = table.formatted().set_index("Scenario")["Runs as specified"]
    assert shown[LOCAL_CARD].startswith("cannot run as specified: the model does not fit its GPUs")
    assert shown[API_SCENARIO].startswith("cannot run as specified: the serving cannot carry its load")
    assert (shown.drop([LOCAL_CARD, API_SCENARIO]) == "yes").all()
    # The note names the cheapest that can run (test_an_infeasible_scenario_is_never_the_cheapest
    # checks it is the lowest of the four): the plan as filed moved to spot H200s, which the price
    # book rents below on-demand; never the local card, whose figures are lower still.
    assert table.note.startswith("Lowest cost of ownership among the 4 that can run as specified: ")
    assert LOCAL_CARD not in table.note and "H200 on neocloud spot" in table.note
    assert "cannot run as specified" in repr(table)


def scenarios_html(page: str) -> str:
    section = page.split('<section id="scenarios"', 1)[1].split("</section>", 1)[0]
    return html.unescape(re.sub(r"<[^>]+>", " ", section))


def test_the_client_document_marks_the_plans_that_cannot_run(figures_b) -> None:
    text = " ".join(scenarios_html(client_document(figures_b)).split())
    local = text.split(LOCAL_CARD, 1)[1].split("USD", 1)[0]
    assert "This plan cannot run as specified: the model does not fit its GPUs" in local
    api = text.split(API_SCENARIO, 1)[1].split("USD", 1)[0]
    assert "This plan cannot run as specified: the serving cannot carry its load" in api
    assert text.count("cannot run as specified") == 2
    note = text.split("Lowest cost of ownership", 1)[1]
    assert "H200 on neocloud spot" in note and LOCAL_CARD not in note


def test_the_workbook_marks_the_plans_that_cannot_run(figures_b, tmp_path) -> None:
    path = tmp_path / "report.xlsx"
    write_workbook(path, figures_b)
    sheet = openpyxl.load_workbook(path, data_only=True)["Scenarios"]
    header = [cell.value for cell in sheet[1]]
    column = header.index("Runs as specified")
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]}
    assert rows[LOCAL_CARD][column].startswith("cannot run as specified: the model does not fit its GPUs")
    assert rows[API_SCENARIO][column].startswith("cannot run as specified: the serving cannot carry its load")
    assert rows[BASE_PLAN_NAME][column] == "yes"
    [note] = [name for name in rows if name.startswith("Lowest cost of ownership")]
    assert "H200 on neocloud spot" in note and LOCAL_CARD not in note
