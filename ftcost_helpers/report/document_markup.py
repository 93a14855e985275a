"""The markup the client document is built of: escaped text, a line that does not break,
a figure, a table that scrolls sideways, a section under its heading. Every text is escaped
(:func:`html.escape`) where it is placed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from typing import Any

from ftcost_helpers.report.document_charts import Chart


def escaped(value: Any) -> str:
    """``value`` as text, HTML-escaped (quotes too) for a text node or an attribute."""
    return escape(str(value))


def nowrap(text: str) -> str:
    """``text``, escaped, in a span the page keeps on one line."""
    return f'<span class="nw">{escaped(text)}</span>'


def figure_html(chart: Chart) -> str:
    """A chart as a figure: its image inline (a data URI), its size and its alt text."""
    return (
        f'<figure><img src="{chart.data_uri}" width="{chart.width}" height="{chart.height}" alt="{escaped(chart.alt)}">'
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


def table_html(
    head: Sequence[tuple[str, str]], rows: Sequence[Sequence[tuple[str, str]]], caption: str, foot: str = ""
) -> str:
    """A table in a box that scrolls sideways on a narrow screen; cells are (class, HTML)."""
    head = [(cls, keep_hyphenated(text)) for cls, text in head]
    rows = [[(cls, keep_hyphenated(text)) for cls, text in row] for row in rows]
    header = "".join(f'<th scope="col" class="{cls}">{text}</th>' for cls, text in head)
    body = "".join("<tr>" + "".join(f'<td class="{cls}">{text}</td>' for cls, text in row) + "</tr>" for row in rows)
    return (
        '<div class="scroll"><table>'
        f"<caption>{escaped(caption)}</caption><thead><tr>{header}</tr></thead><tbody>{body}</tbody>{foot}</table></div>"
    )


def section_html(anchor: str, title: str, body: str, page: bool = True) -> str:
    """A section of the document under its heading, at ``#anchor``; ``page``: it starts a printed page."""
    cls = ' class="page"' if page else ""
    return f'<section id="{anchor}"{cls}><h2>{escaped(title)}</h2>{body}</section>'
