"""The client document as a reader gets it: page 1 in Chromium at 1,440 and 390 px wide
with nothing running off the side, and the printed PDF within 12 A4 pages, page 1 holding the
decision, its tables never breaking a word or a number, header and footer on every page.
Screenshots and the PDF's first pages are kept in ``test-artifacts/``."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pdf_pages import page_count, pdf_text, poppler

from ftcost_helpers.engine.money import usd
from ftcost_helpers.pdf import html_to_pdf
from ftcost_helpers.report.document import client_document
from ftcost_helpers.report.figures import client_figures
from ftcost_helpers.report.index import index_html, read_summaries

MAX_PAGES = 12
RAW = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b|\b\d{3}_[0-9a-f]{16}\b|\.ya?ml\b|params/")
WIDTHS = (1440, 390)


def words(text: str) -> set[str]:
    """Word and number tokens, punctuation at their ends stripped."""
    return {token.strip(".,;:()[]\"'").lower() for token in text.split()} - {""}


def page_words(page: str) -> set[str]:
    body = re.sub(r"<(style|head)\b.*?</\1>", " ", page, flags=re.S)
    body = re.sub(r'src="data:[^"]*"', "", body)
    return words(html.unescape(re.sub(r"<[^>]+>", " ", body)))


def overflow(page, width: int) -> int:
    """How many CSS pixels the page is wider than the window."""
    page.set_viewport_size({"width": width, "height": 900})
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


def test_page_one_fits_wide_and_phone_screens(example_a_report: Path, offline, artifacts: Path) -> None:
    page = offline.page
    page.goto((example_a_report / "report.html").as_uri())
    page.wait_for_load_state("load")
    for width in WIDTHS:
        assert overflow(page, width) <= 0, f"report.html is wider than {width} px"
        page.screenshot(path=str(artifacts / f"report_page1_{width}px.png"))
        assert page.locator("p.verdict").is_visible()
    # Wide tables scroll inside their own box at phone width, the page does not.
    page.set_viewport_size({"width": 390, "height": 900})
    boxes = page.evaluate("() => [...document.querySelectorAll('.scroll')].map(b => [b.scrollWidth, b.clientWidth])")
    assert boxes and any(scroll > client for scroll, client in boxes), "no table needed its scroll box at 390 px"
    for image in page.locator("img").all():
        alt = image.get_attribute("alt") or ""
        assert len(alt) > 60 and "No description" not in alt
    assert offline.blocked == []


def test_pdf_holds_the_decision_and_reads_right(example_a_report: Path, artifacts: Path) -> None:
    pdf = example_a_report / "report.pdf"
    count = page_count(pdf)
    assert count <= MAX_PAGES, f"{count} pages"
    summary = json.loads((example_a_report / "summary.json").read_text())
    first = pdf_text(pdf, 1, 1)
    # Example A: P10–P90 of the programme, a USD 22,000/month API bill, break-even on the
    # headline's basis with its chance.
    span, h = summary["range_usd"], summary["headline"]
    for figure in (usd(span["p50"]), usd(span["p10"]), "USD 22,000", usd(summary["net_saving_usd_per_month"])):
        assert figure in first, figure
    month = h["break_even_month"]
    assert f"month {month}" in first and f"{h['chance_of_break_even_by_month'][month - 1]:.0%} chance" in first
    assert "Page 1 of" in first and summary["client"][:20] in first.split("\n")[0]
    every = pdf_text(pdf)
    assert every.count("Page ") >= count, "a page without its page number"
    # No word or number broken across lines: every token printed is one the page holds.
    strays = words(every) - page_words((example_a_report / "report.html").read_text(encoding="utf-8"))
    strays -= {f"{n}" for n in range(1, count + 1)} | {"page", "of"}
    assert not strays, f"broken or foreign tokens in the PDF: {sorted(strays)[:20]}"
    assert RAW.findall(every) == []
    out = artifacts / "report_pdf_pages"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    subprocess.run(
        [poppler("pdftoppm"), "-r", "60", "-png", "-f", "1", "-l", "3", str(pdf), str(out / "page")], check=True
    )
    assert len(list(out.glob("page-*.png"))) == min(3, count)


@pytest.mark.parametrize("name", ["b", "c"])
def test_other_examples_print_within_twelve_pages(name, book, example_files, tmp_path: Path, chromium) -> None:
    figures = client_figures(example_files[name], book, dt.date(2026, 12, 1), "x")
    page = tmp_path / "report.html"
    page.write_text(client_document(figures), encoding="utf-8")
    pdf = html_to_pdf(page)
    assert page_count(pdf) <= MAX_PAGES
    every = pdf_text(pdf)
    strays = words(every) - page_words(page.read_text(encoding="utf-8"))
    strays -= {f"{n}" for n in range(1, page_count(pdf) + 1)} | {"page", "of"}
    assert not strays, f"broken or foreign tokens in the PDF: {sorted(strays)[:20]}"


def test_index_fits_wide_and_phone_screens(example_a_report: Path, offline, artifacts: Path) -> None:
    index = example_a_report.parent / "index.html"
    text = index.read_text(encoding="utf-8")
    assert "report.pdf" in text and "report.xlsx" in text
    assert "Alternative per month" in text and "Cost of ownership" in text
    page = offline.page
    page.goto(index.as_uri())
    for width in (1280, 390):
        assert overflow(page, width) <= 0, f"index.html is wider than {width} px"
        page.screenshot(path=str(artifacts / f"index_{width}px.png"), full_page=True)
    # The table's last column ends inside the page's header rule at 1,280 px.
    page.set_viewport_size({"width": 1280, "height": 900})
    rule = page.locator("header.report").bounding_box()
    table = page.locator(".scroll").bounding_box()
    assert table["x"] + table["width"] <= rule["x"] + rule["width"] + 1
    assert index_html(read_summaries(example_a_report.parent))  # rebuilt from summary.json alone
