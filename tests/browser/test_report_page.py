"""Example A's client report, opened in Chromium: the figures a client reads are the
engine's, every chart is drawn at a real size, and nothing is broken or fetched from outside."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.loading import load_params
from ftcost_helpers.engine.pricebook import PriceBook

MIN_CHART_PX = 200
"""A chart narrower or shorter than this on screen is not readable (the PNGs are ~600–900 px)."""
BROKEN = ("Loading widget", "Traceback", "Error executing", "<Figure size", "NameError")


def usd_in(text: str) -> float:
    """The first ``USD 12,345`` amount in ``text``."""
    match = re.search(r"USD\s*([\d,]+(?:\.\d+)?)", text)
    assert match, f"no USD amount in {text!r}"
    return float(match.group(1).replace(",", ""))


def test_report_shows_the_engine_figures_and_rendered_charts(
    example_a_report: Path, offline, artifacts: Path, book: PriceBook, example_files: dict[str, Path]
) -> None:
    expected = estimate(load_params(example_files["a"], book), book)
    summary = json.loads((example_a_report / "summary.json").read_text())
    assert summary["programme_total_usd"] == round(expected.programme_total, 2)

    page = offline.page
    page.goto((example_a_report / "report.html").as_uri())
    page.wait_for_load_state("load")

    total_card = page.locator(".figure", has=page.locator(".label", has_text="Programme cost"))
    assert total_card.is_visible()
    assert abs(usd_in(total_card.inner_text()) - summary["range_usd"]["p50"]) <= 0.5

    break_even_card = page.locator(".figure", has=page.locator(".label", has_text="Break-even"))
    assert break_even_card.is_visible()
    # on the page's basis (P50 by default): summary.json's headline, the one figure
    assert break_even_card.locator(".value").inner_text().strip() == f"month {summary['headline']['break_even_month']}"

    charts = page.locator("img")
    assert charts.count() >= 3, "the document's charts are missing"
    for index in range(charts.count()):
        chart = charts.nth(index)
        chart.scroll_into_view_if_needed()
        assert chart.is_visible(), f"chart {index} is not visible"
        natural = chart.evaluate("img => [img.complete, img.naturalWidth, img.naturalHeight]")
        assert natural[0] and natural[1] >= MIN_CHART_PX and natural[2] >= MIN_CHART_PX, f"chart {index}: {natural}"
        box = chart.bounding_box()
        assert box and box["width"] >= MIN_CHART_PX and box["height"] >= MIN_CHART_PX / 2, f"chart {index}: {box}"

    text = page.locator("body").inner_text()
    for marker in BROKEN:
        assert marker not in text, f"the report shows {marker!r}"
    assert page.locator("pre, code").filter(has_text="import ").count() == 0, "code cells leaked into the report"
    assert offline.blocked == [], f"the report asked the outside world for {offline.blocked}"
    page.screenshot(path=str(artifacts / "report_example_a.png"), full_page=True)
