"""The client document's "Spend to date" section (``report --actuals``, issue 23): spend
against the forecast by month and by area, each area's variance split into rate and volume,
and the programme re-forecast with the months spent fixed at their actuals, beside the
original P10–P90; with a burn-down chart. The figures are those ``ftcost track`` prints
(:func:`~ftcost_helpers.report.track.track_figures`, :mod:`~ftcost_helpers.engine.tracking`).
"""

from __future__ import annotations

from html import escape as _h
from typing import Any

import numpy as np
from matplotlib.ticker import MaxNLocator

from ftcost_helpers.engine.headline import BASIS_SHORT
from ftcost_helpers.engine.money import code, usd, usd_cents
from ftcost_helpers.report.document_charts import Chart, _chart
from ftcost_helpers.report.track import band_words, break_even_band_words
from ftcost_helpers.views.charts import COLOURS, ExactUsdTicks, new_figure
from ftcost_helpers.views.tables import AREA_LABELS

RUNNING_LABELS = {"continuous_eval": "Continuous evaluation", "serving": "Serving", "maintenance": "Maintenance"}


def area_label(area: str) -> str:
    """A tracked area in words."""
    return RUNNING_LABELS.get(area) or AREA_LABELS.get(area, area)


def burn_down(tracking: dict[str, Any], budget_usd: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(months 0..m, planned, actual): the quoted cost of ownership ``budget_usd`` less the
    cumulative forecast, and less the cumulative actual spend, at the end of each month
    tracked (month 0: the whole budget)."""
    forecast = [row["forecast_usd"] for row in tracking["by_month"]]
    actual = [row["actual_usd"] for row in tracking["by_month"]]
    months = np.arange(len(forecast) + 1)
    planned = budget_usd - np.concatenate([[0.0], np.cumsum(forecast)])
    spent = budget_usd - np.concatenate([[0.0], np.cumsum(actual)])
    return months, planned, spent


def burn_down_chart(tracking: dict[str, Any], budget_usd: float) -> Chart:
    """The quoted cost of ownership not yet spent, month by month, as planned and as spent;
    at the last month tracked, the re-forecast's P10–P90 of what is still to spend."""
    months, planned, spent = burn_down(tracking, budget_usd)
    fig, ax = new_figure((7.6, 3.3))
    ax.plot(months, planned, color="#555555", linestyle="--", marker="o", markersize=3, label="As forecast")
    ax.plot(months, spent, color=COLOURS["compute"], marker="o", markersize=3, label="As spent")
    band = tracking["reforecast"]["tco_usd"]
    actual = tracking["actual_to_date_usd"]
    m = int(months[-1])
    low, mid, high = band["p10"] - actual, band["p50"] - actual, band["p90"] - actual
    ax.errorbar(
        [m + 0.25],
        [mid],
        yerr=[[mid - low], [high - mid]],
        fmt="D",
        color=COLOURS["eval"],
        capsize=4,
        markersize=4,
        label="Still to spend, re-forecast P10–P90 (P50 marked)",
    )
    ax.yaxis.set_major_formatter(ExactUsdTicks())
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(-0.2, m + 0.6)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("Month from the programme's start (end of each month)")
    ax.set_ylabel(f"Quoted cost of ownership\nnot yet spent ({code()})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")
    alt = (
        f"Burn-down chart over months 0 to {m}: of the quoted cost of ownership, {usd(budget_usd)}, "
        f"{usd(planned[-1])} was forecast to be left unspent by month {m} and {usd(spent[-1])} is; the re-forecast "
        f"puts what is still to spend between {usd(low)} and {usd(high)} (P10–P90)."
    )
    return _chart(fig, alt)


def actuals_section(tracking: dict[str, Any], budget_usd: float, markup: Any) -> str:
    """The section's HTML: a sentence, the burn-down, spend by month, by area (with the
    rate/volume split) and the re-forecast against the original range."""
    _img, _table = markup.img, markup.table  # :class:`~.document_requote.Markup`

    v, again = tracking["variance_usd"], tracking["reforecast"]
    basis = BASIS_SHORT.get(tracking["basis"], tracking["basis"])
    m = tracking["months_tracked"]
    lead = (
        f"<p>Months 1–{m} (to {_h(tracking['through'])}): {_h(usd(tracking['actual_to_date_usd']))} spent against "
        f"{_h(usd(tracking['forecast_to_date_usd']))} forecast on the {_h(basis)} basis, a variance of "
        f"{_h(usd(v['total']))}: {_h(usd(v['rate']))} from rates (the price per unit moved) and "
        f"{_h(usd(v['volume']))} from volume (more or fewer units). The Monte Carlo is re-run with the months "
        "spent fixed at their actuals, so what is spent no longer varies.</p>"
    )
    by_month = _table(
        [("", "Month"), ("num", "Forecast"), ("num", "Actual"), ("num", "Variance")],
        [
            [
                ("", _h(f"{row['month']} ({row['period']})")),
                ("num", _h(usd(row["forecast_usd"]))),
                ("num", _h(usd(row["actual_usd"]))),
                ("num", _h(usd(row["variance_usd"]))),
            ]
            for row in tracking["by_month"]
        ],
        f"Spend by month ({code()})",
    )
    area_rows = []
    for row in tracking["by_area"]:
        if not (row["forecast_usd"] or row["actual_usd"]):
            continue
        name = area_label(row["area"])
        if row["units"]:
            name += (
                f" ({row['actual_units']:,.1f} {row['units']} against {row['planned_units']:,.1f} planned, "
                f"at {usd_cents(row['actual_usd'] / row['actual_units']) if row['actual_units'] else '–'} "
                f"against {usd_cents(row['planned_usd_per_unit'])} a unit)"
            )
        area_rows.append(
            [
                ("", _h(name)),
                ("num", _h(usd(row["forecast_usd"]))),
                ("num", _h(usd(row["actual_usd"]))),
                ("num", _h(usd(row["variance_usd"]))),
                ("num", _h(usd(row["rate_usd"]))),
                ("num", _h(usd(row["volume_usd"]))),
            ]
        )
    foot = (
        f'<tfoot><tr><th scope="row">Total</th><td class="num">{_h(usd(tracking["forecast_to_date_usd"]))}</td>'
        f'<td class="num">{_h(usd(tracking["actual_to_date_usd"]))}</td><td class="num">{_h(usd(v["total"]))}</td>'
        f'<td class="num">{_h(usd(v["rate"]))}</td><td class="num">{_h(usd(v["volume"]))}</td></tr></tfoot>'
    )
    by_area = _table(
        [("", "Area"), ("num", "Forecast"), ("num", "Actual"), ("num", "Variance"), ("num", "Rate"), ("num", "Volume")],
        area_rows,
        f"Spend by area, months tracked ({code()}): variance = rate + volume",
        foot,
    )
    original = again["original"]
    reforecast = _table(
        [("", "Figure"), ("", "Original quote, P10–P90"), ("", f"Re-forecast from months 1–{m}, P10–P90")],
        [
            [
                ("", "Programme cost"),
                ("", _h(band_words(original["programme_usd"]))),
                ("", _h(band_words(again["programme_usd"]))),
            ],
            [
                ("", "Cost of ownership"),
                ("", _h(band_words(original["tco_usd"]))),
                ("", _h(band_words(again["tco_usd"]))),
            ],
            [
                ("", "Break-even"),
                ("", _h(break_even_band_words(original["break_even_month"]))),
                ("", _h(break_even_band_words(again["break_even_month"]))),
            ],
        ],
        f"The re-forecast ({again.get('draws', 0):,} draws, seed {again.get('seed', '')})",
    )
    notes = "".join(f"<li>{_h(note)}</li>" for note in tracking["notes"])
    return (
        lead
        + _img(burn_down_chart(tracking, budget_usd))
        + by_month
        + by_area
        + reforecast
        + (f"<ul>{notes}</ul>" if notes else "")
    )
