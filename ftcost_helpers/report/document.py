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

The sections live by concern in :mod:`~ftcost_helpers.report.document_costs` (warnings,
cost by area, line items, running cost, scenarios), :mod:`~ftcost_helpers.report.document_risk`
(risk, what to measure, stage gates), :mod:`~ftcost_helpers.report.document_sources`
(assumptions, sources) and :mod:`~ftcost_helpers.report.document_glossary`; their words in
:mod:`~ftcost_helpers.report.document_words` and their markup in
:mod:`~ftcost_helpers.report.document_markup`. This module puts the page together; the names
the workbook and the tests import from it are re-exported here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

from ftcost_helpers.engine.headline import BASIS_SHORT
from ftcost_helpers.engine.money import amounts_in
from ftcost_helpers.engine.sensitivity import sensitivity
from ftcost_helpers.report.calibrate import calibration_note
from ftcost_helpers.report.document_costs import (
    areas_section,
    line_items_section,
    running_section,
    scenarios_section,
    warnings_block,
)
from ftcost_helpers.report.document_glossary import GLOSSARY, glossary_section
from ftcost_helpers.report.document_markup import (
    HYPHENATED,
    TEXT_NODE,
    figure_html,
    keep_hyphenated,
    section_html,
    table_html,
)
from ftcost_helpers.report.document_markup import escaped as _h
from ftcost_helpers.report.document_requote import Markup, follow_up_sections
from ftcost_helpers.report.document_risk import (
    MEASURE_ROWS,
    TORNADO_ROWS,
    discounting_words,
    measure_first_section,
    risk_section,
    stages_section,
)
from ftcost_helpers.report.document_sources import (
    SOURCE_KINDS,
    assumptions_section,
    base_words,
    client_keys,
    currency_phrase,
    fx_source,
    sources_section,
)
from ftcost_helpers.report.document_style import page_css
from ftcost_helpers.report.document_words import (
    ISO_DATE,
    SEED_FILE,
    SINGULAR,
    SNAKE,
    YAML_FILE,
    client_text,
    describe,
    describe_text,
    in_words,
    input_words,
    saving_words,
    warning_title,
)
from ftcost_helpers.report.figures import ClientFigures
from ftcost_helpers.report.front import (
    basis_sentence,
    decision_cards,
    document_control,
    executive_summary,
    key_dates,
    letterhead,
    long_date,
)
from ftcost_helpers.report.sanitize import finalise_page
from ftcost_helpers.report.workings import plan_workings

__all__ = [
    "GLOSSARY",
    "HYPHENATED",
    "ISO_DATE",
    "MEASURE_ROWS",
    "PRINT_STYLE_ID",
    "SEED_FILE",
    "SINGULAR",
    "SNAKE",
    "SOURCE_KINDS",
    "TEXT_NODE",
    "TORNADO_ROWS",
    "YAML_FILE",
    "Working",
    "areas_section",
    "assumptions_section",
    "base_words",
    "client_document",
    "client_keys",
    "client_text",
    "currency_phrase",
    "describe",
    "describe_text",
    "discounting_words",
    "fx_source",
    "glossary_section",
    "in_words",
    "input_words",
    "keep_hyphenated",
    "line_items_section",
    "measure_first_section",
    "risk_section",
    "running_section",
    "saving_words",
    "scenarios_section",
    "sources_section",
    "stages_section",
    "warning_title",
    "warnings_block",
    "working_files",
    "working_section",
]

PRINT_STYLE_ID = "ftcost-print-css"
"""The id :mod:`ftcost_helpers.pdf` looks for: this page brings its own print rules."""


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
        # issue 23: report --previous / --actuals
        *follow_up_sections(figures, Markup(section_html, table_html, figure_html)),
        section_html(
            "warnings",
            "What the audit found, the most important first",
            warnings_block(b.warnings, b.book, figures.params.horizon_months)
            + "<h3>Cost by area</h3>"
            + areas_section(figures)
            + running_section(figures),
        ),
        section_html(
            "line-items",
            "Line items and their drivers",
            line_items_section(figures, workings) + calibration_note(s.get("calibration")),  # issue 23
            page=False,
        ),
        section_html("scenarios", "Alternatives compared", scenarios_section(results, figures), page=False),
        *(
            [
                section_html(
                    "measure",
                    "What we recommend, and what to measure first",
                    measure_first_section(figures),
                    page=False,
                )
            ]
            if s.get("value_of_information")
            else []
        ),
        section_html("risk", "Risk", risk_section(figures, workings, swings), page=False),
        *([section_html("stages", "Stage gates", stages_section(figures), page=False)] if s.get("stages") else []),
        section_html("assumptions", "Assumptions", assumptions_section(figures, workings), page=False),
        section_html("sources", "Sources", keep_hyphenated(sources_section(figures, workings)), page=False),
        section_html("glossary", "Glossary", glossary_section(), page=False),
        section_html("working", "The analyst's working", working_section(working), page=False),
        section_html("document", "About this document", keep_hyphenated(document_control(figures, day)), page=False),
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
