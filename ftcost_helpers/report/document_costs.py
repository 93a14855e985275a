"""The client document's cost sections: the audit's warnings with what fixing each saves,
the one-time cost by area, the line items with their drivers, the running cost per month,
and the plan beside its scenarios. One range convention: P10–P90 of the Monte Carlo; the
low–high corners appear only in the line-item table, labelled as such."""

from __future__ import annotations

from collections.abc import Sequence

from ftcost_helpers.engine.audit import Finding, ranked
from ftcost_helpers.engine.buy_rent import buy_vs_rent_sentence, commitment_sentence, plan_buy_vs_rent, plan_commitment
from ftcost_helpers.engine.feasibility import CANNOT_RUN
from ftcost_helpers.engine.headline import BASIS_SHORT
from ftcost_helpers.engine.money import plural, rounded_to_total, usd, usd_range
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.scenarios import ScenarioResult
from ftcost_helpers.report.document_charts import area_chart
from ftcost_helpers.report.document_markup import escaped as _h
from ftcost_helpers.report.document_markup import figure_html, keep_hyphenated, table_html
from ftcost_helpers.report.document_sources import source_number
from ftcost_helpers.report.document_words import client_text, describe, saving_words
from ftcost_helpers.report.figures import ClientFigures
from ftcost_helpers.report.front import alternative_words, month_year
from ftcost_helpers.report.workings import Formula, Workings
from ftcost_helpers.views.odds import odds_sentence
from ftcost_helpers.views.tables import AREA_LABELS, cheapest_note


def warnings_block(warnings: Sequence[Finding], book: PriceBook, horizon_months: int, limit: int | None = None) -> str:
    """The audit's warnings in plain language, the most important first (:func:`ranked`;
    its first ``limit``), each with what fixing it would save."""
    if not warnings:
        return '<p class="ok">The audit raises no warning for this plan.</p>'
    ordered = list(dict.fromkeys(ranked(warnings)))  # an exact duplicate is printed once
    shown = ordered[:limit] if limit else ordered
    items = "".join(
        f'<li><strong>{_h(w.title)}</strong> <span class="severity">({_h(w.severity)})</span>. '
        f'<span class="saving{_saving_tone(w.saving_usd)}">{_h(saving_words(w.saving_usd, horizon_months))}</span> '
        f"{keep_hyphenated(_h(client_text(w.for_client, book)))}</li>"
        for w in shown
    )
    notes = []
    if sum(w.saving_usd is not None for w in shown) > 1:
        notes.append(
            "Each saving is that fix alone, the rest of the plan as it is: fixes that touch the same cost "
            "do not add up."
        )
    if limit and len(ordered) > limit:
        notes.append(f"{plural(len(ordered) - limit, 'more warning')} in the risk section.")
    return f'<ul class="warnings">{items}</ul>' + "".join(f'<p class="meta">{_h(note)}</p>' for note in notes)


def _saving_tone(saving_usd: float | None) -> str:
    if saving_usd is None:
        return " none"
    if round(saving_usd) == 0:
        return ""
    return " good" if saving_usd > 0 else " bad"


def areas_section(figures: ClientFigures) -> str:
    """One-time cost by area (the base case's line items), then the contingency that takes
    them to the headline's basis: the table's last line is page 1's programme cost."""
    b, h = figures.breakdown, figures.headline
    areas = [(AREA_LABELS.get(a, a), v) for a, v in b.areas_usd.items()]
    shown = rounded_to_total([v for _, v in areas])
    total = sum(shown)
    rows = [
        [("", _h(name)), ("num", _h(usd(whole))), ("num", f"{v / (b.programme_total or 1):.0%}")]
        for (name, v), whole in zip(areas, shown, strict=True)
    ]
    foot = (
        f'<tfoot><tr><th scope="row">Line items, base case</th><td class="num">{_h(usd(total))}</td>'
        '<td class="num">100%</td></tr>'
    )
    if h.basis != "base_case":
        contingency = round(h.programme_usd) - total
        foot += (
            f'<tr><th scope="row">Contingency to the {_h(BASIS_SHORT[h.basis])}</th>'
            f'<td class="num">{_h(usd(contingency))}</td><td></td></tr>'
            f'<tr><th scope="row">Programme cost ({_h(BASIS_SHORT[h.basis])})</th>'
            f'<td class="num">{_h(usd(h.programme_usd))}</td><td></td></tr>'
        )
    foot += "</tfoot>"
    return figure_html(area_chart(b)) + table_html(
        [("", "Area"), ("num", "One-time cost"), ("num", "Share")], rows, "One-time programme cost by area", foot
    )


def line_items_section(figures: ClientFigures, workings: Workings) -> str:
    """Every non-zero line: drivers (quantity × unit price), base amount, low–high corners, source."""
    values = workings.values()
    engine_lines = figures.breakdown.line_items
    pairs = [(item, line) for item, line in zip(workings.lines, engine_lines, strict=True) if line.high > 0]
    shown = rounded_to_total([line.base for _, line in pairs])
    rows = []
    for (item, line), whole in zip(pairs, shown, strict=True):
        notes = sorted({source_number(workings.inputs[key].source) for key in _keys(item.formula)}) or [1]
        marks = ",".join(str(n) for n in notes)
        rows.append(
            [
                ("", _h(AREA_LABELS.get(item.area, item.area))),
                ("", _h(item.label)),
                ("drivers", describe(item.formula, workings, values)),
                ("num", _h(usd(whole))),
                ("num", _h(usd_range(line.low, line.high))),
                ("num", f'<a href="#sources">{marks}</a>'),
            ]
        )
    low, high = figures.breakdown.programme_range
    foot = (
        '<tfoot><tr><th scope="row" colspan="3">Programme total</th>'
        f'<td class="num">{_h(usd(sum(shown)))}</td><td class="num">{_h(usd_range(low, high))}</td>'
        "<td></td></tr></tfoot>"
    )
    head = [
        ("", "Area"),
        ("", "Line item"),
        ("", "Drivers (quantity × unit price)"),
        ("num", "Base case"),
        ("num", "Low – high corners"),
        ("num", "Source"),
    ]
    note = (
        '<p class="meta">Low – high corners: every input of a line at its low or at its high end at once — the '
        "widest the line can be, not a likely range (the P10–P90 on page 1 is the likely range). Sources are "
        'numbered as in the <a href="#sources">list of sources</a>.</p>'
    )
    return table_html(head, rows, "Line items of the one-time programme", foot) + note


def _keys(formula: Formula) -> list[str]:
    from ftcost_helpers.report.workings import inputs_in

    return inputs_in(formula)


def running_section(figures: ClientFigures) -> str:
    """Running cost per month once everything runs: the base case's parts, the allowance
    that takes them to the headline's basis and any correction the audit costs; then the
    alternative and the net saving, as page 1 gives them."""
    b, h = figures.breakdown, figures.headline
    named = {"eval": "Continuous evaluation", "serving": "Serving", "maintenance": "Maintenance"}
    parts = [(named[k], v) for k, v in b.ongoing_monthly_usd.items()]
    shortfall = h.serving_shortfall_usd_per_month
    allowance = h.running_usd_per_month - shortfall - sum(v for _, v in parts)
    if h.basis != "base_case":
        parts.append((f"Allowance to the {BASIS_SHORT[h.basis]}", allowance))
    if shortfall > 0:
        parts.append(("Serving to carry the peak load (as needed, not in the plan)", shortfall))
    shown = rounded_to_total([v for _, v in parts])
    rows = [[("", _h(name)), ("num", _h(usd(whole)))] for (name, _), whole in zip(parts, shown, strict=True)]
    rows.append([("strong", f"Running cost per month ({BASIS_SHORT[h.basis]})"), ("num strong", _h(usd(sum(shown))))])
    if h.alternative_usd_per_month is not None:
        rows.append([("", _h(alternative_words(figures).capitalize())), ("num", _h(usd(h.alternative_usd_per_month)))])
        rows.append([("strong", "Net saving per month"), ("num strong", _h(usd(h.net_saving_usd_per_month or 0.0)))])
    start = h.maintenance_from_month
    caption = "Running cost per month in production" + (
        f" (maintenance from month {start}, {month_year(h.date_of_month_start(start) or h.start_date)})"
        if start
        else ""
    )
    return table_html([("", "Item"), ("num", "Per month")], rows, caption)


def scenarios_section(results: Sequence[ScenarioResult], figures: ClientFigures) -> str:
    """The plan and its scenarios: programme, running, alternative, net per month, break-even, TCO.
    A plan that cannot run as specified is marked so under its name, with the reasons, and the
    note below names the lowest cost of ownership among those that can run (never one that
    cannot: :func:`~ftcost_helpers.views.tables.cheapest_note`)."""
    book = figures.breakdown.book
    rows = []
    for r in results:
        replaces = r.params.alternative.kind != "none"
        net = r.alternative_monthly_usd - r.monthly_usd if replaces else None
        month = "none" if r.break_even_month is None else f"month {r.break_even_month}"
        description = f'<div class="meta">{_h(client_text(r.description, book))}</div>' if r.description else ""
        if not r.feasibility.feasible:
            reasons = _h(client_text("; ".join(r.feasibility.reasons), book))
            description += f'<div class="meta"><strong>This plan {_h(CANNOT_RUN)}:</strong> {reasons}.</div>'
        rows.append(
            [
                ("scenario", f"{_h(client_text(r.name, book))}{description}"),
                ("num", _h(usd(r.programme_total_usd))),
                ("num", _h(usd(r.monthly_usd))),
                ("num", _h(usd(r.alternative_monthly_usd)) if replaces else "none"),
                ("num", _h(usd(net)) if net is not None else "none"),
                ("num", _h(month)),
                ("num", _h(usd(r.tco_usd))),
            ]
        )
    head = [
        ("", "Scenario"),
        ("num", "Programme"),
        ("num", "Running per month"),
        ("num", "Alternative per month"),
        ("num", "Net saving per month"),
        ("num", "Break-even"),
        ("num", f"Cost of ownership, {figures.params.horizon_months} months"),
    ]
    table = table_html(head, rows, "The plan beside its alternatives (base case)")
    odds = _odds_note(figures)
    owned = plan_buy_vs_rent(figures.breakdown)  # issue 24: buy or rent?
    buy_rent = f"<h3>Buy or rent?</h3><p>{_h(buy_vs_rent_sentence(owned))}</p>" if owned is not None else ""
    committed = plan_commitment(figures.breakdown)
    if committed is not None:
        buy_rent += f"<h3>Committed serving</h3><p>{_h(client_text(commitment_sentence(committed), book))}</p>"
    return f'{table}<p class="meta">{_h(client_text(cheapest_note(results), book))}</p>{odds}{buy_rent}'


def _odds_note(figures: ClientFigures) -> str:
    """How often each plan is the cheapest over the Monte Carlo draws (``summary.json``'s
    ``scenarios[].probability_cheapest``), as one sentence naming the plans that can run (the
    others are marked in the table and never win); empty without a simulation."""
    rows = [row for row in figures.summary.get("scenarios") or [] if row.get("can_run", True)]  # the rest are marked
    names = [client_text(row["name"], figures.breakdown.book) for row in rows]
    sentence = odds_sentence(names, [row.get("probability_cheapest") for row in rows], figures.params.horizon_months)
    return f'<p class="meta">{_h(sentence)}</p>' if sentence else ""
