"""Matplotlib charts of an estimate: titles, labelled axes with units, currency ticks.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot, so no
global figure state leaks between cells or widget redraws; a notebook displays it with
``show(fig)``. Charts draw numbers the package computed; they compute nothing themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

# On a fresh machine, a slow first import of matplotlib logs "building the font cache" to
# stderr; in a notebook that text would become an output that nbval then finds missing.
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from ftcost_helpers.engine.breakdown import Breakdown  # noqa: E402
from ftcost_helpers.engine.model.maintenance import months_maintained_per_quarter  # noqa: E402
from ftcost_helpers.engine.model.roi import operating_months  # noqa: E402
from ftcost_helpers.engine.model.training import MEMORY_LABELS  # noqa: E402
from ftcost_helpers.engine.money import code  # noqa: E402
from ftcost_helpers.engine.pricebook import PriceBook  # noqa: E402
from ftcost_helpers.engine.summary import ALTERNATIVE_NAMES  # noqa: E402
from ftcost_helpers.views.chart_base import BOOKED_COLOURS as BOOKED_COLOURS  # noqa: E402
from ftcost_helpers.views.chart_base import COLOURS as COLOURS  # noqa: E402
from ftcost_helpers.views.chart_base import CORNER_LEGEND as CORNER_LEGEND  # noqa: E402
from ftcost_helpers.views.chart_base import MEMORY_COLOURS as MEMORY_COLOURS  # noqa: E402
from ftcost_helpers.views.chart_base import SQUARE as SQUARE  # noqa: E402
from ftcost_helpers.views.chart_base import TIER_COLOURS as TIER_COLOURS  # noqa: E402
from ftcost_helpers.views.chart_base import WIDE as WIDE  # noqa: E402
from ftcost_helpers.views.chart_base import compact_usd as compact_usd  # noqa: E402
from ftcost_helpers.views.chart_base import currency_axis as currency_axis  # noqa: E402
from ftcost_helpers.views.chart_base import fits_inside as fits_inside  # noqa: E402
from ftcost_helpers.views.chart_base import fixed_layout as fixed_layout  # noqa: E402
from ftcost_helpers.views.chart_base import new_figure as new_figure  # noqa: E402
from ftcost_helpers.views.chart_base import plain as plain  # noqa: E402
from ftcost_helpers.views.chart_base import png_bytes as png_bytes  # noqa: E402
from ftcost_helpers.views.chart_base import rate_usd as rate_usd  # noqa: E402
from ftcost_helpers.views.charts_uncertainty import TORNADO_ENDS as TORNADO_ENDS  # noqa: E402
from ftcost_helpers.views.charts_uncertainty import ExactUsdTicks as ExactUsdTicks  # noqa: E402
from ftcost_helpers.views.charts_uncertainty import break_even_probability_chart as break_even_probability_chart  # noqa: E402
from ftcost_helpers.views.charts_uncertainty import percentile_band_chart as percentile_band_chart  # noqa: E402
from ftcost_helpers.views.charts_uncertainty import tornado_chart as tornado_chart  # noqa: E402
from ftcost_helpers.views.charts_uncertainty import total_band_chart as total_band_chart  # noqa: E402
from ftcost_helpers.views.tables import (  # noqa: E402
    TIER_LABELS,
    gpu_hours_frame,
    gpu_label,
    peak_column,
    price_book_band,
    quality_loss,
)

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
