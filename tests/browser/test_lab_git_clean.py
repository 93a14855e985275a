"""JupyterLab on the stored notebooks leaves git clean (issue 12, item 5).

A real JupyterLab (``python -m ftcost_helpers.lab``, as ``make lab`` starts it) serves a copy of
``params/`` and ``notebooks/`` (FTCOST_ROOT), so a failure never touches the checkout. In
Chromium the test opens 05_roi, runs every cell with its default client (example A), saves
and closes it: the saved notebook and its text pair must be byte for byte the stored ones.
(That an edit is still saved, cleaned, is tests/test_lab.py's.)
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "05_roi.ipynb"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[tuple[int, Path]]:
    project = tmp_path_factory.mktemp("lab-project")
    shutil.copytree(ROOT / "params", project / "params")
    shutil.copytree(ROOT / "notebooks", project / "notebooks")
    port = free_port()
    log = (artifacts / "jupyterlab.log").open("w")
    environment = {**os.environ, "FTCOST_ROOT": str(project), "JUPYTER_CONFIG_DIR": str(project / ".jupyter")}
    # The module's own entry point, run with the copy as its project root.
    options = ["--no-browser", "--IdentityProvider.token=", "--LabApp.expose_app_in_browser=True", "--allow-root"]
    command = [sys.executable, "-m", "ftcost_helpers.lab", f"--port={port}", *options]
    server = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT, cwd=project)
    try:
        _wait_for(f"http://127.0.0.1:{port}/api/status", timeout_s=90)
        yield port, project / "notebooks"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"JupyterLab did not answer {url} within {timeout_s} s")


def _open(browser, port: int):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(f"http://127.0.0.1:{port}/lab/tree/{NOTEBOOK}", wait_until="domcontentloaded")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget", timeout=120_000)
    return page


RUN_ALL_AND_SAVE = """async () => {
    const app = window.jupyterapp;
    const panel = app.shell.currentWidget;
    await panel.context.ready;
    await panel.sessionContext.ready;
    const late = new Promise((_, fail) => setTimeout(() => fail(new Error('no run within 480 s')), 480000));
    const ran = await Promise.race([app.commands.execute('notebook:run-all-cells'), late]);
    await app.commands.execute('docmanager:save');
    const cells = panel.content.widgets.filter(cell => cell.model.type === 'code');
    return {ran, unrun: cells.filter(cell => cell.model.executionCount === null).length};
}"""
"""In JupyterLab's own terms (the app is exposed): wait for the notebook and its kernel, run
every cell and save; the promise of run-all settles when the last cell has run (at most 480 s:
the whole suite may be running beside it on two cores)."""


def _wait_until_written(path: Path, since: float, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.stat().st_mtime > since:
            time.sleep(1)  # let the paired .md follow
            return
        time.sleep(0.3)
    raise AssertionError(f"{path.name} was not saved within {timeout_s} s")


@pytest.mark.skipif(sys.platform != "linux", reason="Debian's Chromium")
def test_running_and_saving_a_stored_notebook_leaves_it_as_stored(lab, browser, artifacts: Path) -> None:
    port, notebooks = lab
    stored, text = (ROOT / "notebooks" / NOTEBOOK).read_bytes(), (ROOT / "notebooks" / "05_roi.md").read_bytes()
    before = (notebooks / NOTEBOOK).stat().st_mtime
    page = _open(browser, port)
    try:
        outcome = page.evaluate(RUN_ALL_AND_SAVE)
        assert outcome == {"ran": True, "unrun": 0}, outcome
        _wait_until_written(notebooks / NOTEBOOK, before)
    finally:
        page.screenshot(path=str(artifacts / "jupyterlab_05_roi_after_run.png"))
    page.close()
    assert (notebooks / NOTEBOOK).read_bytes() == stored
    assert (notebooks / "05_roi.md").read_bytes() == text


OPEN_AND_WAIT = """async () => {
    const panel = window.jupyterapp.shell.currentWidget;
    await panel.context.ready;
    await panel.sessionContext.ready;
    await new Promise(done => setTimeout(done, 10000));
    return {dirty: panel.context.model.dirty, kernel: panel.sessionContext.session.kernel.name};
}"""
"""Open, wait for the kernel and ten seconds more (JupyterLab writes the kernel's language
into the notebook once the kernel is up), and say whether JupyterLab counts it changed."""


@pytest.mark.skipif(sys.platform != "linux", reason="Debian's Chromium")
def test_an_untouched_stored_notebook_is_not_changed_by_opening_it(lab, browser) -> None:
    """Closing it asks no "Save changes?" (issue 26): opened and left alone, the notebook is
    not dirty once its kernel is up (it was, by the kernel's language_info)."""
    port, notebooks = lab
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(f"http://127.0.0.1:{port}/lab/tree/01_compute.ipynb", wait_until="domcontentloaded")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget", timeout=120_000)
    try:
        assert page.evaluate(OPEN_AND_WAIT) == {"dirty": False, "kernel": "python3"}
    finally:
        page.close()
    assert (notebooks / "01_compute.ipynb").read_bytes() == (ROOT / "notebooks" / "01_compute.ipynb").read_bytes()
