"""A scenario whose figures the model cannot produce is refused in one line naming the
client file and the scenario, from every command that costs it (before, ``estimate`` said
``<parameters>``: the summary compared the scenarios without the plan's file)."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from test_validate_estimate_agree import plan_with, run  # tests/ is on the path

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


def test_estimate_names_the_file_and_the_scenario(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(overflowing_scenario(), sort_keys=False), encoding="utf-8")
    status, out, lines = run("estimate", str(path), "--json")
    assert status == 1 and out == "" and len(lines) == 1, lines
    assert lines[0].startswith(f"error: {path}: scenarios.0 (Big): training: "), lines[0]
    assert "<parameters>" not in lines[0] and "1.34e+15" in lines[0], lines[0]


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
