"""What a panel says agrees with what it draws: the legend names the plan as filed and the
moved plan, the compute headline counts the GPU-hours its chart and table count, a plan that
cannot run says so (as the report does), and a value the schema refuses is refused in the
schema's words with the last good picture kept."""

from __future__ import annotations

import pytest

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.loading import load_params, load_price_book, project_root
from ftcost_helpers.views import live, widgets
from ftcost_helpers.views.notebook import with_changes


@pytest.fixture(scope="module")
def book():
    return load_price_book()


def client(name: str, book):
    return load_params(project_root() / "params" / "clients" / f"example_{name}.yaml", book)


@pytest.fixture(scope="module")
def example_a(book):
    return client("a", book)


def legend_words(panel) -> list[str]:
    return [text.get_text() for text in panel.figure.axes[0].get_legend().get_texts()]


# ---------------------------------------------------------------- legend


def test_cash_flow_legend_names_the_plan_as_filed_and_the_moved_plan(example_a, book):
    panel = widgets.roi_panel(example_a, book)
    assert "Plan as filed" in legend_words(panel)
    assert "Base case" not in legend_words(panel) and live.YOUR_CHANGES not in legend_words(panel)
    panel.controls["api_usd_per_month"].value = 12_000
    words = legend_words(panel)
    assert live.YOUR_CHANGES in words and live.PLAN_AS_FILED in words and "Base case" not in words
    panel.controls["api_usd_per_month"].value = 5_000  # the break-even mark goes: drawn again
    words = legend_words(panel)
    assert live.YOUR_CHANGES in words and live.PLAN_AS_FILED in words
    panel.reset()
    assert "Plan as filed" in legend_words(panel) and live.YOUR_CHANGES not in legend_words(panel)


@pytest.mark.parametrize("area", list(widgets.PANELS))
def test_every_moved_chart_names_the_outline_of_the_plan_as_filed(area, example_a, book):
    """Moving the horizon (or the runs) changes each chart; the dashed outline is in the legend."""
    panel = widgets.PANELS[area](example_a, book)
    assert live.PLAN_AS_FILED not in legend_words(panel)
    name = "horizon_months" if "horizon_months" in panel.controls else next(iter(panel.controls))
    control = {"compute": "runs", "dataset": "annotation_hours"}.get(area, name)
    widget = panel.controls[control]
    widget.value = widget.max if widget.value != widget.max else widget.min
    assert live.PLAN_AS_FILED in legend_words(panel), area


# ---------------------------------------------------------------- one basis for the figures


def test_compute_headline_chart_and_table_count_the_same_gpu_hours(example_a, book):
    """Example A books 8 GPUs × 6 h × 14 runs = 672 GPU-hours. Three failed runs that die at
    0.4 of a run (params/defaults.yaml) add 8 × 6 × 3 × 0.4 = 57.6; a sweep of 10 trials
    without early stopping adds 8 × 6 × 10 = 480. All booked: 672 + 57.6 + 480 = 1,209.6."""
    panel = widgets.compute_panel(example_a, book)
    assert panel.headline()["Booked GPU-hours"] == "672"
    panel.controls["failed_runs"].value = 3
    panel.controls["sweep_early_stopping"].value = False
    panel.controls["sweep_trials"].value = 10
    assert panel.headline()["Booked GPU-hours"] == "1,210 (672 in training runs)"
    assert "1,210" in [text.get_text() for text in panel.figure.axes[0].texts]
    assert "1,210 GPU-hours" in panel.table_view.value


# ---------------------------------------------------------------- plans that cannot run


def test_a_plan_that_does_not_fit_its_gpus_says_so_and_what_would_fit(example_a, book):
    """Full fine-tuning of example A's 8B model on one H100 needs far more than its memory
    (weights, gradients and Adam states alone are 16 bytes a parameter, ~128 GB for 8B)."""
    panel = widgets.compute_panel(example_a, book)
    assert panel.feasibility() == []
    panel.controls["method"].value = "full_sft"
    panel.controls["gpus_per_run"].value = 1
    lines = panel.feasibility()
    assert lines and "does not fit its GPUs" in lines[0] and lines[0].startswith("Cannot run as specified")
    assert "at least" in lines[0] and lines[1].startswith("To make it fit:")
    assert "does not fit its GPUs" in panel.status.value and "To make it fit" in panel.status.value
    panel.reset()
    assert panel.feasibility() == [] and "does not fit" not in panel.status.value


# ---------------------------------------------------------------- values the schema refuses


def test_a_negative_api_bill_is_refused_in_the_schemas_words(example_a, book):
    panel = widgets.roi_panel(example_a, book)
    total, png = panel.total(), panel.chart_view.value
    panel.controls["api_usd_per_month"].value = -5_000
    assert panel.error is not None and "must not be negative" in panel.error and "-5000" in panel.error
    assert panel.error.startswith("API bill replaced (USD/month)")
    assert "Not applied" in panel.status.value and "must not be negative" in panel.status.value
    assert panel.controls["api_usd_per_month"].value == 22_000, "the control keeps its last good value"
    assert panel.total() == total and panel.chart_view.value is png, "the last good picture stays"
    panel.controls["engineer_weeks"].value = 7  # the next good move applies, the message goes
    assert panel.error is None and "Not applied" not in panel.status.value
    expected = estimate(with_changes(example_a, {"engineering.engineer_weeks": 7.0}, book), book)
    assert panel.total() == pytest.approx(expected.programme_total)


def test_a_bill_of_zero_is_accepted(example_a, book):
    """0 is the boundary the schema allows (greater than or equal to 0)."""
    panel = widgets.roi_panel(example_a, book)
    panel.controls["api_usd_per_month"].value = 0
    assert panel.error is None and panel.controls["api_usd_per_month"].value == 0


@pytest.mark.parametrize(
    ("area", "control"),
    [("dataset", "curation_usd"), ("eval", "setup_usd"), ("maintenance", "migration_usd")],
)
def test_every_typed_amount_refuses_a_negative_value(area, control, example_a, book):
    panel = widgets.PANELS[area](example_a, book)
    before = panel.controls[control].value
    panel.controls[control].value = -1
    assert panel.error is not None and "must not be negative" in panel.error
    assert panel.controls[control].value == before


# ---------------------------------------------------------------- layout


def test_labels_wrap_and_charts_keep_their_size(example_a, book):
    panel = widgets.dataset_panel(example_a, book)
    assert widgets.PANEL_CLASS in panel.widget._dom_classes
    assert "<style>" in panel.widget.children[0].value and "white-space: normal" in widgets.PANEL_CSS
    assert "@media (max-width: 540px)" in widgets.PANEL_CSS
    # 6.5 in × 80 dpi = 520 px: never drawn narrower (its 7 pt text stays 7 × 80 / 72 ≈ 7.8 px)
    assert panel.chart_view.layout.min_width == "520px" and panel.chart_box.layout.overflow == "auto"
