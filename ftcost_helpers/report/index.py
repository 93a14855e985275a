"""``reports/index.html``: every client report in the folder with its totals, range,
break-even month and links, plus the clients that failed in the last run.

Built from the ``summary.json`` files on disk, so a client reported by an earlier run
stays listed; every name and message is HTML-escaped and every link is a safe slug.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ftcost_helpers.report.html import CSS
from ftcost_helpers.report.sanitize import finalise_page
from ftcost_helpers.report.slug import SAFE
from ftcost_helpers.views.text_report import usd

REPORT_HTML, REPORT_XLSX, SUMMARY_JSON = "report.html", "report.xlsx", "summary.json"
"""The fixed file names inside ``reports/<slug>/``."""

SOURCE_FILE = ".source"
"""In each report folder: which client file it was made from (:func:`~.slug.source_id`)."""

INDEX_TEMPORARY = ".index-"
"""``.index-<pid>.html``: the index being written, renamed into place when complete."""

LISTED_KEYS = frozenset({"client", "programme_total_usd", "range_usd", "ongoing_monthly_usd", "break_even_month"})
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


def _row(slug: str, s: dict[str, Any]) -> str:
    href = quote(slug)
    span = s["range_usd"]
    month = s["break_even_month"]
    monthly = sum(s["ongoing_monthly_usd"].values())
    warnings = len(s.get("warnings", []))
    cells = [
        f'<td class="client"><a href="{href}/{REPORT_HTML}">{escape(str(s["client"]))}</a>'
        f'<div class="meta">{escape(Path(str(s.get("source_file", ""))).name)}</div></td>',
        f'<td class="num">{escape(usd(s["programme_total_usd"]))}</td>',
        f'<td class="num">{escape(usd(span["p10"]))} – {escape(usd(span["p90"]))}</td>',
        f'<td class="num">{escape(usd(monthly))}</td>',
        f'<td class="num">{escape(str(month)) if month is not None else "none"}</td>',
        f'<td class="num">{warnings}</td>',
        f"<td class='nowrap'>{escape(str(s.get('report_date', '')))}</td>",
        f'<td><a href="{href}/{REPORT_HTML}">HTML</a> · <a href="{href}/{REPORT_XLSX}">Excel</a> · '
        f'<a href="{href}/{SUMMARY_JSON}">JSON</a> · <a href="{href}/">notebooks</a></td>',
    ]
    return "<tr>" + "".join(cells) + "</tr>"


def index_html(summaries: Sequence[tuple[str, dict[str, Any]]], failures: Sequence[Failure] = ()) -> str:
    """The index page."""
    rows = "".join(_row(slug, summary) for slug, summary in summaries)
    failed = ""
    if failures:
        items = "".join(f"<li><code>{escape(f.source)}</code>: {escape(f.message)}</li>" for f in failures)
        failed = f'<h2>Failed in the last run</h2><ul class="warnings">{items}</ul>'
    body = (
        "<table><thead><tr><th>Client</th><th class='num'>Programme total</th><th class='num'>P10 – P90</th>"
        "<th class='num'>Running / month</th><th class='num'>Break-even month</th><th class='num'>Warnings</th>"
        f"<th>Report date</th><th>Files</th></tr></thead><tbody>{rows}</tbody></table>"
        if summaries
        else "<p>No client reports yet.</p>"
    )
    return finalise_page(f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fine-tuning cost reports</title>
<style>{CSS} main {{ max-width: 1280px; }} .nowrap {{ white-space: nowrap; }} td.client {{ min-width: 16em; }}</style>
</head>
<body>
<main>
<header class="report"><div class="kicker">ftcost</div><h1>Fine-tuning cost reports</h1>
<p class="meta">{len(summaries)} client report{"s" if len(summaries) != 1 else ""}. One-time programme total
(base case), the P10–P90 range, the running cost per month, and the month the programme pays back.</p></header>
{failed}
{body}
</main>
</body>
</html>
""")


def write_index(out_dir: Path, failures: Sequence[Failure] = ()) -> Path:
    """Write ``out_dir/index.html`` atomically (a temporary file, then a rename)."""
    path = out_dir / "index.html"
    temporary = out_dir / f"{INDEX_TEMPORARY}{os.getpid()}.html"
    try:
        temporary.write_text(index_html(read_summaries(out_dir), failures), encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path
