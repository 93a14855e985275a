"""Charts that follow a widget panel: the ones a workshop exercise asks about that the panel's
own chart is not.

- **Memory against the card** (01_compute): the memory one GPU needs, term by term as the
  engine counts it at the phase that sets the peak (the forward/backward pass or the optimizer
  step: :func:`~ftcost_helpers.engine.model.training.peak_phase_terms`, the same total as the
  panel's "Memory per GPU"), against the card's memory and what of it holds tensors once the CUDA
  context and the allocator's fragmentation are set aside; the P10–P90 of the need and the fit
  verdict of :func:`~ftcost_helpers.engine.fit.plan_fit` (the report's own).
- **The P10–P90 band** of the cumulative cash flow over the Monte Carlo draws (05_roi):
  :func:`~ftcost_helpers.engine.uncertainty.simulate` with the plan's own draws and seed.
- **The tornado** (05_roi): :func:`~ftcost_helpers.engine.sensitivity.sensitivity`, each
  uncertain input alone from its low to its high end.

:class:`Following` shows them under a panel and redraws them whenever the panel's plan changes
(after its headline, so a move's figures are never held back by these charts), on the moved
plan: a chart on the page never shows another plan than the panel's.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ftcost_helpers.engine.breakdown import Breakdown
from ftcost_helpers.engine.fit import plan_fit
from ftcost_helpers.engine.loading import ParamsError
from ftcost_helpers.engine.model.training import MEMORY_LABELS, peak_phase_terms
from ftcost_helpers.views import charts
from ftcost_helpers.views.tables import gpu_label

Maker = Callable[[Breakdown], Any]
"""A chart of an estimate (a matplotlib Figure)."""
FOLLOWING_DPI = 80
"""Resolution of a following chart (the panel's own: quick to redraw, sharp enough on screen)."""
MEMORY_SIZE = (9.0, 2.9)
BAND_MARGINS = {"left": 0.15, "right": 0.98, "top": 0.91, "bottom": 0.13}
"""Where the band chart's axes sit in its figure (room for USD ticks up to "USD -1.5M")."""
TORNADO_ROWS = 6
"""Inputs the page's tornado shows (the notebook's shows the price book's default): the six
largest swings, drawn in about half the time."""
FIT_COLOURS = {"fits": "#55A868", "borderline": "#DD8452", "does not fit": "#C44E52"}


def memory_chart(breakdown: Breakdown) -> Any:
    """One GPU's memory, term by term (a stacked bar, GB), against the card: its memory (solid
    line), the part that holds tensors (dashed) and the P10–P90 of what the run needs with the
    CUDA context and fragmentation (shaded); the title gives the total and the verdict."""
    c = breakdown.base.compute
    fit = plan_fit(breakdown.params, breakdown.book, breakdown.base)
    t = breakdown.params.training
    card = charts.plain(gpu_label(breakdown.book, t.gpu))
    fig, ax = charts.new_figure(MEMORY_SIZE)
    peak = peak_phase_terms({name: float(value) for name, value in c.memory_breakdown_gb.items()})
    left = 0.0
    for index, (term, label) in enumerate(MEMORY_LABELS.items()):
        size = float(peak.get(term, 0.0))
        if size <= 0:
            continue
        colour = charts.MEMORY_COLOURS[index % len(charts.MEMORY_COLOURS)]
        ax.barh([0], [size], left=left, height=0.5, color=colour, label=label)
        left += size
    ax.axvspan(
        fit.need_p10_gb, fit.need_p90_gb, ymin=0.05, ymax=0.45, color="#888888", alpha=0.2, label="Need, P10–P90"
    )
    ax.axvline(fit.capacity_gb, color="black", linewidth=1.2, label=f"{card}: {fit.capacity_gb:,.1f} GB")
    ax.axvline(
        fit.usable_gb, color="black", linestyle="--", linewidth=1, label=f"Holds tensors: {fit.usable_gb:,.1f} GB"
    )
    ax.set_xlim(0, max(left, fit.capacity_gb, fit.need_p90_gb) * 1.08)
    ax.set_ylim(-0.45, 1.45)  # the legend above the bar
    ax.set_yticks([])
    ax.set_xlabel("GB per GPU")
    colour = FIT_COLOURS.get(fit.verdict, "black")
    ax.set_title(
        f"Memory per GPU: {float(c.memory_per_gpu_gb):,.2f} GB on {t.gpus_per_run} × {card}: {fit.verdict}"
        + (f" (fewest GPUs: {_count(fit.fewest_gpus)})" if np.isfinite(fit.fewest_gpus) else " on any number"),
        fontsize=10,
        color=colour,
    )
    ax.legend(fontsize=7, loc="upper left", ncols=4, frameon=False)
    return fig


def _count(value: float) -> str:
    return f"{float(value):,.0f}"


def band_chart(breakdown: Breakdown) -> Any:
    """The cumulative cash flow's P10–P90 band over the plan's Monte Carlo draws, the median
    and the base case (:func:`~ftcost_helpers.views.charts.percentile_band_chart`)."""
    from ftcost_helpers.engine.uncertainty import simulate

    band = simulate(breakdown.params, breakdown.book).cash_flow_band()
    months = np.arange(breakdown.params.horizon_months + 1)
    with charts.fixed_layout():  # its labels are the same for every plan: placed once, here
        fig = charts.percentile_band_chart(months, band["p10"], band["p50"], band["p90"], breakdown.cash_flow)
    fig.subplots_adjust(**BAND_MARGINS)
    _take_in(fig.axes[0], [band["p10"], band["p90"], breakdown.cash_flow])
    return fig


def _take_in(ax: Any, series: Sequence[Any]) -> None:
    """The y-axis widened, if need be, to every value of ``series`` (a filled band is not in
    matplotlib's own limits)."""
    values = np.concatenate([np.asarray(s, dtype=float).ravel() for s in series])
    values = values[np.isfinite(values)]
    if not values.size:
        return
    low, high = ax.get_ylim()
    span = float(values.max() - values.min()) or abs(float(values.max())) or 1.0
    ax.set_ylim(min(low, float(values.min()) - 0.05 * span), max(high, float(values.max()) + 0.05 * span))


def tornado(breakdown: Breakdown) -> Any:
    """The inputs that move the plan's net value (or cost of ownership) most
    (:func:`~ftcost_helpers.views.charts.tornado_chart`)."""
    from ftcost_helpers.engine.sensitivity import sensitivity

    return charts.tornado_chart(sensitivity(breakdown.params, breakdown.book, top=TORNADO_ROWS))


QUIET_S = 0.3
"""Seconds without a move before the charts under a panel are redrawn in the background: the
panel's own figures and chart answer each move first, and a slider dragged or an arrow key
held (a move every 0.1–0.2 s) is drawn below once, on the latest plan, when it stops. Drawn at
once, the band and the tornado (about half a second) shared the kernel with the panel's next
move: key press → headline p95 0.42 s on 01_compute and 0.37 s on 05_roi
(``bench/bench_dashboard.py --opens 0``), against the issue's 0.25 s."""

FOLLOWING: dict[str, tuple[Maker, ...]] = {
    "compute": (memory_chart,),
    "roi": (band_chart, tornado),
}
"""The charts under each panel (by area), besides the panel's own."""


class Following:
    """Charts under a panel, redrawn on the panel's plan whenever it changes.

    The first drawing is made at once (the page shows it with the panel). Later ones, with
    ``background``, are drawn by a worker thread once the panel has had no move for
    :data:`QUIET_S`, so the panel answers each move first (the band and the tornado take
    about half a second); moves made meanwhile are drawn once, the latest. The client picker
    (:mod:`~ftcost_helpers.views.picker`) puts them under the compute and ROI panels."""

    def __init__(
        self,
        panel: Any,
        makers: Sequence[Maker],
        dpi: float = FOLLOWING_DPI,
        background: bool = False,
        quiet_s: float = QUIET_S,
    ):
        import ipywidgets as w

        self.panel = panel
        self.makers = tuple(makers)
        self.dpi = dpi
        self.background = background
        self.quiet_s = quiet_s
        """With ``background``: seconds without a move before a redraw starts (:data:`QUIET_S`)."""
        self._moved_at = 0.0
        self.figures: list[Any] = [None] * len(self.makers)
        self.images = [w.Image(format="png", layout=w.Layout(max_width="100%", height="auto")) for _ in self.makers]
        self.note = w.HTML()
        self.widget = w.VBox([*self.images, self.note], layout=w.Layout(max_width="100%"))
        self.drawn: Breakdown | None = None
        """The estimate the charts show now."""
        self._lock = threading.Lock()
        self._pending: Breakdown | None = None
        self._worker: threading.Thread | None = None
        self._draw(panel.breakdown)
        panel.status.observe(lambda _change: self.redraw(), names="value")

    def redraw(self) -> None:
        """Draw the charts on the panel's plan when it is not the one they show."""
        breakdown = self.panel.breakdown
        if breakdown is self.drawn:
            return
        if not self.background:
            self._draw(breakdown)
            return
        with self._lock:
            self._pending = breakdown
            self._moved_at = time.monotonic()
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="ftcost-following", daemon=True)
                self._worker.start()

    def wait(self, timeout_s: float = 60.0) -> None:
        """Until the worker has drawn every move made so far."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout_s)

    def _work(self) -> None:
        while True:
            self._wait_for_quiet()
            with self._lock:
                breakdown, self._pending = self._pending, None
                if breakdown is None:
                    self._worker = None
                    return
            self._draw(breakdown)

    def _wait_for_quiet(self) -> None:
        """Until :attr:`quiet_s` has passed since the last move."""
        while True:
            with self._lock:
                left = self._moved_at + self.quiet_s - time.monotonic()
            if left <= 0:
                return
            time.sleep(left)

    def _draw(self, breakdown: Breakdown) -> None:
        try:
            drawn = [make(breakdown) for make in self.makers]
        except ParamsError as error:  # a figure the model cannot produce for the moved plan
            self.note.value = f"<span style='color:#b00'>Not redrawn: {html.escape(error.problem)}</span>"
            return
        for index, figure in enumerate(drawn):
            self.images[index].value = charts.png_bytes(figure, self.dpi, compress_level=1)
            self.images[index].width = str(round(figure.get_figwidth() * self.dpi))
            self.figures[index] = figure
        self.note.value = ""
        self.drawn = breakdown
