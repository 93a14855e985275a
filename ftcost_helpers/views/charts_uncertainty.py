"""Charts of the uncertainty: the P10–P90 band of the cumulative cash flow, a total's
distribution over the draws, the chance of break-even by month, and the tornado of the inputs
that move a quantity most (:mod:`ftcost_helpers.views.charts` re-exports them)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import Formatter, MaxNLocator

from ftcost_helpers.engine.money import code, tick_labels, usd
from ftcost_helpers.engine.money import compact_usd as compact_amount
from ftcost_helpers.engine.sensitivity import Sensitivity, input_value_text
from ftcost_helpers.views.chart_base import COLOURS, WIDE, compact_usd, currency_axis, new_figure


def percentile_band_chart(
    months: np.ndarray, p10: np.ndarray, p50: np.ndarray, p90: np.ndarray, base: np.ndarray
) -> Figure:
    """Cumulative cash flow: the P10–P90 band of the Monte Carlo draws, the median and the base case."""
    fig, ax = new_figure(WIDE)
    ax.fill_between(months, p10, p90, color=COLOURS["band"], alpha=0.25, label="P10–P90 of the draws")
    ax.plot(months, p50, color=COLOURS["band"], linestyle="--", label="P50")
    ax.plot(months, base, color="black", linewidth=1, label="Base case")
    ax.axhline(0, color="black", linewidth=0.8)
    currency_axis(ax)
    ax.set_xlabel("Month (0 = the programme's outlay)")
    ax.set_ylabel(f"Cumulative cash flow ({code()})")
    ax.set_title("Cumulative cash flow: P10–P90 band over the uncertain inputs")
    ax.set_xlim(months[0], months[-1])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def total_band_chart(draws: np.ndarray, percentiles: dict[str, float], base: float, label: str) -> Figure:
    """Histogram of a total over the draws with P10, P50 and P90 marked."""
    fig, ax = new_figure(WIDE)
    ax.hist(draws, bins=60, color=COLOURS["band"], alpha=0.6)
    ax.axvspan(percentiles["p10"], percentiles["p90"], color=COLOURS["band"], alpha=0.12, label="P10–P90")
    for name, value in percentiles.items():
        ax.axvline(value, color="black", linestyle="--" if name != "p50" else "-", linewidth=1)
        ax.annotate(
            f"{name.upper()} {compact_usd(value)}",
            (value, 0),
            xytext=(3, 6),
            textcoords="offset points",
            rotation=90,
            fontsize=8,
            va="bottom",
        )
    ax.axvline(base, color=COLOURS["maintenance"], linewidth=1.5, label=f"Base case {compact_usd(base)}")
    currency_axis(ax, "x")
    ax.set_xlabel(f"{label} ({code()})")
    ax.set_ylabel("Draws")
    ax.set_title(f"{label}: distribution over the uncertain inputs")
    ax.legend(fontsize=8)
    return fig


def break_even_probability_chart(probability: np.ndarray) -> Figure:
    """The chance of having broken even by each month."""
    months = np.arange(1, len(probability) + 1)
    fig, ax = new_figure(WIDE)
    ax.step(months, 100 * np.asarray(probability), where="post", color=COLOURS["eval"])
    ax.fill_between(months, 100 * np.asarray(probability), step="post", color=COLOURS["eval"], alpha=0.2)
    ax.set_ylim(0, 105)
    ax.set_xlabel("Month")
    ax.set_ylabel("Chance of having broken even (%)")
    ax.set_title("Probability of break-even by month")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    return fig


class ExactUsdTicks(Formatter):
    """Currency ticks in one scale, exact at their step (``USD 2.5k``, not ``USD 2k``)."""

    def __call__(self, value: float, position: int | None = None) -> str:
        return tick_labels([value])[0]

    def format_ticks(self, values: Sequence[float]) -> list[str]:
        return tick_labels(list(values))


TORNADO_ENDS = {"low": ("#0072B2", "Input at its low end"), "high": ("#E69F00", "Input at its high end")}
"""Okabe–Ito blue and orange (safe for the common colour-vision deficiencies), with the legend's words."""


def tornado_chart(result: Sensitivity, names: Sequence[str] | None = None, width: float = 9.0) -> Figure:
    """The inputs that move the plan's quantity most (``result``, from
    :func:`~ftcost_helpers.engine.sensitivity.sensitivity`), the largest swing on top: each bar
    runs from the base case to the quantity with one input at its low end (blue) or its high end
    (orange), labelled with that input value and the figure it gives. ``names``: the inputs in
    words, one per row (default: each row's label)."""
    rows = list(result.rows)
    shown = list(zip(names if names is not None else [r.label for r in rows], rows, strict=True))[::-1]
    fig, ax = new_figure((width, max(2.8, 0.55 * len(shown) + 1.9)))
    base = result.base
    labels = [text for y, (_, row) in enumerate(shown) for text in _tornado_bars(ax, y, row, base)]
    ax.axvline(base, color="black", linewidth=1)
    ax.set_yticks(range(len(shown)), [textwrap.fill(name, 34) for name, _ in shown], fontsize=8)
    ax.set_ylim(-0.6, max(len(shown), 1) - 0.4)
    ax.xaxis.set_major_formatter(ExactUsdTicks())
    ax.xaxis.set_major_locator(MaxNLocator(4))
    ax.tick_params(axis="x", labelsize=8)
    ax.set_xlabel(result.axis_label)
    ax.set_title(f"What moves the {result.name.lower()}", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    if not rows:
        words = f"No uncertain input moves the {result.name.lower()}."
        ax.text(0.5, 0.5, words, transform=ax.transAxes, ha="center", backgroundcolor="white")
    fig.legend(handles=_tornado_legend(base), fontsize=7, loc="outside lower center", ncols=3, frameon=False)
    _fit_bar_labels(fig, ax, base, rows, labels)
    return fig


def _tornado_bars(ax: Axes, y: int, row: Any, base: float) -> list[Any]:
    """One input's two bars from ``base``, the longer drawn first (when both ends lie on one
    side, the shorter stays in view), each labelled with the input value and the figure."""
    ends = [("low", row.input_low, row.at_low), ("high", row.input_high, row.at_high)]
    texts = []
    for end, value, figure in sorted(ends, key=lambda e: -abs(e[2] - base)):
        bars = ax.barh(y, figure - base, left=base, height=0.7, color=TORNADO_ENDS[end][0])
        text = f"{input_value_text(row.path, value)}\n→ {compact_amount(figure)}"
        texts += ax.bar_label(bars, labels=[text], padding=3, fontsize=7)
    return texts


def _tornado_legend(base: float) -> list[Any]:
    """Which colour is which end of the input, and the base-case line."""
    ends = [Patch(color=colour, label=words) for colour, words in TORNADO_ENDS.values()]
    return [*ends, Line2D([], [], color="black", linewidth=1, label=f"Base case {usd(base)}")]


def _fit_bar_labels(fig: Figure, ax: Axes, base: float, rows: Sequence[Any], labels: Sequence[Any]) -> None:
    """Widen the x-axis until every bar's label lies inside the axes (a few layout passes)."""
    ends = [base] + [v for r in rows for v in (r.at_low, r.at_high)]
    low, high = min(ends), max(ends)
    span = high - low or abs(base) or 1.0
    ax.set_xlim(low - 0.3 * span, high + 0.3 * span)
    for _ in range(4):
        fig.draw_without_rendering()
        box = ax.get_window_extent()
        extents = [label.get_window_extent() for label in labels]
        short_left = max([box.x0 - e.x0 for e in extents] + [0.0])
        short_right = max([e.x1 - box.x1 for e in extents] + [0.0])
        if short_left <= 0 and short_right <= 0:
            return
        x0, x1 = ax.get_xlim()
        per_pixel = (x1 - x0) / box.width
        ax.set_xlim(x0 - 1.3 * short_left * per_pixel, x1 + 1.3 * short_right * per_pixel)
