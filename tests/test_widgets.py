"""The widget panels, driven programmatically: change a control, and the displayed total,
headline and figure must become what the engine computes for that input."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.loading import ParamsError, load_params, load_price_book, project_root
from ftcost_helpers.views import widgets
from ftcost_helpers.views.notebook import NotebookContext, show_panel, with_changes


@pytest.fixture(scope="module")
def book():
    return load_price_book()


def client(name: str, book):
    return load_params(project_root() / "params" / "clients" / f"example_{name}.yaml", book)


@pytest.fixture(scope="module")
def example_a(book):
    return client("a", book)


def engine(params, book, changes):
    """What the engine computes for the plan with ``changes`` applied."""
    return estimate(with_changes(params, changes, book), book)


def bar_heights(figure, axis: int = 0) -> list[float]:
    return [patch.get_height() for patch in figure.axes[axis].patches]


@pytest.mark.parametrize("name", ["a", "b", "c"])
@pytest.mark.parametrize("area", list(widgets.PANELS))
def test_every_panel_opens_on_the_plan_as_filed(area, name, book):
    params = client(name, book)
    panel = widgets.PANELS[area](params, book)
    assert panel.total() == pytest.approx(estimate(params, book).programme_total)
    assert panel.changed == {}
    assert panel.status in panel.widget.children and panel.chart_view in panel.chart_box.children
    assert panel.chart_box in panel.widget.children
    assert bytes(panel.chart_view.value).startswith(b"\x89PNG")
    assert "<table" in panel.table_view.value
    assert panel.figure.axes and panel.figure.axes[0].get_title()


def test_compute_panel_runs_change_total_and_booked_bar(example_a, book):
    panel = widgets.compute_panel(example_a, book)
    before_total, before_bars = panel.total(), bar_heights(panel.figure)
    panel.controls["runs"].value = 20
    expected = engine(example_a, book, {"training.runs": 20.0})
    assert panel.total() == pytest.approx(expected.programme_total)
    assert panel.total() > before_total
    assert panel.headline()["Compute"] == "USD 1,643"
    booked = bar_heights(panel.figure)[0]
    assert booked == pytest.approx(float(expected.base.compute.booked_gpu_hours)) == pytest.approx(960.0)
    assert booked != before_bars[0]


def test_compute_panel_new_gpu_offers_its_tiers_and_prices_from_the_book(example_a, book):
    panel = widgets.compute_panel(example_a, book)
    panel.controls["gpu"].value = "b200"
    offered = [value for _, value in panel.controls["tier"].options]
    assert offered == list(book.gpu_rates_usd_per_gpu_hour["b200"])
    assert panel.controls["price_book_rate"].value is True
    expected = engine(
        example_a,
        book,
        {"training.gpu": "b200", "training.tier": panel.controls["tier"].value, "training.rate_usd_per_gpu_hour": None},
    )
    assert panel.error is None
    assert panel.total() == pytest.approx(expected.programme_total)
    assert panel.headline()["Rate"] == f"USD {book.gpu_rate('b200', panel.controls['tier'].value).base:,.2f}/GPU-hour"


def test_compute_panel_sweep_without_early_stopping_costs_more(example_a, book):
    panel = widgets.compute_panel(example_a, book)
    panel.controls["sweep_trials"].value = 10
    stopped = panel.total()
    panel.controls["sweep_early_stopping"].value = False
    expected = engine(example_a, book, {"training.sweep_trials": 10.0, "training.sweep_early_stopping": False})
    assert panel.total() == pytest.approx(expected.programme_total)
    assert panel.total() > stopped
    assert sum(bar_heights(panel.figure)[:-1]) == pytest.approx(
        float(expected.base.compute.booked_gpu_hours + expected.base.compute.rerun_gpu_hours)
    )


def test_dataset_panel_annotation_hours_move_the_stack(example_a, book):
    panel = widgets.dataset_panel(example_a, book)
    panel.controls["annotation_hours"].value = 1000
    expected = engine(example_a, book, {"dataset.annotation_hours": 1000.0})
    assert panel.total() == pytest.approx(expected.programme_total) == pytest.approx(88_550 + 200 * 45)
    assert panel.headline()["Dataset"] == "USD 47,000"
    dataset_bars = [p for p in panel.figure.axes[0].patches if abs(p.get_x() + p.get_width() / 2) < 1e-9]
    assert sum(p.get_height() for p in dataset_bars) == pytest.approx(expected.areas_usd["dataset"])


def test_dataset_panel_annotation_rate(example_a, book):
    panel = widgets.dataset_panel(example_a, book)
    panel.controls["annotation_rate"].value = 90.0
    expected = engine(example_a, book, {"dataset.annotation_rate_usd_per_hour": 90.0})
    assert panel.total() == pytest.approx(expected.programme_total) == pytest.approx(88_550 + 800 * 45)


def test_eval_panel_monthly_cost_redraws_the_chart(example_a, book):
    panel = widgets.eval_panel(example_a, book)
    panel.controls["continuous_usd_per_month"].value = 3000.0
    expected = engine(example_a, book, {"evaluation.continuous_usd_per_month": 3000.0})
    assert panel.headline()["Per month"] == "USD 3,000"
    assert panel.total() == pytest.approx(expected.programme_total)
    assert panel.table.value("Continuous evaluation", "USD") == 3000.0
    stack = panel.figure.axes[0].collections[1]  # the continuous layer of the stack plot
    top = stack.get_paths()[0].vertices[:, 1].max()
    assert top == pytest.approx(expected.areas_usd["eval"] + 3000.0 * 24)


def test_eval_panel_set_up_changes_total(example_a, book):
    panel = widgets.eval_panel(example_a, book)
    panel.controls["setup_usd"].value = 10_000.0
    assert panel.total() == pytest.approx(88_550 - 6_200 + 10_000)


def test_maintenance_panel_migration_cost_moves_quarters(example_a, book):
    panel = widgets.maintenance_panel(example_a, book)
    before = sum(bar_heights(panel.figure))
    panel.controls["migration_usd"].value = 40_000.0
    expected = engine(example_a, book, {"maintenance.migration_usd": 40_000.0})
    quarterly = sum(float(v) for v in expected.base.maintenance_quarterly.values())
    assert panel.headline()["Maintenance per quarter"] == f"USD {quarterly:,.0f}"
    assert panel.headline()["TCO over the horizon"] == f"USD {expected.tco:,.0f}"
    after = sum(bar_heights(panel.figure))
    assert after > before
    maintained_quarters = 6  # months 7..24 of a 24-month horizon
    assert after == pytest.approx(quarterly * maintained_quarters)


def test_roi_panel_api_spend_moves_break_even(example_a, book):
    panel = widgets.roi_panel(example_a, book)
    assert panel.headline()["Break-even"] == "month 5"
    panel.controls["api_usd_per_month"].value = 30_000.0
    expected = engine(example_a, book, {"alternative.api.usd_per_month": 30_000.0})
    assert expected.break_even_month == 4
    assert panel.headline()["Break-even"] == "month 4"
    line = panel.figure.axes[0].lines[0]
    np.testing.assert_allclose(line.get_ydata(), expected.cash_flow)


def test_roi_panel_horizon_lengthens_the_cash_flow(example_a, book):
    panel = widgets.roi_panel(example_a, book)
    panel.controls["horizon_months"].value = 36
    assert len(panel.figure.axes[0].lines[0].get_ydata()) == 37


def test_roi_panel_gives_a_client_without_alternative_an_api_to_compare(book):
    params = client("c", book)
    panel = widgets.roi_panel(params, book)
    assert panel.headline()["Break-even"] == "none within the horizon"
    panel.controls["api_usd_per_month"].value = 60_000.0
    expected = engine(params, book, {"alternative.kind": "api", "alternative.api.usd_per_month": 60_000.0})
    assert expected.break_even_month is not None
    assert panel.headline()["Break-even"] == f"month {expected.break_even_month}"


def test_labour_client_has_labour_controls_and_no_api_bill(book):
    """Example B's alternative is agents' time: 35 staff × 160 h × 31% × USD 20 = USD 34,720 a
    month (the file's comment). Its controls are those four, the share as a percentage; there
    is no API bill to type into by mistake."""
    panel = widgets.roi_panel(client("b", book), book)
    controls = panel.controls
    assert {"labour_staff", "labour_hours", "time_saved_percent", "labour_rate"} <= set(controls)
    assert "api_usd_per_month" not in controls
    assert (controls["labour_staff"].value, controls["labour_hours"].value) == (35, 160)
    assert controls["time_saved_percent"].value == pytest.approx(31)
    assert controls["labour_staff"].readout_format == ",.6"  # "35", not "35.00"
    assert panel.headline()["Alternative per month"] == "USD 34,720"
    controls["time_saved_percent"].value = 15
    # 35 × 160 × 0.15 × 20 = 16,800 (workshop exercise 8)
    assert panel.headline()["Alternative per month"] == "USD 16,800"
    assert panel.moved() == {"alternative.labour.time_saved_fraction": 0.15}


def test_every_panel_shows_programme_tco_and_break_even(example_a, book):
    """Example A: USD 88,550, break-even month 5, TCO over 24 months USD 328,469 (the guide's
    exercise 5 'before' figures, checked against the engine by test_workshop_guide)."""
    for area, build in widgets.PANELS.items():
        headline = build(example_a, book).headline()
        assert headline["Programme total"] == "USD 88,550", area
        assert headline["TCO over the horizon"] == "USD 328,469", area
        assert headline["Break-even"] == "month 5", area


def test_reset_returns_every_control_and_figure_to_the_plan(example_a, book):
    panel = widgets.compute_panel(example_a, book)
    plan_png = panel.chart_view.value
    panel.controls["gpu"].value = "b200"
    panel.controls["runs"].value = 30
    assert panel.total() != pytest.approx(88_550)
    panel.reset()
    assert panel.changed == {} and panel.moved() == {}
    assert panel.controls["gpu"].value == "h100_sxm" and panel.controls["runs"].value == 14
    assert panel.controls["price_book_rate"].value is False
    assert panel.total() == pytest.approx(88_550)
    assert panel.headline()["Compute"] == "USD 1,150"
    assert bytes(panel.chart_view.value).startswith(b"\x89PNG") and panel.chart_view.value != b""
    assert plan_png


def test_keep_as_scenario_gives_a_block_the_loader_accepts(example_a, book):
    """Exercise 1's move as YAML: pasted under the client file's scenarios, the scenario is
    the same plan (its total is the panel's)."""
    import yaml

    from ftcost_helpers.engine.scenarios import compare_scenarios

    panel = widgets.compute_panel(example_a, book)
    assert panel.scenario_yaml() == ""
    panel.controls["tier"].value = "hyperscaler_on_demand"
    block = yaml.safe_load(panel.scenario_yaml())
    (scenario,) = block["scenarios"]
    assert scenario["overrides"] == {"training": {"tier": "hyperscaler_on_demand", "rate_usd_per_gpu_hour": None}}
    panel.show_scenario()
    assert "rate_usd_per_gpu_hour: null" in panel.scenario_view.value
    with_scenario = with_changes(example_a, {"scenarios": block["scenarios"]}, book)
    kept = {r.name: r for r in compare_scenarios(with_scenario, book)}[widgets.SCENARIO_NAME]
    assert kept.programme_total_usd == pytest.approx(panel.total())
    # 672 GPU-hours × USD 3.50 = USD 2,352 of compute (exercise 1)
    assert panel.headline()["Compute"] == "USD 2,352"


def test_pairs_say_the_booked_plan_does_not_follow(example_a, book):
    """Training pairs move the physics view (tokens = pairs × tokens per pair × epochs) but not
    the booked GPU-hours: the panel says so instead of showing nothing."""
    panel = widgets.dataset_panel(example_a, book)
    assert panel.notes() == []
    panel.controls["pairs"].value = 24_000
    (note,) = panel.notes()
    plan = estimate(example_a, book).base.compute
    ratio = 24_000 / 14_000
    assert f"{float(plan.tokens_per_run) * ratio / 1e6:,.1f}M training tokens" in note
    assert "booked plan does not follow" in note and "672 GPU-hours" in note
    assert note in panel.status.value.replace("&#x27;", "'")


def test_judged_eval_says_which_companions_are_zero(example_a, book):
    """Example A files no judged runs (all four factors 0): moving one alone changes nothing,
    so the panel says which companions are still 0 until all four are set."""
    panel = widgets.eval_panel(example_a, book)
    assert all(panel.controls[name].value == 0 for name in widgets.JUDGED_FACTORS)
    assert "off" in panel.notes()[0]
    before = panel.breakdown.areas_usd["eval"]
    panel.controls["runs_during_programme"].value = 10
    (note,) = panel.notes()
    assert "inactive" in note and "examples per run, judges, price per judge call are 0" in note
    assert panel.breakdown.areas_usd["eval"] == before
    panel.controls["judge_examples_per_run"].value = 500
    panel.controls["judges"].value = 2
    panel.controls["judge_price"].value = 0.01
    assert panel.notes() == []
    # 10 runs × 500 examples × 2 judges × USD 0.01 = USD 100 of judge calls on top
    assert panel.breakdown.areas_usd["eval"] == pytest.approx(before + 100, abs=0.5)


def test_a_redraw_keeps_the_axes_and_outlines_the_plan(example_a, book):
    panel = widgets.roi_panel(example_a, book)
    (x0, x1), (y0, y1) = panel.figure.axes[0].get_xlim(), panel.figure.axes[0].get_ylim()
    panel.controls["api_usd_per_month"].value = 12_000
    ax = panel.figure.axes[0]
    assert ax.get_ylim()[0] <= y0 and ax.get_ylim()[1] >= y1, "the scale shrank"
    assert ax.get_xlim()[0] <= x0 and ax.get_xlim()[1] >= x1
    assert ax.collections, "no outline of the plan's base case"
    panel.controls["api_usd_per_month"].value = 22_000
    again = panel.figure.axes[0].get_ylim()
    assert again[0] <= ax.get_ylim()[0] + 1e-6, "the scale jumped back"


def test_an_impossible_change_is_reported_not_applied(example_a, book):
    panel = widgets.compute_panel(example_a, book)
    total = panel.total()
    panel._controls["tier"].widget.options = [("Nowhere", "nowhere")]  # simulate a stale option
    assert panel.error is not None and "nowhere" in panel.error
    assert panel.total() == total
    assert "Not applied" in panel.status.value


def test_with_changes_validates_like_a_client_file(example_a, book):
    with pytest.raises(ParamsError, match="unknown tier 'nowhere'"):
        with_changes(example_a, {"training.tier": "nowhere"}, book)
    with pytest.raises(ParamsError, match="not a section"):
        with_changes(example_a, {"training.gpus_per_run.low": 1}, book)


def test_headless_notebook_builds_no_panel(example_a, book, capsys):
    ctx = NotebookContext(example_a, book, estimate(example_a, book), "test", interactive=False)
    assert show_panel(widgets.compute_panel, ctx, "## Explore") is None
    assert capsys.readouterr().out == ""


def test_redraw_replaces_table_and_chart_in_place(example_a, book):
    panel = widgets.compute_panel(example_a, book)
    children, png, html = panel.widget.children, panel.chart_view.value, panel.table_view.value
    panel.controls["runs"].value = 16
    assert panel.widget.children == children, "same widgets, new content"
    assert panel.chart_view.value != png and bytes(panel.chart_view.value).startswith(b"\x89PNG")
    assert panel.table_view.value != html and "USD 1,314" in panel.table_view.value
    assert panel.last_redraw_seconds > 0


def test_panels_show_values_outside_the_slider_ranges_unchanged(book):
    """Fractional counts (2.5 runs) and values below a slider's usual range (a 3-month horizon,
    300 pairs) are the plan's own: each control shows them as filed, so the panel's first total
    is the static table's, and reading every control back gives the same plan."""
    params = with_changes(
        client("a", book),
        {"training.runs": 2.5, "horizon_months": 3, "dataset.pairs": 300.0, "evaluation.judges": 1.5},
        book,
    )
    expected = estimate(params, book).programme_total
    for area, build in widgets.PANELS.items():
        panel = build(params, book)
        assert panel.total() == pytest.approx(expected), area
        changes = {}
        for control in panel._controls.values():
            changes.update(control.changes(control.widget.value))
        read_back = estimate(with_changes(params, changes, book), book)
        assert read_back.programme_total == pytest.approx(expected), area
        assert read_back.tco == pytest.approx(estimate(params, book).tco), area
    assert widgets.compute_panel(params, book).controls["runs"].value == 2.5
    assert widgets.roi_panel(params, book).controls["horizon_months"].value == 3


# ---------------------------------------------------------------- in-place redraws


def booked_bar(panel) -> Any:
    """The booked plan's training-runs bar (the bar centred on x = 0)."""
    (bar,) = [p for p in panel.figure.axes[0].patches if abs(p.get_x() + p.get_width() / 2) < 1e-9]
    return bar


def test_a_move_updates_the_same_figure_in_place(example_a, book):
    """The panel keeps its figure, axes and bars: a move sets the bar's height. Example A books
    8 GPUs × 6 h = 48 GPU-hours a run (672 ÷ 14 runs), so 20 runs book 20 × 48 = 960 GPU-hours."""
    panel = widgets.compute_panel(example_a, book)
    figure, ax, bar = panel.figure, panel.figure.axes[0], booked_bar(panel)
    assert bar.get_height() == pytest.approx(672)
    panel.controls["runs"].value = 20
    assert panel.figure is figure and panel.figure.axes == [ax]
    assert booked_bar(panel) is bar and bar.get_height() == pytest.approx(960)
    assert "960" in [text.get_text() for text in ax.texts]
    assert bytes(panel.chart_view.value).startswith(b"\x89PNG")


def test_the_axes_hold_during_a_session_and_reset_returns_the_plans(example_a, book):
    """The plan's scale is 1.25 × its tallest bar, 672 × 1.25 = 840 GPU-hours. Fewer runs keep
    that scale; 20 runs need 960 × 1.25 = 1,200, which the panel widens by its 15 % headroom,
    1,200 + 0.15 × 1,200 = 1,380, and 5 runs after them keep 1,380. Reset returns to the plan's 840."""
    panel = widgets.compute_panel(example_a, book)
    ax = panel.figure.axes[0]
    assert ax.get_ylim() == pytest.approx((0, 840))
    xlim = ax.get_xlim()
    panel.controls["runs"].value = 5
    assert booked_bar(panel).get_height() == pytest.approx(5 * 48)
    assert ax.get_ylim() == pytest.approx((0, 840)), "the scale shrank"
    panel.controls["runs"].value = 20
    assert ax.get_ylim() == pytest.approx((0, 1380))
    panel.controls["runs"].value = 5
    assert ax.get_ylim() == pytest.approx((0, 1380)), "the scale jumped back"
    assert ax.get_xlim() == pytest.approx(xlim)
    panel.reset()
    assert ax.get_ylim() == pytest.approx((0, 840))


def test_the_plans_base_case_is_outlined_once_moved(example_a, book):
    """Hidden while the panel shows the plan; once moved, a faint outline of the plan's own
    672 GPU-hour bar stays under the moved bar."""
    panel = widgets.compute_panel(example_a, book)
    outlines = [c for c in panel.figure.axes[0].collections if c.get_alpha() == widgets.REFERENCE_STYLE["alpha"]]
    assert outlines and not any(c.get_visible() for c in outlines)
    panel.controls["runs"].value = 20
    assert all(c.get_visible() for c in outlines)
    heights = [path.get_extents().height for c in outlines for path in c.get_paths()]
    assert pytest.approx(672) in heights
    panel.reset()
    assert not any(c.get_visible() for c in outlines)


def test_a_move_that_changes_no_figure_draws_nothing(example_a, book):
    """With no examples per run, judges × examples × ... stays 0: a second move of the judges
    changes no figure the chart shows, so its PNG is not drawn again."""
    panel = widgets.eval_panel(example_a, book)
    panel.controls["judges"].value = 1
    drawn = panel.chart_view.value
    panel.controls["judges"].value = 2
    assert panel.chart_view.value is drawn


def test_a_new_cost_line_joins_the_stack_on_the_same_axes(example_a, book):
    """Example A buys no synthetic data; 100M tokens at USD 10 per 1M add a USD 1,000 bar to
    the dataset stack (and its legend entry) on the same figure and axes."""
    panel = widgets.dataset_panel(example_a, book)
    figure, ax = panel.figure, panel.figure.axes[0]
    panel.controls["synthetic_tokens_million"].value = 100
    panel.controls["synthetic_price"].value = 10
    assert panel.figure is figure and panel.figure.axes == [ax]
    dataset_bars = [p for p in ax.patches if abs(p.get_x() + p.get_width() / 2) < 1e-9]
    assert pytest.approx(1_000) in [bar.get_height() for bar in dataset_bars]
    assert any("ynthetic" in text.get_text() for text in ax.get_legend().get_texts())
