"""Panels built ahead of their page (issue 26, item 7): a pooled dashboard kernel runs its
page's set-up and panel cells on the notebook's own client while it waits, and the page that
asks for the very same plan shows that panel instead of building it; any other plan (another
client, the file changed meanwhile, a new participant file in the picker) is built as before,
and the panel made ahead is closed so that its widgets never reach the page."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ftcost_helpers.dashboard.notebooks import _build_ahead
from ftcost_helpers.engine.loading import project_root
from ftcost_helpers.views import ahead, notebook, picker, widgets
from ftcost_helpers.views.notebook import DASHBOARD_QUERY, setup_notebook
from ftcost_helpers.views.picker import show_panel

EXAMPLE_A = project_root() / "params" / "clients" / "example_a.yaml"
INTRO = "## Explore"


@pytest.fixture
def shown(monkeypatch) -> list[object]:
    """What the panel cell displays (the kernel's display, recorded)."""
    displayed: list[object] = []
    monkeypatch.setattr(picker, "show", displayed.append)
    monkeypatch.delenv(DASHBOARD_QUERY, raising=False)
    yield displayed
    ahead.take_context(lambda _kept: False)  # nothing kept leaks into the next test


def build_ahead(path: Path) -> tuple[object, object]:
    """The set-up and panel cells as the pooled kernel runs them while it waits."""
    with ahead.building_ahead():
        context = setup_notebook(path)
        panel = show_panel(widgets.compute_panel, context, INTRO)
    return context, panel


def test_the_page_for_the_same_plan_shows_the_panel_built_ahead(shown) -> None:
    kept_context, kept_panel = build_ahead(EXAMPLE_A)
    assert shown == [], "built ahead, nothing is shown before the page asks"
    context = setup_notebook(EXAMPLE_A)
    panel = show_panel(widgets.compute_panel, context, INTRO)
    assert context is kept_context and panel is kept_panel
    assert shown[-1] is panel.widget and len(shown) == 2  # the intro, then the panel
    assert all(widget.comm is not None for widget in panel.made), "its widgets stay open"
    # Handed out once: the next page of this kernel (none, in a dashboard) would build its own.
    assert setup_notebook(EXAMPLE_A) is not context


def test_another_client_builds_its_own_panel_and_the_one_made_ahead_is_closed(shown, monkeypatch) -> None:
    kept_context, kept_panel = build_ahead(EXAMPLE_A)
    monkeypatch.setenv(DASHBOARD_QUERY, "client=example_b")
    context = setup_notebook(EXAMPLE_A)
    panel = show_panel(widgets.compute_panel, context, INTRO)
    assert context is not kept_context and panel is not kept_panel
    assert panel.controls["gpu"].value == "h200"  # example B trains on H200s
    assert kept_panel.made and all(widget.comm is None for widget in kept_panel.made), "closed, never sent"


def test_a_file_changed_after_the_panel_was_built_is_read_again(shown, tmp_path) -> None:
    client = tmp_path / "client.yaml"
    shutil.copy(EXAMPLE_A, client)
    kept_context, kept_panel = build_ahead(client)
    text = client.read_text(encoding="utf-8")
    assert text.count("runs: {low: 10, mode: 14, high: 20}") == 1
    client.write_text(text.replace("runs: {low: 10, mode: 14, high: 20}", "runs: 5"), encoding="utf-8")
    context = setup_notebook(client)
    panel = show_panel(widgets.compute_panel, context, INTRO)
    assert context is not kept_context and context.params != kept_context.params
    assert panel.controls["runs"].value == 5
    assert panel is not kept_panel and all(widget.comm is None for widget in kept_panel.made)


def test_a_participant_file_added_meanwhile_is_in_the_picker(shown, monkeypatch) -> None:
    _kept_context, kept_panel = build_ahead(EXAMPLE_A)
    listed = notebook.dashboard_clients()
    monkeypatch.setattr(picker, "dashboard_clients", lambda: {**listed, "newcomer": EXAMPLE_A})
    panel = show_panel(widgets.compute_panel, setup_notebook(EXAMPLE_A), INTRO)
    assert panel is not kept_panel and "newcomer" in dict(panel.picker.options).values()


def test_a_cell_that_fails_ahead_leaves_nothing_kept_and_the_page_runs_it() -> None:
    """Outside a kernel nothing runs ahead; inside one a failing cell drops what was built."""
    _build_ahead(("raise RuntimeError('not now')",))  # no IPython shell here: a no-op
    assert ahead.take_context(lambda _kept: True) is None


def test_a_fresh_kernel_shows_its_panels() -> None:
    """Nothing is built ahead until the dashboard's first cell asks: a notebook in JupyterLab
    (a fresh process) shows its panel as it builds it."""
    import subprocess
    import sys

    probe = "from ftcost_helpers.views import ahead; print(ahead.is_building())"
    answer = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert answer.stdout.strip() == "False"
