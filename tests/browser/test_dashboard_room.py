"""A room opening pages at once, on a dashboard whose idle timeout is far shorter than a
page takes to load: every panel still comes up (no kernel is culled while its page
connects), none shows the widgets' raw text; a broken participant file is named on the page
and on the landing page; the guide's links name the port the server runs on."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import LOCAL, Dashboard, free_port

from ftcost_helpers.engine.loading import project_root

ROOM = ("01_compute", "01_compute", "01_compute", "02_dataset", "05_roi", "03_eval")
"""Six pages opened at once: half the room on one notebook (its pool holds one kernel)."""
IDLE_TIMEOUT_S = 2
"""Far shorter than a loading page takes to connect (the culler looks every 5 s)."""
HELD_SCRIPT_S = 10
"""How long the test holds each page's script (``voila.js``) before letting it load: the
page's kernel has finished the page's cells and waits, unconnected, this long. Jupyter
Server's own culler stops such a kernel after IDLE_TIMEOUT_S (the dead panel of the issue)."""
INTERACTIVE = "() => !!document.querySelector('.ftcost-headline') && !!document.querySelector('.widget-slider')"
RAW_WIDGET_TEXT = ("VBox(children=", "HBox(children=")
WAITING = "() => !!document.getElementById('ftcost-starting')"
ROOM_TIMEOUT_S = 150


def _shows(page, script: str) -> bool:
    """The page's answer to ``script``; False while it navigates (a page reloading itself)."""
    from playwright.sync_api import Error

    try:
        return bool(page.evaluate(script))
    except Error:
        return False


@pytest.fixture(scope="module")
def short_idle_dashboard(artifacts: Path, chromium: Path) -> Iterator[Dashboard]:
    """The dashboard with a 2-second idle timeout, as the room test needs it."""
    from ftcost_helpers import dashboard as voila

    port = free_port()
    log = artifacts / "voila_room.log"
    log.unlink(missing_ok=True)
    process = voila.start(voila.Room(port=port, idle_timeout_s=IDLE_TIMEOUT_S), log=log)
    try:
        yield Dashboard(port, voila.wait_until_ready(process, port, timeout_s=90))
    finally:
        voila.stop(process)


def test_six_pages_at_once_all_come_up_though_slow_to_connect(
    short_idle_dashboard: Dashboard, browser, artifacts: Path, timings: dict
) -> None:
    held: list = []

    def hold_script(route) -> None:
        held.append((time.perf_counter(), route))

    pages = []
    started = time.perf_counter()
    for notebook in ROOM:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        # Playwright tries the routes last registered first: the script is held, the rest local only.
        context.route("**/*", lambda route: route.continue_() if LOCAL.match(route.request.url) else route.abort())
        context.route("**/voila/static/voila.js", hold_script)
        page = context.new_page()
        page.goto(short_idle_dashboard.url(notebook), wait_until="commit", timeout=ROOM_TIMEOUT_S * 1000)
        pages.append((notebook, context, page))
    waiting_seen = False
    ready: dict[int, float] = {}
    while len(ready) < len(pages) and time.perf_counter() - started < ROOM_TIMEOUT_S:
        for moment, route in list(held):
            if time.perf_counter() - moment > HELD_SCRIPT_S:
                held.remove((moment, route))
                route.continue_()
        for number, (_notebook, _context, page) in enumerate(pages):
            if number not in ready and _shows(page, INTERACTIVE):
                ready[number] = time.perf_counter() - started
            waiting_seen = waiting_seen or _shows(page, WAITING)
        pages[0][2].wait_for_timeout(250)
    pages[0][2].screenshot(path=str(artifacts / "dashboard_room_first_page.png"))
    texts = [page.locator("body").inner_text() for _notebook, _context, page in pages]
    log = (artifacts / "voila_room.log").read_text()
    for _notebook, context, page in pages:
        page.close(run_before_unload=True)
        context.close()

    assert len(ready) == len(ROOM), f"only {len(ready)}/{len(ROOM)} panels became interactive"
    assert min(ready.values()) > HELD_SCRIPT_S, "the script was not held: the test proves nothing"
    for notebook, text in zip(ROOM, texts, strict=True):
        assert not any(raw in text for raw in RAW_WIDGET_TEXT), f"{notebook} shows raw widget text"
        assert "Starting your panel" not in text, f"{notebook} still says it is starting"
    assert waiting_seen, "no page said its panel was starting"
    assert "Culling '" not in log and "Stopping kernel" not in log, "a page's kernel was stopped while it connected"
    assert "not trusted" not in log
    timings["dashboard_room_of_6_last_interactive_seconds"] = max(ready.values())


def test_a_broken_participant_file_is_named_on_its_page_and_the_landing_page(
    short_idle_dashboard: Dashboard, offline
) -> None:
    mine = project_root() / "workshop" / "clients" / "test_room_broken.yaml"
    shutil.copy(project_root() / "params" / "clients" / "example_a.yaml", mine)
    text = mine.read_text()
    mine.write_text(text.replace("runs: {low: 10, mode: 14, high: 20}", "runs: lots", 1))
    assert mine.read_text() != text, "example A's runs line changed: update this test"
    try:
        page = offline.page
        page.goto(short_idle_dashboard.url("01_compute") + "?client=test_room_broken", timeout=60_000)
        body = page.locator("body").inner_text()
        assert "workshop/clients/test_room_broken.yaml: training.runs:" in body
        assert "error when executing cell" not in body and "Traceback" not in body
        page.goto(f"http://127.0.0.1:{short_idle_dashboard.port}/", timeout=60_000)
        option = page.locator("#client option[value='test_room_broken']")
        assert option.text_content() == "test_room_broken (broken)"
        problem = page.locator("#broken-clients li[data-client='test_room_broken']").inner_text()
        assert "test_room_broken.yaml: training.runs:" in problem
    finally:
        mine.unlink()


def test_the_guide_links_to_the_port_it_is_served_on(short_idle_dashboard: Dashboard, offline) -> None:
    page = offline.page
    port = short_idle_dashboard.port
    page.goto(f"http://localhost:{port}/guide", timeout=60_000)
    links = page.locator("a[href^='http://']").evaluate_all("links => links.map(a => a.href)")
    # The guide links to the dashboard's front page and to each exercise's page and client,
    # every one at the address the reader reached.
    assert links and all(link.startswith(f"http://localhost:{port}/") for link in links), links
    assert f"http://localhost:{port}/" in links
    answer = page.locator("details").first
    assert not answer.evaluate("d => d.open"), "an answer is shown before it is asked for"
    assert "exercise: 1" not in page.locator("body").inner_text()
