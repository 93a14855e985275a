"""The front of the client document: the firm's letterhead, page 1 (the decision on one
stated basis, with dates), the executive summary and the document-control block.

Every figure here is read from the plan's :class:`~ftcost_helpers.engine.headline.Headline`
(``figures.headline``), the one function that also gives ``summary.json``'s ``headline``,
the workbook's summary, the index and the CLI: a reader who adds page 1's figures gets page
1's totals. Client and firm text is escaped where it is placed.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from ftcost_helpers.engine.audit import Finding, ranked
from ftcost_helpers.engine.firm import Firm, logo_path
from ftcost_helpers.engine.headline import BASIS_NAMES, BASIS_SHORT, Headline
from ftcost_helpers.engine.money import plural, usd
from ftcost_helpers.engine.summary import ALTERNATIVE_NAMES
from ftcost_helpers.report.figures import ClientFigures

LOGO_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}


def _h(value: Any) -> str:
    return escape(str(value))


def long_date(day: dt.date) -> str:
    """``7 December 2026``."""
    return f"{day.day} {day:%B %Y}"


def month_year(day: dt.date) -> str:
    """``December 2026``."""
    return f"{day:%B %Y}"


def _card(label: str, value: str, note: str = "", tone: str = "") -> str:
    note_html = f'<div class="note">{note}</div>' if note else ""
    return (
        f'<div class="figure {tone}"><div class="label">{_h(label)}</div>'
        f'<div class="value">{_h(value)}</div>{note_html}</div>'
    )


def is_staff_time(figures: ClientFigures) -> bool:
    """The alternative is staff time the plan does not say becomes cash."""
    labour = figures.params.alternative
    return labour.kind == "labour" and not labour.labour.realised


def alternative_words(figures: ClientFigures) -> str:
    """What the fine-tune replaces, as page 1 names it."""
    kind = figures.params.alternative.kind
    if is_staff_time(figures):
        return "the staff time it saves, valued at its loaded cost (time, not cash)"
    return f"the {ALTERNATIVE_NAMES.get(kind, 'alternative')} it replaces"


def basis_sentence(headline: Headline, draws: int) -> str:
    """The basis, stated once, where page 1 begins."""
    if headline.basis == "base_case":
        return (
            "Every figure on this page is the base case: the plan's line items as written, before any allowance "
            "for the ranges around them."
        )
    return (
        f"Every figure on this page is on one basis, the {BASIS_NAMES[headline.basis]} (of {draws:,} drawn from "
        f"the plan's ranges): the base case's line items plus a contingency that takes them there. Running costs "
        f"and the alternative are on the same basis; break-even and cost of ownership follow from them by addition."
    )


def programme_card(h: Headline, span: dict[str, float]) -> str:
    label = f"Programme cost, one-time ({BASIS_SHORT[h.basis]})"
    if h.basis == "base_case":
        note = (
            f"the line items as written; P10–P90 of the simulated programmes: {usd(span['p10'])} – {usd(span['p90'])}"
        )
    else:
        note = (
            f"{usd(h.base_case_programme_usd)} of line items + {usd(h.contingency_usd)} contingency; "
            f"P10–P90: {usd(span['p10'])} – {usd(span['p90'])}"
        )
    return _card(label, usd(h.programme_usd), _h(note))


def _start(h: Headline, month: int) -> dt.date:
    return h.date_of_month_start(month) or h.start_date


def running_card(h: Headline) -> str:
    first = h.running_in_month(h.launch_month) if h.launch_month <= h.horizon_months else 0.0
    parts = ["evaluation, serving and maintenance"]
    if h.maintenance_from_month is not None and h.maintenance_from_month > h.launch_month:
        day = h.date_of_month_start(h.maintenance_from_month)
        parts = [
            f"{usd(first)} a month from launch; maintenance from month {h.maintenance_from_month} ({month_year(day)})"
        ]
    if h.serving_shortfall_usd_per_month > 0:
        parts.append(
            f"includes {usd(h.serving_shortfall_usd_per_month)} a month to serve the peak load, which the plan as "
            f"written leaves out ({usd(h.running_usd_per_month - h.serving_shortfall_usd_per_month)} as planned)"
        )
    return _card("Running cost per month", usd(h.running_usd_per_month), _h("; ".join(parts)))


def break_even_card(h: Headline) -> str:
    month = h.break_even_month
    if month is None:
        return _card("Break-even", "none", _h(f"does not pay back within {plural(h.horizon_months, 'month')}"), "bad")
    chance = h.chance_by(month)
    note = f"end of {month_year(h.date_of_month_end(month))}"
    if chance is not None:
        note += f"; {chance:.0%} chance of having paid back by then"
        half = h.first_month_with_chance(0.5)
        if half is not None and half != month:
            note += f" (50% by month {half})"
    return _card("Break-even", f"month {month}", _h(note), "good")


def decision_cards(figures: ClientFigures) -> str:
    """Page 1's figures on the headline's basis: programme, running, alternative, net
    saving, break-even (month and date, with its chance) and cost of ownership, each note
    showing the addition that gives it."""
    h, span = figures.headline, figures.summary["range_usd"]
    cards = [programme_card(h, span), running_card(h)]
    if h.alternative_usd_per_month is None:
        cards.append(_card("Alternative per month", "none", "the fine-tune is the product: nothing is replaced"))
        cards.append(_card("Net saving per month", "none", "no alternative to save against"))
        cards.append(_card("Break-even", "none", "nothing to pay back against"))
    else:
        net = h.net_saving_usd_per_month or 0.0
        label = "Staff time saved per month" if is_staff_time(figures) else "Alternative per month"
        cards.append(_card(label, usd(h.alternative_usd_per_month), _h(alternative_words(figures))))
        sum_note = f"{usd(h.alternative_usd_per_month)} − {usd(h.running_usd_per_month)} once all running costs run"
        cards.append(_card("Net saving per month", usd(net), _h(sum_note), "good" if net > 0 else "bad"))
        cards.append(break_even_card(h))
    running_total = h.tco_usd - h.programme_usd
    cards.append(
        _card(
            f"Cost of ownership, {plural(h.horizon_months, 'month')}",
            usd(h.tco_usd),
            _h(f"{usd(h.programme_usd)} programme + {usd(running_total)} running costs to month {h.horizon_months}"),
        )
    )
    return '<div class="figures">' + "".join(cards) + "</div>"


def key_dates(h: Headline) -> str:
    """The programme's dates on one line: start, launch, maintenance, break-even, horizon."""
    items = [("Start", f"month 1, {long_date(h.start_date)}")]
    launch = h.date_of_month_start(h.launch_month)
    if launch is not None and h.launch_month <= h.horizon_months:
        items.append(("Launch", f"month {h.launch_month}, {long_date(launch)}"))
    if h.maintenance_from_month is not None:
        items.append(
            (
                "Maintenance from",
                f"month {h.maintenance_from_month}, {long_date(h.date_of_month_start(h.maintenance_from_month))}",
            )
        )
    if h.break_even_month is not None:
        items.append(
            ("Break-even", f"month {h.break_even_month}, by {long_date(h.date_of_month_end(h.break_even_month))}")
        )
    items.append(("Horizon ends", f"month {h.horizon_months}, {long_date(h.date_of_month_end(h.horizon_months))}"))
    cells = "".join(f"<li><span>{_h(name)}</span> {_h(value)}</li>" for name, value in items)
    return f'<ul class="dates">{cells}</ul><p class="meta">Month 1 is the programme\'s first month.</p>'


def recommendation(figures: ClientFigures) -> str:
    """The recommendation in one sentence, from the verdict's code."""
    code = figures.summary["verdict"]["code"]
    h = figures.headline
    if code == "cannot_run_as_specified":
        return "Do not approve the plan as specified: it cannot run as written. Revise it first (see the risks)."
    if code == "pays_back":
        return (
            f"Proceed: approve a programme budget of {usd(h.programme_usd)} ({BASIS_SHORT[h.basis]}) and "
            f"{usd(h.running_usd_per_month)} a month to run it."
        )
    if code == "no_alternative":
        return f"Decide on cost: owning the fine-tune costs {usd(h.tco_usd)} over {plural(h.horizon_months, 'month')}."
    return "Do not proceed on cost grounds: the fine-tune does not pay back within the horizon."


def top_risks(warnings: Sequence[Finding], title: Any, limit: int = 3) -> list[str]:
    """The first ``limit`` warnings by what is at stake, by their titles."""
    return [str(title(w)) for w in ranked(warnings)[:limit]]


def executive_summary(figures: ClientFigures, title: Any, drivers: Sequence[str] = ()) -> str:
    """Recommendation, cost, timing, top risks and next steps, in five short paragraphs."""
    h = figures.headline
    cost = (
        f"{usd(h.programme_usd)} one-time ({BASIS_SHORT[h.basis]}), then {usd(h.running_usd_per_month)} a month; "
        f"{usd(h.tco_usd)} to own over {plural(h.horizon_months, 'month')}."
    )
    timing = f"Starts {month_year(h.start_date)}; in service from {month_year(h.date_of_month_start(h.launch_month))}"
    if h.break_even_month is not None:
        timing += f"; pays back by {month_year(h.date_of_month_end(h.break_even_month))} (month {h.break_even_month})"
    timing += "."
    risks = top_risks(figures.breakdown.warnings, title)
    risk_text = "; ".join(risks) if risks else "the audit raises no warning"
    if drivers:
        risk_text += f". The inputs that move the answer most: {', '.join(drivers[:3])}"
    steps = ["agree the budget basis and the contingency"]
    if risks:
        steps.insert(0, "resolve the warnings below before committing spend")
    steps.append("run a pilot on the chosen GPUs to confirm training time and cost")
    rows = [
        ("Recommendation", recommendation(figures)),
        ("Cost", cost),
        ("Timing", timing),
        ("Top risks", risk_text + "."),
        ("Next steps", _sentence("; ".join(steps))),
    ]
    body = "".join(f"<dt>{_h(name)}</dt><dd>{_h(text)}</dd>" for name, text in rows)
    return f'<dl class="summary">{body}</dl>'


def _sentence(text: str) -> str:
    """``text`` with a capital first letter and a full stop (the rest left as written)."""
    return text[:1].upper() + text[1:] + "."


def logo_markup(firm: Firm) -> str:
    """The firm's logo as an embedded image (no file link leaves the document)."""
    path = logo_path(firm)
    if path is None or not path.is_file():
        return ""
    kind = LOGO_TYPES.get(path.suffix.lower())
    if kind is None:
        return ""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img class="logo" alt="{_h(firm.name)}" src="data:{kind};base64,{data}">'


def letterhead(firm: Firm) -> str:
    """The firm's name, logo and contact above the title, and its confidentiality label."""
    contact = f'<div class="contact">{_h(firm.contact)}</div>' if firm.contact else ""
    return (
        f'<div class="letterhead">{logo_markup(firm)}<div><div class="firm">{_h(firm.name)}</div>{contact}</div>'
        f'<div class="confidential">{_h(firm.confidentiality)}</div></div>'
    )


def document_control(figures: ClientFigures, day: dt.date) -> str:
    """Version, date, the prepared/reviewed/approved block (blank lines to sign) and the
    firm's disclaimer."""
    report = figures.params.report
    people = [
        ("Prepared by", report.prepared_by),
        ("Reviewed by", report.reviewed_by),
        ("Approved by", report.approved_by),
    ]
    rows = "".join(
        f"<tr><th>{_h(role)}</th><td>{_h(name or '')}</td><td class='sign'></td><td class='sign'></td></tr>"
        for role, name in people
    )
    return (
        f"<p>Version {_h(report.version)}, {_h(long_date(day))}. Prepared by {_h(figures.firm.name)} for "
        f"{_h(figures.params.client)}.</p>"
        f'<table class="signoff"><thead><tr><th>Role</th><th>Name</th><th>Signature</th><th>Date</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
        f'<p class="disclaimer">{_h(figures.firm.disclaimer)}</p>'
        f'<p class="meta">{_h(figures.firm.confidentiality)}</p>'
    )


__all__ = [
    "alternative_words",
    "basis_sentence",
    "decision_cards",
    "document_control",
    "executive_summary",
    "is_staff_time",
    "key_dates",
    "letterhead",
    "long_date",
    "recommendation",
]
