"""PDF reports printed by Debian's headless Chromium: page by page as images, charts whole,
and the print CSS doing what it claims (checked against a page printed without it)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

from pdf_pages import page_count, pdf_text, poppler
from PIL import Image

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.loading import load_params
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.pdf import PRINT_CSS_MARKER, html_to_pdf

MIN_INK = 0.003
"""Share of non-white pixels below which a page counts as blank."""


def image_pages(pdf: Path) -> Counter:
    """How many pages each embedded image is drawn on (``pdfimages -list``: column 11 is the object number)."""
    listing = subprocess.run([poppler("pdfimages"), "-list", str(pdf)], capture_output=True, text=True, check=True)
    rows = [line.split() for line in listing.stdout.splitlines()[2:] if line.strip()]
    return Counter(row[10] for row in rows)


def ink(png: Path) -> float:
    """Share of pixels that are not (near) white."""
    grey = Image.open(png).convert("L")
    histogram = grey.histogram()
    return 1.0 - sum(histogram[245:]) / (grey.width * grey.height)


def test_report_pdf_pages_are_readable(
    example_a_report: Path, artifacts: Path, timings: dict, book: PriceBook, example_files: dict[str, Path]
) -> None:
    pdf = example_a_report / "report.pdf"
    assert pdf.is_file(), "report --pdf wrote no report.pdf"
    pages = page_count(pdf)
    timings["pdf_pages_example_a"] = pages
    assert pages >= 3

    out = artifacts / "pdf_example_a"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    subprocess.run([poppler("pdftoppm"), "-r", "50", "-png", str(pdf), str(out / "page")], check=True)
    images = sorted(out.glob("page-*.png"))
    assert len(images) == pages
    blank = [png.name for png in images if ink(png) < MIN_INK]
    assert not blank, f"blank pages: {blank}"

    total = estimate(load_params(example_files["a"], book), book).programme_total
    first = pdf_text(pdf, 1, 1)
    assert "Programme cost" in first and f"{total:,.0f}" in first

    charts = len(re.findall(r"<img\b", (example_a_report / "report.html").read_text(encoding="utf-8")))
    drawn = image_pages(pdf)
    assert len(drawn) == charts, f"{charts} charts in the page, {len(drawn)} in the PDF"
    split = [image for image, on_pages in drawn.items() if on_pages > 1]
    assert not split, f"charts cut across pages: {split}"


def tables_page(rows: int = 25, sections: int = 6) -> str:
    """Sections of a long paragraph (most of a page) and a table of ``rows`` numbered rows:
    without care, tables start low on a page and are cut."""
    body = ""
    for k in range(sections):
        cells = "".join(f"<tr><td>T{k}-row-{i:02d}</td><td>{i * 1000:,}</td></tr>" for i in range(rows))
        body += f"<h2>Section {k}</h2><p>{'cost ' * 600}</p><table><caption>Table {k}</caption>{cells}</table>"
    return f"<!doctype html><html><head><title>tables</title></head><body>{body}</body></html>"


def pages_holding_each_table(pdf: Path) -> dict[int, set[int]]:
    found: dict[int, set[int]] = {}
    for page in range(1, page_count(pdf) + 1):
        for table in re.findall(r"T(\d)-row-\d\d", pdf_text(pdf, page, page)):
            found.setdefault(int(table), set()).add(page)
    return found


def test_print_css_keeps_tables_whole(tmp_path: Path, chromium: Path) -> None:
    page = tmp_path / "tables.html"
    page.write_text(tables_page())
    whole = pages_holding_each_table(html_to_pdf(page))
    assert len(whole) == 6 and all(len(pages) == 1 for pages in whole.values()), whole

    # The same page printed without the print CSS (the marker says "already has it"):
    # some table is cut, so the check above is not vacuous.
    bare = tmp_path / "bare.html"
    bare.write_text(tables_page().replace("<head>", f'<head><style id="{PRINT_CSS_MARKER}"></style>'))
    cut = pages_holding_each_table(html_to_pdf(bare))
    assert any(len(pages) > 1 for pages in cut.values()), cut


def test_folded_sections_print_unfolded(tmp_path: Path, chromium: Path) -> None:
    page = tmp_path / "details.html"
    page.write_text("<html><head></head><body><details><summary>Inputs</summary><p>HIDDEN-INPUT</p></details></body>")
    assert "HIDDEN-INPUT" in pdf_text(html_to_pdf(page), 1, 1)
