"""``reports/index.html``: every client report in the folder with its totals, range,
break-even month and links, plus the clients that failed in the last run.

The index is the firm's working, never a client's: it names every client, so its heading
and its ``ftcost-audience`` meta say so (:data:`AUDIENCE`), and no client document links to it.

Built from the ``summary.json`` files on disk, so a client reported by an earlier run
stays listed; every name and message is HTML-escaped and every link is a safe slug.
"""

from __future__ import annotations

import errno
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape, unescape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ftcost_helpers.engine.headline import BASIS_SHORT
from ftcost_helpers.engine.money import amounts_in, plural, usd, usd_range
from ftcost_helpers.report.html import CSS
from ftcost_helpers.report.sanitize import finalise_page
from ftcost_helpers.report.slug import SAFE

REPORT_HTML, REPORT_PDF, REPORT_XLSX, SUMMARY_JSON = "report.html", "report.pdf", "report.xlsx", "summary.json"
"""The fixed file names inside ``reports/<slug>/``."""

SOURCE_FILE = ".source"
"""In each report folder: which client file it was made from (:func:`~.slug.source_id`)."""

INDEX_TEMPORARY = ".index-"
"""``.index-<pid>.html``: the index being written, renamed into place when complete."""

LISTED_KEYS = frozenset({"client", "headline", "range_usd"})
"""A folder whose summary.json lacks one of these is not a report this version can list."""


@dataclass(frozen=True)
class Failure:
    """A client that got no new report in this run: its file and the one-line problem."""

    source: str
    message: str


def read_summaries(out_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    """(slug, summary) of every complete report folder under ``out_dir``, by client name; a
    client file with more than one folder is listed once, by its newest report. A folder an
    older version wrote (named after the client, no ``.source``) is left out when a folder
    that says whose it is holds a report of the same ``source_file``."""
    newest: dict[str, tuple[float, str, dict[str, Any]]] = {}
    unowned: list[tuple[float, str, dict[str, Any]]] = []
    for path in sorted(out_dir.glob(f"*/{SUMMARY_JSON}")):
        slug = path.parent.name
        if not SAFE.fullmatch(slug):
            continue
        try:
            summary = json.loads(path.read_text(encoding="utf-8"))
            written = path.stat().st_mtime
        except (OSError, ValueError):
            continue
        if not (isinstance(summary, dict) and set(summary) >= LISTED_KEYS):
            continue
        owner = folder_owner(path.parent)
        if owner is None:
            unowned.append((written, slug, summary))
        elif owner not in newest or written > newest[owner][0]:
            newest[owner] = (written, slug, summary)
    owned_sources = {summary.get("source_file") for _, _, summary in newest.values()}
    kept = [entry for entry in unowned if entry[2].get("source_file") not in owned_sources]
    found = [(slug, summary) for _, slug, summary in [*newest.values(), *kept]]
    return sorted(found, key=lambda item: (str(item[1]["client"]).lower(), item[0]))


def folder_owner(folder: Path) -> str | None:
    """The :func:`~.slug.source_id` of the client file a report folder was made from, if it says."""
    try:
        return (folder / SOURCE_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def _row(slug: str, s: dict[str, Any], has_pdf: bool = False) -> str:
    """One client's row, its amounts in its own currency (``summary.json``'s ``currency``)."""
    currency = s.get("currency")
    with amounts_in(currency if isinstance(currency, str) and currency else "USD"):
        return _row_cells(slug, s, has_pdf)


def _row_cells(slug: str, s: dict[str, Any], has_pdf: bool = False) -> str:
    href = quote(slug)
    span, h = s["range_usd"], s["headline"]
    month, basis = h["break_even_month"], BASIS_SHORT.get(h["basis"], h["basis"])
    monthly = h["running_usd_per_month"]
    alternative, net = h["alternative_usd_per_month"], h["net_saving_usd_per_month"]
    warnings = len(s.get("warnings", []))
    tco = h["tco_usd"]
    files = [f'<a href="{href}/{REPORT_HTML}">HTML</a>']
    if has_pdf:
        files.append(f'<a href="{href}/{REPORT_PDF}">PDF</a>')
    files += [f'<a href="{href}/{REPORT_XLSX}">Excel</a>', f'<a href="{href}/{SUMMARY_JSON}">JSON</a>']
    files.append(f'<a href="{href}/">notebooks</a>')
    cells = [
        f'<td class="client"><a href="{href}/{REPORT_HTML}">{escape(str(s["client"]))}</a>'
        f'<div class="meta">{escape(Path(str(s.get("source_file", ""))).name)} · '
        f"{escape(str(s.get('report_date', '')))} · {escape(plural(warnings, 'warning'))}</div></td>",
        f'<td class="num">{escape(usd(h["programme_usd"]))}<div class="meta">{escape(basis)}</div></td>',
        f'<td class="num">{escape(usd_range(span["p10"], span["p90"]))}</td>',
        f'<td class="num">{escape(usd(monthly))}</td>',
        f'<td class="num">{escape(usd(alternative)) if alternative is not None else "none"}</td>',
        f'<td class="num">{escape(usd(net)) if net is not None else "none"}</td>',
        f'<td class="num">{"month " + escape(str(month)) if month is not None else "none"}</td>',
        f'<td class="num">{escape(usd(tco)) if tco is not None else ""}</td>',
        f'<td class="files">{" · ".join(files)}</td>',
    ]
    return "<tr>" + "".join(cells) + "</tr>"


HEADERS = (
    ("", "Client"),
    ("num", "Programme (on its basis)"),
    ("num", "P10 – P90"),
    ("num", "Running per month"),
    ("num", "Alternative per month"),
    ("num", "Net saving per month"),
    ("num", '<span class="nw">Break-even</span>'),
    ("num", "Cost of ownership"),
    ("", "Files"),
)

AUDIENCE = "Internal: the firm's index of client reports — do not send"
"""Who the index is for (its kicker and its ``ftcost-audience`` meta): it lists every client."""

INTERNAL_NOTE = (
    "This page names every client of the firm, with the working behind each report (notebooks, JSON). "
    "A client receives only their own report: send the files of its client-pack folder "
    "(report --client-pack), never this page or a report folder."
)

INDEX_CSS = """
main { max-width: 1280px; }
.scroll { max-width: 100%; overflow-x: auto; }
table { width: 100%; font-size: .88rem; }
th.num { white-space: normal; }
td.client { min-width: 13em; }
td.client .meta { margin: .1rem 0 0; font-size: .8rem; }
td.files { min-width: 11em; }
.nw { white-space: nowrap; }
.kicker, .internal { color: var(--warn); }
@media (max-width: 600px) { main { padding: 1rem .8rem 2rem; } header.report h1 { font-size: 1.4rem; } }
"""


def index_html(
    summaries: Sequence[tuple[str, dict[str, Any]]],
    failures: Sequence[Failure] = (),
    pdfs: frozenset[str] = frozenset(),
) -> str:
    """The index page; ``pdfs`` are the slugs whose folder holds a PDF."""
    rows = "".join(_row(slug, summary, slug in pdfs) for slug, summary in summaries)
    failed = ""
    if failures:
        items = "".join(f"<li><code>{escape(f.source)}</code>: {escape(f.message)}</li>" for f in failures)
        failed = f'<h2>Failed in the last run</h2><ul class="warnings">{items}</ul>'
    head = "".join(f'<th scope="col" class="{cls}">{text}</th>' for cls, text in HEADERS)
    body = (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>'
        if summaries
        else "<p>No client reports yet.</p>"
    )
    return finalise_page(f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Internal: fine-tuning cost reports (the firm's index, do not send)</title>
<meta name="ftcost-audience" content="{escape(AUDIENCE, quote=True)}">
<meta name="robots" content="noindex, nofollow">
{_failures_meta(failures)}
<style>{CSS}{INDEX_CSS}</style>
</head>
<body>
<main>
<header class="report"><div class="kicker">{escape(AUDIENCE)}</div><h1>Fine-tuning cost reports</h1>
<p class="meta internal">{escape(INTERNAL_NOTE)}</p>
<p class="meta">{escape(plural(len(summaries), "client report"))}. One-time programme cost on each report's
basis and its P10–P90 range; the running cost per month beside the alternative it replaces and the net
saving; the month the programme pays back; the cost of ownership over the plan's horizon.</p></header>
{failed}
{body}
</main>
</body>
</html>
""")


FAILURES_META = re.compile(r'<meta name="ftcost-failures" content="([^"]*)">')
"""The failures an index lists, kept in its head so that a refresh (after ``--pdf``) lists them too."""


def _failures_meta(failures: Sequence[Failure]) -> str:
    data = json.dumps([{"source": f.source, "message": f.message} for f in failures])
    return f'<meta name="ftcost-failures" content="{escape(data, quote=True)}">'


def _listed_failures(path: Path) -> list[Failure]:
    """The failures the index at ``path`` lists (none if it cannot be read)."""
    try:
        match = FAILURES_META.search(path.read_text(encoding="utf-8"))
        return [Failure(**item) for item in json.loads(unescape(match.group(1)))] if match else []
    except (OSError, ValueError, TypeError):
        return []


INDEX_MARK = '<meta name="ftcost-audience" content="'
"""The mark the index page writes in its head: an ``index.html`` without it (or the header of
earlier versions, :data:`EARLIER_INDEX_MARKS`) is not ftcost's, and is never replaced."""

EARLIER_INDEX_MARKS = ('<div class="kicker">ftcost</div><h1>Fine-tuning cost reports</h1>',)
"""The page header earlier versions of :func:`index_html` wrote."""

INDEX_MARK_WITHIN = 256 * 1024
"""How far into a page :func:`is_index_page` looks for the mark (it sits after the style sheet)."""


class ForeignIndex(OSError):
    """``index.html`` in the output folder is a file ftcost did not write; it is left as it is."""


def is_index_page(path: Path) -> bool:
    """True when ``path`` is a regular file (not a link) carrying :data:`INDEX_MARK` or an
    earlier version's header."""
    try:
        if path.is_symlink() or not path.is_file():
            return False
        with path.open("rb") as page:
            head = page.read(INDEX_MARK_WITHIN)
        return any(mark.encode("utf-8") in head for mark in (INDEX_MARK, *EARLIER_INDEX_MARKS))
    except OSError:
        return False


def write_index(out_dir: Path, failures: Sequence[Failure] | None = None) -> Path:
    """Write ``out_dir/index.html`` atomically (a temporary file made for it alone, then a
    rename). Without ``failures`` (a refresh, e.g. once the PDFs are printed) the last run's
    are listed. Raises :class:`ForeignIndex`, writing nothing, when an ``index.html`` there is
    not ftcost's (:func:`is_index_page`)."""
    path = out_dir / "index.html"
    if os.path.lexists(path) and not is_index_page(path):
        raise ForeignIndex(errno.EEXIST, "a file ftcost did not write is there; left as it is", str(path))
    if failures is None:
        failures = _listed_failures(path)
    summaries = read_summaries(out_dir)
    pdfs = frozenset(slug for slug, _ in summaries if (out_dir / slug / REPORT_PDF).is_file())
    temporary = out_dir / f"{INDEX_TEMPORARY}{os.getpid()}.html"
    with temporary.open("x", encoding="utf-8") as page:  # never over a file of that name
        try:
            page.write(index_html(summaries, failures, pdfs))
            page.close()
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    return path
