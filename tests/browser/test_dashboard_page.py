"""The workshop dashboard in Chromium: every notebook's panel renders (code hidden, nothing
fetched from outside), and moving a control shows the total the engine computes for it."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from ftcost_helpers.dashboard import NOTEBOOKS
from ftcost_helpers.engine.breakdown import Breakdown, estimate
from ftcost_helpers.engine.loading import load_params, params_from_mapping, read_yaml
from ftcost_helpers.engine.pricebook import PriceBook

PANEL_STATUS = re.compile(r"Programme total: USD")
"""The panel's headline line (the notebooks' static prose says "programme total **USD")."""
LOAD_TIMEOUT_MS = 120_000
CHANGE_TIMEOUT_MS = 30_000
CODE = ("import ", "setup_notebook(", "show_panel(", "params_file:")
"""Source text of the notebooks' code cells that must not reach the page."""
BROKEN = ("Loading widget", "Traceback", "There was an error when executing cell", "NameError")


def usd(label: str, text: str) -> float:
    """The amount after ``label: USD`` in the panel's headline."""
    match = re.search(rf"{re.escape(label)}: USD\s*([\d,]+)", text)
    assert match, f"no {label!r} amount in {text!r}"
    return float(match.group(1).replace(",", ""))


def changed(path: Path, changes: dict[str, Any], book: PriceBook) -> Breakdown:
    """The engine's estimate of a client file with ``changes`` ({dotted path: value})."""
    data = read_yaml(path)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split(".")
        section = data
        for part in parents:
            section = section.setdefault(part, {})
        section[leaf] = value
    return estimate(params_from_mapping(data, path, book), book)


def open_panel(offline, dashboard, notebook: str, timings: dict | None = None):
    """Open a notebook's page and wait for its panel; returns the panel's headline locator."""
    page = offline.page
    started = time.perf_counter()
    page.goto(dashboard.url(notebook), wait_until="commit", timeout=LOAD_TIMEOUT_MS)
    status = page.locator(".widget-html-content", has_text=PANEL_STATUS)
    status.wait_for(timeout=LOAD_TIMEOUT_MS)
    if timings is not None:
        timings[f"dashboard_{notebook}_panel_visible_seconds"] = time.perf_counter() - started
    return status


def wait_for_headline(page, pattern: str) -> float:
    """Seconds until some panel headline matches the regular expression ``pattern``."""
    started = time.perf_counter()
    page.wait_for_function(
        """pattern => [...document.querySelectorAll('.widget-html-content')]
                         .some(e => new RegExp(pattern).test(e.innerText))""",
        arg=pattern,
        timeout=CHANGE_TIMEOUT_MS,
    )
    return time.perf_counter() - started


def shoot_panel(status, path: Path) -> None:
    """A screenshot of the whole panel (controls, headline, table and chart) holding ``status``."""
    status.locator("xpath=ancestor::div[contains(@class, 'widget-vbox')][1]").screenshot(path=str(path))


def control(page, kind: str, label: str):
    """The widget of class ``widget-<kind>`` whose label reads ``label``."""
    return page.locator(f".widget-{kind}", has=page.locator("label", has_text=re.compile(f"^{re.escape(label)}$")))


def test_front_page_lists_the_notebooks(dashboard, offline, artifacts: Path, timings: dict) -> None:
    page = offline.page
    started = time.perf_counter()
    page.goto(f"http://127.0.0.1:{dashboard.port}/", timeout=LOAD_TIMEOUT_MS)
    for notebook in NOTEBOOKS:
        page.get_by_text(f"{notebook}.ipynb").wait_for(timeout=LOAD_TIMEOUT_MS)
    timings["dashboard_front_page_seconds"] = time.perf_counter() - started
    assert offline.blocked == [], f"the front page asked the outside world for {offline.blocked}"
    page.screenshot(path=str(artifacts / "dashboard_front_page.png"))


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_panel_renders_with_code_hidden(
    notebook: str, dashboard, offline, artifacts: Path, timings: dict, book: PriceBook, example_files
) -> None:
    status = open_panel(offline, dashboard, notebook, timings)
    expected = estimate(load_params(example_files["a"], book), book)
    assert abs(usd("Programme total", status.inner_text()) - expected.programme_total) <= 0.5
    page = offline.page
    assert page.locator(".widget-slider, .widget-dropdown, .widget-text, .widget-checkbox").count() >= 3
    assert page.locator(".jp-CodeCell .jp-InputArea, .cm-editor").count() == 0, "code is shown"
    assert page.locator("img").count() >= 1, "no chart on the page"
    text = page.locator("body").inner_text()
    for code in CODE:
        assert code not in text, f"{notebook} shows its code ({code!r})"
    for marker in BROKEN:
        assert marker not in text, f"{notebook} shows {marker!r}"
    assert offline.blocked == [], f"{notebook} asked the outside world for {offline.blocked}"
    shoot_panel(status, artifacts / f"dashboard_{notebook}_panel.png")


def test_runs_slider_shows_the_engine_total(
    dashboard, offline, artifacts: Path, timings: dict, book: PriceBook, example_files
) -> None:
    status = open_panel(offline, dashboard, "01_compute")
    page = offline.page
    runs = control(page, "slider", "Runs")
    before = int(runs.locator(".widget-readout").inner_text())
    expected = changed(example_files["a"], {"training.runs": before + 1}, book).programme_total
    assert abs(expected - usd("Programme total", status.inner_text())) > 1, "the change would not show"

    runs.locator(".noUi-handle").focus()
    page.keyboard.press("ArrowRight")
    timings["dashboard_slider_to_total_seconds"] = wait_for_headline(page, f"Programme total: USD {expected:,.0f}")
    assert int(runs.locator(".widget-readout").inner_text()) == before + 1
    assert abs(usd("Programme total", status.inner_text()) - expected) <= 0.5
    shoot_panel(status, artifacts / "dashboard_01_compute_runs_moved.png")


def test_tier_dropdown_shows_the_engine_total(
    dashboard, offline, artifacts: Path, timings: dict, book: PriceBook, example_files
) -> None:
    """New hardware is priced from the price book (the booked rate belongs to the old tier):
    the total is workshop exercise 1's."""
    status = open_panel(offline, dashboard, "01_compute")
    page = offline.page
    expected = changed(
        example_files["a"], {"training.tier": "hyperscaler_on_demand", "training.rate_usd_per_gpu_hour": None}, book
    )
    control(page, "dropdown", "Pricing tier").locator("select").select_option(label="Hyperscaler on-demand")
    pattern = (
        f"Compute: USD {expected.areas_usd['compute']:,.0f} · Programme total: USD {expected.programme_total:,.0f}"
    )
    timings["dashboard_dropdown_to_total_seconds"] = wait_for_headline(page, re.escape(pattern))
    assert abs(usd("Programme total", status.inner_text()) - expected.programme_total) <= 0.5
    shoot_panel(status, artifacts / "dashboard_01_compute_tier_changed.png")


def test_api_bill_shows_the_engine_break_even(
    dashboard, offline, artifacts: Path, timings: dict, book: PriceBook, example_files
) -> None:
    """Workshop exercise 7 in the browser: a USD 12,000 API bill never pays back."""
    status = open_panel(offline, dashboard, "05_roi")
    page = offline.page
    assert "Break-even: month 5" in status.inner_text()
    expected = changed(example_files["a"], {"alternative.api.usd_per_month": 12000}, book)
    assert expected.break_even_month is None
    field = control(page, "text", "API bill replaced (USD/month)").locator("input")
    field.fill("12000")
    field.press("Enter")
    timings["dashboard_text_to_break_even_seconds"] = wait_for_headline(page, "Break-even: none within the horizon")
    assert abs(usd("Programme total", status.inner_text()) - expected.programme_total) <= 0.5
    shoot_panel(status, artifacts / "dashboard_05_roi_api_changed.png")


def test_the_address_chooses_the_client(dashboard, offline, artifacts: Path, book: PriceBook, example_files) -> None:
    """``?client=example_b`` opens the panel on example B: its total is the engine's."""
    page = offline.page
    page.goto(dashboard.url("02_dataset") + "?client=example_b", wait_until="commit", timeout=LOAD_TIMEOUT_MS)
    status = page.locator(".widget-html-content", has_text=PANEL_STATUS)
    status.wait_for(timeout=LOAD_TIMEOUT_MS)
    expected = estimate(load_params(example_files["b"], book), book)
    assert abs(usd("Programme total", status.inner_text()) - expected.programme_total) <= 0.5
    shoot_panel(status, artifacts / "dashboard_02_dataset_example_b.png")
