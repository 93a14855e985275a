"""A client picker above every panel: another client's plan in the same panel, without editing
the notebook (its ``params_file`` stays as stored, so JupyterLab has nothing to save).

The picker lists the clients the dashboard knows (the examples in ``params/clients/``, then the
participants' files in ``workshop/clients/``). Picking one reads and validates its file and
builds the panel again on it, with the charts that follow it; a file that does not validate is
marked *broken* in the list, its problems are shown one line each (file, key, problem) and the
panel stays on the plan it showed. The notebook's static cells above keep the plan they were
run on (the panel's headline names the client it shows).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import ipywidgets as w

from ftcost_helpers.engine.loading import ParamsError, display_path, load_params
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.schema import Params
from ftcost_helpers.views import ahead, charts_extra
from ftcost_helpers.views.notebook import NotebookContext, dashboard_clients, kept_in, markdown, show

Factory = Callable[[Params, PriceBook], Any]
AS_RUN = ""
"""The picker's value for a plan that is none of the listed files (injected parameters, a
``params_file`` elsewhere)."""
BROKEN = " (broken)"


class ClientPanel:
    """The panel of the client picked, the picker above it and the charts that follow it below.

    Attribute access falls through to the panel shown now (``controls``, ``total()``,
    ``headline()``...), so a notebook's ``panel`` works as the panel itself."""

    def __init__(
        self,
        factory: Factory,
        params: Params,
        book: PriceBook,
        path: Path | None,
        clients: Mapping[str, Path],
        writable: Callable[[Path | None], Path | None] = lambda path: path,
        area: str | None = None,
    ) -> None:
        self.factory = factory
        self.book = book
        self.clients = dict(clients)
        self.writable = writable
        self.area = area
        self.broken: dict[str, tuple[str, ...]] = {}
        """{client name: its problems}, for the files found broken when picked."""
        self.built_on: NotebookContext | None = None
        """The set-up's context, for a panel built ahead of its page (:func:`show_panel`)."""
        self.made: list[w.Widget] = []
        """Every widget a panel built ahead made (closed if its page does not take it)."""
        self.client = self._name_of(path)
        options = [(name, name) for name in self.clients]
        if self.client == AS_RUN:
            options.insert(0, (f"as run: {display_path(path) if path else 'the injected parameters'}", AS_RUN))
        self.picker = w.Dropdown(options=options, value=self.client, description="Client")
        self.picker.style = {"description_width": "initial"}
        self.message = w.HTML()
        self.panel: Any = None
        self.following: charts_extra.Following | None = None
        self.widget = w.VBox([self.picker, self.message], layout=w.Layout(max_width="100%"))
        self._as_run = (params, path)
        self._show(params, path)
        self._reverting = False
        self.picker.observe(self._on_pick, names="value")

    def __getattr__(self, name: str) -> Any:
        panel = self.__dict__.get("panel")
        if panel is None:
            raise AttributeError(name)
        return getattr(panel, name)

    def close(self) -> None:
        """Close every widget this panel made ahead of its page (see :func:`show_panel`)."""
        for widget in self.made:
            widget.close()

    def _name_of(self, path: Path | None) -> str:
        if path is None:
            return AS_RUN
        resolved = path.resolve()
        return next((name for name, known in self.clients.items() if known.resolve() == resolved), AS_RUN)

    def _show(self, params: Params, path: Path | None) -> None:
        self.panel = self.factory(params, self.book)
        self.panel.client_file = self.writable(path)
        makers = charts_extra.FOLLOWING.get(self.area or "", ())
        self.following = charts_extra.Following(self.panel, makers, background=True) if makers else None
        below = [self.following.widget] if self.following else []
        self.widget.children = [self.picker, self.message, self.panel.widget, *below]

    def pick(self, name: str) -> bool:
        """Show client ``name``'s plan in the panel; False (the panel unchanged, the problems
        shown) when its file does not validate."""
        path = self.clients[name]
        try:
            params = load_params(path, self.book)
        except ParamsError as error:
            error.file = display_path(path)
            self.broken[name] = tuple(error.lines())
            self._mark_broken(name)
            items = "".join(f"<li><code>{html.escape(line)}</code></li>" for line in self.broken[name])
            self.message.value = (
                f"<div class='ftcost-broken-file'>{html.escape(name)} cannot be opened; the panel still shows "
                f"{html.escape(self.client or 'the plan as run')}:<ul>{items}</ul></div>"
            )
            return False
        self.client = name
        if self.broken.pop(name, None):
            self._mark_broken(name)
        self.message.value = ""
        self._show(params, path)
        return True

    def _mark_broken(self, name: str) -> None:
        """Each option labelled as its file was found when last picked (broken or not)."""
        self._reverting = True
        try:
            self.picker.options = [
                (label.removesuffix(BROKEN) + (BROKEN if value in self.broken else ""), value)
                for label, value in self.picker.options
            ]
            self.picker.value = self.client
        finally:
            self._reverting = False

    def _on_pick(self, change: dict[str, Any]) -> None:
        if self._reverting or change["new"] == self.client:
            return
        if change["new"] == AS_RUN:
            self.client = AS_RUN
            self.message.value = ""
            self._show(*self._as_run)
            return
        if not self.pick(change["new"]):
            self._reverting = True
            try:
                self.picker.value = self.client
            finally:
                self._reverting = False


def show_panel(panel_factory: Factory, ctx: NotebookContext, intro: str = "") -> ClientPanel | None:
    """A notebook's panel: the client picker (every client of
    :func:`~ftcost_helpers.views.notebook.dashboard_clients`, the notebook's own picked), the
    panel and, for the compute and ROI panels, the charts that follow it, displayed after an
    ``intro`` in Markdown, only when the notebook runs interactively (a headless run builds and
    shows nothing: None). "Keep as scenario" writes where
    :func:`~ftcost_helpers.views.notebook.kept_in` allows.

    A dashboard kernel builds this panel ahead of its page (:mod:`~ftcost_helpers.views.ahead`):
    then it is kept, not shown, and the page that asks for the same plan shows it as built."""
    if not ctx.interactive:
        return None
    area = getattr(panel_factory, "__name__", "").removesuffix("_panel")
    clients = dashboard_clients()
    if ahead.is_building():
        panel = _built_ahead(panel_factory, ctx, clients, area)
        ahead.keep_panel(area, intro, panel, clients)
        return panel
    panel = ahead.take_panel(area, intro, ctx, clients) or ClientPanel(
        panel_factory, ctx.params, ctx.book, ctx.path, clients, kept_in, area
    )
    if intro:
        show(markdown(intro))
    show(panel.widget)
    return panel


def _built_ahead(panel_factory: Factory, ctx: NotebookContext, clients: Mapping[str, Path], area: str) -> ClientPanel:
    """The panel built on ``ctx``, remembering the context it was built on and every widget it
    made (ipywidgets' construction callback), so that a page that does not take it can close
    them all."""
    made: list[w.Widget] = []
    before = w.Widget._widget_construction_callback  # ipywidgets has one slot: put back what was there
    w.Widget.on_widget_constructed(made.append)
    try:
        panel = ClientPanel(panel_factory, ctx.params, ctx.book, ctx.path, clients, kept_in, area)
    finally:
        w.Widget.on_widget_constructed(before)
    panel.built_on = ctx
    panel.made = made
    return panel
