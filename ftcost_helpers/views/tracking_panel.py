"""The small panel of ``notebooks/06_tracking``: move the plan (its training runs) and the
prices (every GPU rate of the price book × a factor), pick a cost export, and see the
re-quote's attribution, its waterfall and the variance to date follow.

The panel prices the plan as filed (the old quote) against the plan as moved on the moved
book (the new quote, with the pilot's calibration when the notebook has one for this
client) with :func:`~ftcost_helpers.engine.requote.requote`, and tracks the chosen export
against the new quote (:func:`~ftcost_helpers.views.tracking_views.track_actuals`); the
exports offered are those that belong to the client shown (another client's example files
are left out, :func:`~ftcost_helpers.views.tracking_views.own_file`). Tests
drive it as the other panels::

    panel = tracking_panel(params, book)
    panel.controls["runs"].value = 20
    panel.headline()["Programme total"]
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ipywidgets as w

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.loading import ParamsError
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import base_value
from ftcost_helpers.engine.requote import requote, with_calibration_of
from ftcost_helpers.engine.schema import Params
from ftcost_helpers.views import tables
from ftcost_helpers.views.charts import png_bytes
from ftcost_helpers.views.notebook import with_changes
from ftcost_helpers.views.tracking_views import (
    attribution_table,
    basis_of,
    by_area_table,
    own_file,
    scaled_book,
    track_actuals,
    waterfall_chart,
)

PANEL_DPI = 72
NO_ACTUALS = "none"
"""The export list's entry for "no actual spend"."""


class TrackingPanel:
    """Three controls, a headline, the attribution table, the waterfall and the variance table."""

    def __init__(
        self,
        params: Params,
        book: PriceBook,
        pilot: Params | None = None,
        actuals: Mapping[str, Path] | None = None,
    ) -> None:
        self.params = params
        self.book = book
        self.pilot = pilot if pilot is not None and pilot.client == params.client else None
        """The calibrated plan of this client's pilot (another client's is not used)."""
        self.client_file: Path | None = None
        self.error: str | None = None
        runs = round(base_value(params.training.runs))
        usable = {label: own_file(str(path), params, "actuals file")[0] for label, path in (actuals or {}).items()}
        self.exports: dict[str, Path] = {label: path for label, path in usable.items() if path is not None}
        """The cost exports offered, by their label (this client's only)."""
        exports = [NO_ACTUALS, *self.exports]
        self.controls: dict[str, Any] = {
            "runs": w.BoundedIntText(value=runs, min=1, max=1000, description="Training runs"),
            "gpu_prices": w.FloatSlider(
                value=1.0, min=0.5, max=1.5, step=0.05, description="GPU prices (× the book)", continuous_update=False
            ),
            "actuals": w.Dropdown(
                options=exports, value=exports[1 if len(exports) > 1 else 0], description="Actual spend"
            ),
        }
        for control in self.controls.values():
            control.style = {"description_width": "initial"}
        self.status = w.HTML()
        self.table_view = w.HTML()
        self.chart_view = w.Image(format="png", layout=w.Layout(max_width="100%", height="auto"))
        self.track_view = w.HTML()
        self.widget = w.VBox(
            [
                w.HTML("<h4>Re-quote and track</h4>"),
                self.status,
                w.HBox(list(self.controls.values()), layout=w.Layout(flex_flow="row wrap")),
                self.chart_view,
                self.table_view,
                self.track_view,
            ],
            layout=w.Layout(max_width="100%"),
        )
        self.recompute()
        for control in self.controls.values():
            control.observe(lambda _change: self.recompute(), names="value")

    def new_plan(self) -> Params:
        """The plan with the runs moved, and this client's calibration when there is one."""
        moved = with_changes(self.params, {"training.runs": self.controls["runs"].value}, self.book)
        if self.controls["runs"].value == round(base_value(self.params.training.runs)):
            moved = self.params
        return with_calibration_of(moved, self.pilot) if self.pilot is not None else moved

    def recompute(self) -> None:
        """Re-quote, redraw and re-track with the controls' values; a plan the schema refuses
        keeps the last figures and says why."""
        try:
            new, new_book = self.new_plan(), scaled_book(self.book, self.controls["gpu_prices"].value)
            self.result = requote(self.params, self.book, new, new_book, basis_of(self.params))
            self.breakdown = estimate(new, new_book)
            chosen = self.controls["actuals"].value
            self.figures = track_actuals(self.breakdown, self.exports[chosen]) if chosen != NO_ACTUALS else None
        except ParamsError as error:
            self.error = error.problem
            self.status.value = f"<div class='ftcost-refusal'><p><b>Refused:</b> {html.escape(self.error)}</p></div>"
            return
        self.error = None
        self.table_view.value = attribution_table(self.result)._repr_html_()
        self.chart_view.value = png_bytes(waterfall_chart(self.result), dpi=PANEL_DPI)
        self.track_view.value = by_area_table(self.figures)._repr_html_() if self.figures else ""
        figures = " · ".join(f"{k}: <b>{html.escape(v)}</b>" for k, v in self.headline().items())
        self.status.value = f"<div class='ftcost-headline'><p>{figures}</p></div>"  # the page's ready mark

    def headline(self) -> dict[str, str]:
        """The figures shown above the chart, as displayed."""
        shown = {
            "Programme total": tables.usd(self.breakdown.programme_total),
            "TCO over the horizon": tables.usd(self.breakdown.tco),
            f"Re-quote change ({self.result.basis} TCO)": tables.usd(self.result.change["tco"]),
        }
        if self.figures:
            shown["Variance to date"] = tables.usd(self.figures["variance_usd"]["total"])
        return shown


def tracking_panel(
    params: Params, book: PriceBook, pilot: Params | None = None, actuals: Mapping[str, Path] | None = None
) -> TrackingPanel:
    """The notebook's panel (see the module)."""
    return TrackingPanel(params, book, pilot, actuals)
