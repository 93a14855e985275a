"""The printed client document as a partner signs it (issue 21): page 1's figures are
summary.json's headline, the firm's name, version, disclaimer and sign-off are printed,
every page says "Page X of Y", and no page but the last is under a third full."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from pdf_pages import page_count, pdf_text, poppler
from PIL import Image

from ftcost_helpers.engine.money import usd
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.pdf import html_to_pdf
from ftcost_helpers.report.document import client_document
from ftcost_helpers.report.figures import client_figures

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = {
    "example_a": ROOT / "params" / "clients" / "example_a.yaml",
    "bank": ROOT / "tests" / "fixtures" / "clients" / "european_bank.yaml",
    "hospital": ROOT / "tests" / "fixtures" / "clients" / "hospital.yaml",
}
TODAY = dt.date(2026, 12, 7)
A4_MM = 297.0
MARGINS_MM = (17.0, 16.0)
"""The print CSS's top and bottom page margins (report/document_style.py), where the running
header and footer sit."""


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory, chromium: Path, book: PriceBook) -> dict[str, tuple[dict, Path]]:
    out = tmp_path_factory.mktemp("signable")
    made = {}
    for name, source in CLIENTS.items():
        figures = client_figures(source, book, TODAY, "2026-12-07T00:00:00+00:00")
        html = out / f"{name}.html"
        html.write_text(client_document(figures), encoding="utf-8")
        (out / f"{name}.json").write_text(json.dumps(figures.summary), encoding="utf-8")
        made[name] = (figures.summary, html_to_pdf(html))
    return made


@pytest.mark.parametrize("name", CLIENTS)
def test_page_one_prints_the_summary_headline(printed, name):
    summary, pdf = printed[name]
    h = summary["headline"]
    first = " ".join(pdf_text(pdf, 1, 1).split())
    for figure in (h["programme_usd"], h["running_usd_per_month"], h["tco_usd"]):
        assert usd(figure) in first, usd(figure)
    if h["net_saving_usd_per_month"] is not None:
        assert usd(h["net_saving_usd_per_month"]) in first
    if h["break_even_month"] is not None:
        assert f"month {h['break_even_month']}" in first


@pytest.mark.parametrize("name", CLIENTS)
def test_the_firm_signs_every_page(printed, name):
    _, pdf = printed[name]
    pages = page_count(pdf)
    text = " ".join(pdf_text(pdf, 1, pages).split())
    assert "Example Advisory LLP" in text
    assert "not a quotation or an offer" in text  # params/firm.yaml's disclaimer
    assert "Prepared by" in text and "Reviewed by" in text and "Approved by" in text
    for page in range(1, pages + 1):
        one = " ".join(pdf_text(pdf, page, page).split())
        assert f"Page {page} of {pages}" in one
        assert "Version 1.0" in one
        assert "Confidential" in one


def content_share(png: Path) -> float:
    """How far down the printable area (between the margins) the page's ink reaches, 0–1."""
    grey = Image.open(png).convert("L")
    top = round(grey.height * MARGINS_MM[0] / A4_MM)
    bottom = grey.height - round(grey.height * MARGINS_MM[1] / A4_MM)
    body = np.asarray(grey.crop((0, top, grey.width, bottom)))
    inked = np.flatnonzero((body < 200).any(axis=1))
    return (inked[-1] + 1) / body.shape[0] if inked.size else 0.0


@pytest.mark.parametrize("name", CLIENTS)
def test_no_page_but_the_last_is_under_a_third_full(printed, name, tmp_path):
    _, pdf = printed[name]
    subprocess.run([poppler("pdftoppm"), "-r", "30", "-gray", "-png", str(pdf), str(tmp_path / "p")], check=True)
    images = sorted(tmp_path.glob("p-*.png"), key=lambda p: int(p.stem.split("-")[-1]))
    shares = [content_share(png) for png in images[:-1]]
    assert all(share >= 1 / 3 for share in shares), [round(s, 2) for s in shares]
