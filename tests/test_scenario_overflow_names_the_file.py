"""A plan or a scenario whose figures the model cannot produce, every input within its bound
(16 GPUs at USD 1e12 a GPU-hour: the product passes the model's 1e15), is refused in one line
naming the client file (and the scenario), by ``validate`` and ``estimate`` alike. Before,
``estimate`` said ``<parameters>`` (the summary compared the scenarios without the plan's
file), and ``validate`` accepted the plan."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from test_validate_estimate_agree import plan_with, run  # tests/ is on the path

from ftcost_helpers.cli import non_finite_keys
from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.loading import load_price_book
from ftcost_helpers.engine.model.guards import FigureOutOfRange
from ftcost_helpers.engine.overrides import load_plan
from ftcost_helpers.engine.summary import summarise
from ftcost_helpers.engine.uncertainty import simulate


def overflowing_scenario() -> dict:
    """Example A (runs 10–14–20, 6 hours a run) with a scenario of 16 GPUs at USD 1e12 an hour:
    16 × 6 h × 14 runs × 1e12 = 1.344e15 for its base case, past the model's 1e15."""
    plan = copy.deepcopy(plan_with("uncertainty.seed", 1))
    overrides = {"training": {"gpus_per_run": 16, "rate_usd_per_gpu_hour": 1e12}}
    plan["scenarios"] = [{"name": "Big", "overrides": overrides}]
    return plan


def test_validate_and_estimate_name_the_file_and_the_scenario(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(overflowing_scenario(), sort_keys=False), encoding="utf-8")
    said = []
    for command in ("validate", "estimate"):
        status, out, lines = run(command, str(path))
        assert status == 1 and out == "" and len(lines) == 1, lines
        assert lines[0].startswith(f"error: {path}: scenarios.0 (Big): training: "), lines[0]
        assert "<parameters>" not in lines[0] and "1.34e+15" in lines[0], lines[0]
        said.append(lines[0])
    assert said[0] == said[1]


@pytest.mark.parametrize(
    ("rate", "shown"),
    [
        # base case: 16 GPUs × 6 h × 14 runs × 1e12 = 1.344e15
        (1e12, "1.34e+15"),
        # base case 16 × 6 × 14 × 6e11 = 8.064e14 is costed; the high corner, 20 runs, is not:
        # 16 × 6 × 20 × 6e11 = 1.152e15
        (6e11, "1.15e+15"),
    ],
)
def test_a_plan_past_the_limit_is_refused_by_both(rate: float, shown: str, tmp_path: Path) -> None:
    plan = plan_with("uncertainty.seed", 1)
    plan["training"].update(gpus_per_run=16, rate_usd_per_gpu_hour=rate)
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    said = []
    for command in ("validate", "estimate"):
        status, out, lines = run(command, str(path))
        assert status == 1 and out == "" and len(lines) == 1, lines
        assert lines[0].startswith(f"error: {path}: training: 'Training runs"), lines[0]
        assert f"USD {shown}, past the USD 1e+15" in lines[0], lines[0]
        said.append(lines[0])
    assert said[0] == said[1]


def test_just_below_the_limit_both_cost_it(tmp_path: Path) -> None:
    # the high corner 16 × 6 h × 20 runs × 5e11 = 9.6e14, below 1e15: a whole estimate
    plan = plan_with("uncertainty.seed", 1)
    plan["training"].update(gpus_per_run=16, rate_usd_per_gpu_hour=5e11)
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    assert run("validate", str(path))[0] == 0
    status, out, lines = run("estimate", str(path), "--json")
    assert status == 0 and non_finite_keys(json.loads(out)) == [], lines
    assert json.loads(out)["areas_usd"]["compute"] == pytest.approx(16 * 6 * 14 * 5e11, rel=1e-6)


def test_summarise_names_the_source(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(overflowing_scenario(), sort_keys=False), encoding="utf-8")
    book = load_price_book()
    params = load_plan(path, book)
    breakdown = estimate(params, book, source=path)
    simulation = simulate(params, book, source=path)
    try:
        summarise(breakdown, simulation, source=path)
    except FigureOutOfRange as error:
        assert error.file == str(path) and error.key == "scenarios.0 (Big): training", str(error)
    else:
        raise AssertionError("the scenario's 1.344e15 was costed")
