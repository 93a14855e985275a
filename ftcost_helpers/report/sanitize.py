"""The last step of every page the report writes: an allow-list sanitiser over the body and a
Content-Security-Policy in the head.

Client text is escaped where it enters Markdown and HTML, but the HTML that Markdown, LaTeX
(MathML) and nbconvert produce is checked once more here, after rendering, so nothing that
came from a client file or a notebook output can become active: no ``<script>``, no event
attributes, no ``<style>`` element or ``style`` attribute from content, no ``javascript:``,
``vbscript:`` or ``data:`` link, and no image but an embedded PNG/JPEG/GIF/WebP (a remote or
``file:`` image would be a load the page's reader did not ask for). The sanitiser is
ammonia's, through nh3 (an HTML5 parser, so malformed markup cannot smuggle a tag past it).

The page's own ``<head>`` (title, the report's CSS) is written by this package and kept as
it is; the policy there forbids scripts, frames, forms and every load but embedded images
and the page's own style elements, as a second wall behind the sanitiser.

    from ftcost_helpers.report.sanitize import finalise_page
    html = finalise_page(document)      # body sanitised, CSP added
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import cache
from html import unescape
from typing import Any
from urllib.parse import unquote, urlsplit

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src 'none'; "
    "script-src 'none'; object-src 'none'; frame-src 'none'; connect-src 'none'; "
    "base-uri 'none'; form-action 'none'"
)
"""No script, no remote or file load of any kind; images only as embedded ``data:`` PNGs
(the charts); styles only inline (content styles are removed by the sanitiser)."""

CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'

HTML_TAGS = frozenset(
    [
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "code",
        "col",
        "colgroup",
        "dd",
        "del",
        "details",
        "div",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "i",
        "img",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "s",
        "section",
        "small",
        "span",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
    ]
)
MATHML_TAGS = frozenset(
    [
        "math",
        "semantics",
        "annotation",
        "mrow",
        "mi",
        "mo",
        "mn",
        "ms",
        "mtext",
        "mspace",
        "msub",
        "msup",
        "msubsup",
        "mfrac",
        "msqrt",
        "mroot",
        "mover",
        "munder",
        "munderover",
        "mtable",
        "mtr",
        "mtd",
        "mstyle",
        "mpadded",
        "mphantom",
        "menclose",
        "merror",
    ]
)
ALLOWED_TAGS = HTML_TAGS | MATHML_TAGS
"""Everything else is dropped; ``script`` and ``style`` with their content."""

MATHML_ATTRIBUTES = frozenset(
    [
        "xmlns",
        "display",
        "mathvariant",
        "width",
        "stretchy",
        "fence",
        "separator",
        "lspace",
        "rspace",
        "columnalign",
        "accent",
        "accentunder",
        "minsize",
        "maxsize",
        "symmetric",
        "linethickness",
        "notation",
    ]
)
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"class", "id", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "details": {"open"},
    **{tag: set(MATHML_ATTRIBUTES) for tag in MATHML_TAGS},
}
"""No ``style``, no ``on*`` event attribute, no ``href`` on MathML (``<mrow href=...>``)."""

LINK_SCHEMES = frozenset({"http", "https", "mailto"})
"""A link may point at these, or be relative (``#section``, ``client/report.html``)."""

EMBEDDED_IMAGE = re.compile(r"data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*", re.IGNORECASE)
"""The only image source allowed: a chart embedded in the page."""

SCHEME = re.compile(r"^\s*([a-zA-Z][a-zA-Z0-9+.\-]*):")
BODY = re.compile(r"(<body[^>]*>)(.*)(</body>)", re.DOTALL | re.IGNORECASE)
HEAD_OPEN = re.compile(r"<head[^>]*>(\s*<meta charset[^>]*>)?", re.IGNORECASE)


def _safe_link(url: str) -> bool:
    """A link to an allowed scheme, or a relative one (no scheme at all)."""
    scheme = SCHEME.match(url)
    return scheme is None or scheme.group(1).lower() in LINK_SCHEMES


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Keep an allowed attribute's value, or drop it (None): images must be embedded, links
    must not run code; ammonia has already refused ``javascript:`` and friends."""
    if tag == "img" and attribute == "src":
        return value if EMBEDDED_IMAGE.fullmatch(value.strip()) else None
    if attribute == "href":
        return value if _safe_link(value) else None
    return value


@cache
def _cleaner() -> Any:
    import nh3

    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=set(LINK_SCHEMES | {"data"}),
        attribute_filter=_filter_attribute,
        strip_comments=True,
        link_rel="noopener noreferrer",
    )


def sanitize_html(markup: str) -> str:
    """``markup`` (an HTML fragment) with everything outside the allow-list removed: unknown
    tags are dropped with their attributes (their text stays, as text); ``script`` and
    ``style`` are dropped with their content."""
    return _cleaner().clean(markup)


def finalise_page(document: str) -> str:
    """A whole page ready to write: its ``<body>`` sanitised, the Content-Security-Policy
    first in its ``<head>``. ``document`` is one this package assembled (its head is trusted,
    every value in it already escaped); a document with no body is sanitised whole. The
    policy follows the ``<meta charset>`` (which must come first)."""
    match = BODY.search(document)
    if match is None:
        return CSP_META + sanitize_html(document)
    body = match.group(1) + sanitize_html(match.group(2)) + match.group(3)
    page = document[: match.start()] + body + document[match.end() :]
    head = HEAD_OPEN.search(page)
    if head is None or CSP_META in page[: match.start()]:
        return page
    return page[: head.end()] + "\n" + CSP_META + page[head.end() :]


ANCHOR = re.compile(r"<a\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>(.*?)</a\s*>", re.IGNORECASE | re.DOTALL)
"""An ``<a ...>…</a>`` element (attribute values may hold ``>``; links do not nest)."""

HREF = re.compile(r"\bhref\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", re.IGNORECASE)


def file_link(href: str) -> str | None:
    """The file a link points at when it is a link to a file (``report.xlsx``,
    ``01_compute.ipynb#top``, ``../index.html``, ``//host/x``, ``file:///…``, or ``""``: the
    page itself), else None (a section of the page, or a web or mail address). A printed page
    turns every such link into a ``file://`` URI naming the folder it was printed in."""
    parts = urlsplit(href.strip())
    if parts.scheme.lower() in LINK_SCHEMES or href.strip().startswith("#"):
        return None  # a web or mail address, or a section of the page ("#sources")
    if parts.scheme or parts.netloc:
        return href.strip()  # file:, or a scheme-relative //host/path: never a file sent with the page
    return unquote(parts.path)


def unlink_files(page: str, keep: Collection[str] = ()) -> str:
    """``page`` with every link to a file turned into plain text, except links to the file
    names in ``keep`` (files that travel with the page, named relative to it). The link's
    text stays, in a ``<span class="unlinked">``; anchors within the page and web or mail
    addresses stay links."""

    def replace(match: re.Match[str]) -> str:
        href = HREF.search(match.group(1))
        if href is None:
            return match.group(0)
        target = file_link(unescape(next(value for value in href.groups() if value is not None)))
        if target is None or target in keep:
            return match.group(0)
        return f'<span class="unlinked">{match.group(2)}</span>'

    return ANCHOR.sub(replace, page)
