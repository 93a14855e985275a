"""The client document's risk sections: what moves the plan's quantity (the tornado), the
P10–P90 band of the cash position and the chance of paying back, the cash flow discounted
at the client's rate, what to measure before signing, and the stage gates."""

from __future__ import annotations

import dataclasses

from ftcost_helpers.engine.headline import BASIS_SHORT
from ftcost_helpers.engine.money import usd
from ftcost_helpers.engine.sensitivity import Sensitivity
from ftcost_helpers.report.document_charts import cash_flow_band_chart, tornado_caption, tornado_chart
from ftcost_helpers.report.document_markup import escaped as _h
from ftcost_helpers.report.document_markup import figure_html, table_html
from ftcost_helpers.report.document_words import client_text, input_words
from ftcost_helpers.report.figures import ClientFigures
from ftcost_helpers.report.front import is_staff_time
from ftcost_helpers.report.workings import Workings

TORNADO_ROWS = 8


def risk_section(figures: ClientFigures, workings: Workings, swings: Sensitivity) -> str:
    """The tornado of the plan's quantity (net value or cost of ownership over the horizon) with
    the words that say what it shows, and the P10–P90 band of the cash position (the warnings
    are listed once, after page 1)."""
    rows = swings.rows[:TORNADO_ROWS]
    names = [input_words(w.path, w.label, workings, figures) for w in rows]
    parts = []
    horizon = figures.params.horizon_months
    if rows:
        chart = tornado_chart(dataclasses.replace(swings, rows=rows), names)
        caption = _h(tornado_caption(swings, names))
        parts.append(f"<h3>What moves the {_h(swings.name.lower())}</h3>{figure_html(chart)}<p>{caption}</p>")
    if figures.simulation is not None:
        h = figures.headline
        chart = cash_flow_band_chart(h, figures.simulation, staff_time=is_staff_time(figures))
        words = ""
        if h.chance_by_month:
            half, most = h.first_month_with_chance(0.5), h.first_month_with_chance(0.9)
            words = (
                f"<p>Chance of having paid back: {h.chance_by(horizon):.0%} by month {horizon}"
                + (f"; 50% by month {half}" if half else "")
                + (f"; 90% by month {most}" if most else "")
                + ".</p>"
            )
        if is_staff_time(figures):
            words += (
                "<p>The position counts the staff time saved at its loaded cost: time freed for other work, "
                "not cash the business banks, unless the plan makes the saving real.</p>"
            )
        parts.append(f"<h3>Cumulative position, P10–P90</h3>{figure_html(chart)}{words}")
    parts.append(discounting_words(figures))
    return "".join(parts)


MEASURE_ROWS = 6
"""Input groups the "what to measure first" table lists at most."""


def measure_first_section(figures: ClientFigures) -> str:
    """What we recommend (the option with the highest expected value) and what is worth
    measuring before signing (``summary.json``'s ``value_of_information``: each input group's
    expected value of perfect information, largest first)."""
    voi = figures.summary["value_of_information"]
    book = figures.breakdown.book
    chosen = client_text(voi["chosen_on_expected_value"], book)
    parts = [f"<p>On expected value over the horizon the choice is: <strong>{_h(chosen)}</strong>.</p>"]
    worth = [group for group in voi["groups"] if group["worth_usd"] >= 0.5][:MEASURE_ROWS]
    if not worth:
        parts.append(
            "<p>No measurement before signing could change this choice: in every simulated outcome "
            "the same option comes out best (the expected value of perfect information is nil).</p>"
        )
        return "".join(parts)
    rows = [
        [("", _h(group["group"])), ("", _h(group["measurement"])), ("num", _h(usd(group["worth_usd"])))]
        for group in worth
    ]
    head = [("", "What to pin down"), ("", "How"), ("num", "Worth up to")]
    parts.append(table_html(head, rows, "What is worth measuring before signing"))
    parts.append(
        f'<p class="meta">Worth up to: how much better the choice would be, in expectation, if that input were '
        f"known before deciding (its expected value of partial perfect information); knowing everything would be "
        f"worth {_h(usd(voi['evpi_usd']))}. A pilot or study costing more than its figure is not worth running "
        "for this decision.</p>"
    )
    return "".join(parts)


def stages_section(figures: ClientFigures) -> str:
    """The stage gates (``summary.json``'s ``stages``, on the headline's basis): what each gate
    costs if the programme stops there, the chance of launching, the expected cost and the
    break-even counting the chance of never launching."""
    stages = figures.summary["stages"]
    rows = [
        [
            ("", _h(gate["name"])),
            ("num", f"{gate['chance_of_passing']:.0%}"),
            ("num", f"{gate['chance_of_reaching']:.0%}"),
            ("num", _h(usd(gate["cost_if_stopped_here_usd"]))),
        ]
        for gate in stages["gates"]
    ]
    head = [
        ("", "Gate"),
        ("num", "Chance of passing"),
        ("num", "Chance of reaching it"),
        ("num", "Spent if it stops here"),
    ]
    basis = BASIS_SHORT[figures.headline.basis]
    caption = f"Stage gates, on the {basis} programme cost of {usd(figures.headline.programme_usd)}"
    table = table_html(head, rows, caption)
    month = stages["break_even_month_with_stopping"]
    budget = stages["budget_to_production_p90_usd"]
    words = [
        f"Chance of reaching launch: {stages['chance_of_launch']:.0%}.",
        f"Spent before the first decision: {usd(stages['expected_cost_to_first_decision_usd'])}.",
        f"Expected programme cost, counting the chance of stopping: {usd(stages['expected_programme_usd'])}.",
    ]
    if budget is not None:
        words.append(f"Budget that takes the programme to production in nine cases out of ten (P90): {usd(budget)}.")
    words.append(
        "Counting the chance of never launching, the expected position "
        + ("does not pay back within the horizon." if month is None else f"pays back in month {month}.")
    )
    return table + "".join(f"<p>{_h(word)}</p>" for word in words)


def discounting_words(figures: ClientFigures) -> str:
    """The cash flow discounted at the client's rate, beside the undiscounted figures
    (issue 24: NPV, discounted payback, IRR from the headline's one function); nothing when
    the plan gives no discount rate."""
    h = figures.headline
    d = h.discounted
    if d.discount_rate is None or d.npv_usd is None:
        return ""
    horizon = h.horizon_months
    payback = (
        f"it pays back in month {d.discounted_payback_month}"
        if d.discounted_payback_month is not None
        else f"it does not pay back within {horizon} months"
    )
    undiscounted = f"month {h.break_even_month}" if h.break_even_month is not None else f"not within {horizon} months"
    irr = f" Internal rate of return: {d.irr_annual:.1%} a year." if d.irr_annual is not None else ""
    return (
        f"<h3>Discounted at {d.discount_rate:.1%} a year</h3>"
        f"<p>Net present value over {horizon} months: {_h(usd(d.npv_usd))} (undiscounted: "
        f"{_h(usd(d.undiscounted_usd))}). Discounted, {payback} (undiscounted break-even: {undiscounted}).{irr}</p>"
    )
