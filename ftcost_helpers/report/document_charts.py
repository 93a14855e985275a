"""The client document's three charts (cost by area, the tornado, the P10–P90 band of the
cumulative cash flow), each as a PNG with the alt text that says what it shows.

Ticks are exact at their step (:func:`~ftcost_helpers.engine.money.tick_labels`): an axis
stepping by 2,500 reads 2.5k, 5k, 7.5k.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.ticker import MaxNLocator

from ftcost_helpers.engine.breakdown import Breakdown
from ftcost_helpers.engine.headline import BASIS_SHORT, Headline
from ftcost_helpers.engine.money import code, compact_usd, usd
from ftcost_helpers.engine.sensitivity import NET_VALUE, Sensitivity, input_value_text
from ftcost_helpers.engine.uncertainty import Simulation
from ftcost_helpers.views.charts import COLOURS, ExactUsdTicks, new_figure, png_bytes
from ftcost_helpers.views.charts import tornado_chart as views_tornado_chart
from ftcost_helpers.views.tables import AREA_LABELS

DPI = 150
"""Sharp on paper and on a high-density screen."""


@dataclass(frozen=True)
class Chart:
    """One embedded chart: the PNG as a data URI, its pixel size and its alt text."""

    data_uri: str
    width: int
    height: int
    alt: str


def _chart(figure, alt: str) -> Chart:
    png = png_bytes(figure, dpi=DPI)
    width, height = (round(v * DPI) for v in figure.get_size_inches())
    return Chart("data:image/png;base64," + base64.b64encode(png).decode("ascii"), width, height, alt)


def area_chart(breakdown: Breakdown) -> Chart:
    """Horizontal bars of the one-time cost by area, each labelled with its amount and share."""
    areas = [(AREA_LABELS.get(a, a), v) for a, v in breakdown.areas_usd.items() if v > 0]
    areas.sort(key=lambda item: item[1])
    total = breakdown.programme_total or 1.0
    fig, ax = new_figure((7.6, 0.5 * len(areas) + 1.1))
    bars = ax.barh([name for name, _ in areas], [v for _, v in areas], color=COLOURS["compute"])
    ax.bar_label(bars, labels=[f"{usd(v)} ({v / total:.0%})" for _, v in areas], padding=4, fontsize=8)
    ax.xaxis.set_major_formatter(ExactUsdTicks())
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.set_xlim(0, max(v for _, v in areas) * 1.45)
    ax.set_xlabel(f"One-time cost ({code()})")
    ax.spines[["top", "right"]].set_visible(False)
    described = "; ".join(f"{name} {usd(v)} ({v / total:.0%})" for name, v in reversed(areas))
    alt = f"Bar chart of the one-time programme cost by area, largest first: {described}."
    return _chart(fig, alt)


def tornado_chart(result: Sensitivity, names: Sequence[str]) -> Chart:
    """The tornado of :func:`ftcost_helpers.views.charts.tornado_chart` for the document:
    ``names`` are the inputs in the document's words, one per row of ``result``."""
    figure = views_tornado_chart(result, names, width=7.6)
    quantity = result.name.lower()
    pairs = list(zip(names, result.rows, strict=True))
    described = "; ".join(
        f"{name}: {usd(row.at_low)} at {input_value_text(row.path, row.input_low)}, "
        f"{usd(row.at_high)} at {input_value_text(row.path, row.input_high)}"
        for name, row in pairs
    )
    alt = (
        f"Tornado chart of the {quantity} (base case {usd(result.base)}): the {len(pairs)} inputs that move it most, "
        f"largest first, each alone from its low to its high end with every other input at its base case. {described}."
    )
    return _chart(figure, alt)


def tornado_caption(result: Sensitivity, names: Sequence[str]) -> str:
    """The tornado's caption (plain text): what it measures, which end is which, and its largest bar."""
    meaning = (
        "what the alternative would cost over the months the fine-tune runs in its place, less the fine-tune's "
        "cost of ownership (programme and running costs)"
        if result.quantity == NET_VALUE
        else "the programme plus its running costs"
    )
    shown = len(names)
    which = f"the {shown} of {result.drivers_found} uncertain inputs" if result.drivers_found > shown else "the inputs"
    top, name = result.rows[0], names[0]
    return (
        f"Each bar moves one uncertain input alone from its low end (blue) to its high end (orange), every other "
        f"input at its base case, and shows the {result.name.lower()} that results: {meaning}; base case "
        f"{usd(result.base)}. These are {which} that move it most, largest first. The largest is {name}: "
        f"{usd(top.at_low)} at {input_value_text(top.path, top.input_low)} and {usd(top.at_high)} at "
        f"{input_value_text(top.path, top.input_high)}."
    )


def cash_flow_band_chart(headline: Headline, simulation: Simulation, staff_time: bool = False) -> Chart:
    """Cumulative position by month from the programme's start: the P10–P90 band of the
    draws, the headline's own line (its basis), zero and its break-even month; the build
    period shaded when there is one. ``staff_time``: the saving is staff time valued at
    cost, and the axis says so."""
    band = simulation.cash_flow_band()
    cash = headline.cash_flow
    months = np.arange(len(cash))
    build_months = headline.build_months
    fig, ax = new_figure((7.6, 3.3))
    if build_months:
        ax.axvspan(0, build_months, color="#999999", alpha=0.15, label=f"Build ({build_months} months)")
    ax.fill_between(months, band["p10"], band["p90"], color=COLOURS["band"], alpha=0.22, label="P10–P90 of the draws")
    basis = BASIS_SHORT[headline.basis]
    ax.plot(months, cash, color="black", linewidth=1.3, label=f"Headline figures ({basis})")
    ax.axhline(0, color="#555555", linewidth=0.8)
    month = headline.break_even_month
    if month is not None:
        ax.plot(
            [month],
            [cash[month]],
            marker="o",
            color=COLOURS["eval"],
            linestyle="none",
            label=f"Break-even, month {month}",
        )
    ax.yaxis.set_major_formatter(ExactUsdTicks())
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0, months[-1])
    ax.set_xlabel("Month from the programme's start (position at the end of each month)")
    ax.set_ylabel(f"Cumulative position ({code()})" + ("\nstaff time valued at cost" if staff_time else ""))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    end = len(cash) - 1
    paid = "" if month is None else f" The headline line crosses zero in month {month}."
    alt = (
        f"Line chart of the cumulative position from the programme's start to month {end}: on the {basis} basis it "
        f"starts at {usd(cash[0])} and ends at {usd(cash[-1])}; the shaded band holds the middle 80% of the simulated "
        f"outcomes, from {usd(band['p10'][-1])} to {usd(band['p90'][-1])} by month {end}.{paid}"
    )
    return _chart(fig, alt)


__all__ = [
    "Chart",
    "ExactUsdTicks",
    "area_chart",
    "cash_flow_band_chart",
    "compact_usd",
    "tornado_caption",
    "tornado_chart",
]
