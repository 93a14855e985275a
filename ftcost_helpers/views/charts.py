"""Matplotlib charts of an estimate: titles, labelled axes with units, currency ticks.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot, so no
global figure state leaks between cells or widget redraws; a notebook displays it with
``show(fig)``. Charts draw numbers the package computed; they compute nothing themselves.
"""

from __future__ import annotations

import io
import logging
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

# On a fresh machine, a slow first import of matplotlib logs "building the font cache" to
# stderr; in a notebook that text would become an output that nbval then finds missing.
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import Formatter, FuncFormatter, MaxNLocator  # noqa: E402

from ftcost_helpers.engine.breakdown import Breakdown  # noqa: E402
from ftcost_helpers.engine.model.maintenance import months_maintained_per_quarter  # noqa: E402
from ftcost_helpers.engine.model.roi import operating_months  # noqa: E402
from ftcost_helpers.engine.model.training import MEMORY_LABELS  # noqa: E402
from ftcost_helpers.engine.money import code, tick_labels, usd  # noqa: E402
from ftcost_helpers.engine.money import compact_usd as compact_amount  # noqa: E402
from ftcost_helpers.engine.pricebook import PriceBook  # noqa: E402
from ftcost_helpers.engine.sensitivity import Sensitivity, input_value_text  # noqa: E402
from ftcost_helpers.engine.summary import ALTERNATIVE_NAMES  # noqa: E402
from ftcost_helpers.views.tables import (  # noqa: E402
    TIER_LABELS,
    gpu_hours_frame,
    gpu_label,
    peak_column,
    price_book_band,
    quality_loss,
)

WIDE = (9.0, 4.2)
SQUARE = (6.5, 4.2)
COLOURS = {
    "compute": "#4C72B0",
    "dataset": "#DD8452",
    "eval": "#55A868",
    "engineering": "#8172B3",
    "compliance": "#937860",
    "serving": "#64B5CD",
    "maintenance": "#C44E52",
    "alternative": "#222222",
    "band": "#4C72B0",
}
MEMORY_COLOURS = ["#4C72B0", "#8172B3", "#64B5CD", "#DD8452", "#C44E52", "#55A868", "#937860", "#8C8C8C"]
"""One colour per memory term, in ``MEMORY_LABELS`` order."""
BOOKED_COLOURS = {"Training runs": "#4C72B0", "Failed runs": "#8172B3", "Sweep": "#64B5CD"}
TIER_COLOURS = ["#C44E52", "#DD8452", "#55A868", "#8172B3"]
CORNER_LEGEND: dict[str, dict[str, Any]] = {
    "upper right": {"fontsize": 7, "loc": "upper right"},
    "upper left": {"fontsize": 8, "loc": "upper left"},
    "upper left small": {"fontsize": 7, "loc": "upper left"},
}
"""How the live charts place and size their legends (a panel rebuilds a legend the same way)."""


def plain(text: str) -> str:
    """Client text (a GPU's label) as Matplotlib shows it verbatim: each ``$`` escaped, so a
    pair of them never starts mathtext (which could fail to parse when the chart is drawn)."""
    return text.replace("$", r"\$")


def compact_usd(value: float, _position: Any = None) -> str:
    """A currency tick: ``USD 50k``, ``USD 1.2M``, ``−USD 80k``."""
    sign = "−" if value < 0 else ""
    size = abs(value)
    if size >= 1e6:
        body = f"{size / 1e6:.1f}M".replace(".0M", "M")
    elif size >= 1e3:
        body = f"{size / 1e3:.0f}k"
    else:
        body = f"{size:.0f}" if size >= 10 or size == 0 else f"{size:.2f}"
    return f"{sign}{code()} {body}"


def rate_usd(value: float, _position: Any = None) -> str:
    """A rate tick with cents: ``USD 1.50``."""
    return f"{code()} {value:,.2f}"


def currency_axis(ax: Axes, axis: str = "y", formatter: Any = compact_usd) -> None:
    """Currency ticks on one axis of ``ax``."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(formatter))


def png_bytes(figure: Figure, dpi: float = 96, compress_level: int = 6) -> bytes:
    """The figure as PNG bytes (one drawing pass, no tight bounding box). A lower
    ``compress_level`` (zlib's 0–9) encodes faster for a slightly larger file."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, pil_kwargs={"compress_level": compress_level})
    return buffer.getvalue()


_LAYOUT: ContextVar[str | None] = ContextVar("ftcost_chart_layout", default="constrained")


@contextmanager
def fixed_layout() -> Iterator[None]:
    """Charts built inside skip the layout pass at drawing time: the caller places the axes
    (a widget panel reuses the positions of its first drawing, which saves about a third of
    each redraw)."""
    token = _LAYOUT.set(None)
    try:
        yield
    finally:
        _LAYOUT.reset(token)


def fits_inside(figure: Figure) -> bool:
    """Whether every axes with its labels and title lies inside the figure (after a drawing)."""
    renderer = figure.canvas.get_renderer()
    width, height = figure.bbox.width, figure.bbox.height
    for ax in figure.axes:
        box = ax.get_tightbbox(renderer)
        if box is not None and (box.x0 < 0 or box.y0 < 0 or box.x1 > width or box.y1 > height):
            return False
    return True


def new_figure(size: tuple[float, float] = WIDE, columns: int = 1) -> tuple[Figure, Any]:
    """A figure with ``columns`` axes side by side, laid out to fit its labels."""
    fig = Figure(figsize=size, layout=_LAYOUT.get())
    FigureCanvasAgg(fig)  # a canvas of its own: drawable without pyplot
    axes = fig.subplots(1, columns)
    return fig, axes


def _label_bars(ax: Axes, bars: Any, formatter: Any) -> None:
    ax.bar_label(bars, labels=[formatter(b.get_height()) for b in bars], padding=2, fontsize=8)


# ---------------------------------------------------------------- compute


def gpu_hours_chart(breakdown: Breakdown) -> Figure:
    """GPU-hours of the programme: what the plan books (runs, rerun tax, sweep) against what
    its FLOPs need for the same runs at the utilisation input (with its low–high range)."""
    return _static(LIVE_CHARTS["gpu_hours"], breakdown)


def _gpu_hours_data(breakdown: Breakdown) -> tuple[Any, ...]:
    """(booked GPU-hours by part, physics GPU-hours with its low and high, implied utilisation)."""
    frame = gpu_hours_frame(breakdown)
    booked = tuple(
        (row["Part"], float(row["GPU-hours"]))
        for _, row in frame[frame["View"] == "Booked plan"].iterrows()
        if row["GPU-hours"] > 0
    )
    physics = frame[frame["View"] == "Physics"].iloc[0]
    hours = (float(physics["GPU-hours"]), float(physics["Low"]), float(physics["High"]))
    return booked, hours, float(breakdown.base.compute.implied_utilisation)


def _gpu_hours_title(utilisation: float) -> str:
    return f"Booked against physics GPU-hours\n(the booked plan implies {100 * utilisation:.1f}% of peak)"


def _draw_gpu_hours(ax: Axes, data: tuple[Any, ...]) -> dict[str, Any]:
    booked, (physics, low, high), utilisation = data
    bottom, bars = 0.0, {}
    for part, hours in booked:
        (bars[part],) = ax.bar(0, hours, bottom=bottom, color=BOOKED_COLOURS.get(part, "#4C72B0"), label=part)
        bottom += hours
    (physics_bar,) = ax.bar(1, physics, color=COLOURS["dataset"], label="Physics: FLOPs ÷ (peak × utilisation)")
    errors = ax.errorbar([1], [physics], yerr=[[physics - low], [high - physics]], fmt="none", color="black", capsize=6)
    labels = [
        ax.annotate(f"{height:,.0f}", (x, height), ha="left", va="bottom", xytext=(12, 3), textcoords="offset points")
        for x, height in ((0, bottom), (1, physics))
    ]
    ax.set_xticks([0, 1], ["Booked plan", "Physics"])
    ax.set_ylabel("GPU-hours (all runs)")
    ax.set_title(_gpu_hours_title(utilisation))
    ax.set_ylim(0, max(bottom, high) * 1.25)
    ax.legend(**CORNER_LEGEND["upper right"])
    return {"booked": bars, "physics": physics_bar, "errors": errors, "labels": labels}


def _update_gpu_hours(ax: Axes, drawn: dict[str, Any], data: tuple[Any, ...]) -> bool:
    booked, (physics, low, high), utilisation = data
    if [part for part, _ in booked] != list(drawn["booked"]):
        return False  # a part appeared or vanished: the legend changes
    bottom = 0.0
    for part, hours in booked:
        drawn["booked"][part].set_y(bottom)
        drawn["booked"][part].set_height(hours)
        bottom += hours
    drawn["physics"].set_height(physics)
    _, (cap_low, cap_high), (stem,) = drawn["errors"].lines
    stem.set_segments([[(1, low), (1, high)]])
    cap_low.set_data([1], [low])
    cap_high.set_data([1], [high])
    for label, (x, height) in zip(drawn["labels"], ((0, bottom), (1, physics)), strict=True):
        label.xy = (x, height)
        label.set_text(f"{height:,.0f}")
    ax.set_title(_gpu_hours_title(utilisation))
    ax.set_ylim(0, max(bottom, high) * 1.25)
    return True


def gpu_rates_chart(book: PriceBook, booked: tuple[str, str, float] | None = None) -> Figure:
    """USD per GPU-hour by GPU and tier (low–high bars); ``booked`` = (gpu, tier, rate) marks the plan.

    A plan on a GPU the price book prices on no tier (a GPU the file describes) gets a row of
    its own; where the book has no rate for the plan's GPU and tier, the marker's legend
    says the rate is the client's own."""
    tiers = book.tiers
    gpus = list(book.gpu_rates_usd_per_gpu_hour)
    if booked is not None and booked[0] not in gpus:
        gpus.append(booked[0])
    fig, ax = new_figure(WIDE)
    height = 0.8 / len(tiers)
    for t, tier in enumerate(tiers):
        first = next((g for g, gpu in enumerate(gpus) if price_book_band(book, gpu, tier) is not None), None)
        for g, gpu in enumerate(gpus):
            band = price_book_band(book, gpu, tier)
            if band is None:
                continue
            y = g + (t - (len(tiers) - 1) / 2) * height
            label = TIER_LABELS.get(tier, tier) if g == first else None
            ax.barh(y, band.high - band.low, left=band.low, height=height * 0.9, color=TIER_COLOURS[t % 4], label=label)
    if booked is not None:
        _mark_booked_rate(ax, book, gpus, booked, height)
    ax.set_yticks(range(len(gpus)), [plain(gpu_label(book, g)) for g in gpus])
    ax.invert_yaxis()
    currency_axis(ax, "x", rate_usd)
    ax.set_xlabel(f"{code()} per GPU-hour (low–high)")
    ax.set_title(f"GPU rental prices by GPU and tier (price book {book.as_of.isoformat()})")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return fig


def _mark_booked_rate(
    ax: Axes, book: PriceBook, gpus: list[str], booked: tuple[str, str, float], height: float
) -> None:
    """The plan's rate as a diamond on its GPU's row, beside its tier's bar (mid-row for a
    tier the chart has no bar of)."""
    gpu, tier, rate = booked
    tiers = book.tiers
    t = tiers.index(tier) if tier in tiers else (len(tiers) - 1) / 2
    y = gpus.index(gpu) + (t - (len(tiers) - 1) / 2) * height
    own = "" if price_book_band(book, gpu, tier) is not None else " (its own rate: no price-book rate)"
    ax.plot([rate], [y], marker="D", color="black", linestyle="none", label=f"This plan: {code()} {rate:,.2f}{own}")


def vram_chart(vram: pd.DataFrame, gpu_label: str, gpu_memory_gb: float) -> Figure:
    """VRAM per GPU each method needs, stacked by memory term at its peak phase, against the
    GPU's memory.

    ``vram`` is :func:`ftcost_helpers.views.tables.vram_by_method`'s frame. A method the plan
    rules out (no figures: NaN) keeps its place on the axis, labelled "not for this plan"
    (the table beside the chart says why).
    """
    gpu_label = plain(gpu_label)
    fig, ax = new_figure(WIDE)
    bottom = np.zeros(len(vram))
    bars = None
    for index, label in enumerate(MEMORY_LABELS.values()):
        heights = np.nan_to_num(vram[peak_column(label)].to_numpy(dtype=float), nan=0.0)
        if not heights.any():
            continue
        colour = MEMORY_COLOURS[index % len(MEMORY_COLOURS)]
        bars = ax.bar(vram["Method"], heights, bottom=bottom, color=colour, label=label)
        bottom = bottom + heights
    if bars is not None:
        _label_bars_total(ax, bars, vram["Per GPU (GB)"])
    ax.axhline(gpu_memory_gb, color="black", linestyle="-", linewidth=1, label=f"{gpu_label}: {gpu_memory_gb:,.0f} GB")
    usable = vram["Usable per GPU (GB)"].dropna()
    if not usable.empty:
        at = float(usable.iloc[0])
        ax.axhline(at, color="black", linestyle="--", linewidth=1, label=f"Usable after headroom: {at:,.0f} GB")
    ax.set_ylabel("GB per GPU")
    ax.set_title(f"VRAM per GPU by method against {gpu_label} memory")
    ax.legend(fontsize=7, loc="upper left", ncol=2)
    tallest = float(vram["Per GPU (GB)"].max(skipna=True)) if vram["Per GPU (GB)"].notna().any() else 0.0
    ax.set_ylim(0, max(tallest, gpu_memory_gb) * 1.35)
    return fig


def _label_bars_total(ax: Axes, bars: Any, totals: Sequence[float]) -> None:
    labels = ["not for this plan" if np.isnan(t) else f"{t:,.0f} GB" for t in totals]
    ax.bar_label(bars, labels=labels, padding=2, fontsize=8)


# ---------------------------------------------------------------- dataset


def dataset_stack_chart(breakdown: Breakdown) -> Figure:
    """The dataset's cost stack beside the compute bill and the source's 3–6× guidance."""
    return _static(LIVE_CHARTS["dataset"], breakdown)


DATASET_PALETTE = ["#DD8452", "#F2B880", "#C44E52", "#E39C9E", "#8C564B", "#D6A77A", "#BCBD22", "#937860"]


def _dataset_data(breakdown: Breakdown) -> tuple[Any, ...]:
    """(dataset and compute lines above 0 as (item, USD), the compute bill, the guidance band's
    low and high as multiples of it)."""
    lines = [line for line in breakdown.base.lines if float(line.value) > 0]
    stacks = tuple(
        tuple((line.item, float(line.value)) for line in lines if line.area == area) for area in ("dataset", "compute")
    )
    ratio = breakdown.book.dataset_to_compute_ratio
    return stacks, breakdown.areas_usd["compute"], float(ratio.low), float(ratio.high)


def _draw_dataset(ax: Axes, data: tuple[Any, ...]) -> dict[str, Any]:
    stacks, compute, low, high = data
    bars, labels = [], []
    for x, (area, stack) in enumerate(zip(("dataset", "compute"), stacks, strict=True)):
        bottom = 0.0
        for i, (item, value) in enumerate(stack):
            colour = DATASET_PALETTE[i % len(DATASET_PALETTE)] if area == "dataset" else COLOURS["compute"]
            label = item if area == "dataset" else None
            (bar,) = ax.bar(x, value, bottom=bottom, color=colour, edgecolor="white", label=label)
            bars.append(bar)
            bottom += value
        labels.append(
            ax.annotate(
                f"{code()} {bottom:,.0f}",
                (x, bottom),
                ha="center",
                va="bottom",
                fontsize=9,
                xytext=(0, 3),
                textcoords="offset points",
            )
        )
    band = ax.fill_between(
        [-0.45, 0.45],
        compute * low,
        compute * high,
        facecolor="none",
        edgecolor="black",
        hatch="//",
        zorder=3,
        label=f"Guidance: dataset {low:g}–{high:g}× compute",
    )
    ax.set_xticks([0, 1], ["Dataset", "Compute"])
    currency_axis(ax)
    ax.set_ylabel(f"{code()} (one-time)")
    ax.set_title("Dataset cost stack against the compute bill")
    ax.legend(**CORNER_LEGEND["upper right"])
    return {"items": [[item for item, _ in stack] for stack in stacks], "bars": bars, "labels": labels, "band": band}


def _update_dataset(ax: Axes, drawn: dict[str, Any], data: tuple[Any, ...]) -> bool:
    stacks, compute, low, high = data
    if [[item for item, _ in stack] for stack in stacks] != drawn["items"]:
        return False  # a line appeared or vanished: the legend changes
    bars = iter(drawn["bars"])
    for x, stack in enumerate(stacks):
        bottom = 0.0
        for _, value in stack:
            bar = next(bars)
            bar.set_y(bottom)
            bar.set_height(value)
            bottom += value
        drawn["labels"][x].xy = (x, bottom)
        drawn["labels"][x].set_text(f"{code()} {bottom:,.0f}")
    drawn["band"].set_data([-0.45, 0.45], compute * low, compute * high)
    _autoscale(ax, [(-0.45, compute * low), (0.45, compute * high)])
    return True


# ---------------------------------------------------------------- evaluation


def eval_chart(breakdown: Breakdown) -> Figure:
    """Cumulative evaluation spend: the one-time set-up against the monthly cost piling up."""
    return _static(LIVE_CHARTS["eval"], breakdown)


def _eval_data(breakdown: Breakdown) -> tuple[Any, ...]:
    """(horizon in months, one-time USD, USD per month, the month the monthly cost has overtaken
    the set-up or None when not within the horizon)."""
    horizon = breakdown.params.horizon_months
    one_time, monthly = breakdown.areas_usd["eval"], breakdown.ongoing_monthly_usd["eval"]
    crossover = int(np.ceil(one_time / monthly)) if monthly > 0 and one_time > 0 else None
    return horizon, one_time, monthly, crossover if crossover is not None and crossover <= horizon else None


def _eval_layers(horizon: int, one_time: float, monthly: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    months = np.arange(0, horizon + 1)
    return months, np.full(months.shape, one_time), monthly * months


def _continuous_label(monthly: float) -> str:
    return f"Continuous ({compact_usd(monthly)}/month)"


def _draw_eval(ax: Axes, data: tuple[Any, ...]) -> dict[str, Any]:
    horizon, one_time, monthly, crossover = data
    months, set_up, continuous = _eval_layers(horizon, one_time, monthly)
    layers = ax.stackplot(
        months,
        set_up,
        continuous,
        colors=["#55A868", "#A6D7A8"],
        labels=["One-time (set-up and judged runs)", _continuous_label(monthly)],
    )
    marks = None
    if crossover is not None:
        marks = (
            ax.axvline(crossover, color="black", linestyle=":", linewidth=1),
            ax.annotate(
                f"month {crossover}: monthly eval has cost\nmore than the set-up",
                (crossover, one_time),
                xytext=(5, 10),
                textcoords="offset points",
                fontsize=8,
            ),
        )
    currency_axis(ax)
    ax.set_xlabel("Month after launch")
    ax.set_ylabel(f"Cumulative evaluation spend ({code()})")
    ax.set_title("Evaluation: one-time set-up against continuous monthly cost")
    ax.set_xlim(0, horizon)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(**CORNER_LEGEND["upper left"])
    return {"layers": layers, "marks": marks}


def _update_eval(ax: Axes, drawn: dict[str, Any], data: tuple[Any, ...]) -> bool:
    horizon, one_time, monthly, crossover = data
    if (crossover is None) != (drawn["marks"] is None):
        return False  # the crossover mark appears or goes
    months, set_up, continuous = _eval_layers(horizon, one_time, monthly)
    lower, upper = drawn["layers"]
    lower.set_data(months, 0, set_up)
    upper.set_data(months, set_up, set_up + continuous)
    upper.set_label(_continuous_label(monthly))
    ax.get_legend().get_texts()[1].set_text(_continuous_label(monthly))
    if crossover is not None:
        line, note = drawn["marks"]
        line.set_xdata([crossover, crossover])
        note.xy = (crossover, one_time)
        note.set_text(f"month {crossover}: monthly eval has cost\nmore than the set-up")
    _autoscale(ax, [(0, 0), (horizon, one_time + monthly * horizon)])
    ax.set_xlim(0, horizon)
    return True


# ---------------------------------------------------------------- maintenance


def maintenance_chart(breakdown: Breakdown) -> Figure:
    """Left: maintenance cost per quarter by item. Right: quality lost when it is skipped."""
    fig, (left, right) = new_figure(WIDE, 2)
    draw_maintenance_cost(left, breakdown)
    draw_quality_loss(right, breakdown.params)
    return fig


def maintenance_cost_chart(breakdown: Breakdown) -> Figure:
    """Maintenance cost per quarter by item (the left half of :func:`maintenance_chart`)."""
    return _static(LIVE_CHARTS["maintenance_cost"], breakdown)


def draw_maintenance_cost(ax: Axes, breakdown: Breakdown) -> None:
    """Stacked bars of maintenance USD per quarter, from the month maintenance starts."""
    _draw_maintenance(ax, _maintenance_data(breakdown))


MAINTENANCE_PALETTE = ["#55A868", "#64B5CD", "#DD8452", "#4C72B0", "#C44E52"]


def _maintenance_data(breakdown: Breakdown) -> tuple[Any, ...]:
    """(item, USD in each quarter) for every maintenance item: its quarterly cost × the share
    of the quarter's three months that are maintained."""
    months_maintained = months_maintained_per_quarter(breakdown.base.maintained_by_month)
    return tuple(
        (item, tuple(float(value) * months_maintained / 3))
        for item, value in breakdown.base.maintenance_quarterly.items()
    ), int(months_maintained.shape[-1])


def _maintenance_top(data: tuple[Any, ...]) -> float:
    items, quarters = data
    tops = np.sum([heights for _, heights in items], axis=0) if items and quarters else np.zeros(0)
    return max(float(np.max(tops, initial=0.0)), 1.0) * 1.45


def _draw_maintenance(ax: Axes, data: tuple[Any, ...]) -> dict[str, Any]:
    items, quarters = data
    positions = np.arange(1, quarters + 1)
    bottom = np.zeros(quarters)
    stacks = []
    for i, (item, heights) in enumerate(items):
        stacks.append(
            ax.bar(
                positions, heights, bottom=bottom, color=MAINTENANCE_PALETTE[i % len(MAINTENANCE_PALETTE)], label=item
            )
        )
        bottom = bottom + np.asarray(heights, dtype=float)
    currency_axis(ax)
    ax.set_xlabel("Quarter")
    ax.set_ylabel(f"{code()} per quarter")
    ax.set_title("Maintenance cost per quarter")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if quarters:
        ax.legend(**CORNER_LEGEND["upper left small"])
    else:  # a horizon shorter than a quarter
        ax.text(0.5, 0.5, "no full quarter within the horizon", ha="center", va="center", transform=ax.transAxes)
    ax.set_ylim(0, _maintenance_top(data))
    return {"items": [item for item, _ in items], "quarters": quarters, "stacks": stacks}


def _update_maintenance(ax: Axes, drawn: dict[str, Any], data: tuple[Any, ...]) -> bool:
    items, quarters = data
    if [item for item, _ in items] != drawn["items"] or quarters != drawn["quarters"]:
        return False  # a quarter or an item more or fewer: other bars
    bottom = np.zeros(quarters)
    for stack, (_, heights) in zip(drawn["stacks"], items, strict=True):
        for bar, low, height in zip(stack, bottom, heights, strict=True):
            bar.set_y(low)
            bar.set_height(height)
        bottom = bottom + np.asarray(heights, dtype=float)
    ax.set_ylim(0, _maintenance_top(data))
    return True


def draw_quality_loss(ax: Axes, params: Any) -> None:
    """The band of quality points lost after each quarter without maintenance."""
    loss = quality_loss(params)
    ax.fill_between(
        loss["Quarter"], loss["Low"], loss["High"], color=COLOURS["maintenance"], alpha=0.3, label="low–high"
    )
    ax.plot(loss["Quarter"], (loss["Low"] + loss["High"]) / 2, color=COLOURS["maintenance"], label="midpoint")
    ax.set_ylim(0, None)
    ax.set_xlabel("Quarters without maintenance")
    ax.set_ylabel("Quality lost (percentage points)")
    ax.set_title("Quality lost when maintenance is skipped")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=8, loc="upper left")


# ---------------------------------------------------------------- ROI


def cash_flow_chart(breakdown: Breakdown, band: tuple[np.ndarray, np.ndarray] | None = None) -> Figure:
    """Cumulative cash flow by month with the break-even month marked; ``band`` = (P10, P90) by month."""
    fig, ax = new_figure(WIDE)
    _draw_cash_flow(ax, _cash_flow_data(breakdown), band)
    return fig


def _cash_flow_data(breakdown: Breakdown) -> tuple[Any, ...]:
    """(horizon, build months, cumulative cash flow by month, break-even month or None)."""
    p = breakdown.params
    return (
        p.horizon_months,
        p.programme.build_months,
        tuple(map(float, breakdown.cash_flow)),
        breakdown.break_even_month,
    )


def _cash_flow_title(month: int | None) -> str:
    title = "no break-even within the horizon" if month is None else f"break-even in month {month}"
    return f"Cumulative cash flow against the alternative ({title})"


def _draw_cash_flow(
    ax: Axes, data: tuple[Any, ...], band: tuple[np.ndarray, np.ndarray] | None = None
) -> dict[str, Any]:
    horizon, build, cash_flow, month = data
    months = np.arange(0, horizon + 1)
    if build:
        ax.axvspan(0, build, color="grey", alpha=0.15, label=f"Build: months 1–{build} (no saving yet)")
    if band is not None:
        ax.fill_between(months, band[0], band[1], color=COLOURS["band"], alpha=0.2, label="P10–P90")
    (line,) = ax.plot(months, cash_flow, color=COLOURS["band"], marker="o", markersize=3, label="Base case")
    ax.axhline(0, color="black", linewidth=0.8)
    marks = None
    if month is not None:
        marks = (
            ax.axvline(month, color=COLOURS["eval"], linestyle="--", linewidth=1),
            ax.plot(
                [month],
                [cash_flow[month]],
                marker="*",
                markersize=14,
                color=COLOURS["eval"],
                linestyle="none",
                label=f"Break-even: month {month}",
            )[0],
        )
    ax.set_title(_cash_flow_title(month))
    currency_axis(ax)
    ax.set_xlabel(
        "Month from the programme's start" + (f" (launch after month {build})" if build else " (0 = the outlay)")
    )
    ax.set_ylabel(f"Cumulative cash flow ({code()})")
    ax.set_xlim(0, months[-1])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(**CORNER_LEGEND["upper left"])
    ax.grid(alpha=0.3)
    return {"line": line, "marks": marks, "build": build}


def _update_cash_flow(ax: Axes, drawn: dict[str, Any], data: tuple[Any, ...]) -> bool:
    horizon, build, cash_flow, month = data
    if build != drawn["build"] or (month is None) != (drawn["marks"] is None):
        return False  # the build span or the break-even mark changes shape
    drawn["line"].set_data(np.arange(0, horizon + 1), cash_flow)
    if month is not None:
        line, star = drawn["marks"]
        line.set_xdata([month, month])
        star.set_data([month], [cash_flow[month]])
        star.set_label(f"Break-even: month {month}")
        ax.legend(**CORNER_LEGEND["upper left"])
    ax.set_title(_cash_flow_title(month))
    _autoscale(ax, [])
    ax.set_xlim(0, horizon)
    return True


def monthly_costs_chart(breakdown: Breakdown) -> Figure:
    """Running cost by month (evaluation, serving, maintenance) against the alternative, from
    the programme's start: both begin at launch, after any build period (shaded)."""
    p, run = breakdown.params, breakdown.base
    build = p.programme.build_months
    months = np.arange(1, p.horizon_months + 1)
    operating = operating_months(build, p.horizon_months)
    parts = {
        "Continuous eval": operating * breakdown.ongoing_monthly_usd["eval"],
        "Serving": operating * breakdown.ongoing_monthly_usd["serving"],
        "Maintenance": np.where(run.maintained_by_month > 0, breakdown.ongoing_monthly_usd["maintenance"], 0.0),
    }
    fig, ax = new_figure(WIDE)
    if build:
        ax.axvspan(0.5, build + 0.5, color="grey", alpha=0.15, label=f"Build: months 1–{build} (not running yet)")
    bottom = np.zeros(months.shape)
    for (name, values), colour in zip(
        parts.items(), [COLOURS["eval"], COLOURS["serving"], COLOURS["maintenance"]], strict=True
    ):
        ax.bar(months, values, bottom=bottom, color=colour, label=name, width=0.8)
        bottom = bottom + values
    alternative = float(run.alternative_monthly)
    if p.alternative.kind != "none":
        ax.step(
            np.r_[months - 0.5, months[-1] + 0.5],
            np.r_[operating, operating[-1]] * alternative,
            where="post",
            color=COLOURS["alternative"],
            linewidth=2,
            label=f"Replaced {ALTERNATIVE_NAMES[p.alternative.kind]}: {compact_usd(alternative)}/month",
        )
    currency_axis(ax)
    ax.set_xlabel("Month from the programme's start" + (f" (launch after month {build})" if build else ""))
    ax.set_ylabel(f"{code()} per month")
    ax.set_title("Monthly cost of the fine-tune against the alternative")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max(float(bottom.max()), alternative) * 1.3)
    ax.legend(loc="upper left", fontsize=8, ncols=2)
    return fig


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


# ---------------------------------------------------------------- live charts


def _autoscale(ax: Axes, points: Sequence[tuple[float, float]]) -> None:
    """Scale ``ax`` to its lines and bars again, taking in ``points`` (data a collection such as
    a filled band covers, which matplotlib's re-limiting leaves out)."""
    ax.relim()
    if points:
        ax.update_datalim(points)
    ax.set_autoscale_on(True)
    ax.autoscale_view()


@dataclass(frozen=True)
class ChartKind:
    """How one chart turns an estimate into numbers, draws them and updates them in place."""

    size: tuple[float, float]
    data: Callable[[Breakdown], tuple[Any, ...]]
    """The numbers and labels the chart shows (equal data, equal drawing)."""
    draw: Callable[[Axes, tuple[Any, ...]], dict[str, Any]]
    """Draws the data on empty axes; returns the artists that ``update`` changes."""
    update: Callable[[Axes, dict[str, Any], tuple[Any, ...]], bool]
    """Sets the artists to new data; False when the data needs other artists (``draw`` again)."""
    legend: str = "upper left"
    """Its legend's place and size (a key of :data:`CORNER_LEGEND`)."""


LIVE_CHARTS = {
    "gpu_hours": ChartKind(SQUARE, _gpu_hours_data, _draw_gpu_hours, _update_gpu_hours, "upper right"),
    "dataset": ChartKind(SQUARE, _dataset_data, _draw_dataset, _update_dataset, "upper right"),
    "eval": ChartKind(WIDE, _eval_data, _draw_eval, _update_eval),
    "maintenance_cost": ChartKind(
        SQUARE, _maintenance_data, _draw_maintenance, _update_maintenance, "upper left small"
    ),
    "cash_flow": ChartKind(WIDE, _cash_flow_data, _draw_cash_flow, _update_cash_flow),
}
"""The charts a widget panel keeps for a session, by name."""


def _static(kind: ChartKind, breakdown: Breakdown) -> Figure:
    fig, ax = new_figure(kind.size)
    kind.draw(ax, kind.data(breakdown))
    return fig
