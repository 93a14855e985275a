"""Notebook 05's advice: what is worth measuring before signing (the value of information of
each input group) as a table, and the search's Pareto set of cost, time and risk as a chart."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from ftcost_helpers.engine.advise import Advice
from ftcost_helpers.engine.money import code
from ftcost_helpers.views.advice_text import METHOD_WORDS
from ftcost_helpers.views.charts import ExactUsdTicks, new_figure
from ftcost_helpers.views.tables import Table, usd

WORTH = "Worth up to"


def worth_table(voi: Mapping[str, Any]) -> Table:
    """Each input group with what knowing it before deciding would be worth (its EVPPI), largest first."""
    frame = pd.DataFrame(
        [{"What to pin down": g["group"], "How": g["measurement"], WORTH: g["worth_usd"]} for g in voi["groups"]]
    )
    note = (
        f"The choice: {voi['decision']}. Knowing every input first would be worth {usd(voi['evpi_usd'])} "
        "(the expected value of perfect information); a pilot or study costing more than its row is not worth it."
    )
    title = "What is worth measuring before signing (expected value of partial perfect information)"
    return Table(frame, {WORTH: usd}, title, note, ("What to pin down", "How"))


def worth_sentence(voi: Mapping[str, Any] | None) -> str:
    """The choice on expected value, and whether anything is worth measuring before it."""
    if voi is None:
        return "One plan and no alternative: there is nothing to choose, so nothing to measure first."
    chosen = f"**On expected value the choice is: {voi['chosen_on_expected_value']}.**"
    if voi["evpi_usd"] < 0.5:
        return (
            f"{chosen} No measurement before signing could change it: in every simulated outcome the same "
            "option comes out best (the expected value of perfect information is nil)."
        )
    top = voi["groups"][0]
    return (
        f"{chosen} The input most worth pinning down first is {top['group'].lower()} "
        f"({top['measurement']}): up to {usd(top['worth_usd'])} of decision value."
    )


def pareto_chart(advice: Advice) -> Figure:
    """Every configuration that fits (grey) and the Pareto set (coloured by method): cost at the
    confidence against days of training, the recommendation ringed."""
    fig, ax = new_figure((7.0, 4.2))
    runs = advice.runs
    fitting = [item for item in advice.evaluated if item.verdict == "fits" and item.configuration.provider != "managed"]
    ax.scatter(
        [item.wall_clock_hours(runs) / 24 for item in fitting],
        [item.cost_at_confidence for item in fitting],
        s=8,
        color="#c8c8c8",
        label="fits",
    )
    for method in sorted({item.configuration.method for item in advice.pareto}):
        points = [item for item in advice.pareto if item.configuration.method == method]
        ax.scatter(
            [item.wall_clock_hours(runs) / 24 for item in points],
            [item.cost_at_confidence for item in points],
            s=28,
            label=f"Pareto set, {METHOD_WORDS.get(method, method)}",
        )
    if advice.recommended is not None:
        best = advice.recommended
        ax.scatter(
            [best.wall_clock_hours(runs) / 24],
            [best.cost_at_confidence],
            s=160,
            facecolors="none",
            edgecolors="black",
            label="recommended",
        )
    level = f"P{round(advice.constraints.confidence * 100)}"
    ax.yaxis.set_major_formatter(ExactUsdTicks())
    ax.set_xlabel("Days of training (runs one after another)")
    ax.set_ylabel(f"Programme cost, {level} ({code()})")
    ax.set_title(f"{len(fitting):,} configurations that fit, and the Pareto set", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=8, loc="upper right", frameon=False)
    return fig
