"""The client document's "Since the last quote" section (``report --previous``, issue 23):
the earlier quote and this one, the change in programme cost and cost of ownership attributed
to prices, plan, calibration, model and their interaction
(:func:`~ftcost_helpers.engine.requote.requote`), a waterfall chart of it, and the keys of the
plan that changed.

Whole dollars that add up: each cause is shown rounded to the dollar and the interaction —
by its definition the change less the separate effects — is the rounded change less the
rounded causes (:func:`shown_parts`), so the table's parts sum to its change exactly, as the
engine's do to the cent.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from html import escape as _h
from typing import Any, NamedTuple

from matplotlib.ticker import MaxNLocator

from ftcost_helpers.engine.headline import BASIS_SHORT
from ftcost_helpers.engine.money import code, usd
from ftcost_helpers.engine.requote import CAUSES, FIGURES, Requote
from ftcost_helpers.report.document_charts import Chart, _chart
from ftcost_helpers.views.charts import ExactUsdTicks, new_figure

CAUSE_LABELS = {
    "prices": "Prices",
    "plan": "Plan",
    "calibration": "Calibration",
    "model": "Model",
    "interaction": "Interaction",
}
"""Each cause's name on the chart and in the table."""
CAUSE_MEANING = {
    "prices": "the price book and its rates overlay",
    "plan": "the keys of the plan that changed (listed below)",
    "calibration": "a pilot's measurement (the plan's calibration block)",
    "model": "ftcost's own arithmetic (nil: one version prices both quotes)",
    "interaction": "what the causes do together beyond their separate effects",
}
FIGURE_LABELS = {"programme": "Programme cost", "tco": "Cost of ownership"}
RISE, FALL, TOTAL = "#E69F00", "#0072B2", "#555555"
"""Okabe–Ito orange (a cost that rose) and blue (one that fell); grey for the two quotes."""
KEYS_SHOWN = 40
"""Changed keys listed in the document (the workbook lists all)."""


def shown_parts(result: Requote, figure: str) -> dict[str, int]:
    """Whole dollars of the earlier quote (``old``), each cause, the ``change`` and the new
    quote (``new``) for ``figure``, adding up exactly: old + causes = new, the interaction
    taking the rounding (it is the rest by definition)."""
    old, new = round(result.old.figures()[figure]), round(result.new.figures()[figure])
    parts = {cause: round(result.attribution[cause][figure]) for cause in CAUSES[:-1]}
    parts["interaction"] = new - old - sum(parts.values())
    return {"old": old, **parts, "change": new - old, "new": new}


def waterfall_steps(result: Requote, figure: str) -> list[tuple[str, float, float]]:
    """(label, bottom, height) of each bar: the earlier quote from 0, each cause from the
    running total (a negative height is a fall), the new quote from 0."""
    parts = shown_parts(result, figure)
    steps = [("Earlier\nquote", 0.0, float(parts["old"]))]
    level = float(parts["old"])
    for cause in CAUSES:
        steps.append((CAUSE_LABELS[cause], level, float(parts[cause])))
        level += parts[cause]
    steps.append(("New\nquote", 0.0, float(parts["new"])))
    return steps


def axis_range(steps: list[tuple[str, float, float]]) -> tuple[float, float]:
    """(bottom, top) of the waterfall's axis: from 0, unless the steps are too small to see
    beside the quotes (the levels differ, but span under a fifth of the top), then from a round number
    (a power of ten) twice the levels' span below the lowest level, said on the axis."""
    levels = [b + h for _, b, h in steps] + [steps[0][2]]
    top, low = max(levels), min(levels)
    span = top - low
    if top <= 0:
        return 0.0, 1.0
    if span == 0 or span >= top / 5 or low <= 0:
        return 0.0, top * 1.3
    step = 10.0 ** math.floor(math.log10(max(span, 1.0)))
    bottom = max(0.0, math.floor((low - 2 * span) / step) * step)
    return bottom, top + (top - bottom) * 0.3


def _signed_usd(value: float) -> str:
    return ("+" if value > 0 else "") + usd(value)


def waterfall_chart(result: Requote) -> Chart:
    """Two waterfalls side by side, programme cost and cost of ownership: the earlier quote,
    each cause's step (orange up, blue down, each labelled with its signed amount) and the
    new quote, the y-axis in the plan's currency with exact ticks."""
    fig, axes = new_figure((7.6, 3.6), columns=2)
    described = []
    for ax, figure in zip(axes, FIGURES, strict=True):
        steps = waterfall_steps(result, figure)
        labels = [label for label, _, _ in steps]
        colours = [
            TOTAL if bottom == 0.0 and index in (0, len(steps) - 1) else (RISE if height > 0 else FALL)
            for index, (_, bottom, height) in enumerate(steps)
        ]
        bars = ax.bar(range(len(steps)), [h for _, _, h in steps], bottom=[b for _, b, _ in steps], color=colours)
        texts = [usd(steps[0][2]), *(_signed_usd(h) for _, _, h in steps[1:-1]), usd(steps[-1][2])]
        ax.bar_label(bars, labels=texts, fontsize=6, padding=2, rotation=90)
        for index in range(len(steps) - 1):  # the running total carried to the next bar
            top = steps[index][1] + steps[index][2]
            ax.plot([index + 0.4, index + 0.6], [top, top], color="#999999", linewidth=0.7)
        ax.set_xticks(range(len(steps)), labels, fontsize=7, rotation=45, ha="right")
        ax.yaxis.set_major_formatter(ExactUsdTicks())
        ax.yaxis.set_major_locator(MaxNLocator(5))
        bottom, top = axis_range(steps)
        ax.set_ylim(bottom, top)
        ax.set_title(f"{FIGURE_LABELS[figure]} ({BASIS_SHORT[result.basis]})", fontsize=9)
        ax.set_ylabel(code() if bottom == 0 else f"{code()} (the axis starts at {usd(bottom)})")
        ax.spines[["top", "right"]].set_visible(False)
        pairs = zip(CAUSES, steps[1:-1], strict=True)
        moves = "; ".join(f"{CAUSE_LABELS[cause]} {_signed_usd(h)}" for cause, (_, _, h) in pairs)
        described.append(f"{FIGURE_LABELS[figure].lower()} from {usd(steps[0][2])} to {usd(steps[-1][2])}: {moves}")
    alt = "Waterfall charts of the change since the earlier quote, " + "; and ".join(described) + "."
    return _chart(fig, alt)


def value_words(value: Any) -> str:
    """A client-file value as the table shows it: ``(not set)``, a range ``1–3 (mode 2)``,
    else the value as YAML would read it."""
    if value is None:
        return "(not set)"
    if isinstance(value, dict) and {"low", "high"} <= set(value):
        mode = f" (mode {value['mode']:g})" if isinstance(value.get("mode"), int | float) else ""
        return (
            f"{value['low']:g}–{value['high']:g}{mode}"
            if all(isinstance(value[k], int | float) for k in ("low", "high"))
            else json.dumps(value)
        )
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return f"{value:g}"
    return value if isinstance(value, str) else json.dumps(value)


class Markup(NamedTuple):
    """The client document's own builders (:mod:`~ftcost_helpers.report.document` passes
    them in, so that this module need not import it): a section, a table, a chart."""

    section: Callable[..., str]
    table: Callable[..., str]
    img: Callable[[Chart], str]


def requote_section(result: Requote, markup: Markup) -> str:
    """The section's HTML: a sentence, the waterfall, the attribution table and the keys changed."""
    _img, _table = markup.img, markup.table

    basis = BASIS_SHORT[result.basis]
    programme, tco = shown_parts(result, "programme"), shown_parts(result, "tco")
    old_book, new_book = result.old.book.as_of, result.new.book.as_of
    lead = (
        f"<p>Since the earlier quote the programme cost has moved from {_h(usd(programme['old']))} to "
        f"{_h(usd(programme['new']))} ({_h(_signed_usd(programme['change']))}) and the cost of ownership from "
        f"{_h(usd(tco['old']))} to {_h(usd(tco['new']))} ({_h(_signed_usd(tco['change']))}), both on the "
        f"{_h(basis)} basis. Each cause is measured alone from the earlier quote, in the order prices, plan, "
        "calibration: the earlier quote with only that cause brought up to date. The interaction is the change "
        "less their sum, shown rather than hidden in whichever cause came last, so the parts add up to the "
        f"change. The earlier quote is priced on prices as of {_h(old_book.isoformat())}, this one on prices as "
        f"of {_h(new_book.isoformat())}.</p>"
    )
    head = [("", "Cause"), ("", "What it covers"), ("num", "Programme cost"), ("num", "Cost of ownership")]
    rows = [
        [
            ("", _h(CAUSE_LABELS[cause])),
            ("", _h(CAUSE_MEANING[cause])),
            ("num", _h(_signed_usd(programme[cause]))),
            ("num", _h(_signed_usd(tco[cause]))),
        ]
        for cause in CAUSES
    ]
    foot = (
        f'<tfoot><tr><th scope="row">Earlier quote</th><td></td><td class="num">{_h(usd(programme["old"]))}</td>'
        f'<td class="num">{_h(usd(tco["old"]))}</td></tr>'
        f'<tr><th scope="row">Change</th><td></td><td class="num">{_h(_signed_usd(programme["change"]))}</td>'
        f'<td class="num">{_h(_signed_usd(tco["change"]))}</td></tr>'
        f'<tr><th scope="row">This quote</th><td></td><td class="num">{_h(usd(programme["new"]))}</td>'
        f'<td class="num">{_h(usd(tco["new"]))}</td></tr></tfoot>'
    )
    table = _table(head, rows, f"The change since the earlier quote by cause ({code()}, {basis})", foot)
    return lead + _img(waterfall_chart(result)) + table + changed_keys_block(result, markup)


def changed_keys_block(result: Requote, markup: Markup) -> str:
    """The keys of the plan that changed, earlier and now (the first :data:`KEYS_SHOWN`)."""
    _table = markup.table

    if not result.changed:
        return "<p>No key of the plan changed: the whole change is prices, calibration or the model.</p>"
    rows = [
        [("", _h(key)), ("", _h(value_words(before))), ("", _h(value_words(after)))]
        for key, before, after in result.changed[:KEYS_SHOWN]
    ]
    more = len(result.changed) - KEYS_SHOWN
    note = f"<p>… and {more} more, listed in the workbook.</p>" if more > 0 else ""
    head = [("", "Key"), ("", "Earlier quote"), ("", "This quote")]
    return _table(head, rows, f"The keys of the plan that changed ({len(result.changed)})") + note


def follow_up_sections(figures: Any, markup: Markup) -> list[str]:
    """The sections ``report --previous`` and ``report --actuals`` add to the client
    document (none without them): "Since the last quote" and "Spend to date", each a page."""
    from ftcost_helpers.report.document_actuals import actuals_section

    _section = markup.section

    sections = []
    if figures.requote is not None:
        sections.append(_section("since", "Since the last quote", requote_section(figures.requote, markup)))
    if figures.tracking is not None:
        budget = figures.headline.tco_usd
        sections.append(_section("spend", "Spend to date", actuals_section(figures.tracking, budget, markup)))
    return sections
