"""What the report folder's pages share besides the client document: the house style of
``reports/index.html`` (:data:`CSS`) and the title of an executed notebook
(:func:`notebook_title`), by which the client document links the analyst's working.

The client document itself is :mod:`ftcost_helpers.report.document`, generated from the
engine; the executed notebooks are linked from it, never pasted into it.
"""

from __future__ import annotations

import re
from typing import Any

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
a { color: var(--accent); }
table { border-collapse: collapse; margin: .8rem 0 1.2rem; font-size: .92rem; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: .35rem .7rem; vertical-align: top; }
th { background: var(--band); text-align: left; }
td.num, th.num { text-align: right; white-space: nowrap; }
tr:nth-child(even) td { background: #fafbfc; }
caption { caption-side: top; text-align: left; font-weight: 600; padding: .3rem 0; }
ul.warnings { list-style: none; padding: 0; }
ul.warnings li { border-left: 4px solid var(--warn); background: #fff8ec; padding: .6rem .9rem; margin: .5rem 0; }
ul.warnings code { color: var(--warn); font-weight: 600; }
footer { margin-top: 3rem; color: var(--muted); font-size: .85rem; border-top: 1px solid var(--line);
         padding-top: .8rem; }
@media print { main { max-width: none; padding: 0; } table, ul.warnings li { break-inside: avoid; } }
"""
"""The index page's base style (:mod:`ftcost_helpers.report.index` adds its own rules)."""


def notebook_title(nb: Any, fallback: str) -> str:
    """The first Markdown heading of a notebook (plain text), or ``fallback``."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#+\s+(.+)$", cell.source, flags=re.MULTILINE)
            if match:
                return re.sub(r"[*_`]", "", match.group(1)).strip()
    return fallback
