"""Browser tests: Playwright driving Debian's Chromium (``/usr/bin/chromium``), headless, with
every request that is not for this machine aborted and recorded.

Chromium is required. When it is missing the tests fail with the install command; on a
developer machine (never in CI, where ``CI`` is set) ``FTCOST_SKIP_BROWSER_TESTS=1`` skips
them instead. Screenshots and timings go to ``test-artifacts/`` (ignored by git).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ftcost_helpers.engine.loading import project_root
from ftcost_helpers.pdf import MACHINE_FLAGS, PdfError, find_chromium

ARTIFACTS = project_root() / "test-artifacts"
CHROMIUM_ARGS = list(MACHINE_FLAGS)
"""What headless Chromium needs on this kind of machine; Playwright adds ``--headless`` and a
fresh ``--user-data-dir`` of its own for every launch."""
LOCAL = re.compile(r"^(?:(?:https?|wss?)://(?:127\.0\.0\.1|localhost|\[::1\])(?::\d+)?/|file:|data:|blob:|about:)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is a browser test (``-m "not browser"`` leaves them out)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives Debian's Chromium (tests/browser/)")


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium, or a loud failure (a skip only when asked for, and never in CI)."""
    try:
        return find_chromium()
    except PdfError as error:
        if os.environ.get("FTCOST_SKIP_BROWSER_TESTS") and not os.environ.get("CI"):
            pytest.skip(f"{error} (FTCOST_SKIP_BROWSER_TESTS is set)")
        pytest.fail(f"{error}. The browser tests need it; see the README.", pytrace=False)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def timings(artifacts: Path) -> Iterator[dict[str, float]]:
    """Measured seconds by name, written to ``test-artifacts/browser-timings.json``."""
    measured: dict[str, float] = {}
    yield measured
    path = artifacts / "browser-timings.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps(previous | {k: round(v, 3) for k, v in measured.items()}, indent=2) + "\n")


@pytest.fixture(scope="session")
def browser(chromium: Path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class OfflinePage:
    """A page whose requests off this machine are aborted; ``blocked`` lists them, and the
    console's errors and warnings are kept."""

    page: object
    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    console_warnings: list[str] = field(default_factory=list)


@pytest.fixture()
def offline(browser) -> Iterator[OfflinePage]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
    record = OfflinePage(page=None)

    def only_local(route) -> None:
        url = route.request.url
        if LOCAL.match(url):
            route.continue_()
        else:
            record.blocked.append(url)
            route.abort()

    context.route("**/*", only_local)
    record.page = context.new_page()

    def note(message) -> None:
        if message.type == "error":
            record.console_errors.append(message.text)
        elif message.type == "warning":
            record.console_warnings.append(message.text)

    record.page.on("console", note)
    yield record
    context.close()


@pytest.fixture(scope="session")
def example_a_report(tmp_path_factory: pytest.TempPathFactory, chromium: Path, timings: dict[str, float]) -> Path:
    """Example A's report folder, made by the report command with ``--pdf``, as a user would."""
    out = tmp_path_factory.mktemp("reports")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "ftcost_helpers", "report", "params/clients/example_a.yaml", "--out", str(out), "--pdf"],
        cwd=project_root(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    timings["report_example_a_with_pdf_seconds"] = time.perf_counter() - started
    assert done.returncode == 0, f"report --pdf failed:\n{done.stdout}\n{done.stderr}"
    (folder,) = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))]
    return folder


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Dashboard:
    port: int
    startup_seconds: float

    def url(self, notebook: str) -> str:
        from ftcost_helpers.dashboard import notebook_url

        return notebook_url(self.port, notebook)


@pytest.fixture(scope="session")
def dashboard(artifacts: Path, chromium: Path, timings: dict[str, float]) -> Iterator[Dashboard]:
    """The workshop dashboard (Voilà) on a free local port, as ``make workshop`` starts it."""
    from ftcost_helpers import dashboard as voila

    port = free_port()
    log = artifacts / "voila.log"
    log.unlink(missing_ok=True)
    process = voila.start(port, log=log)
    try:
        startup = voila.wait_until_ready(process, port, timeout_s=90)
        timings["dashboard_server_ready_seconds"] = startup
        yield Dashboard(port, startup)
    finally:
        voila.stop(process)
