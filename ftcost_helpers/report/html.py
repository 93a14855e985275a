"""The client-facing HTML report: the key figures, the audit's warnings, the line items,
the five notebooks' prose, tables and charts (no code), and the assumptions.

Every value that comes from a client file or the audit is HTML-escaped here, and the whole
page, once Markdown, LaTeX and nbconvert have rendered it, goes through the allow-list
sanitiser of :mod:`.sanitize` (which also adds the Content-Security-Policy), so a client name
like ``<script>`` shows as text. Charts stay embedded PNG (base64), and
widget outputs, stderr streams and ``<Figure size ...>`` reprs are dropped. LaTeX in
Markdown becomes MathML (latex2mathml), which browsers render natively: the page needs no
kernel, no CDN (MathJax) and no JavaScript, and reads the same offline and in a PDF.
"""

from __future__ import annotations

import copy
import re
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

from ftcost_helpers.engine.model.lines import AREAS, ONGOING
from ftcost_helpers.report.figures import ClientFigures, flat_inputs
from ftcost_helpers.report.sanitize import finalise_page
from ftcost_helpers.views.text_report import usd

HIDDEN_TAGS = {"parameters", "injected-parameters", "remove-cell", "remove_cell"}
"""Cells tagged so are left out of the client's page."""

WIDGET_MIMETYPES = ("application/vnd.jupyter.widget-view+json", "application/vnd.jupyter.widget-state+json")
UNSAFE_MIMETYPES = ("application/javascript", "text/javascript", *WIDGET_MIMETYPES)
FIGURE_REPR = re.compile(r"^<(Figure size|matplotlib\.)[^>]*>$")

CODE_SPANS = re.compile(r"(```.*?```|`[^`\n]*`)", flags=re.DOTALL)
MATH = re.compile(r"\$\$(.+?)\$\$|(?<![\\\w$])\$(?=\S)([^$\n]*?\S)\$(?!\w)", flags=re.DOTALL)

CSS = """
:root { --ink: #1d2733; --muted: #5b6775; --line: #d8dee6; --band: #f4f6f9; --accent: #1f5fa8; --warn: #9a5b00; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; font: 16px/1.55 system-ui, -apple-system, "Segoe UI",
       Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1040px; margin: 0 auto; padding: 2rem 1.5rem 4rem; }
header.report { border-bottom: 3px solid var(--accent); margin-bottom: 1.5rem; padding-bottom: 1rem; }
header.report h1 { margin: 0 0 .25rem; font-size: 1.9rem; }
.kicker { color: var(--accent); font-weight: 600; letter-spacing: .03em; text-transform: uppercase; font-size: .8rem; }
.meta { color: var(--muted); margin: .25rem 0 0; font-size: .92rem; }
h2 { margin-top: 2.5rem; border-bottom: 1px solid var(--line); padding-bottom: .3rem; }
h3 { margin-top: 1.6rem; }
nav.toc ol { columns: 2; margin: .5rem 0 0; padding-left: 1.2rem; }
nav.toc a, a { color: var(--accent); }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(190px, 1fr)); gap: .8rem; margin: 1rem 0; }
.figure { background: var(--band); border: 1px solid var(--line); border-radius: 6px; padding: .8rem 1rem; }
.figure .label { color: var(--muted); font-size: .85rem; }
.figure .value { font-size: 1.35rem; font-weight: 650; font-variant-numeric: tabular-nums; }
.figure .note { color: var(--muted); font-size: .8rem; }
table { border-collapse: collapse; margin: .8rem 0 1.2rem; font-size: .92rem; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: .35rem .7rem; vertical-align: top; }
th { background: var(--band); text-align: left; }
td.num, th.num { text-align: right; white-space: nowrap; }
tr:nth-child(even) td { background: #fafbfc; }
caption { caption-side: top; text-align: left; font-weight: 600; padding: .3rem 0; }
ul.warnings { list-style: none; padding: 0; }
ul.warnings li { border-left: 4px solid var(--warn); background: #fff8ec; padding: .6rem .9rem; margin: .5rem 0; }
ul.warnings code { color: var(--warn); font-weight: 600; }
.ok { border-left: 4px solid #2e7d32; background: #f1f8f1; padding: .6rem .9rem; }
section.notebook { border-top: 1px solid var(--line); margin-top: 3rem; }
section.notebook img { max-width: 100%; height: auto; }
section.notebook .jp-Cell, section.notebook .cell { margin: .4rem 0; break-inside: avoid; }
section.notebook pre { background: var(--band); padding: .6rem .8rem; overflow-x: auto; font-size: .85rem; }
.anchor-link { display: none; }
math { font-size: 1.08em; }
math[display="block"] { margin: .8rem 0; overflow-x: auto; overflow-y: hidden; padding: .15rem 0; }
.jp-InputPrompt, .jp-OutputPrompt, .prompt { display: none; }
details summary { cursor: pointer; color: var(--accent); }
footer { margin-top: 3rem; color: var(--muted); font-size: .85rem; border-top: 1px solid var(--line);
         padding-top: .8rem; }
@media print { main { max-width: none; padding: 0; } img, table, .figure, ul.warnings li { break-inside: avoid; } }
"""


def _mathml(match: re.Match[str]) -> str:
    """One ``$...$`` or ``$$...$$`` span as MathML (left as written if it cannot be read)."""
    from latex2mathml.converter import convert

    block, inline = match.groups()
    try:
        return convert((block or inline).strip(), display="block" if block else "inline")
    except Exception:
        return match.group(0)


def render_math(markdown: str) -> str:
    """Markdown with its LaTeX spans replaced by MathML; code spans and blocks untouched."""
    parts = CODE_SPANS.split(markdown)
    parts[::2] = [MATH.sub(_mathml, part) for part in parts[::2]]
    return "".join(parts)


def _client_output(output: dict[str, Any]) -> dict[str, Any] | None:
    """An output as the client may see it, or None to drop it (stderr, errors, widgets,
    ``<Figure size ...>`` text); scripts removed (the whole page is sanitised at the end)."""
    kind = output.get("output_type")
    if kind == "error" or (kind == "stream" and output.get("name") == "stderr"):
        return None
    if kind not in {"display_data", "execute_result"}:
        return output
    data = output.get("data", {})
    if any(mimetype in data for mimetype in WIDGET_MIMETYPES):
        return None
    data = {key: value for key, value in data.items() if key not in UNSAFE_MIMETYPES}
    if set(data) == {"text/plain"} and FIGURE_REPR.match("".join(data["text/plain"]).strip()):
        return None
    if "text/markdown" in data:
        data["text/markdown"] = render_math("".join(data["text/markdown"]))
    output["data"] = data
    return output if data else None


def client_notebook(nb: Any) -> Any:
    """A copy of an executed notebook fit for a client: hidden cells, unsafe outputs and
    widget state removed (see :func:`_client_output`)."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    cells = []
    for cell in nb.cells:
        if HIDDEN_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            continue
        if cell.cell_type == "code":
            cell.outputs = [out for out in map(_client_output, cell.outputs) if out is not None]
            if not cell.outputs:
                continue
        if cell.cell_type == "raw":
            continue
        if cell.cell_type == "markdown":
            cell.source = render_math(cell.source)
        cells.append(cell)
    nb.cells = cells
    return nb


@cache
def _exporter() -> Any:
    """nbconvert's body-only HTML exporter with code and prompts hidden."""
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name="basic", exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )


def notebook_title(nb: Any, fallback: str) -> str:
    """The first Markdown heading of a notebook (plain text), or ``fallback``."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#+\s+(.+)$", cell.source, flags=re.MULTILINE)
            if match:
                return re.sub(r"[*_`]", "", match.group(1)).strip()
    return fallback


def notebook_section(path: Path) -> tuple[str, str, str]:
    """(anchor id, title, HTML body) of one executed notebook, without code."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    body, _ = _exporter().from_notebook_node(client_notebook(nb))
    anchor = "nb-" + re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")
    return anchor, notebook_title(nb, path.stem), body


def _num(value: float) -> str:
    return f'<td class="num">{escape(usd(value))}</td>'


def _figure(label: str, value: str, note: str = "") -> str:
    note_html = f'<div class="note">{escape(note)}</div>' if note else ""
    return (
        f'<div class="figure"><div class="label">{escape(label)}</div>'
        f'<div class="value">{escape(value)}</div>{note_html}</div>'
    )


ALTERNATIVE_NAMES = {"api": "frontier-API bill", "labour": "staff time", "rag": "RAG set-up"}
"""How the break-even card names what the fine-tune replaces (``alternative.kind``)."""


def _break_even_note(summary: dict[str, Any]) -> str:
    """Why the break-even card shows what it shows."""
    kind = summary.get("alternative")
    if kind == "none":
        return "no alternative to save against: the fine-tune is the product"
    month = summary["break_even_month"]
    if month is None:
        return f"does not pay back within {summary['horizon_months']} months"
    note = f"against the {ALTERNATIVE_NAMES.get(kind, 'alternative')} it replaces"
    if summary.get("build_months"):
        note += f", counted from the programme's start ({summary['build_months']} build months)"
    chance = summary.get("break_even_chance_by_month")
    return f"{note}; {chance[month - 1]:.0%} chance by then" if chance else note


def key_figures(summary: dict[str, Any]) -> str:
    """The headline numbers as cards: total, P10–P90, running cost, break-even, TCO."""
    span = summary["range_usd"]
    month = summary["break_even_month"]
    monthly = sum(summary["ongoing_monthly_usd"].values())
    return (
        '<div class="figures">'
        + "".join(
            [
                _figure("Programme total (one-time)", usd(summary["programme_total_usd"]), "base case"),
                _figure(
                    "Likely range (P10–P90)", f"{usd(span['p10'])} – {usd(span['p90'])}", f"P50 {usd(span['p50'])}"
                ),
                _figure("Running cost per month", usd(monthly), "evaluation, serving, maintenance"),
                _figure("Break-even month", str(month) if month is not None else "none", _break_even_note(summary)),
                _figure(f"Cost of ownership, {summary['horizon_months']} months", usd(summary["tco_usd"])),
            ]
        )
        + "</div>"
    )


def areas_table(summary: dict[str, Any]) -> str:
    """One-time cost by area with its share, and the monthly running costs."""
    total = summary["programme_total_usd"] or 1.0
    rows = "".join(
        f"<tr><td>{escape(area)}</td>{_num(value)}<td class='num'>{value / total:.0%}</td></tr>"
        for area, value in ((a, summary["areas_usd"][a]) for a in AREAS)
    )
    ongoing = "".join(
        f"<tr><td>{escape(name)}</td>{_num(summary['ongoing_monthly_usd'][name])}</tr>" for name in ONGOING
    )
    return (
        "<table><caption>One-time programme cost by area</caption>"
        "<thead><tr><th>Area</th><th class='num'>USD</th><th class='num'>Share</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        "<table><caption>Running cost per month once in production</caption>"
        "<thead><tr><th>Item</th><th class='num'>USD / month</th></tr></thead>"
        f"<tbody>{ongoing}</tbody></table>"
    )


def warnings_list(warnings: list[dict[str, str]]) -> str:
    """The audit's warnings, code and message escaped."""
    if not warnings:
        return '<p class="ok">The audit raises no warning for this plan.</p>'
    items = "".join(
        f"<li><code>{escape(w['code'])}</code> ({escape(w.get('area', ''))}) — {escape(w['message'])}</li>"
        for w in warnings
    )
    return f'<ul class="warnings">{items}</ul>'


def line_items_table(figures: ClientFigures) -> str:
    """Every non-zero line with its low/base/high and the source of its figure."""
    rows = "".join(
        f"<tr><td>{escape(i.area)}</td><td>{escape(i.item)}</td>{_num(i.low)}{_num(i.base)}{_num(i.high)}"
        f"<td>{escape(i.source)}</td></tr>"
        for i in figures.breakdown.line_items
        if i.high > 0
    )
    return (
        "<table><thead><tr><th>Area</th><th>Line item</th><th class='num'>Low</th><th class='num'>Base</th>"
        f"<th class='num'>High</th><th>Source</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "<td></td>"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"<td>{escape(str(value))}</td>"
    return f'<td class="num">{value:,.6g}</td>'


def assumptions_table(figures: ClientFigures) -> str:
    """Every input of the plan (client file over defaults): value, or low/mode/high."""
    rows = "".join(
        f"<tr><td><code>{escape(key)}</code></td>{''.join(map(_cell, values))}</tr>"
        for key, *values in flat_inputs(figures.params)
    )
    return (
        "<details><summary>Show every input (the client file over params/defaults.yaml)</summary>"
        "<table><thead><tr><th>Input</th><th class='num'>Value (base)</th><th class='num'>Low</th>"
        f"<th class='num'>Most likely</th><th class='num'>High</th></tr></thead><tbody>{rows}</tbody></table>"
        "</details>"
    )


def client_report(figures: ClientFigures, notebooks: list[Path]) -> str:
    """The whole client page as one self-contained HTML document."""
    s = figures.summary
    client = escape(s["client"])
    sections = [notebook_section(path) for path in notebooks]
    toc = "".join(
        f'<li><a href="#{anchor}">{escape(title)}</a></li>'
        for anchor, title in [
            ("summary", "Summary"),
            ("warnings", "Audit warnings"),
            ("line-items", "Line items"),
            *((anchor, title) for anchor, title, _ in sections),
            ("assumptions", "Assumptions"),
        ]
    )
    notebook_html = "".join(f'<section class="notebook" id="{anchor}">{body}</section>' for anchor, _, body in sections)
    versions = ", ".join(f"{escape(name)} {escape(version)}" for name, version in s["versions"].items())
    return finalise_page(f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fine-tuning cost report — {client}</title>
<style>{CSS}</style>
</head>
<body>
<main>
<header class="report">
<div class="kicker">Fine-tuning cost report</div>
<h1>{client}</h1>
<p class="meta">Report date {escape(s["report_date"])} · Price book as of {escape(s["price_book_as_of"])}
 · Parameters <code>{escape(s["source_file"])}</code> · hash <code>{escape(s["params_hash"][:16])}</code></p>
</header>
<nav class="toc"><strong>Contents</strong><ol>{toc}</ol></nav>
<section id="summary"><h2>Summary</h2>{key_figures(s)}{areas_table(s)}</section>
<section id="warnings"><h2>Audit warnings</h2>{warnings_list(s["warnings"])}</section>
<section id="line-items"><h2>Line items</h2>{line_items_table(figures)}</section>
{notebook_html}
<section id="assumptions"><h2>Assumptions</h2>
<p>All amounts in {escape(s["currency"])}. Ranges are sampled (P10–P90 above, seeded Monte Carlo); the base case
uses the most likely value, or the midpoint of a range.</p>
{assumptions_table(figures)}</section>
<footer>Generated by ftcost on {escape(s["report_date"])} from <code>{escape(s["source_file"])}</code>
(parameters hash <code>{escape(s["params_hash"])}</code>). Prices from {escape(s["price_sources"])}.
Versions: {versions}.</footer>
</main>
</body>
</html>
""")
