"""HTML report → PDF with the headless Chromium from Debian's packages (``/usr/bin/chromium``).

Nothing here downloads a browser: the Chromium on the machine prints the page, with the
network to the outside cut off (a client report is self-contained: charts are embedded PNGs).
The PDF goes to the client, so it carries no ``file://`` link (see :func:`printable`).
:data:`PRINT_CSS` keeps figures, tables and their captions whole on a page; the report page
may carry it already (see :func:`with_print_css`), otherwise it is added for the print only.

    from ftcost_helpers.pdf import html_to_pdf
    html_to_pdf("reports/example-a/report.html")      # writes reports/example-a/report.pdf
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM_ENV = "FTCOST_CHROMIUM"
"""Environment variable naming another Chromium binary (default: ``/usr/bin/chromium``)."""

DEFAULT_CHROMIUM = Path("/usr/bin/chromium")

INSTALL_HINT = "install Debian's package: apt-get install -y chromium"

PRINT_CSS_MARKER = "ftcost-print-css"
"""The id of the ``<style>`` element that holds :data:`PRINT_CSS` in a page."""

PRINT_CSS = """
@page { size: A4; margin: 14mm 12mm 16mm 12mm; }
@media print {
  html, body { background: #fff !important; }
  body { font-size: 10.5pt !important; line-height: 1.45 !important; }
  body { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  /* Charts, tables and notebook outputs stay whole on one page. */
  figure, table, img, svg, pre, blockquote, .figure,
  .jp-RenderedImage, .output_png, .jp-OutputArea-output:has(img), .output_area:has(img) {
    break-inside: avoid; page-break-inside: avoid;
  }
  tr, td, th { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  img, svg { max-width: 100% !important; height: auto !important; }
  /* Nothing wider than the paper: long keys and labels wrap inside their cells. */
  table { max-width: 100% !important; }
  td, th { overflow-wrap: anywhere; }
  td code, th code { white-space: normal; }
  pre { white-space: pre-wrap; }
  /* Folded sections (the report's every-input table) print unfolded, in a smaller face. */
  details table { font-size: 8pt; }
  details td, details th { padding: 1pt 4pt !important; }
  /* A heading is never the last line of a page. */
  h1, h2, h3, h4, caption, figcaption { break-after: avoid; page-break-after: avoid; }
  p { orphans: 3; widows: 3; }
  a { color: inherit; text-decoration: none; }
  .no-print, .jp-InputArea, .input_area, .prompt, .jp-InputPrompt, .jp-OutputPrompt { display: none !important; }
}
"""
"""Print rules for report pages: whole figures and tables, no heading stranded at a page foot."""

MACHINE_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
"""What any headless Chromium needs on this kind of machine (root, no GPU, closed network)."""

CHROMIUM_FLAGS = (
    "--headless",
    *MACHINE_FLAGS,
    "--disable-extensions",
    "--hide-scrollbars",
    "--run-all-compositor-stages-before-draw",
    "--no-pdf-header-footer",
    # No network at all, localhost included: every name resolves to nothing, and every
    # request (an IP address too) goes to a proxy on a closed port, loopback not exempt.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
)
"""Flags for printing a report page to PDF: the page's own file is all it may load (its
Content-Security-Policy, added by :func:`printable` when missing, refuses other files)."""


class PdfError(RuntimeError):
    """The PDF could not be produced; ``str()`` is one line for the user."""


def find_chromium() -> Path:
    """The Chromium binary: ``$FTCOST_CHROMIUM``, else ``/usr/bin/chromium``, else ``chromium``
    on the PATH. Raises :class:`PdfError` with the install command when there is none."""
    override = os.environ.get(CHROMIUM_ENV)
    candidates = [Path(override)] if override else [DEFAULT_CHROMIUM]
    on_path = shutil.which("chromium")
    if on_path and not override:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    where = f"${CHROMIUM_ENV}={override}" if override else str(DEFAULT_CHROMIUM)
    raise PdfError(f"Chromium not found ({where}): PDF reports need it; {INSTALL_HINT}")


def with_print_css(html: str) -> str:
    """``html`` with :data:`PRINT_CSS` in its head (unchanged if it already carries it)."""
    if PRINT_CSS_MARKER in html:
        return html
    style = f'<style id="{PRINT_CSS_MARKER}">{PRINT_CSS}</style>'
    head_end = html.lower().find("</head>")
    if head_end < 0:
        return style + html
    return html[:head_end] + style + "\n" + html[head_end:]


DETAILS_CLOSED = re.compile(r"<details(?![^>]*\bopen\b)", re.IGNORECASE)


def with_content_policy(html: str) -> str:
    """``html`` carrying the report's Content-Security-Policy (unchanged if it has one): no
    script, and no load but embedded images, whatever page is printed."""
    from ftcost_helpers.report.sanitize import CSP_META

    if "Content-Security-Policy" in html:
        return html
    head = re.search(r"<head[^>]*>", html, re.IGNORECASE)
    return html[: head.end()] + CSP_META + html[head.end() :] if head else CSP_META + html


def printable(html: str) -> str:
    """``html`` ready for paper: :data:`PRINT_CSS` and a Content-Security-Policy added, every
    ``<details>`` opened (a folded section, such as the report's table of inputs, is printed
    unfolded) and every link to a file made plain text: Chromium prints a relative link as a
    ``file://`` URI naming the folder it printed in (the analyst's own), so the PDF keeps
    only links within itself and to web addresses."""
    from ftcost_helpers.report.sanitize import unlink_files

    return unlink_files(DETAILS_CLOSED.sub("<details open", with_content_policy(with_print_css(html))))


def _print_command(chromium: Path, page: Path, pdf: Path, profile: Path) -> list[str]:
    return [
        str(chromium),
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        f"--print-to-pdf={pdf}",
        page.resolve().as_uri(),
    ]


def html_to_pdf(html: str | Path, pdf: str | Path | None = None, *, timeout_s: float = 120.0) -> Path:
    """Print the HTML file ``html`` to ``pdf`` (default: beside it, ``.pdf``) and return its path.

    The page is printed from a :func:`printable` copy in the same folder; the copy and
    Chromium's throw-away profile are removed afterwards. The PDF is written to a temporary
    name and moved into place only when complete. Raises :class:`PdfError` when Chromium is missing, fails or times out.
    """
    html = Path(html)
    pdf = Path(pdf) if pdf else html.with_suffix(".pdf")
    if not html.is_file():
        raise PdfError(f"{html}: no such HTML file")
    chromium = find_chromium()
    pdf.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ftcost-chromium-") as profile:
        copy = html.with_name(f".{html.stem}.print.html")
        partial = pdf.with_name(f".{pdf.name}.partial")
        try:
            copy.write_text(printable(html.read_text(encoding="utf-8")), encoding="utf-8")
            _run_chromium(_print_command(chromium, copy, partial, Path(profile)), timeout_s)
            _check_pdf(partial, html)
            partial.replace(pdf)
        finally:
            copy.unlink(missing_ok=True)
            partial.unlink(missing_ok=True)
    return pdf


def _run_chromium(command: list[str], timeout_s: float) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise PdfError(f"Chromium did not finish printing within {timeout_s:.0f} s") from None
    except OSError as exc:
        raise PdfError(f"Chromium could not start: {exc}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise PdfError(f"Chromium failed (exit {done.returncode}): {last}")


def _check_pdf(pdf: Path, html: Path) -> None:
    if not pdf.is_file() or pdf.stat().st_size == 0:
        raise PdfError(f"{html}: Chromium wrote no PDF")
    with pdf.open("rb") as handle:
        if handle.read(5) != b"%PDF-":
            raise PdfError(f"{html}: Chromium's output is not a PDF")


def reports_to_pdf(out_dir: str | Path, html_name: str = "report.html") -> list[Path]:
    """Print every ``<out_dir>/<client>/<html_name>`` whose PDF is missing or older than the
    page (so a batch's fresh reports, and only those) and return the PDFs written."""
    written = []
    for html in sorted(Path(out_dir).glob(f"*/{html_name}")):
        if html.parent.name.startswith((".", "_")):
            continue  # staging, old and failed folders of the report runner
        pdf = html.with_suffix(".pdf")
        if not pdf.exists() or pdf.stat().st_mtime < html.stat().st_mtime:
            written.append(html_to_pdf(html, pdf))
    return written
