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

from ftcost_helpers.engine.breakdown import Breakdown, estimate
from ftcost_helpers.engine.fit import plan_fit
from ftcost_helpers.engine.loading import params_from_mapping, project_root, read_yaml
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.schema import Params
from ftcost_helpers.engine.sensitivity import sensitivity

GUIDE = project_root() / "docs" / "workshop.md"
NOTEBOOKS = ("01_compute", "02_dataset", "03_eval", "04_maintenance", "05_roi", "06_tracking")
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
    controls: dict[str, Any]
    """The change as made on the page: {a control's label on the screen: the value to set}."""


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
                controls=dict(data.get("controls") or {}),
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
    return figures_of(estimate(params, book))


def figures_of(breakdown: Breakdown) -> dict[str, Any]:
    """:func:`figures` of an estimate already made (a panel's)."""
    facts = breakdown.base.compute
    swings = sensitivity(breakdown.params, breakdown.book)
    top = swings.rows[0] if swings.rows else None
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
        "compute.fit": plan_fit(breakdown.params, breakdown.book, breakdown.base).verdict,
        "tornado_top": top.label if top else None,
        "tornado_top_low_usd": float(top.at_low) if top else None,
        "tornado_top_high_usd": float(top.at_high) if top else None,
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
    if isinstance(expected, str):
        return expected
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


# ---------------------------------------------------------------- the exercises on the screen

PANEL_OF = {"01_compute": "compute", "02_dataset": "dataset", "03_eval": "eval", "04_maintenance": "maintenance"}
PANEL_OF["05_roi"] = "roi"
PANEL_OF["06_tracking"] = "tracking"
PAGE_FIGURES = {
    "programme_total_usd": "Programme total",
    "tco_usd": "TCO over the horizon",
    "break_even_month": "Break-even",
    "areas_usd.compute": "Compute",
    "areas_usd.dataset": "Dataset",
    "compute.rate_usd_per_gpu_hour": "Rate",
    "compute.booked_gpu_hours": "Booked GPU-hours",
    "compute.fewest_gpus": "Fewest GPUs",
    "compute.memory_per_gpu_gb": "Memory per GPU",
    "compute.implied_utilisation": "Implied utilisation",
    "ongoing_monthly_usd.eval": "Per month",
    "ongoing_monthly_usd.maintenance": "Per month once started",
    "maintenance_quarterly_usd.Base-model migration": "Migrations per quarter",
    "ongoing_monthly_usd.serving": "Serving per month",
    "serving_usd_per_1m_tokens": "Serving per 1M tokens",
    "alternative_usd_per_month": "Alternative per month",
}
"""Where each figure shows on its page: the headline entry of the panel (its label)."""
ON_THE_PAGE = (2, 9)
"""Exercises every one of whose figures must be read on its page (issue 26: the room could not)."""
NUMBER = re.compile(r"-?[\d,]*\.?\d+")


def _panel_for(exercise: Exercise, book: PriceBook) -> tuple[Any, Any]:
    """(panel, the charts under it) of the exercise's page for its client, as filed."""
    from ftcost_helpers.views import charts_extra, tracking_panel, widgets

    area = PANEL_OF[exercise.notebook]
    panels = {**widgets.PANELS, "tracking": tracking_panel.tracking_panel}
    panel = panels[area](changed_params(exercise.client, {}, book), book)
    following = charts_extra.Following(panel, charts_extra.FOLLOWING.get(area, ()))
    return panel, following


def _set_control(panel: Any, label: str, value: Any) -> None:
    """Set the control whose label on the screen is ``label``; a list's option by its words."""
    by_label = {widget.description: widget for widget in panel.controls.values()}
    assert label in by_label, f"no control labelled {label!r} on the page (there are: {', '.join(by_label)})"
    widget = by_label[label]
    if hasattr(widget, "options") and isinstance(value, str):
        options = dict(widget.options)
        assert value in options, f"{label!r} offers no {value!r} (it offers {', '.join(options)})"
        value = options[value]
    widget.value = value


def shown_value(text: str) -> tuple[Any, float]:
    """A headline entry read back as (number, the step it is shown to): ``USD 1,150`` →
    (1150, 1), ``3.2%`` → (0.032, 0.001), ``47.84 GB`` → (47.84, 0.01), ``month 4`` → (4, 1),
    "none within the horizon" → (None, 0)."""
    if text.startswith("none"):
        return None, 0.0
    found = NUMBER.search(text)
    assert found, f"no figure in {text!r}"
    digits = found.group().replace(",", "")
    step = 10.0 ** -len(digits.partition(".")[2])
    if text.rstrip().endswith("%"):
        return float(digits) / 100, step / 100
    return float(digits), step


def on_the_page(name: str, panel: Any, following: Any) -> tuple[Any, float]:
    """The figure ``name`` as the page shows it, (value, step), or KeyError when it does not."""
    if name in PAGE_FIGURES:
        return shown_value(panel.headline()[PAGE_FIGURES[name]])
    titles = " ".join(ax.get_title() for figure in following.figures for ax in figure.axes)
    ticks = [t.get_text().replace("\n", " ") for figure in following.figures for t in figure.axes[0].get_yticklabels()]
    if name == "compute.fit":
        return next(verdict for verdict in ("does not fit", "borderline", "fits") if f": {verdict}" in titles), 0.0
    if name == "tornado_top" and ticks:
        return ticks[-1], 0.0  # the largest swing is drawn on top
    raise KeyError(name)


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: f"exercise-{e.number}")
def test_the_change_is_made_with_the_controls_on_the_screen(exercise: Exercise, book: PriceBook) -> None:
    """The exercise names the controls of its page (their labels), and setting them there gives
    the figures the answer states: the room can do it without a client file."""
    assert exercise.controls, f"exercise {exercise.number} names no control"
    for label in exercise.controls:
        assert f"**{label}**" in guide_text(), f"exercise {exercise.number}: the text does not name **{label}**"
    panel, _following = _panel_for(exercise, book)
    for label, value in exercise.controls.items():
        _set_control(panel, label, value)
    assert panel.error is None, f"exercise {exercise.number}: the page refused the move: {panel.error}"
    moved = figures_of(panel.breakdown)
    for name, expected in exercise.after.items():
        assert matches(expected, moved[name]), f"exercise {exercise.number}: on the page {name} is {moved[name]}"


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: f"exercise-{e.number}")
def test_the_answer_is_read_on_its_page(exercise: Exercise, book: PriceBook) -> None:
    """Each figure the answer states shows on the exercise's page (its panel's headline or a
    chart under it), before and after the change; for exercises 2 and 9, every one does."""
    panel, following = _panel_for(exercise, book)
    checked = 0
    for stage, stated in (("before", exercise.before), ("after", exercise.after)):
        if stage == "after":
            for label, value in exercise.controls.items():
                _set_control(panel, label, value)
        for name, expected in stated.items():
            try:
                shown, step = on_the_page(name, panel, following)
            except KeyError:
                assert exercise.number not in ON_THE_PAGE, f"exercise {exercise.number}: {name} is not on its page"
                continue
            checked += 1
            if isinstance(expected, str) or expected is None or isinstance(shown, str) or shown is None:
                assert shown == expected, f"exercise {exercise.number} {stage}: the page shows {name} = {shown!r}"
            else:
                # The page rounds to its own step (USD to the dollar, GB to 0.01, % to 0.1), the
                # answer to its own (whole numbers to the unit, decimals to 0.01).
                stated_step = USD_TOLERANCE if isinstance(expected, int) else FRACTION_TOLERANCE
                assert abs(shown - expected) <= step / 2 + stated_step + 1e-9, (
                    f"exercise {exercise.number} {stage}: the page shows {name} = {shown}, the answer {expected}"
                )
    assert checked, f"exercise {exercise.number}: none of its figures is on its page"


def test_shown_values_are_read_back() -> None:
    assert shown_value("USD 1,150") == (1150, 1) and shown_value("47.84 GB") == (47.84, 0.01)
    assert shown_value("3.2%") == (pytest.approx(0.032), pytest.approx(0.001)) and shown_value("month 4") == (4, 1)
    assert shown_value("none within the horizon") == (None, 0.0) and shown_value("USD 2.22") == (2.22, 0.01)


def test_the_served_guide_sends_each_exercise_to_its_page_on_the_server() -> None:
    """Served by a dashboard at room-pc:8870, the guide links every exercise to its page and
    client there (not to the default 127.0.0.1:8866), names no key of a client file in its
    exercises, and keeps each answer folded in a <details>."""
    from ftcost_helpers.dashboard.pages import guide_html

    page = guide_html("http://room-pc:8870/")
    assert "127.0.0.1" not in page and ":8866" not in page
    for exercise in EXERCISES:
        link = f'href="http://room-pc:8870/voila/render/{exercise.notebook}.ipynb?client={exercise.client}"'
        assert link in page, f"exercise {exercise.number} does not link to its page"
        for key in exercise.change:
            assert key not in page, f"exercise {exercise.number} names the file's key {key} instead of a control"
    folded = re.findall(r"<details><summary>Answer</summary>(.*?)</details>", page, re.S)
    assert len(folded) == len(EXERCISES)
    assert all("yaml exercise" not in answer and "exercise:" not in answer for answer in folded)
