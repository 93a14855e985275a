"""The client document (``report.html``, printed to ``report.pdf``): what a consultancy
sends to the client's decision-maker, generated from the engine's figures.

Page 1 is the decision: the programme cost (P50, P10–P90 and where the base case sits
among the simulated outcomes), the running cost beside the alternative's monthly cost and
the net saving, the break-even month and its chance, the cost of ownership, a verdict and
the three warnings that matter most (:func:`~ftcost_helpers.engine.audit.ranked`: by what
fixing each would save, then severity), each with that saving. Then: cost by area, line
items with their drivers, scenarios, risk, assumptions, sources, and links to the
analyst's working (the executed notebooks, the workbook, summary.json) — linked, never pasted.

Every text from the client file or the audit is escaped (:func:`html.escape`) where it is
placed; the header and footer strings of the printed page are escaped as CSS strings; and
the finished page goes through the report's allow-list sanitiser and gets its
Content-Security-Policy (:func:`~ftcost_helpers.report.sanitize.finalise_page`). One
range convention: P10–P90 of the Monte Carlo; the low–high corners appear only in the
line-item table, labelled as such.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from ftcost_helpers.engine.audit import TITLES, Finding, generic_title, ranked
from ftcost_helpers.engine.buy_rent import buy_vs_rent_sentence, commitment_sentence, plan_buy_vs_rent, plan_commitment
from ftcost_helpers.engine.feasibility import CANNOT_RUN
from ftcost_helpers.engine.fx import plan_rate
from ftcost_helpers.engine.headline import BASIS_SHORT
from ftcost_helpers.engine.money import amounts_in, plural, rounded_to_total, usd, usd_cents, usd_range
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.provenance import given_keys, input_provenance
from ftcost_helpers.engine.quantities import Range
from ftcost_helpers.engine.scenarios import ScenarioResult
from ftcost_helpers.engine.sensitivity import Sensitivity, sensitivity
from ftcost_helpers.engine.summary import ALTERNATIVE_NAMES
from ftcost_helpers.report.calibrate import calibration_note
from ftcost_helpers.report.document_charts import (
    Chart,
    area_chart,
    cash_flow_band_chart,
    tornado_caption,
    tornado_chart,
)
from ftcost_helpers.report.document_requote import Markup, follow_up_sections
from ftcost_helpers.report.document_style import page_css
from ftcost_helpers.report.figures import ClientFigures
from ftcost_helpers.report.front import (
    alternative_words,
    basis_sentence,
    decision_cards,
    document_control,
    executive_summary,
    is_staff_time,
    key_dates,
    letterhead,
    long_date,
    month_year,
)
from ftcost_helpers.report.sanitize import finalise_page
from ftcost_helpers.report.workings import CLIENT_SOURCE, DEFAULT_SOURCE, Formula, Ref, Workings, plan_workings
from ftcost_helpers.views.odds import odds_sentence
from ftcost_helpers.views.tables import AREA_LABELS, TIER_LABELS, cheapest_note

TORNADO_ROWS = 8
PRINT_STYLE_ID = "ftcost-print-css"
"""The id :mod:`ftcost_helpers.pdf` looks for: this page brings its own print rules."""

SOURCE_KINDS = ("client", "defaults", "price book")


# --------------------------------------------------------------------------- words


def _h(value: Any) -> str:
    return escape(str(value))


SINGULAR = {"people": "person", "GPUs": "GPU", "hours": "hour", "runs": "run", "pairs": "pair", "trials": "trial"}


def in_words(value: float | bool, unit: str) -> str:
    """An input's value as a reader writes it: ``USD 1.71 per GPU-hour``, ``40%``,
    ``8 GPUs``, ``yes``, ``month 7``."""
    if isinstance(value, bool) or unit == "yes/no":
        return "yes" if value else "no"
    if unit == "share":
        return f"{100 * value:.3g}%"
    if unit == "month":
        return f"month {value:g}"
    if unit.startswith("USD/"):
        per = unit.removeprefix("USD/")
        amount = usd(value) if per in {"month", "quarter"} or value >= 100 else usd_cents(value)
        return f"{amount} per {per}"
    if unit == "USD":
        return usd(value) if float(value).is_integer() or value >= 100 else usd_cents(value)
    if unit.startswith("per "):
        return f"{value:g} {unit}"
    if unit == "million tokens":
        return f"{value:,.4g} million tokens"
    singular = SINGULAR.get(unit, unit.removesuffix("s"))
    return plural(value, singular, unit)


def _nowrap(text: str) -> str:
    return f'<span class="nw">{_h(text)}</span>'


def describe_text(formula: Formula, workings: Workings, values: dict[str, float]) -> str:
    """The drivers of a formula in words, as plain text."""
    return html.unescape(re.sub(r"<[^>]+>", "", describe(formula, workings, values)))


def describe(formula: Formula, workings: Workings, values: dict[str, float]) -> str:
    """The drivers of a formula in words, as HTML (each factor kept on one line):
    ``8 GPUs × 6 hours × 14 runs × USD 1.71 per GPU-hour``."""
    if isinstance(formula, str):
        item = workings.inputs[formula]
        return _nowrap(in_words(item.value, item.unit))
    if isinstance(formula, Ref):
        named = {i.id: i.label for i in [*workings.lines, *workings.running]}
        return _h(named.get(formula.name, formula.name).lower())
    if isinstance(formula, int | float):
        return _h(f"{formula:g}")
    op, *args = formula
    if op == "if":
        condition, then, otherwise = args
        return describe(then if values.get(condition, 0) else otherwise, workings, values)
    symbol = {"*": " × ", "/": " ÷ ", "+": " + ", "-": " − "}[op]
    parts = [describe(arg, workings, values) for arg in args if not (op == "*" and arg == 1)]
    text = symbol.join(part for part in parts if part)
    return f"({text})" if op in "+-" and len(parts) > 1 else text


def input_words(path: str, swing_label: str, workings: Workings, figures: ClientFigures) -> str:
    """An uncertain input named in words (a price-book rate by its GPU and tier)."""
    if path in workings.inputs:
        return workings.inputs[path].label
    parts = path.split(".")
    book = figures.breakdown.book
    if parts[:2] == ["pricebook", "gpu_rates_usd_per_gpu_hour"] and len(parts) == 4:
        gpu = book.gpus[parts[2]].label if parts[2] in book.gpus else parts[2]
        return f"Price book rate: {gpu}, {TIER_LABELS.get(parts[3], parts[3]).lower()}"
    return swing_label.replace("_", " ")


ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
SEED_FILE = re.compile(r"\b\d{3}_[0-9a-f]{16}\.txt\b")
SNAKE = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")
YAML_FILE = re.compile(r"\b[\w./-]+\.ya?ml\b")


def client_text(text: str, book: PriceBook) -> str:
    """A sentence from the engine made fit for the client: no file names, paths, ISO
    dates or snake_case keys (tiers, GPUs and methods by their names)."""

    def date(match: re.Match[str]) -> str:
        try:
            return long_date(dt.date(*map(int, match.groups())))
        except ValueError:
            return match.group(0)

    files = {name: book.source_titles.get(key, "the source").split(",")[0] for key, name in book.sources.items()}
    text = SEED_FILE.sub(lambda m: files.get(m.group(0), "the source"), text)
    text = text.replace("params/pricebook.yaml", "the price book").replace("params/defaults.yaml", "the defaults")
    text = YAML_FILE.sub("the rates file", text)
    text = ISO_DATE.sub(date, text)
    names = {key: label.lower() for key, label in TIER_LABELS.items()}
    names |= {key: gpu.label for key, gpu in book.gpus.items()}
    names |= {key: method.label for key, method in book.methods.items()}
    return SNAKE.sub(lambda m: names.get(m.group(0), m.group(0).replace("_", " ")), text)


def saving_words(saving_usd: float | None, horizon_months: int) -> str:
    """What fixing a warning saves, as a reader says it: "Fixing it saves USD 13,140 over
    12 months." A negative saving is money the estimate leaves out (or a saving it overstates)."""
    span = plural(horizon_months, "month")
    if saving_usd is None:
        return "Not counted in the estimate's figures."
    if round(saving_usd) > 0:
        return f"Fixing it saves {usd(saving_usd)} over {span}."
    if round(saving_usd) < 0:
        return (
            f"Fixing it lowers the cash position after {span} by {usd(-saving_usd)}: the estimate is too "
            "optimistic by that much."
        )
    return f"Fixing it changes nothing in the cost over {span}."


def warning_title(warning: Finding | str) -> str:
    """A warning's title in plain words: a finding's own (:attr:`Finding.title`, naming training
    or serving where its rule checks both); for a bare code, its title without the section
    (:data:`~ftcost_helpers.engine.audit.TITLES`); a code the audit does not know, in words."""
    if isinstance(warning, Finding):
        return warning.title
    return generic_title(warning) if warning in TITLES else warning.replace("_", " ").lower().capitalize()


# --------------------------------------------------------------------------- blocks


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


def _img(chart: Chart) -> str:
    return (
        f'<figure><img src="{chart.data_uri}" width="{chart.width}" height="{chart.height}" alt="{_h(chart.alt)}">'
        "</figure>"
    )


HYPHENATED = re.compile(r"[^\s<>]*[-‑–][^\s<>]*")
TEXT_NODE = re.compile(r">([^<]+)<")


def keep_hyphenated(markup: str) -> str:
    """``markup`` with every hyphenated word of its text kept on one line (a printed table
    must not break "Break-even" or "GPU-hour" at the hyphen)."""

    def wrap(node: re.Match[str]) -> str:
        return ">" + HYPHENATED.sub(lambda m: f'<span class="nw">{m.group(0)}</span>', node.group(1)) + "<"

    return TEXT_NODE.sub(wrap, f">{markup}<")[1:-1]


def _table(
    head: Sequence[tuple[str, str]], rows: Sequence[Sequence[tuple[str, str]]], caption: str, foot: str = ""
) -> str:
    """A table in a box that scrolls sideways on a narrow screen; cells are (class, HTML)."""
    head = [(cls, keep_hyphenated(text)) for cls, text in head]
    rows = [[(cls, keep_hyphenated(text)) for cls, text in row] for row in rows]
    header = "".join(f'<th scope="col" class="{cls}">{text}</th>' for cls, text in head)
    body = "".join("<tr>" + "".join(f'<td class="{cls}">{text}</td>' for cls, text in row) + "</tr>" for row in rows)
    return (
        '<div class="scroll"><table>'
        f"<caption>{_h(caption)}</caption><thead><tr>{header}</tr></thead><tbody>{body}</tbody>{foot}</table></div>"
    )


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
    return _img(area_chart(b)) + _table(
        [("", "Area"), ("num", "One-time cost"), ("num", "Share")], rows, "One-time programme cost by area", foot
    )


def _source_number(source: str) -> int:
    if source == CLIENT_SOURCE:
        return 1
    if source == DEFAULT_SOURCE:
        return 2
    return 3


def line_items_section(figures: ClientFigures, workings: Workings) -> str:
    """Every non-zero line: drivers (quantity × unit price), base amount, low–high corners, source."""
    values = workings.values()
    engine_lines = figures.breakdown.line_items
    pairs = [(item, line) for item, line in zip(workings.lines, engine_lines, strict=True) if line.high > 0]
    shown = rounded_to_total([line.base for _, line in pairs])
    rows = []
    for (item, line), whole in zip(pairs, shown, strict=True):
        notes = sorted({_source_number(workings.inputs[key].source) for key in _keys(item.formula)}) or [1]
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
    return _table(head, rows, "Line items of the one-time programme", foot) + note


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
    return _table([("", "Item"), ("num", "Per month")], rows, caption)


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
    table = _table(head, rows, "The plan beside its alternatives (base case)")
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
        parts.append(
            f"<h3>What moves the {_h(swings.name.lower())}</h3>{_img(chart)}<p>{_h(tornado_caption(swings, names))}</p>"
        )
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
        parts.append(f"<h3>Cumulative position, P10–P90</h3>{_img(chart)}{words}")
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
    parts.append(_table(head, rows, "What is worth measuring before signing"))
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
    table = _table(head, rows, f"Stage gates, on the {basis} programme cost of {usd(figures.headline.programme_usd)}")
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


def assumptions_section(figures: ClientFigures, workings: Workings) -> str:
    """The plan's choices, then every driver in words with its range and source."""
    p, book = figures.params, figures.breakdown.book
    t = p.training
    gpu = book.gpus[t.gpu].label if t.gpu in book.gpus else t.gpu
    method = book.methods[t.method].label if t.method in book.methods else t.method
    serving_gpu = book.gpus[p.serving.gpu].label if p.serving.gpu in book.gpus else p.serving.gpu
    size = f"{base_words(p.base_model.parameters_billion)} billion parameters"
    if _catalogue_source(figures):
        size += ", from the model catalogue (source 4)"
    choices = [
        ("Base model", f"{p.base_model.name} ({size})"),
        ("Training method", method),
        ("Training hardware", f"{plural(t.gpus_per_run, 'GPU')}, {gpu}, {TIER_LABELS.get(t.tier, t.tier).lower()}"),
        (
            "Serving hardware",
            f"{plural(p.serving.gpus, 'GPU')}, {serving_gpu}, "
            f"{TIER_LABELS.get(p.serving.tier, p.serving.tier).lower()}",
        ),
        ("Start", long_date(p.start_date) if getattr(p, "start_date", None) else "not given"),
        ("Horizon", plural(p.horizon_months, "month")),
        (
            "What the fine-tune replaces",
            {
                "none": "nothing (the fine-tune is the product)",
                **{k: f"the {v}" for k, v in ALTERNATIVE_NAMES.items()},
            }.get(p.alternative.kind, p.alternative.kind),
        ),
    ]
    choice_rows = [[("", _h(k)), ("", _h(v))] for k, v in choices]
    rows = []
    for item in workings.inputs.values():
        span = ""
        if item.low is not None and item.high is not None:
            span = f"{in_words(item.low, item.unit)} – {in_words(item.high, item.unit)}"
        rows.append(
            [
                ("", _h(item.label)),
                ("num", _nowrap(in_words(item.value, item.unit))),
                ("num", _h(span)),
                ("num", f'<a href="#sources">{_source_number(item.source)}</a>'),
            ]
        )
    note = (
        '<p class="meta">A range is drawn in the simulation (triangular around its most likely value when one is '
        "given, else uniform); the base case uses the most likely value, or the middle of the range.</p>"
    )
    return (
        _table([("", "Choice"), ("", "In this plan")], choice_rows, "The plan")
        + _table(
            [("", "Input"), ("num", "Base case"), ("num", "Range"), ("num", "Source")],
            rows,
            "Every input of the estimate",
        )
        + note
    )


def base_words(value: Any) -> str:
    number = value.base if isinstance(value, Range) else float(value)
    return f"{number:g}"


def sources_section(figures: ClientFigures, workings: Workings) -> str:
    """The numbered sources the inputs table cites (client, firm defaults, price book, and the
    model catalogue when it filled the base model), each with its date, then the documents."""
    book = figures.breakdown.book
    documents = "".join(f"<li>{_h(title)}</li>" for title in book.source_titles.values())
    rates = sorted({i.source for i in workings.inputs.values() if _source_number(i.source) == 3})
    used = f" Used here: {_h('; '.join(r.split(': ', 1)[-1] for r in rates))}." if rates else ""
    given = sum(_source_number(i.source) == 1 for i in workings.inputs.values())
    catalogue = _catalogue_source(figures)
    return (
        '<ol class="sources">'
        f"<li>The client's own figures, given for this estimate ({_h(figures.params.client)}): "
        f"{_h(plural(given, 'input'))} of the {_h(len(workings.inputs))} listed under assumptions.</li>"
        "<li>The firm's default assumptions, used where the client gave no figure: ranges taken from the "
        "documents below where they give one, otherwise stated as assumptions; a cost the plan does not "
        "mention is taken as zero.</li>"
        f"<li>The price book as of {_h(long_date(book.as_of))}: GPU rates by provider tier, API prices and "
        f"rules of thumb, compiled from the documents below.{used} "
        f"Prices from {_h(client_text(str(figures.summary.get('price_sources', '')), book))}.</li>"
        f"{catalogue}{fx_source(figures)}</ol><p>Documents:</p><ul>{documents}</ul>"
    )


def currency_phrase(figures: ClientFigures) -> str:
    """How the document's header names the currency: ``US dollars``, or for a plan in another
    currency ``EUR (price-book prices converted at 0.9341 EUR per USD, the rate of 28 June 2024)``."""
    fx = plan_rate(figures.breakdown.book, figures.params.currency)
    if not fx.converted:
        return "US dollars" if fx.currency == "USD" else fx.currency
    date = long_date(fx.date) if fx.date else "undated"
    rate = f"{fx.per_usd:.4f} {fx.currency} per {fx.base}"
    return f"{fx.currency} (price-book prices converted at {rate}, the rate of {date})"


def fx_source(figures: ClientFigures) -> str:
    """The exchange rate as a source, with its date, when the plan's prices were converted."""
    fx = plan_rate(figures.breakdown.book, figures.params.currency)
    if not fx.converted:
        return ""
    date = long_date(fx.date) if fx.date else "undated"
    return (
        f"<li>The exchange rate: {fx.per_usd:.4f} {_h(fx.currency)} per {_h(fx.base)}, the rate of {_h(date)} "
        f"({_h(fx.source)}). Every price of the price book (in {_h(fx.base)}) is converted at it; the client's own "
        f"figures are in {_h(fx.currency)} as given.</li>"
    )


def _catalogue_source(figures: ClientFigures) -> str:
    """The model catalogue as a fourth source, when it filled the base model's figures."""
    origin = input_provenance(
        "base_model.parameters_billion", figures.params, figures.breakdown.book, client_keys(figures)
    )
    if origin.kind != "catalogue" or origin.as_of is None:
        return ""
    return (
        f"<li>The model catalogue as of {_h(long_date(origin.as_of))}: the size and architecture of "
        f"{_h(figures.params.base_model.name)}, from its published model card and configuration, where the "
        "client named the model only.</li>"
    )


GLOSSARY: tuple[tuple[str, str], ...] = (
    (
        "P10, P50, P90",
        "The estimate is run thousands of times with every uncertain input drawn from its range (a Monte Carlo "
        "simulation). The P50 is the middle outcome: half the runs cost less, half more. One run in ten costs "
        "less than the P10, and one in ten more than the P90.",
    ),
    (
        "Base case",
        "The estimate with every input at its most likely value (or the middle of its range). Because costs "
        "can overrun further than they can undershoot, the base case often sits below the P50.",
    ),
    (
        "Programme cost",
        "The one-time cost of building the fine-tuned model: data, training, evaluation, engineering "
        "and compliance, before it goes into service.",
    ),
    (
        "Running cost",
        "What the model costs each month once it is in service: serving it, checking its quality, and "
        "keeping it current (maintenance).",
    ),
    (
        "Alternative",
        "What the business would pay each month without the fine-tuned model: an API bill, a "
        "retrieval (RAG) set-up, or staff time.",
    ),
    ("Net saving", "The alternative's monthly cost minus the running cost: what the model saves each month."),
    ("Break-even", "The month in which the savings to date first cover everything spent to date."),
    ("Cost of ownership (TCO)", "The programme cost plus every running cost up to the end of the horizon."),
    ("Horizon", "The number of months the estimate looks ahead, counted from the programme's start."),
    ("GPU", "The graphics processor a model is trained and served on; it is rented by the hour."),
    (
        "GPU-hour",
        "One GPU used for one hour: the unit in which GPU time is priced. Eight GPUs for six hours are 48 GPU-hours.",
    ),
    (
        "Utilisation",
        "The share of a GPU's top speed a job actually uses. Even the best-run training uses under half "
        "(38–46% in the published reports of large models); a plan that books far more (or far less) GPU time "
        "than the work needs shows up as a utilisation out of that range.",
    ),
    (
        "FLOPs",
        "Floating-point operations: the arithmetic a training run has to do. The total follows from the "
        "model's size and the amount of training text, and sets the GPU time needed.",
    ),
    ("BF16", "A compact 16-bit number format that modern GPUs compute in fastest; GPU speeds are quoted in it."),
    (
        "Token",
        "A word or part of a word: the unit in which models read and write text, and in which API use is billed.",
    ),
    (
        "Full fine-tune",
        "Training that adjusts every weight of the base model: the most flexible and the most "
        "expensive way to adapt it.",
    ),
    (
        "LoRA",
        "Low-rank adaptation: training small add-on weights while the base model stays frozen. It needs a "
        "fraction of the computing power of a full fine-tune and often matches it.",
    ),
    ("QLoRA", "LoRA on a base model stored in compressed 4-bit form, so that it fits on smaller, cheaper GPUs."),
    ("Hyperscaler", "A large general-purpose cloud provider (Amazon Web Services, Google Cloud, Microsoft Azure)."),
    ("Neocloud", "A specialist GPU cloud provider; usually cheaper per GPU-hour than a hyperscaler."),
    (
        "On-demand, spot",
        "On-demand GPUs are yours until you release them; spot GPUs are cheaper spare capacity "
        "that the provider may take back at short notice.",
    ),
    (
        "Price book",
        "The firm's dated list of market prices and rules of thumb, compiled from the sources named under Sources.",
    ),
    (
        "Severity",
        "How much a warning matters: critical where the plan cannot run as written or its figures are "
        "wrong; otherwise by the dollars at stake against the cost of ownership (high from 10%, medium from 2%, "
        "low below), or by the kind of risk where no dollar figure can be put on it.",
    ),
)
"""The words of the client document a decision-maker may not know, each in a sentence or two."""


def glossary_section() -> str:
    """A one-page glossary of the document's terms (:data:`GLOSSARY`), in plain words."""
    terms = "".join(f"<dt>{_h(term)}</dt><dd>{keep_hyphenated(_h(meaning))}</dd>" for term, meaning in GLOSSARY)
    return f'<dl class="glossary">{terms}</dl>'


@dataclass(frozen=True)
class Working:
    """A file of the analyst's working in the report folder, and what it is."""

    href: str
    title: str


def working_section(files: Sequence[Working]) -> str:
    items = "".join(f'<li><a href="{escape(f.href, quote=True)}">{_h(f.title)}</a></li>' for f in files)
    return (
        "<p>The analysis behind this document, kept by the firm and available on request: the workbook "
        f"recalculates every figure from its inputs, and the notebooks show each step.</p><ul>{items}</ul>"
    )


# --------------------------------------------------------------------------- the page


def _section(anchor: str, title: str, body: str, page: bool = True) -> str:
    cls = ' class="page"' if page else ""
    return f'<section id="{anchor}"{cls}><h2>{_h(title)}</h2>{body}</section>'


def client_document(figures: ClientFigures, working: Sequence[Working] = (), today: dt.date | None = None) -> str:
    """The whole client document, every amount in the plan's currency (:func:`_client_document`)."""
    with amounts_in(figures.params.currency):
        return _client_document(figures, working, today)


def _client_document(figures: ClientFigures, working: Sequence[Working] = (), today: dt.date | None = None) -> str:
    """The whole client document as one self-contained HTML page: the firm's letterhead,
    page 1 (the decision on the headline's basis, its dates and the executive summary), then
    cost, line items, alternatives, risk, assumptions, sources, the analyst's working and the
    document-control block (version, sign-off, disclaimer)."""
    s, b, h = figures.summary, figures.breakdown, figures.headline
    workings = plan_workings(figures.params, b.book, client_keys(figures))
    results = figures.scenario_results
    swings = sensitivity(figures.params, b.book)
    day = today or dt.date.fromisoformat(s["report_date"])
    client, version = s["client"], figures.params.report.version
    draws = figures.simulation.draws if figures.simulation else 0
    style = page_css(figures.firm, client, long_date(day), f"Version {version} · {long_date(day)}")
    first_page = (
        f'<p class="verdict">{keep_hyphenated(_h(s["verdict"]["sentence"]))}</p>'
        f'<p class="basis">{_h(basis_sentence(h, draws))}</p>'
        f"{decision_cards(figures)}{key_dates(h)}"
        f"<h3>Executive summary</h3>{executive_summary(figures, warning_title)}"
    )
    sections = [
        *follow_up_sections(figures, Markup(_section, _table, _img)),  # issue 23: report --previous / --actuals
        _section(
            "warnings",
            "What the audit found, the most important first",
            warnings_block(b.warnings, b.book, figures.params.horizon_months)
            + "<h3>Cost by area</h3>"
            + areas_section(figures)
            + running_section(figures),
        ),
        _section(
            "line-items",
            "Line items and their drivers",
            line_items_section(figures, workings) + calibration_note(s.get("calibration")),  # issue 23
            page=False,
        ),
        _section("scenarios", "Alternatives compared", scenarios_section(results, figures), page=False),
        *(
            [
                _section(
                    "measure",
                    "What we recommend, and what to measure first",
                    measure_first_section(figures),
                    page=False,
                )
            ]
            if s.get("value_of_information")
            else []
        ),
        _section("risk", "Risk", risk_section(figures, workings, swings), page=False),
        *([_section("stages", "Stage gates", stages_section(figures), page=False)] if s.get("stages") else []),
        _section("assumptions", "Assumptions", assumptions_section(figures, workings), page=False),
        _section("sources", "Sources", keep_hyphenated(sources_section(figures, workings)), page=False),
        _section("glossary", "Glossary", glossary_section(), page=False),
        _section("working", "The analyst's working", working_section(working), page=False),
        _section("document", "About this document", keep_hyphenated(document_control(figures, day)), page=False),
    ]
    return finalise_page(f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fine-tuning cost estimate: {_h(client)}</title>
<style id="{PRINT_STYLE_ID}">{style}</style>
</head>
<body>
<main>
{letterhead(figures.firm)}
<header class="report">
<div class="kicker">Fine-tuning cost estimate</div>
<h1>{_h(client)}</h1>
<p class="meta">Version {_h(version)} · {_h(long_date(day))} · prices as of {_h(long_date(b.book.as_of))} · all
amounts in {_h(currency_phrase(figures))} · figures on the {_h(BASIS_SHORT[h.basis])} basis</p>
</header>
<section id="decision"><h2>The decision</h2>{first_page}</section>
{"".join(sections)}
<footer>{_h(figures.firm.name)} · version {_h(version)} · {_h(long_date(day))} · prepared with ftcost
{_h(s["versions"].get("ftcost_helpers", ""))}.</footer>
</main>
</body>
</html>
""")


def client_keys(figures: ClientFigures) -> frozenset[str]:
    """The dotted keys the client file sets itself, a range of any shape as one key
    (:func:`~ftcost_helpers.engine.provenance.given_keys`); none when the file cannot be read."""
    from ftcost_helpers.engine.loading import ParamsError, read_yaml

    try:
        return given_keys(read_yaml(figures.source))
    except ParamsError:
        return frozenset()


def working_files(folder: Path, notebooks: Sequence[Path]) -> list[Working]:
    """The analyst's working linked from the document: workbook, notebooks, summary.json."""
    from ftcost_helpers.report.html import notebook_title

    files = [Working("report.xlsx", "The workbook: inputs, line items, cash flow, scenarios, sensitivity (Excel)")]
    for path in notebooks:
        try:
            import nbformat

            title = notebook_title(nbformat.read(path, as_version=4), path.stem.replace("_", " "))
        except Exception:
            title = path.stem.replace("_", " ")
        files.append(Working(path.name, f"Notebook: {title}"))
    files.append(Working("summary.json", "The key figures, machine-readable (JSON)"))
    return files
