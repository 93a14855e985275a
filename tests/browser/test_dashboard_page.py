"""The workshop dashboard in Chromium: every notebook's panel renders (code hidden, nothing
fetched from outside), and moving a control shows the total the engine computes for it."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from test_workshop_guide import EXERCISES, changed_params, figures

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


def test_landing_page_lists_questions_picks_a_client_and_links_the_guide(
    dashboard, offline, artifacts: Path, timings: dict
) -> None:
    from ftcost_helpers.dashboard import notebook_entries

    page = offline.page
    started = time.perf_counter()
    page.goto(f"http://127.0.0.1:{dashboard.port}/", timeout=LOAD_TIMEOUT_MS)
    timings["dashboard_front_page_seconds"] = time.perf_counter() - started
    for entry in notebook_entries():
        assert page.get_by_text(entry.title).is_visible() and page.get_by_text(entry.question).is_visible()
    page.locator("#client").select_option("example_b")
    link = page.locator("a.notebook[data-notebook='02_dataset']")
    assert link.get_attribute("href") == "voila/render/02_dataset.ipynb?client=example_b"
    assert link.get_attribute("target") is None, "notebooks open in the same tab"
    page.screenshot(path=str(artifacts / "dashboard_front_page.png"))
    page.locator("#guide").click()
    page.get_by_role("heading", name="Exercise 9 — serving on two GPUs").wait_for(timeout=LOAD_TIMEOUT_MS)
    assert offline.blocked == [], f"the front page asked the outside world for {offline.blocked}"
    assert offline.console_errors == [], offline.console_errors
    assert offline.console_warnings == [], offline.console_warnings


def assert_page_is_clean(offline, notebook: str) -> None:
    """The page shows controls and a chart, no code, no error, nothing fetched from outside,
    and the panel before the notebook's teaching text."""
    page = offline.page
    assert page.locator(".widget-slider, .widget-dropdown, .widget-text, .widget-checkbox").count() >= 3
    assert page.locator(".jp-CodeCell .jp-InputArea, .cm-editor").count() == 0, "code is shown"
    assert page.locator(".widget-image img, img.widget-image").count() >= 1, "no chart in the panel"
    text = page.locator("body").inner_text()
    for code in CODE:
        assert code not in text, f"{notebook} shows its code ({code!r})"
    for marker in BROKEN:
        assert marker not in text, f"{notebook} shows {marker!r}"
    assert offline.blocked == [], f"{notebook} asked the outside world for {offline.blocked}"
    assert offline.console_errors == [], f"{notebook}: {offline.console_errors}"
    assert offline.console_warnings == [], f"{notebook}: {offline.console_warnings}"
    panel_top = page.locator(".ftcost-headline").first.bounding_box()["y"]
    heading_top = page.locator("h1").first.bounding_box()["y"]
    assert panel_top < heading_top, "the teaching text comes before the panel"


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


CHART_FIGURES = {"compute.fit", "tornado_top", "tornado_top_low_usd", "tornado_top_high_usd"}
"""Figures read in the charts under the panel (the memory chart's verdict, the tornado's top
bar), not in its headline: tests/test_workshop_guide.py reads them in those charts."""
HEADLINE = {
    "programme_total_usd": ("Programme total", "usd"),
    "tco_usd": ("TCO over the horizon", "usd"),
    "break_even_month": ("Break-even", "month"),
    "areas_usd.compute": ("Compute", "usd"),
    "areas_usd.dataset": ("Dataset", "usd"),
    "compute.rate_usd_per_gpu_hour": ("Rate", "cents"),
    "compute.booked_gpu_hours": ("Booked GPU-hours", "count"),
    "compute.fewest_gpus": ("Fewest GPUs", "count"),
    "compute.memory_per_gpu_gb": ("Memory per GPU", "gb"),
    "compute.implied_utilisation": ("Implied utilisation", "percent"),
    "ongoing_monthly_usd.eval": ("Per month", "usd"),
    "ongoing_monthly_usd.maintenance": ("Per month once started", "usd"),
    "maintenance_quarterly_usd.Base-model migration": ("Migrations per quarter", "usd"),
    "alternative_usd_per_month": ("Alternative per month", "usd"),
    "ongoing_monthly_usd.serving": ("Serving per month", "usd"),
    "serving_usd_per_1m_tokens": ("Serving per 1M tokens", "cents"),
}
"""Where each figure a guide exercise asks about is shown in the panel's headline."""


def shown(name: str, value) -> str:
    """The headline text of an engine figure, written the way the panel writes it."""
    label, kind = HEADLINE[name]
    text = {
        "usd": lambda v: f"USD {v:,.0f}",
        "cents": lambda v: f"USD {v:,.2f}",
        "count": lambda v: f"{v:,.0f}",
        "gb": lambda v: f"{v:,.2f} GB",
        "percent": lambda v: f"{100 * v:.1f}%",
        "month": lambda v: "none within the horizon" if v is None else f"month {v}",
    }[kind](value)
    return f"{label}: {text}"


def set_control(page, path: str, value) -> None:
    """Move the control that sets ``path`` as a participant would: choose, tick or type."""
    from ftcost_helpers.engine.loading import load_price_book

    if path == "training.rate_usd_per_gpu_hour":
        return  # a new tier is priced from the book by itself
    if path == "training.tier":
        control(page, "dropdown", "Pricing tier").locator("select").select_option(label="Hyperscaler on-demand")
    elif path == "training.method":
        label = load_price_book().methods[value].label
        control(page, "dropdown", "Method").locator("select").select_option(label=label)
    elif path == "training.sweep_early_stopping":
        box = control(page, "checkbox", "Sweep early stopping").locator("input")
        box.set_checked(bool(value))
    else:
        label, kind = SLIDERS[path]
        typed = str(round(value * 100)) if path.endswith("fraction") else f"{value:g}"
        if kind == "text":
            field = control(page, "text", label).locator("input")
            field.fill(typed)
            field.press("Enter")
        else:
            readout = control(page, "slider", label).locator(".widget-readout")
            readout.click()
            page.keyboard.press("Control+A")
            page.keyboard.type(typed)
            page.keyboard.press("Enter")


SLIDERS = {
    "training.sweep_trials": ("Sweep trials", "slider"),
    "dataset.annotation_rate_usd_per_hour": ("Annotation rate (USD/hour)", "slider"),
    "evaluation.continuous_usd_per_month": ("Continuous eval (USD/month)", "text"),
    "maintenance.start_month": ("Maintenance starts (month)", "slider"),
    "alternative.api.usd_per_month": ("API bill replaced (USD/month)", "text"),
    "alternative.labour.time_saved_fraction": ("Share of their time saved (%)", "slider"),
    "serving.gpus": ("Serving GPUs", "slider"),
    "training.runs": ("Training runs", "text"),  # 06_tracking's panel
}


def interleaved(exercises: list) -> list:
    """The exercises with consecutive ones on different notebooks, so that each page opens on
    a warm kernel while the pool refills behind the previous one."""
    by_notebook: dict[str, list] = {}
    for exercise in exercises:
        by_notebook.setdefault(exercise.notebook, []).append(exercise)
    rounds = max((len(group) for group in by_notebook.values()), default=0)
    return [group[i] for i in range(rounds) for group in by_notebook.values() if i < len(group)]


@pytest.mark.parametrize("exercise", interleaved(EXERCISES), ids=lambda e: f"exercise-{e.number}")
def test_each_exercise_is_answered_in_the_panel_it_names(
    exercise, dashboard, offline, artifacts: Path, timings: dict, book: PriceBook
) -> None:
    """The guide's change, made with the panel's controls on the client the guide names: the
    headline shows every figure the answer asks about, as the engine computes it (the guide's
    own figures are checked against the engine by tests/test_workshop_guide.py)."""
    page = offline.page
    page.goto(dashboard.url(exercise.notebook) + f"?client={exercise.client}", wait_until="commit")
    status = page.locator(".widget-html-content", has_text=PANEL_STATUS)
    status.wait_for(timeout=LOAD_TIMEOUT_MS)
    assert_page_is_clean(offline, exercise.notebook)
    before = figures(changed_params(exercise.client, {}, book), book)
    assert shown("programme_total_usd", before["programme_total_usd"]) in status.inner_text()
    for path, value in exercise.change.items():
        set_control(page, path, value)
    after = figures(changed_params(exercise.client, exercise.change, book), book)
    started = time.perf_counter()
    expected = [shown(name, after[name]) for name in exercise.after if name in HEADLINE]
    in_charts = [name for name in exercise.after if name in CHART_FIGURES]
    assert len(expected) + len(in_charts) == len(exercise.after), "an asked figure is not in the headline"
    if in_charts:
        charts = page.locator(".widget-image img, img.widget-image")
        assert charts.count() >= 2, "the charts under the panel are not on the page"
    wait_for_headline(page, re.escape(expected[0]))
    page.wait_for_function(
        """texts => [...document.querySelectorAll('.ftcost-headline')].some(
                 e => texts.every(t => e.innerText.includes(t)))""",
        arg=expected,
        timeout=CHANGE_TIMEOUT_MS,
    )
    timings[f"dashboard_exercise_{exercise.number}_seconds"] = time.perf_counter() - started
    shoot_panel(status, artifacts / f"dashboard_exercise_{exercise.number}.png")


def test_reset_and_keep_as_scenario(dashboard, offline, book: PriceBook, example_files) -> None:
    status = open_panel(offline, dashboard, "01_compute")
    page = offline.page
    set_control(page, "training.tier", "hyperscaler_on_demand")
    wait_for_headline(page, re.escape("Rate: USD 3.50/GPU-hour"))
    page.get_by_role("button", name="Keep as scenario").click()
    block = page.locator("pre.ftcost-scenario")
    block.wait_for(timeout=CHANGE_TIMEOUT_MS)
    text = block.inner_text()
    assert "tier: hyperscaler_on_demand" in text and "rate_usd_per_gpu_hour: null" in text
    page.get_by_role("button", name="Reset to the plan").click()
    plan = estimate(load_params(example_files["a"], book), book)
    wait_for_headline(page, re.escape(f"Compute: USD {plan.areas_usd['compute']:,.0f} · Rate: USD 1.71/GPU-hour"))
    assert control(page, "dropdown", "Pricing tier").locator("select").input_value() is not None
    assert abs(usd("Programme total", status.inner_text()) - plan.programme_total) <= 0.5


def test_an_unknown_client_lists_the_clients(dashboard, offline) -> None:
    page = offline.page
    page.goto(dashboard.url("03_eval") + "?client=nobody", wait_until="commit", timeout=LOAD_TIMEOUT_MS)
    page.get_by_text("No such client").wait_for(timeout=LOAD_TIMEOUT_MS)
    text = page.locator("body").inner_text()
    assert "no client file 'nobody'" in text
    for name in ("example_a", "example_b", "example_c"):
        assert page.locator(f"a[href='?client={name}']").count() == 1
    assert "show_tracebacks" not in text and "Traceback" not in text


def test_a_participant_file_opens_by_name(dashboard, offline, book: PriceBook, example_files) -> None:
    """A copy of example B in workshop/clients/ under another name opens by that name."""
    import shutil

    from ftcost_helpers.engine.loading import project_root

    mine = project_root() / "workshop" / "clients" / "test_participant_b.yaml"
    shutil.copy(example_files["b"], mine)
    try:
        page = offline.page
        page.goto(dashboard.url("05_roi") + "?client=test_participant_b", wait_until="commit")
        status = page.locator(".widget-html-content", has_text=PANEL_STATUS)
        status.wait_for(timeout=LOAD_TIMEOUT_MS)
        expected = estimate(load_params(example_files["b"], book), book)
        assert abs(usd("Programme total", status.inner_text()) - expected.programme_total) <= 0.5
    finally:
        mine.unlink()


def test_a_foreign_host_is_refused(dashboard) -> None:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(f"http://127.0.0.1:{dashboard.port}/", headers={"Host": "evil.example"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403


def test_a_page_url_cannot_choose_another_template_or_theme(dashboard) -> None:
    """``?template=lab`` or ``?theme=dark`` would serve Voilà's own lab template (which fetches
    Font Awesome from a CDN) or the dark theme, and start a kernel outside the warm pool; the
    room refuses both with a plain 400 and serves the page as it is without them."""
    import urllib.error
    import urllib.request

    for argument in ("template=lab", "theme=dark", "client=example_b&template=lab"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(dashboard.url("01_compute") + "?" + argument, timeout=10)
        assert refused.value.code == 400, argument
        assert b"no template or theme argument" in refused.value.read()


@pytest.mark.parametrize("notebook", ["01_compute", "05_roi"])
def test_the_panel_fits_a_phone(dashboard, offline, artifacts: Path, notebook: str) -> None:
    """At 390 px (a phone) no control is cut off: the page does not scroll sideways and every
    control's right edge is inside the viewport."""
    page = offline.page
    page.set_viewport_size({"width": 390, "height": 844})
    open_panel(offline, dashboard, notebook)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{notebook}: the page is {overflow} px wider than the phone"
    controls = page.locator(".widget-slider, .widget-dropdown, .widget-text, .widget-checkbox")
    rights = [box["x"] + box["width"] for box in (controls.nth(i).bounding_box() for i in range(controls.count()))]
    assert rights and max(rights) <= 390, f"{notebook}: a control reaches {max(rights):.0f} px"
    page.screenshot(path=str(artifacts / f"dashboard_{notebook}_390px.png"), full_page=False)


def test_a_browser_keeps_the_widget_extensions_it_has_fetched(dashboard) -> None:
    """The widget extensions' scripts whose names carry their content's hash are served to be
    kept (Voilà serves every extension file with ``no-cache``: each page fetched them again);
    a name without a hash is still checked with the server each time."""
    import json
    import re
    import urllib.request

    from ftcost_helpers.dashboard import CONTENT_HASHED

    base = f"http://127.0.0.1:{dashboard.port}/voila/labextensions/@jupyter-widgets/jupyterlab-manager"
    with urllib.request.urlopen(f"{base}/package.json", timeout=10) as answer:
        entry = json.load(answer)["jupyterlab"]["_build"]["load"]  # static/remoteEntry.<hash>.js
        assert answer.headers["Cache-Control"] == "no-cache", "an unhashed name is checked every time"
    assert re.search(CONTENT_HASHED, entry), entry
    with urllib.request.urlopen(f"{base}/{entry}", timeout=10) as answer:
        assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
