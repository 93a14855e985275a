"""The client document's style: screen and print CSS, coloured by the firm file.

The printed page carries, in its margins, the firm and client, the date, the document's
version, the confidentiality label and "page X of Y" (:data:`PRINT_CSS`'s margin boxes; each
string is escaped as a CSS string by :func:`css_string`).
"""

from __future__ import annotations

import re

from ftcost_helpers.engine.firm import Firm

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def css_string(text: str) -> str:
    """``text`` as a CSS string literal, every character outside letters, digits and spaces
    escaped (so no quote, backslash or ``</style>`` can end it)."""
    return '"' + "".join(ch if (ch.isalnum() and ch.isascii()) or ch == " " else f"\\{ord(ch):x} " for ch in text) + '"'


CSS = """
:root { --ink: #1d2733; --muted: #5b6775; --line: #d8dee6; --band: #f4f6f9; --accent: #1f5fa8; --warn: #9a5b00;
        --good: #2e7d32; --bad: #b3261e; --primary: #1f3a5f; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; color: var(--ink); background: #fff; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto,
       "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1040px; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
header.report { border-bottom: 3px solid var(--accent); margin-bottom: 1rem; padding-bottom: .6rem; }
header.report h1 { margin: 0 0 .2rem; font-size: 1.7rem; line-height: 1.2; overflow-wrap: break-word; }
.kicker { color: var(--accent); font-weight: 600; letter-spacing: .03em; text-transform: uppercase; font-size: .8rem; }
.meta { color: var(--muted); font-size: .88rem; margin: .3rem 0; }
h2 { margin-top: 2.2rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; font-size: 1.35rem; }
h3 { margin: 1.4rem 0 .4rem; font-size: 1.1rem; }
a { color: var(--accent); }
p.verdict { font-size: 1.15rem; font-weight: 600; border-left: 5px solid var(--accent); background: var(--band);
            padding: .7rem 1rem; margin: .8rem 0 1rem; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: .7rem; margin: .8rem 0; }
.figure { background: var(--band); border: 1px solid var(--line); border-radius: 6px; padding: .6rem .85rem;
          min-width: 0; }
.figure.good { border-left: 5px solid var(--good); }
.figure.bad { border-left: 5px solid var(--bad); }
.figure .label { color: var(--muted); font-size: .82rem; }
.figure .value { font-size: 1.35rem; font-weight: 650; font-variant-numeric: tabular-nums; white-space: nowrap; }
.figure .note { color: var(--muted); font-size: .8rem; line-height: 1.35; }
.scroll { max-width: 100%; overflow-x: auto; margin: .6rem 0 1rem; }
table { border-collapse: collapse; font-size: .9rem; font-variant-numeric: tabular-nums; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .55rem; vertical-align: top; text-align: left;
         overflow-wrap: normal; word-break: normal; hyphens: manual; }
thead th { background: var(--band); }
th.num { text-align: right; }
td.num { text-align: right; white-space: nowrap; }
td.scenario { min-width: 13em; }
td.scenario .meta { font-size: .8rem; margin: .1rem 0 0; }
td.drivers { min-width: 16em; }
td.strong, td.num.strong { font-weight: 650; }
tfoot th, tfoot td { font-weight: 650; border-top: 2px solid var(--ink); }
caption { caption-side: top; text-align: left; font-weight: 600; padding: .2rem 0 .4rem; }
.nw { white-space: nowrap; }
ul.warnings { list-style: none; padding: 0; margin: .4rem 0; }
ul.warnings li { border-left: 4px solid var(--warn); background: #fff8ec; padding: .45rem .8rem; margin: .4rem 0;
                 font-size: .92rem; }
ul.warnings .saving { font-weight: 650; }
ul.warnings .saving.good { color: var(--good); }
ul.warnings .saving.bad { color: var(--bad); }
ul.warnings .saving.none { font-weight: 400; color: var(--muted); }
dl.glossary dt { font-weight: 650; margin-top: .45rem; break-after: avoid; }
dl.glossary dd { margin: .1rem 0 0 1.2rem; break-inside: avoid; }
.ok { border-left: 4px solid var(--good); background: #f1f8f1; padding: .6rem .9rem; }
figure { margin: .6rem 0; }
figure img { display: block; max-width: 100%; height: auto; }
.letterhead { display: flex; align-items: center; gap: .9rem; border-bottom: 1px solid var(--line);
              padding-bottom: .5rem; margin-bottom: .8rem; }
.letterhead .logo { max-height: 48px; max-width: 160px; }
.letterhead .firm { font-weight: 700; color: var(--primary); font-size: 1.05rem; }
.letterhead .contact { color: var(--muted); font-size: .8rem; }
.letterhead .confidential { margin-left: auto; color: var(--bad); font-size: .78rem; font-weight: 600;
                            text-align: right; max-width: 22em; }
p.basis { font-size: .9rem; color: var(--muted); margin: .3rem 0 .6rem; }
ul.dates { list-style: none; display: flex; flex-wrap: wrap; gap: .3rem 1.4rem; padding: 0; margin: .5rem 0 0;
           font-size: .88rem; }
ul.dates span { color: var(--muted); }
dl.summary { display: grid; grid-template-columns: 9.5em 1fr; gap: .25rem .9rem; margin: .6rem 0; font-size: .93rem; }
dl.summary dt { font-weight: 650; }
dl.summary dd { margin: 0; }
table.signoff td.sign { min-width: 9em; height: 2.2em; }
p.disclaimer { font-size: .82rem; color: var(--muted); }
footer { margin-top: 2.5rem; color: var(--muted); font-size: .82rem; border-top: 1px solid var(--line);
         padding-top: .6rem; }
@media (max-width: 600px) {
  main { padding: 1rem .8rem 2rem; }
  .letterhead { flex-wrap: wrap; }
  .letterhead .confidential { margin-left: 0; text-align: left; }
  dl.summary { grid-template-columns: 1fr; }
  dl.summary dd { margin-bottom: .3rem; }
  table.signoff td.sign { min-width: 3em; }
  header.report h1 { font-size: 1.35rem; }
  p.verdict { font-size: 1rem; padding: .6rem .8rem; }
  .figures { grid-template-columns: 1fr 1fr; }
  .figure .value { font-size: 1.1rem; }
  table { font-size: .82rem; }
}
@media (max-width: 360px) { .figures { grid-template-columns: 1fr; } }
"""

PRINT_CSS = """
@page { size: A4; margin: 17mm 13mm 16mm 13mm;
  @top-left { content: %(firm)s " · " %(title)s; font: 8pt system-ui, sans-serif; color: #5b6775; }
  @top-right { content: %(date)s; font: 8pt system-ui, sans-serif; color: #5b6775; }
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font: 8pt system-ui, sans-serif;
                  color: #5b6775; }
  @bottom-left { content: %(version)s; font: 8pt system-ui, sans-serif; color: #5b6775; }
  @bottom-center { content: %(confidential)s; font: 7pt system-ui, sans-serif; color: #b3261e; }
}
@media print {
  html, body { background: #fff; }
  body { font-size: 9.5pt; line-height: 1.4; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  main { max-width: none; padding: 0; }
  header.report h1 { font-size: 17pt; }
  p.verdict { font-size: 11pt; }
  h2 { font-size: 13pt; margin-top: 0; }
  h3 { font-size: 11pt; }
  section.page { break-before: page; }
  .figures { grid-template-columns: repeat(3, 1fr); }
  .figure .value { font-size: 13pt; }
  .scroll { overflow: visible; }
  table { font-size: 8pt; }
  th, td { padding: 2pt 4pt; }
  td.drivers { min-width: 0; }
  thead { display: table-header-group; }
  tr, figure, img, .figure, ul.warnings li { break-inside: avoid; }
  ul.warnings li { font-size: 8.5pt; padding: 3pt 7pt; margin: 3pt 0; line-height: 1.35; }
  .figure { padding: 4pt 7pt; }
  .figure .note { font-size: 7.5pt; }
  p.verdict { padding: 5pt 9pt; margin: 5pt 0 7pt; }
  h2, h3, caption { break-after: avoid; }
  figure img { max-height: 95mm; width: auto; margin: 0 auto; }
  p { orphans: 3; widows: 3; }
  a { color: inherit; text-decoration: none; }
  footer { display: none; }
  .letterhead .confidential { color: #b3261e; }
  dl.summary { font-size: 9pt; }
}
"""


def page_css(firm: Firm, client: str, date_text: str, version_text: str) -> str:
    """The screen and print CSS of one document: the firm's colours (checked ``#rrggbb``)
    and the margin boxes' strings."""
    colours = ""
    if HEX_COLOUR.match(firm.primary_colour) and HEX_COLOUR.match(firm.accent_colour):
        colours = f":root {{ --primary: {firm.primary_colour}; --accent: {firm.accent_colour}; }}"
    margins = PRINT_CSS % {
        "firm": css_string(firm.name),
        "title": css_string(client),
        "date": css_string(date_text),
        "version": css_string(version_text),
        "confidential": css_string(firm.confidentiality),
    }
    return CSS + colours + margins
