"""The charts under a panel (issue 26, item 6): memory against the card on 01_compute, the
P10–P90 band and the tornado on 05_roi; each agrees with the panel and follows its moves."""

from __future__ import annotations

import numpy as np
import pytest

from ftcost_helpers.engine.fit import plan_fit
from ftcost_helpers.engine.loading import ParamsError
from ftcost_helpers.engine.sensitivity import sensitivity
from ftcost_helpers.views import charts_extra, widgets


def _bar_total(figure) -> float:
    ax = figure.axes[0]
    return sum(patch.get_width() for patch in ax.patches if patch.get_height() == 0.5)


def _inside(ax, xs, ys) -> bool:
    (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    return bool(xs.min() >= x0 and xs.max() <= x1 and ys.min() >= y0 and ys.max() <= y1)


@pytest.mark.parametrize("name", "abc")
def test_memory_chart_stacks_the_headline_figure_against_the_card(name, examples, book) -> None:
    panel = widgets.compute_panel(examples[name], book)
    following = charts_extra.Following(panel, charts_extra.FOLLOWING["compute"])
    (figure,) = following.figures
    ax = figure.axes[0]
    shown = panel.headline()["Memory per GPU"]  # "42.68 GB"
    # The stacked terms add up to the headline's memory per GPU, and the title says the same.
    assert f"{_bar_total(figure):,.2f} GB" == shown
    assert f"Memory per GPU: {shown}" in ax.get_title()
    fit = plan_fit(panel.params, book, panel.breakdown.base)
    lines = sorted(line.get_xdata()[0] for line in ax.lines)
    assert lines == sorted([fit.usable_gb, fit.capacity_gb])
    assert fit.verdict in ax.get_title()
    assert _inside(ax, [0, _bar_total(figure), fit.capacity_gb, fit.need_p90_gb], [0])


def test_memory_chart_follows_full_training(examples, book) -> None:
    """Exercise 2: full SFT on example A's 8 H100s, 57.81 GB a GPU (the guide's figure, checked
    against the engine in test_workshop_guide), still fits, on 3 GPUs at the least."""
    panel = widgets.compute_panel(examples["a"], book)
    following = charts_extra.Following(panel, charts_extra.FOLLOWING["compute"])
    before = following.figures[0]
    panel.controls["method"].value = "full_sft"
    assert following.drawn is panel.breakdown and following.figures[0] is not before
    title = following.figures[0].axes[0].get_title()
    assert "57.81 GB on 8 × H100 SXM: fits (fewest GPUs: 3)" in title
    assert panel.headline()["Memory per GPU"] == "57.81 GB"


def test_band_chart_holds_every_draw_band_and_the_base_case(examples, book) -> None:
    from ftcost_helpers.engine.uncertainty import simulate

    panel = widgets.roi_panel(examples["a"], book)
    panel.controls["api_usd_per_month"].value = 5_000  # cash flow now falls to a loss
    figure = charts_extra.band_chart(panel.breakdown)
    ax = figure.axes[0]
    months = np.arange(panel.params.horizon_months + 1)
    moved = simulate(panel.breakdown.params, book).cash_flow_band()
    for series in (moved["p10"], moved["p90"], panel.breakdown.cash_flow):
        assert _inside(ax, months, series)
    charts_extra.charts.png_bytes(figure)
    assert charts_extra.charts.fits_inside(figure), "labels inside the fixed margins"


def test_tornado_shows_the_largest_swing_on_top(examples, book) -> None:
    breakdown = widgets.roi_panel(examples["b"], book).breakdown
    figure = charts_extra.tornado(breakdown)
    labels = [tick.get_text().replace("\n", " ") for tick in figure.axes[0].get_yticklabels()]
    rows = sensitivity(breakdown.params, book, top=charts_extra.TORNADO_ROWS).rows
    assert len(labels) == len(rows) <= charts_extra.TORNADO_ROWS
    assert labels[-1] == rows[0].label  # drawn bottom-up: the largest swing last, on top


def test_following_in_the_background_draws_the_last_move(examples, book) -> None:
    panel = widgets.roi_panel(examples["b"], book)
    following = charts_extra.Following(panel, charts_extra.FOLLOWING["roi"], background=True)
    first = list(following.images[0].value)
    for gpus in (3, 2, 1):
        panel.controls["serving_gpus"].value = gpus
    following.wait()
    assert following.drawn is panel.breakdown
    assert list(following.images[0].value) != first


def test_a_chart_that_cannot_be_drawn_says_so_and_keeps_the_last(examples, book) -> None:
    calls = []

    def fails_after_first(breakdown):
        calls.append(breakdown)
        if len(calls) > 1:
            raise ParamsError("<changed parameters>", "serving.gpus", "too many")
        return charts_extra.memory_chart(breakdown)

    panel = widgets.compute_panel(examples["a"], book)
    following = charts_extra.Following(panel, [fails_after_first])
    image = following.images[0].value
    panel.controls["gpus_per_run"].value = 4
    assert "Not redrawn: too many" in following.note.value
    assert following.images[0].value == image


def test_moves_in_quick_succession_are_drawn_below_once_when_they_stop(examples, book) -> None:
    """The charts under a panel wait for the panel to be still (``quiet_s``) and then draw the
    latest plan once: three moves, each well within the quiet time, make one redraw."""
    drawn = []

    def counted(breakdown):
        drawn.append(breakdown)
        return charts_extra.memory_chart(breakdown)

    panel = widgets.compute_panel(examples["a"], book)
    following = charts_extra.Following(panel, (counted,), background=True, quiet_s=2.0)
    assert len(drawn) == 1  # the first drawing, at once
    for gpus in (4, 2, 1):
        panel.controls["gpus_per_run"].value = gpus
    assert following.drawn is not panel.breakdown and len(drawn) == 1, "nothing drawn while the moves go on"
    following.wait()
    assert following.drawn is panel.breakdown and len(drawn) == 2 and drawn[-1] is panel.breakdown
