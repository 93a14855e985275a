"""`advise` (issue 25 item 1): the cheapest configuration that fits, meets the deadline and the
budget at the confidence; the Pareto set; why each rejected family failed; exit codes."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import numpy as np
import pytest

from ftcost_helpers.cli import main
from ftcost_helpers.engine.advise import (
    Constraints,
    acceptable,
    advise,
    compute_cost_draws,
    configurations,
    dominated,
    utilisation_class,
)
from ftcost_helpers.engine.loading import project_root as root
from ftcost_helpers.engine.overrides import load_plan
from ftcost_helpers.engine.uncertainty import simulate

EXAMPLE_B = root() / "params" / "clients" / "example_b.yaml"
BUDGET, DEADLINE = 125_000.0, dt.date(2026, 7, 1)


@pytest.fixture(scope="module")
def searched(book):
    params = load_plan(EXAMPLE_B, book)
    simulation = simulate(params, book, draws=2_000)
    return params, simulation, advise(params, book, simulation, Constraints(BUDGET, DEADLINE))


def test_dominated_by_hand():
    # (cost, time, risk): A (1, 5, 1) and B (2, 1, 1) trade cost for time; C (2, 5, 1) is worse
    # than A on cost and no better elsewhere; D (1, 5, 1) equals A (neither dominates the other).
    scores = np.array([[1, 5, 1], [2, 1, 1], [2, 5, 1], [1, 5, 1]], dtype=float)
    assert dominated(scores).tolist() == [False, False, True, False]


def test_the_recommendation_meets_the_constraints_and_is_the_cheapest_that_does(searched):
    params, _, advice = searched
    best = advice.recommended
    assert best is not None and best.verdict == "fits"
    assert best.cost_at_confidence <= BUDGET
    assert params.start_date + dt.timedelta(hours=best.wall_clock_hours(advice.runs)) <= DEADLINE
    good = [item for item in advice.evaluated if acceptable(item, params, advice.constraints, advice.runs) is None]
    assert best.cost_at_confidence == min(item.cost_at_confidence for item in good)


def test_seventy_billion_on_one_24_gb_card_is_never_recommended(searched):
    # Example B's 70B in 4-bit NF4 weighs about 70e9 × 0.516 B ≈ 36 GB before anything else:
    # more than a 24 GB card holds, whatever the method.
    _, _, advice = searched
    one_card = [i for i in advice.evaluated if i.configuration.gpu == "rtx_4090" and i.configuration.gpus_per_run == 1]
    assert one_card and all(item.verdict == "does not fit" for item in one_card)
    assert not (
        advice.recommended.configuration.gpu == "rtx_4090" and advice.recommended.configuration.gpus_per_run == 1
    )


def test_the_pareto_set_holds_no_dominated_acceptable_point(searched):
    params, _, advice = searched
    good = [item for item in advice.evaluated if acceptable(item, params, advice.constraints, advice.runs) is None]
    scores = lambda item: (item.cost_at_confidence, item.wall_clock_hours(advice.runs), item.risk)  # noqa: E731
    for point in advice.pareto:
        assert not any(
            all(a <= b for a, b in zip(scores(other), scores(point), strict=True)) and scores(other) != scores(point)
            for other in good
        )
    assert advice.recommended in advice.pareto  # the cheapest acceptable point is never dominated on cost


def test_every_family_without_an_acceptable_configuration_says_why(searched):
    params, _, advice = searched
    families = {item.configuration.family for item in advice.evaluated}
    accepted = {
        item.configuration.family
        for item in advice.evaluated
        if acceptable(item, params, advice.constraints, advice.runs) is None
    }
    assert set(advice.rejected) == families - accepted
    assert set(advice.rejected.values()) <= {
        "does not fit",
        "fits only borderline",
        "too slow",
        "over budget",
        "time not known",
    }


def test_compute_cost_by_hand_for_one_draw(book, searched):
    # Example B has no failed runs or sweep: compute = GPUs × hours × (u_base ÷ u_draw) × runs × rate.
    params, simulation, _ = searched
    configuration = next(c for c in configurations(params, book, Constraints()) if c.gpu == "h100_sxm")
    hours = 10.0
    cost = compute_cost_draws(params, book, simulation, [configuration], np.array([hours]))[0]
    band = getattr(book.utilisation_defaults, utilisation_class(params, configuration.method))
    base = (band.low + band.high) / 2
    u = simulation.inputs[f"pricebook.utilisation_defaults.{utilisation_class(params, configuration.method)}"]
    rate = simulation.inputs[f"pricebook.gpu_rates_usd_per_gpu_hour.h100_sxm.{configuration.tier}"]
    runs = simulation.inputs["training.runs"]
    expected = configuration.gpus_per_run * hours * (base / u) * runs * rate
    assert cost == pytest.approx(expected)


def test_utilisation_class():
    # Example B's model has 70.6 billion parameters: "large" (20B and more).
    from ftcost_helpers.engine.loading import load_price_book

    params = load_plan(EXAMPLE_B, load_price_book())
    assert utilisation_class(params, "qlora") == "adapters_large"
    assert utilisation_class(params, "full_sft") == "full_large"


def test_exit_codes_and_json(capsys):
    assert main(["advise", str(EXAMPLE_B), "--budget", str(BUDGET), "--deadline", "2026-07-01", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["recommended"]["fit"] == "fits" and out["recommended"]["cost_at_confidence_usd"] <= BUDGET
    assert main(["advise", str(EXAMPLE_B), "--budget", "1000", "--gpus", "h100_sxm"]) == 1
    assert "No configuration meets them." in capsys.readouterr().out
    assert main(["advise", str(EXAMPLE_B), "--gpus", "h100,h200"]) == 2
    err = capsys.readouterr().err
    assert "--gpus" in err and "h100" in err and err.count("\n") == 1
    assert main(["advise", str(EXAMPLE_B), "--confidence", "1.5"]) == 2


def test_the_recommendation_written_as_a_scenario_validates(tmp_path, capsys):
    copy = tmp_path / "b.yaml"
    shutil.copy(EXAMPLE_B, copy)
    args = ["advise", str(copy), "--budget", str(BUDGET), "--gpus", "h100_sxm,h200", "--write-scenario"]
    assert main(args) == 0
    assert "Recommended by advise" in copy.read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["validate", str(copy)]) == 0


def test_fp8_only_where_the_gpu_has_an_fp8_peak(book):
    params = load_plan(EXAMPLE_B, book)
    space = configurations(params, book, Constraints())
    fp8_gpus = {c.gpu for c in space if c.precision == "fp8"}
    assert fp8_gpus and all(book.gpus[gpu].fp8_tflops for gpu in fp8_gpus)
    assert not any(c.precision == "fp8" and c.method == "qlora" for c in space)  # a 4-bit base is not FP8


def test_a_managed_service_is_an_option_whose_time_is_not_known(book):
    # Example A (Qwen2.5-7B, LoRA): Fireworks prices LoRA jobs up to 16B, so the search holds
    # one managed option; its cost is the plan's programme with the jobs in place of the GPUs.
    from ftcost_helpers.engine.advise import managed_configurations

    params = load_plan(root() / "params" / "clients" / "example_a.yaml", book)
    options = managed_configurations(params, book, Constraints())
    assert [(c.gpu, c.method) for c in options] == [("fireworks", "lora")]
    simulation = simulate(params, book, draws=1_000)
    free = advise(params, book, simulation, Constraints())
    item = next(i for i in free.evaluated if i.configuration.provider == "managed")
    assert item.verdict == "fits" and item.as_dict(free.runs)["wall_clock_days"] is None
    assert item not in free.pareto  # no time to place it on
    held = advise(params, book, simulation, Constraints(deadline=dt.date(2026, 12, 31)))
    assert held.rejected[("lora", "fireworks", "managed")] == "time not known"
    assert managed_configurations(params, book, Constraints(gpus=("h100_sxm",))) == []
