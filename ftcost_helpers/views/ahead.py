"""Panels built ahead of their page.

A dashboard kernel waits in Voilà's pool before anyone asks for its page. While it waits it
runs its notebook's set-up and panel cells on the notebook's own client, inside
:func:`building_ahead`: :func:`~ftcost_helpers.views.notebook.setup_notebook` keeps the
context it made and :func:`~ftcost_helpers.views.picker.show_panel` keeps the panel it built,
showing nothing. When the page arrives and runs the same cells, the set-up takes the kept
context if the page asks for the very same plan (equal parameters from the same file, read
again now) and ``show_panel`` then shows the panel already drawn instead of building it: the
page's kernel has about a second less to do after the request (``bench/bench_dashboard.py``).
A page for another client, or for a file changed meanwhile, builds its panel as before, and
the panel built ahead is closed so that its widgets never reach the page.

Nothing here imports Jupyter or the model: the kept objects are opaque to this module.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class _Kept:
    """What the kernel built ahead: the set-up's context and the panels shown on it."""

    context: Any = None
    panels: dict[tuple[str, str], tuple[Any, dict[str, Path]]] = field(default_factory=dict)
    """{(area, intro): (panel, the clients listed in its picker)}."""


_state = {"building": False}
_kept = _Kept()


@contextmanager
def building_ahead() -> Iterator[None]:
    """While inside, the set-up and panel cells keep what they build instead of showing it."""
    _state["building"] = True
    try:
        yield
    finally:
        _state["building"] = False


def is_building() -> bool:
    """Whether the cells now running are the ones run ahead of the page."""
    return _state["building"]


def keep_context(context: Any) -> None:
    """Keep the set-up's context made ahead (one per kernel: the latest)."""
    _kept.context = context


def take_context(same_plan: Any) -> Any | None:
    """The context kept ahead if ``same_plan(context)`` says it is the plan now asked for
    (it is handed out once); else None, and whatever was kept is dropped (see :func:`discard`)."""
    context, _kept.context = _kept.context, None
    if context is None:
        return None
    if same_plan(context):
        return context
    discard_panels()
    return None


def keep_panel(area: str, intro: str, panel: Any, clients: Mapping[str, Path]) -> None:
    """Keep a panel built ahead on the kept context, with the clients its picker lists."""
    _kept.panels[(area, intro)] = (panel, dict(clients))


def take_panel(area: str, intro: str, context: Any, clients: Mapping[str, Path]) -> Any | None:
    """The panel built ahead for ``area`` and ``intro`` on ``context`` itself (the context the
    set-up took from :func:`take_context`), when its picker lists the same ``clients``; else
    None (the kept panel is closed)."""
    kept = _kept.panels.pop((area, intro), None)
    if kept is None:
        return None
    panel, listed = kept
    if getattr(panel, "built_on", None) is context and listed == dict(clients):
        return panel
    _close(panel)
    return None


def discard_panels() -> None:
    """Close every panel kept ahead (the page asked for another plan)."""
    while _kept.panels:
        _key, (panel, _clients) = _kept.panels.popitem()
        _close(panel)


def _close(panel: Any) -> None:
    """Close a kept panel's widgets, so that the page's widget manager never loads them."""
    close = getattr(panel, "close", None)
    if callable(close):
        close()
