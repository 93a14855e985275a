"""The workshop guide (docs/workshop.md) cannot drift from the model.

Every exercise in the guide carries a fenced block tagged ``yaml exercise``: the client it
starts from, the parameter change (dotted key paths of the client schema), and the figures
before and after the change. This test applies each change through the same loader the
notebooks use and checks every stated figure against the engine, and that the answer's prose
quotes the same figures. It also checks the session plan: 60–90 minutes, every notebook used.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.loading import params_from_mapping, project_root, read_yaml
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.schema import Params

GUIDE = project_root() / "docs" / "workshop.md"
NOTEBOOKS = ("01_compute", "02_dataset", "03_eval", "04_maintenance", "05_roi")
EXERCISE_FENCE = re.compile(r"^```yaml exercise\n(.*?)^```", re.M | re.S)
ANSWER_START = re.compile(r"<summary>\s*Answer", re.I)
PLAN_ROW = re.compile(r"^\|\s*(\d+)\s*\|\s*(\d+)\s*\|(.*)\|\s*$", re.M)

USD_TOLERANCE = 0.5
"""A figure in whole dollars (or months) matches the engine to the nearest unit."""
FRACTION_TOLERANCE = 0.005
"""A figure written with decimals matches to two decimal places."""


@dataclass(frozen=True)
class Exercise:
    """One exercise of the guide: where it starts, what changes, what the engine must say."""

    number: int
    notebook: str
    client: str
    change: dict[str, Any]
    before: dict[str, Any]
    after: dict[str, Any]
    answer_prose: str


def guide_text() -> str:
    return GUIDE.read_text(encoding="utf-8")


def parse_exercises(text: str) -> list[Exercise]:
    """Each ``yaml exercise`` block with the answer prose that precedes it (from the
    ``<summary>Answer`` line to the block)."""
    exercises = []
    for match in EXERCISE_FENCE.finditer(text):
        data = yaml.safe_load(match.group(1))
        answer_starts = list(ANSWER_START.finditer(text, 0, match.start()))
        prose = text[answer_starts[-1].end() : match.start()] if answer_starts else ""
        exercises.append(
            Exercise(
                number=int(data["exercise"]),
                notebook=str(data["notebook"]),
                client=str(data["client"]),
                change=dict(data.get("change") or {}),
                before=dict(data.get("before") or {}),
                after=dict(data["after"]),
                answer_prose=prose,
            )
        )
    return exercises


def set_path(mapping: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``a.b.c`` in nested mappings, creating the sections on the way."""
    *parents, leaf = dotted.split(".")
    for part in parents:
        mapping = mapping.setdefault(part, {})
    mapping[leaf] = value


def changed_params(client: str, change: dict[str, Any], book: PriceBook) -> Params:
    """The client's plan with ``change`` applied, validated like any client file."""
    path = project_root() / "params" / "clients" / f"{client}.yaml"
    data = read_yaml(path)
    for dotted, value in change.items():
        set_path(data, dotted, value)
    return params_from_mapping(data, f"{path} + workshop change", book)


def figures(params: Params, book: PriceBook) -> dict[str, Any]:
    """Every figure an exercise may ask about, by the name the guide uses."""
    breakdown = estimate(params, book)
    facts = breakdown.base.compute
    named: dict[str, Any] = {
        "programme_total_usd": breakdown.programme_total,
        "break_even_month": breakdown.break_even_month,
        "tco_usd": breakdown.tco,
        "compute.booked_gpu_hours": float(facts.booked_gpu_hours),
        "compute.fewest_gpus": float(facts.fewest_gpus),
        "compute.memory_per_gpu_gb": float(facts.memory_per_gpu_gb),
        "compute.usable_gb_per_gpu": float(facts.usable_gb_per_gpu),
        "compute.implied_utilisation": float(facts.implied_utilisation),
        "compute.rate_usd_per_gpu_hour": float(facts.rate_usd_per_gpu_hour),
        "serving_usd_per_1m_tokens": float(breakdown.base.serving.usd_per_1m_tokens),
        "alternative_usd_per_month": float(breakdown.base.alternative_monthly),
    }
    named |= {f"areas_usd.{area}": value for area, value in breakdown.areas_usd.items()}
    named |= {f"ongoing_monthly_usd.{name}": value for name, value in breakdown.ongoing_monthly_usd.items()}
    named |= {f"maintenance_quarterly_usd.{k}": float(v) for k, v in breakdown.base.maintenance_quarterly.items()}
    return named


def matches(expected: Any, actual: Any) -> bool:
    """Whole numbers to the unit, decimals to two places; ``null`` means "none" (never)."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) or not isinstance(expected, int | float):
        return expected == actual
    tolerance = USD_TOLERANCE if isinstance(expected, int) else FRACTION_TOLERANCE
    return math.isfinite(actual) and abs(actual - expected) <= tolerance


def spelled(expected: Any) -> str:
    """How the answer's prose writes a figure: ``89,819``, ``8,787.50``, ``never``."""
    if expected is None:
        return "never"
    if isinstance(expected, int):
        return f"{expected:,}"
    return f"{expected:,.2f}"


EXERCISES = parse_exercises(guide_text()) if GUIDE.exists() else []


def test_guide_has_exercises_for_every_notebook() -> None:
    assert GUIDE.exists(), f"{GUIDE} is missing"
    assert len(EXERCISES) >= 5
    assert sorted(e.number for e in EXERCISES) == list(range(1, len(EXERCISES) + 1)), "exercises numbered 1..n"
    assert {e.notebook for e in EXERCISES} == set(NOTEBOOKS)
    assert all(e.change for e in EXERCISES), "every exercise changes a parameter"


def test_session_plan_lasts_60_to_90_minutes() -> None:
    """The plan table's rows (| start minute | minutes | ... |) are contiguous and sum to 60–90."""
    rows = [(int(start), int(minutes)) for start, minutes, _ in PLAN_ROW.findall(guide_text())]
    assert rows, "the session plan table is missing"
    for (start, minutes), (next_start, _) in itertools.pairwise(rows):
        assert start + minutes == next_start, f"the plan jumps at minute {start}"
    total = sum(minutes for _, minutes in rows)
    assert 60 <= total <= 90, f"the session lasts {total} minutes"


def test_guide_names_the_notebooks_that_exist() -> None:
    for notebook in NOTEBOOKS:
        assert f"notebooks/{notebook}.ipynb" in guide_text()
        assert (project_root() / "notebooks" / f"{notebook}.ipynb").is_file(), f"{notebook} does not exist"


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: f"exercise-{e.number}")
def test_exercise_answers_match_the_engine(exercise: Exercise, book: PriceBook) -> None:
    before = figures(changed_params(exercise.client, {}, book), book)
    after = figures(changed_params(exercise.client, exercise.change, book), book)
    for checked, actual_figures in (("before", before), ("after", after)):
        for name, expected in getattr(exercise, checked).items():
            assert name in actual_figures, f"exercise {exercise.number}: unknown figure {name!r}"
            actual = actual_figures[name]
            assert matches(expected, actual), (
                f"exercise {exercise.number} {checked}: {name} is {actual}, not {expected}"
            )


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: f"exercise-{e.number}")
def test_exercise_change_moves_every_answer(exercise: Exercise) -> None:
    """A figure asked "after" and stated "before" differs: the exercise shows an effect."""
    for name, expected in exercise.after.items():
        if name in exercise.before:
            assert exercise.before[name] != expected, f"exercise {exercise.number}: {name} does not change"


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: f"exercise-{e.number}")
def test_answer_prose_quotes_the_checked_figures(exercise: Exercise) -> None:
    prose = exercise.answer_prose
    assert prose.strip(), f"exercise {exercise.number} has no written answer"
    for name, expected in exercise.after.items():
        assert spelled(expected) in prose, f"exercise {exercise.number}: the answer does not say {name} = {expected}"


def test_parser_reads_a_block(tmp_path: Path) -> None:
    """The parser itself: a block after an answer summary, with a null break-even."""
    text = (
        "<details><summary>Answer</summary>\nIt never pays back; the total is 1,234.\n\n"
        "```yaml exercise\nexercise: 1\nnotebook: 05_roi\nclient: example_a\n"
        "change: {alternative.kind: none}\nafter: {break_even_month: null, programme_total_usd: 1234}\n```\n"
    )
    (exercise,) = parse_exercises(text)
    assert exercise.change == {"alternative.kind": "none"}
    assert exercise.after == {"break_even_month": None, "programme_total_usd": 1234}
    assert "never" in exercise.answer_prose and "1,234" in exercise.answer_prose
    assert matches(None, None) and not matches(5, None) and matches(1234, 1234.4) and not matches(1234, 1235)
    assert matches(0.27, 0.2712) and not matches(0.27, 0.28)
