"""``validate`` and ``estimate`` agree on every numeric key of a client file at its largest
value and just above it (the companion of tests/test_validate_estimate_agree.py, which walks
the values near zero).

A key's largest value is its own ceiling (:data:`~ftcost_helpers.engine.schema.KEY_MAXIMA`:
168 hours a week, an hourly rate of 1e7...) or the schema's for every amount (1e12) or count
(1e9). At it, both commands exit 0 and the estimate is whole (finite figures); just above it,
both exit 1 with the same one line ``error: FILE: KEY: problem``. Before the ceilings, a single
key at 1e12 (engineer-weeks, hours a week, labour staff and rate, retrains a quarter...) passed
``validate`` and was refused by ``estimate``, its line past the model's 1e15.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml
from test_validate_estimate_agree import KEYS, plan_with, run  # tests/ is on the path

from ftcost_helpers.cli import non_finite_keys
from ftcost_helpers.engine.ceilings import KEY_MAXIMA, MAX_HOURLY_RATE, MAX_HOURS_PER_WEEK
from ftcost_helpers.engine.loading import ParamsError, params_from_mapping
from ftcost_helpers.engine.quantities import MAX_AMOUNT, MAX_COUNT


def _accepted(key: str, value: float) -> bool:
    try:
        params_from_mapping(plan_with(key, value))
    except ParamsError:
        return False
    return True


def ceiling(key: str) -> tuple[float, float] | None:
    """(largest value, the next value above it) of ``key``: its own ceiling, else the
    schema's for an amount or a count; None for a key bounded otherwise (a share, months)."""
    if key in KEY_MAXIMA:
        return KEY_MAXIMA[key], math.nextafter(KEY_MAXIMA[key], math.inf)
    if _accepted(key, MAX_AMOUNT):
        return MAX_AMOUNT, math.nextafter(MAX_AMOUNT, math.inf)
    if _accepted(key, MAX_COUNT):
        return MAX_COUNT, MAX_COUNT + 1
    return None


CEILINGS = {key: found for key in KEYS if (found := ceiling(key)) is not None}


def test_the_ceilings_cover_the_keys_that_broke() -> None:
    # each of these, alone at 1e12, passed validate and was refused by estimate
    broke = {
        "training.managed.price_usd_per_1m_tokens",
        "training.ownership.kwh_price_usd",
        "training.rl.generation_tokens",
        "dataset.annotation_minutes_per_pair",
        "dataset.annotation_rate_usd_per_hour",
        "maintenance.retrains_per_quarter",
        "maintenance.retrain_fraction_of_first_compute",
        "maintenance.migrations_per_year",
        "engineering.engineer_weeks",
        "engineering.hours_per_week",
        "alternative.labour.staff",
        "alternative.labour.loaded_rate_usd_per_hour",
        "calibration.hours_per_million_tokens",
    }
    assert broke <= set(KEY_MAXIMA) and all(KEY_MAXIMA[key] < MAX_AMOUNT for key in broke)
    assert set(KEY_MAXIMA) <= set(CEILINGS) and len(CEILINGS) > 120


def test_the_closed_products_stay_below_the_guard() -> None:
    # engineering: 500,000 weeks × 168 hours × 1e7 an hour = 8.4e14 < 1e15, the model's guard
    assert KEY_MAXIMA["engineering.engineer_weeks"] * MAX_HOURS_PER_WEEK * MAX_HOURLY_RATE == pytest.approx(8.4e14)
    # labour: 100,000 staff × 744 hours (31 × 24) × a share of 1 × 1e7 an hour = 7.44e14 < 1e15
    labour = KEY_MAXIMA["alternative.labour.staff"] * KEY_MAXIMA["alternative.labour.hours_per_staff_per_month"]
    assert labour * MAX_HOURLY_RATE == pytest.approx(7.44e14)
    # migrations: 365 a year / 4 quarters × 1e12 each = 9.125e13 a quarter < 1e15
    assert KEY_MAXIMA["maintenance.migrations_per_year"] / 4 * MAX_AMOUNT == pytest.approx(9.125e13)


def _write(path: Path, key: str, value: float) -> None:
    path.write_text(yaml.safe_dump(plan_with(key, value), sort_keys=False), encoding="utf-8")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("key", sorted(CEILINGS))
def test_validate_and_estimate_agree_at_the_ceiling(key: str, tmp_path: Path) -> None:
    top, above = CEILINGS[key]
    path = tmp_path / "plan.yaml"
    _write(path, key, top)
    checked, _, check_lines = run("validate", str(path))
    estimated, out, estimate_lines = run("estimate", str(path), "--json")
    said = f"{key} = {top:g}: validate {check_lines}, estimate {estimate_lines}"
    assert checked == estimated, said
    if key in KEY_MAXIMA:  # a key's own ceiling is costed whole
        assert checked == 0, said
    if checked == 0:
        assert non_finite_keys(json.loads(out)) == [], said
    _write(path, key, above)
    checked, _, check_lines = run("validate", str(path))
    estimated, out, estimate_lines = run("estimate", str(path), "--json")
    said = f"{key} = {above!r}: validate {check_lines}, estimate {estimate_lines}"
    assert checked == estimated == 1 and out == "", said
    errors = [line for line in check_lines if line.startswith("error: ")]
    assert errors == [line for line in estimate_lines if line.startswith("error: ")], said
    assert len(errors) == 1 and errors[0].startswith(f"error: {path}: {key}: "), said


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("engineering.hours_per_week", 169, "must be at most 168 (the hours in a week), got 169"),
        ("alternative.labour.loaded_rate_usd_per_hour", 2e7, "must be at most 10,000,000 (an hourly rate), got 2e+07"),
        ("maintenance.retrains_per_quarter", {"low": 1, "high": 93}, "must be at most 92 (one a day), got 93"),
    ],
)
def test_above_a_ceiling_is_one_line(key: str, value: object, says: str, tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    plan = plan_with(key, 1)
    *parents, last = key.split(".")
    section = plan
    for part in parents:
        section = section[part]
    section[last] = value
    path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    for command in ("validate", "estimate"):
        status, out, lines = run(command, str(path))
        assert status == 1 and out == "" and lines == [f"error: {path}: {key}: {says}"], lines


@pytest.mark.parametrize(
    ("keys", "item", "expected"),
    [
        # 500,000 weeks × 168 hours × 1e7 an hour = 8.4e14, below the model's 1e15: costed
        (
            ("engineering.engineer_weeks", "engineering.hours_per_week", "engineering.rate_usd_per_hour"),
            "MLOps and engineering (weeks × hours × rate)",
            8.4e14,
        ),
    ],
)
def test_a_product_with_every_factor_at_its_ceiling_is_costed(
    keys: tuple[str, ...], item: str, expected: float, tmp_path: Path
) -> None:
    plan = plan_with(keys[0], KEY_MAXIMA[keys[0]])
    for key in keys[1:]:
        section, last = key.split(".")
        plan[section][last] = KEY_MAXIMA[key]
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    assert run("validate", str(path))[0] == 0
    status, out, lines = run("estimate", str(path), "--json")
    assert status == 0 and non_finite_keys(json.loads(out)) == [], lines
    assert json.loads(out)["areas_usd"]["engineering"] == pytest.approx(expected)  # example A: no other_usd


def test_the_labour_alternative_at_every_ceiling_is_costed(tmp_path: Path) -> None:
    # 100,000 staff × 744 hours × a share of 1 × 1e7 an hour = 7.44e14 a month, below 1e15
    plan = plan_with("alternative.labour.staff", KEY_MAXIMA["alternative.labour.staff"])
    plan["alternative"]["labour"].update(
        hours_per_staff_per_month=KEY_MAXIMA["alternative.labour.hours_per_staff_per_month"],
        time_saved_fraction=1,
        loaded_rate_usd_per_hour=KEY_MAXIMA["alternative.labour.loaded_rate_usd_per_hour"],
    )
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    assert run("validate", str(path))[0] == 0
    status, out, lines = run("estimate", str(path), "--json")
    assert status == 0 and non_finite_keys(json.loads(out)) == [], lines
    assert json.loads(out)["alternative_usd_per_month"] == pytest.approx(7.44e14)
