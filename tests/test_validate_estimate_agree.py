"""``validate`` and ``estimate`` agree on every numeric key of a client file at its boundary
values (the schema is the one place that refuses a value): 0, the smallest amount above 0
the schema accepts (:data:`~ftcost_helpers.engine.quantities.MIN_AMOUNT`, 1e-6), a tenth of
it, the smallest double (5e-324, subnormal) and −1.

A value ``validate`` accepts gives ``estimate --json`` exit 0 and finite figures; a value it
refuses gives exit 1 from both, in the same lines, each ``error: FILE: KEY: problem`` naming
the key (never a traceback). Before the floor, 5e-324 hours per run, parameters, utilisation,
padding efficiency, years of ownership or link speed, and 1e-300 tokens per second, passed
``validate`` and were refused by ``estimate`` (its arithmetic overflowed).

The keys are read from the schema itself (every field of :class:`Params` and the sections
under it that takes a number or a range), each set over example A in the section it needs
(a managed service, owned GPUs, RL, a labour or RAG alternative, serverless serving, a
pilot's calibration), so a key added later is walked too.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import types
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel
from test_calibration_cli import BLOCK as CALIBRATION  # a pilot's calibration of example A (tests/ is on the path)
from test_rl_work import GRPO  # a small GRPO run

from ftcost_helpers.cli import main, non_finite_keys
from ftcost_helpers.engine.loading import project_root, read_yaml
from ftcost_helpers.engine.quantities import MIN_AMOUNT, Range
from ftcost_helpers.engine.schema import Params

EXAMPLE_A = project_root() / "params" / "clients" / "example_a.yaml"

BOUNDARIES = (0, MIN_AMOUNT, MIN_AMOUNT / 10, 5e-324, -1)
"""0; the smallest amount above 0 accepted; below it (1e-7, and the smallest double); negative."""

LABOUR = {
    "kind": "labour",
    "labour": {
        "staff": 60,
        "hours_per_staff_per_month": 160,
        "time_saved_fraction": 0.1,
        "loaded_rate_usd_per_hour": 85,
    },
}
SERVERLESS = ("serving.tokens_million_per_month", "serving.price_usd_per_1m_tokens", "serving.batch_discount_fraction")


def _types(annotation: Any) -> list[Any]:
    """The types an annotation admits (through ``Annotated`` and unions)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _types(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for arg in typing.get_args(annotation) for t in _types(arg)]
    return [annotation]


def numeric_keys(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[str]:
    """Dotted paths of every field under ``model`` that takes a number or a range."""
    found = []
    for name, field in model.model_fields.items():
        admitted = _types(field.annotation)
        if any(t in (int, float, Range) for t in admitted):
            found.append(".".join((*prefix, name)))
        for t in admitted:
            if isinstance(t, type) and issubclass(t, BaseModel) and t is not Range and t is not model:
                found += numeric_keys(t, (*prefix, name))
    return found


KEYS = sorted(set(numeric_keys(Params)))


def plan_with(key: str, value: float) -> dict[str, Any]:
    """Example A (no scenarios, 20 draws) with the section ``key`` needs, and ``key`` = ``value``."""
    plan = read_yaml(EXAMPLE_A)
    plan.pop("scenarios")
    plan["uncertainty"] = {"draws": 20, "seed": 1}
    training = plan["training"]
    if key.startswith("training.managed."):
        training.update(provider="managed", managed={"service": "fireworks"})
    elif key.startswith("training.ownership."):
        training["ownership"] = {"costed": True}
    elif key.startswith("training.rl."):
        training.update(method="rl", trainable_fraction=None, rl=copy.deepcopy(GRPO))
    elif key.startswith("alternative.labour."):
        plan["alternative"] = copy.deepcopy(LABOUR)
    elif key.startswith("alternative.rag."):
        plan["alternative"] = {"kind": "rag", "rag": {"usd_per_month": 15000}}
    elif key.startswith("calibration."):
        plan["calibration"] = copy.deepcopy(CALIBRATION)
    elif key in SERVERLESS:
        plan["serving"].update(shape="serverless", service="fireworks", tokens_million_per_month=440)
    *parents, last = key.split(".")
    section = plan
    for part in parents:
        section = section.setdefault(part, {})
    section[last] = int(value) if float(value).is_integer() else value
    return plan


def run(*args: str) -> tuple[int, str, list[str]]:
    """(exit status, stdout, stderr lines) of the command line, in process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(args))
    return status, out.getvalue(), err.getvalue().splitlines()


def test_the_walk_covers_the_keys_that_broke() -> None:
    # the keys the near-zero values reached the engine through, before the schema's floor
    broke = {
        "base_model.parameters_billion",
        "training.hours_per_run",
        "training.utilisation",
        "training.padding_efficiency",
        "training.ownership.years",
        "training.interconnect.intra_node_gbps",
        "serving.tokens_per_second",
    }
    assert broke <= set(KEYS)
    assert len(KEYS) > 150


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("key", KEYS)
def test_validate_and_estimate_agree_at_the_boundaries(key: str, tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    for value in BOUNDARIES:
        path.write_text(yaml.safe_dump(plan_with(key, value), sort_keys=False), encoding="utf-8")
        checked, _, check_lines = run("validate", str(path))
        estimated, out, estimate_lines = run("estimate", str(path), "--json")
        said = f"{key} = {value:g}: validate {check_lines}, estimate {estimate_lines}"
        assert checked in (0, 1) and estimated == checked, said
        if checked == 0:
            assert non_finite_keys(json.loads(out)) == [], said
            continue
        errors = [line for line in check_lines if line.startswith("error: ")]
        assert errors == [line for line in estimate_lines if line.startswith("error: ")], said
        assert errors and all(line.startswith(f"error: {path}: ") for line in errors), said
        if value < 0 or 0 < value < MIN_AMOUNT:  # the value itself is refused, by its key
            assert any(f": {key}: " in line for line in errors), said


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        # 5e-324 hours a run, 8 GPUs: 4e-323 GPU-hours could not carry the run's FLOPs (infinite utilisation)
        ("training.hours_per_run", 5e-324, "training.hours_per_run: must be at least 1e-06 when above 0"),
        ("serving.tokens_per_second", 1e-300, "serving.tokens_per_second: must be at least 1e-06 when above 0"),
        ("training.padding_efficiency", 1e-7, "training.padding_efficiency: must be at least 1e-06 when above 0"),
        ("base_model.parameters_billion", 5e-324, "got 4.94066e-324"),
    ],
)
def test_a_value_nearer_zero_than_the_floor_is_one_line(key: str, value: float, says: str, tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan_with(key, value), sort_keys=False), encoding="utf-8")
    for command in ("validate", "estimate"):
        status, out, lines = run(command, str(path))
        assert status == 1 and out == "" and len(lines) == 1, lines
        assert lines[0].startswith(f"error: {path}: {key}") and says in lines[0], lines[0]


def test_the_floor_itself_is_costed(tmp_path: Path) -> None:
    # The smallest throughput accepted, 1e-6 tokens a second a GPU, is estimated: the figures
    # are finite (before the floor, 1e-300 was accepted and overflowed the serving cost).
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan_with("serving.tokens_per_second", MIN_AMOUNT)), encoding="utf-8")
    status, out, _ = run("estimate", str(path), "--json")
    assert status == 0 and non_finite_keys(json.loads(out)) == []


def test_a_figure_derived_below_the_floor_is_no_input(tmp_path: Path) -> None:
    """The floor holds inputs, not what the engine derives from them: hours per run at the
    floor, scaled by a faster GPU's physics (a scenario), fall below it and are costed."""
    from ftcost_helpers.engine.quantities import times

    # 1e-6–2e-6 hours × 0.5 = 5e-7–1e-6: a range, not refused
    half = times(Range(low=MIN_AMOUNT, high=2 * MIN_AMOUNT), 0.5)
    assert isinstance(half, Range) and (half.low, half.high) == (MIN_AMOUNT / 2, MIN_AMOUNT)
    plan = plan_with("training.hours_per_run", MIN_AMOUNT)
    plan["scenarios"] = [{"name": "B200", "overrides": {"training": {"gpu": "b200", "tier": "neocloud_on_demand"}}}]
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    assert run("validate", str(path))[0] == 0
    status, out, lines = run("estimate", str(path), "--json")
    assert status == 0, lines
    assert [row["name"] for row in json.loads(out)["scenarios"]][1:] == ["B200"]


def test_zero_where_only_above_zero_will_do_is_not_called_negative(tmp_path: Path) -> None:
    plan = plan_with("training.rate_usd_per_gpu_hour", 2)  # an own GPU has no price-book rate
    plan["training"]["gpu"] = {"label": "Lab card", "memory_gb": 80, "bf16_tflops": 900, "memory_bandwidth_gbps": 0}
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    status, _, lines = run("validate", str(path))
    assert status == 1 and lines == [
        f"error: {path}: training.gpu.memory_bandwidth_gbps: must be greater than 0, got 0"
    ]
