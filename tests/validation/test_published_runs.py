"""The engine against published measurements of real runs (tests/validation/published_runs.yaml),
with the bounds docs/accuracy.md states. Run the table with ``python tools/accuracy.py``."""

from __future__ import annotations

import re

import pytest

from ftcost_helpers.engine.loading import project_root

from .runs import load_rows, outcomes, pair_ratios

MEMORY_WITHIN = 0.15
MEMORY_SHARE_WITHIN = 0.80
MEMORY_WORST = 0.30
TIME_SHARE_INSIDE_BAND = 0.90
BAND_WIDEST = 2.5
TIME_MEDIAN_ERROR = 0.15
RATIO_WITHIN = 0.25


@pytest.fixture(scope="module")
def results():
    return outcomes()


def test_the_table_has_twenty_sourced_rows():
    rows = load_rows()
    assert len(rows) >= 20
    for row in rows:
        source = row["source"]
        assert source["document"] and source["table"] and source["figure"], row["id"]
        assert row["measured"], row["id"]
    assert len({row["id"] for row in rows}) == len(rows)


def test_peak_memory(results):
    errors = [abs(r.memory_error) for r in results if r.memory_error is not None]
    assert len(errors) >= 20
    assert sum(e <= MEMORY_WITHIN for e in errors) / len(errors) >= MEMORY_SHARE_WITHIN
    assert max(errors) <= MEMORY_WORST


def test_fit_or_not_on_every_row(results):
    """Every row right, or borderline (issue 22: a verdict with honest uncertainty); a run
    that ran is never "does not fit"."""
    judged = [r for r in results if r.measured_fits is not None]
    assert len(judged) >= 20
    wrong = [r.id for r in judged if r.predicted_fits != r.measured_fits and r.predicted_verdict != "borderline"]
    assert not wrong
    assert not [r.id for r in judged if r.measured_fits and r.predicted_verdict == "does not fit"]


def test_measured_time_inside_the_band(results):
    timed = [r for r in results if r.measured_seconds_per_step is not None]
    assert len(timed) >= 20
    inside = sum(bool(r.time_inside_band) for r in timed)
    assert inside / len(timed) >= TIME_SHARE_INSIDE_BAND
    assert max(r.band_width for r in timed) <= BAND_WIDEST
    errors = sorted(abs(r.time_error) for r in timed)
    assert errors[len(errors) // 2] <= TIME_MEDIAN_ERROR


def test_lora_over_full_time_ratio(results):
    ratios = pair_ratios(results)
    assert ratios
    for _, predicted, measured in ratios:
        assert abs(predicted / measured - 1.0) <= RATIO_WITHIN


def test_accuracy_doc_states_these_bounds():
    text = (project_root() / "docs" / "accuracy.md").read_text(encoding="utf-8")
    for figure in ("±15 %", "80 % of rows", "90 % of rows", "30 %", "2.5×", "at most 15 %", "±25 %"):
        assert figure in text, figure
    assert re.search(r"\| qwen7b-lora-256 \|", text), "the table lists every row"
