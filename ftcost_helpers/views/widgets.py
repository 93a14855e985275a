"""Interactive panels (ipywidgets): the drivers an analyst moves, and the same table and
chart as the notebook's static cells, redrawn in place.

A panel is built from a client's :class:`Params` and the price book. Each control maps to
one or more parameter paths; when a control changes, the panel sets those values on a copy
of the parameters (validated like a client file), runs the same
:func:`~ftcost_helpers.engine.breakdown.estimate` as the static cells and redraws the same table
(an HTML widget) and chart (a PNG image widget) in place, without flicker. Controls the
analyst has not touched keep their ranges. Tests drive a panel programmatically::

    panel = compute_panel(params, book)
    panel.controls["runs"].value = 20
    panel.total()          # the programme total now displayed
    panel.figure           # the chart now displayed
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import ipywidgets as w

from ftcost_helpers.engine.breakdown import Breakdown, estimate
from ftcost_helpers.engine.loading import ParamsError
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.schema import Params
from ftcost_helpers.views import charts, keep, live, tables
from ftcost_helpers.views.controls import (
    CONTROL_COLUMNS,
    PANEL_CLASS,
    PANEL_CSS,
    Control,
    alternative_controls,
    checkbox,
    count_slider,
    dropdown,
    float_slider,
    horizon,
    int_slider,
    money,
    path_control,
)
from ftcost_helpers.views.headlines import JUDGED_FACTORS as JUDGED_FACTORS
from ftcost_helpers.views.headlines import (
    compute_headline,
    dataset_headline,
    eval_headline,
    feasibility_lines,
    judged_notes,
    maintenance_headline,
    physics_notes,
    roi_headline,
)
from ftcost_helpers.views.notebook import with_changes

Table = Callable[[Breakdown], Any]
"""The panel's table for a breakdown."""
Headline = Callable[[Breakdown], dict[str, str]]
Notes = Callable[["Panel"], list[str]]
"""Sentences under the headline saying what a move did that the figures alone do not show."""

WIDGET_DPI = 80
"""Resolution of a panel's chart: lower than the static cells' so a redraw stays quick."""
REFERENCE_STYLE = live.REFERENCE_STYLE
"""How a chart draws the plan as filed under the moved plan: faint dashed outlines."""
SCENARIO_NAME = keep.SCENARIO_NAME
HEADROOM = 0.15
"""Share of the value axis's span added when a move's data passes the axis (see ``Panel._hold_axes``)."""


class Panel:
    """Controls, a headline, a table and a chart, redrawn in place when a control changes."""

    def __init__(
        self,
        title: str,
        params: Params,
        book: PriceBook,
        controls: Mapping[str, Control],
        table: Table,
        chart: str,
        headline: Headline,
        hooks: Mapping[str, Callable[[Panel, Any], None]] | None = None,
        notes: Notes | None = None,
    ) -> None:
        self.title = title
        self.params = params
        self.book = book
        self._controls = dict(controls)
        self._table = table
        self._headline = headline
        self._hooks = dict(hooks or {})
        self._notes = notes
        self._suspended = False
        self.changed: dict[str, Any] = {}
        """Controls the analyst moved: {control name: value}."""
        self.error: str | None = None
        self.last_redraw_seconds: float = 0.0
        self.status = w.HTML()
        self.table_view = w.HTML()
        self.chart_view = w.Image(format="png")
        self.scenario_view = w.HTML()
        self.client_file: Path | None = None
        """The client file "Keep as scenario" writes into (None: the block is shown instead)."""
        self.reset_button = w.Button(description="Reset to the plan", tooltip="Every control back to the client file")
        self.keep_button = w.Button(
            description="Keep as scenario", tooltip="The moved settings added to the client file's scenarios"
        )
        self.reset_button.on_click(lambda _button: self.reset())
        self.keep_button.on_click(lambda _button: self.show_scenario())
        self._initial = self._snapshot()
        self._good = (dict(self.changed), self._initial)
        """The last plan the panel could price: (moved controls, every control's value and options)."""
        self.base = estimate(params, book)
        self.breakdown = self.base
        self.table = table(self.base)
        self.chart = live.LiveChart(charts.LIVE_CHARTS[chart], self.base)
        self.figure = self.chart.figure
        self.chart.relegend()
        self.chart.fit()
        self.chart_view.value = self._first_png()
        pixels = round(self.figure.get_figwidth() * WIDGET_DPI)
        self.chart_view.width = str(pixels)
        # Never scaled below its own size (its 7–9 pt text would be ~5 px on a phone): a
        # narrow screen scrolls the chart sideways instead.
        self.chart_view.layout = w.Layout(width=f"{pixels}px", min_width=f"{pixels}px", height="auto")
        self.chart_box = w.Box([self.chart_view], layout=w.Layout(max_width="100%", overflow="auto"))
        self._plan_limits = [(ax.get_xlim(), ax.get_ylim()) for ax in self.figure.axes]
        self._limits = list(self._plan_limits)
        self._reference = [
            live.draw_outline(ax, outline)
            for ax, outline in zip(self.figure.axes, live.chart_outline(self.figure), strict=True)
        ]
        self.chart.extra = [collection for collections in self._reference for collection in collections]
        for name, control in self._controls.items():
            control.widget.observe(self._on_change(name), names="value")
        self.widget = w.VBox(
            [
                w.HTML(f"<style>{PANEL_CSS}</style><h4>{html.escape(title)}</h4>"),
                self.status,
                w.GridBox(
                    [c.widget for c in self._controls.values()],
                    layout=w.Layout(grid_template_columns=CONTROL_COLUMNS),
                ),
                w.HBox([self.reset_button, self.keep_button]),
                self.scenario_view,
                self.chart_box,
                self.table_view,
            ],
            layout=w.Layout(max_width="100%"),
        )
        self.widget.add_class(PANEL_CLASS)
        self._show_figures()

    @property
    def controls(self) -> dict[str, w.ValueWidget]:
        """The panel's widgets by name."""
        return {name: control.widget for name, control in self._controls.items()}

    def total(self) -> float:
        """The programme total (USD) the panel displays now."""
        return self.breakdown.programme_total

    def headline(self) -> dict[str, str]:
        """The figures shown above the table, as displayed."""
        return self._headline(self.breakdown)

    def current_params(self) -> Params:
        """The client's parameters with every moved control applied (validated)."""
        changes: dict[str, Any] = {}
        for name, value in self.changed.items():
            changes.update(self._controls[name].changes(value))
        return with_changes(self.params, changes, self.book) if changes else self.params

    def moved(self) -> dict[str, Any]:
        """The parameter paths the moved controls set, {dotted path: value}, for controls
        whose value differs from the plan's."""
        changes: dict[str, Any] = {}
        for name, value in self.changed.items():
            if value != self._initial[name][0]:
                changes.update(self._controls[name].changes(value))
        return changes

    def scenario_yaml(self) -> str:
        """The moved settings as a ``scenarios:`` block (empty when nothing moved)."""
        return keep.scenario_block(self.moved())

    def show_scenario(self) -> None:
        """Keep the moved settings: appended to the client file's scenarios when the panel has
        one (validated first, :mod:`~ftcost_helpers.views.keep`), else shown as a block."""
        keep.keep(self)

    def reset(self) -> None:
        """Every control back to the plan's value, the panel redrawn on the plan."""
        self._suspended = True
        try:
            for name, (value, options) in self._initial.items():
                widget = self._controls[name].widget
                if options is not None and tuple(widget.options) != tuple(options):
                    widget.options = options
                widget.value = value
        finally:
            self._suspended = False
        self.changed.clear()
        self.scenario_view.value = ""
        self._limits = list(self._plan_limits)
        self.recompute()

    def notes(self) -> list[str]:
        """What the last move did beyond the headline figures (plain sentences)."""
        return self._notes(self) if self._notes else []

    def recompute(self, moving: str | None = None) -> None:
        """Re-run the estimate with the controls' values; update the table, and the chart in
        place when the figures it shows changed, its axes taking in all of the data it draws.

        A plan the schema refuses (a negative bill, a tier the GPU is not priced on) is not
        applied: the control that was ``moving`` goes back to its last good value, the panel
        keeps the last good picture and says why in the schema's words."""
        start = time.perf_counter()
        try:
            breakdown = estimate(self.current_params(), self.book)
        except ParamsError as error:  # FigureOutOfRange too: the move is refused, the panel keeps its figures
            self.error = self._refusal(moving, error)
            self._restore_good()
        else:
            self.error = None
            self.breakdown = breakdown
            self.table = self._table(self.breakdown)
            moved = self.breakdown is not self.base and bool(self.moved())
            changed = self.chart.update(self.breakdown)
            changed |= self._show_reference(moved)
            if changed:
                self.chart.moved = moved
                self.chart.relegend()
                widened = self.chart.fit()
                widened |= self._hold_axes(moved)
                self.chart_view.value = self._png(widened)
            self._good = (dict(self.changed), self._snapshot())
        self._show_figures()
        self.last_redraw_seconds = time.perf_counter() - start

    def _snapshot(self) -> dict[str, tuple[Any, Any]]:
        """Every control's value and options (a selection's), by name."""
        return {name: (c.widget.value, getattr(c.widget, "options", None)) for name, c in self._controls.items()}

    def _refusal(self, moving: str | None, error: ParamsError) -> str:
        """The schema's one-line message, after the moved control's label."""
        if moving is None:
            return error.problem
        return f"{self._controls[moving].widget.description}: {error.problem}"

    def _restore_good(self) -> None:
        """Every control back to the last plan the panel could price (without recomputing)."""
        changed, values = self._good
        self._suspended = True
        try:
            for name, (value, options) in values.items():
                widget = self._controls[name].widget
                if options is not None and tuple(widget.options) != tuple(options):
                    widget.options = options
                if widget.value != value:
                    widget.value = value
        finally:
            self._suspended = False
        self.changed = dict(changed)

    def _on_change(self, name: str) -> Callable[[dict[str, Any]], None]:
        def handler(change: dict[str, Any]) -> None:
            self.changed[name] = change["new"]
            if self._suspended:
                return
            hook = self._hooks.get(name)
            if hook is not None:
                self._suspended = True
                try:
                    hook(self, change["new"])
                finally:
                    self._suspended = False
            self.recompute(name)

        return handler

    def _show_figures(self) -> None:
        """Table first, the headline last: once the headline shows a new total, the table and
        chart beside it already show the same plan."""
        self.table_view.value = self.table._repr_html_()
        figures = " · ".join(f"{html.escape(k)}: <b>{html.escape(v)}</b>" for k, v in self.headline().items())
        notes = "".join(f"<br><span class='ftcost-note'>{html.escape(n)}</span>" for n in self.notes())
        problem = (
            f"<br><span class='ftcost-refused' style='color:#b00'>Not applied: {html.escape(self.error)}. "
            "The panel shows the last plan it could price.</span>"
            if self.error
            else ""
        )
        verdict = "".join(
            f"<br><span class='ftcost-infeasible' style='color:#b00'><b>{html.escape(line)}</b></span>"
            for line in feasibility_lines(self.breakdown)
        )
        self.status.value = f"<div class='ftcost-headline'>{figures}{notes}{verdict}{problem}</div>"

    def feasibility(self) -> list[str]:
        """What the panel says of a plan that cannot run as specified (empty when it can)."""
        return feasibility_lines(self.breakdown)

    def _show_reference(self, moved: bool) -> bool:
        """The plan's base case outlined while the plan is moved; True when that changed."""
        changed = False
        for collections in self._reference:
            for collection in collections:
                changed |= collection.get_visible() != moved
                collection.set_visible(moved)
        return changed

    def _hold_axes(self, moved: bool) -> bool:
        """Keep each axis at least as wide as every drawing so far in the session (the scale
        never jumps back; a reset returns to the plan's own); True when an axis widened. A
        value axis that must widen takes :data:`HEADROOM` more, so that a slider walked one
        way redraws the whole frame now and then, not at every step."""
        widened = False
        for index, ax in enumerate(self.figure.axes):
            (x0, x1), (y0, y1) = (sorted(limits) for limits in self._limits[index])
            (cx0, cx1), (cy0, cy1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
            low, high = min(y0, cy0), max(y1, cy1)
            extra = HEADROOM * (high - low)
            y = (low - extra if cy0 < y0 else low, high + extra if cy1 > y1 else high)
            held = ((min(x0, cx0), max(x1, cx1)), y)
            if not moved:
                held = self._limits[index]
            widened |= held != self._limits[index]
            ax.set_xlim(*_oriented(held[0], ax.xaxis_inverted()))
            ax.set_ylim(*_oriented(held[1], ax.yaxis_inverted()))
            self._limits[index] = held
        return widened

    def _first_png(self) -> bytes:
        """The plan's chart, laid out to fit its labels; later drawings keep that layout."""
        png = self.chart.png(WIDGET_DPI)
        self.figure.set_layout_engine("none")
        return png

    def _png(self, widened: bool) -> bytes:
        """The chart as PNG, in place of the previous one. A wider axis may bring longer tick
        labels (USD 1M...): then the chart is laid out again (a layout pass costs about a third
        of a drawing, so only then)."""
        png = self.chart.png(WIDGET_DPI)
        if widened and not charts.fits_inside(self.figure):
            self.figure.set_layout_engine("constrained")
            self.chart.forget_background()
            png = self._first_png()
        return png


def _oriented(limits: tuple[float, float], inverted: bool) -> tuple[float, float]:
    low, high = sorted(limits)
    return (high, low) if inverted else (low, high)


# ---------------------------------------------------------------- compute


def compute_panel(params: Params, book: PriceBook) -> Panel:
    """GPU, tier, method, GPUs, hours, runs and the rerun tax → compute bill and GPU-hours."""
    t = params.training
    rated = book.gpu_rates_usd_per_gpu_hour
    gpus = [(g.label, k) for k, g in book.gpus.items() if k in rated or k == t.gpu]
    tiers = [(tables.TIER_LABELS.get(k, k), k) for k in _tiers_offered(params, book, t.gpu)]
    methods = [(m.label, k) for k, m in book.methods.items()]
    has_booked_rate = t.rate_usd_per_gpu_hour is not None
    controls = {
        "gpu": path_control(params, "training.gpu", dropdown, "GPU", gpus),
        "tier": path_control(params, "training.tier", dropdown, "Pricing tier", tiers),
        "method": path_control(params, "training.method", dropdown, "Method", methods),
        "price_book_rate": Control(
            checkbox("Price-book rate", not has_booked_rate),
            lambda on: {"training.rate_usd_per_gpu_hour": None} if on else {},
        ),
        "gpus_per_run": path_control(params, "training.gpus_per_run", int_slider, "GPUs per run", 1, 64),
        "hours_per_run": path_control(params, "training.hours_per_run", float_slider, "Hours per run", 0.5, 48, 0.5),
        "runs": path_control(params, "training.runs", count_slider, "Runs", 1, 50, convert=float),
        "failed_runs": path_control(params, "training.failed_runs", count_slider, "Failed runs", 0, 20, convert=float),
        "sweep_trials": path_control(
            params, "training.sweep_trials", count_slider, "Sweep trials", 0, 50, convert=float
        ),
        "sweep_early_stopping": path_control(params, "training.sweep_early_stopping", checkbox, "Sweep early stopping"),
    }
    if not has_booked_rate:
        controls["price_book_rate"].widget.disabled = True
    hooks = {"gpu": _offer_tiers_of_gpu, "tier": _price_new_hardware}
    return Panel(
        "Compute: move the training plan",
        params,
        book,
        controls,
        tables.compute_cost_table,
        "gpu_hours",
        compute_headline,
        hooks,
        notes=physics_notes,
    )


def _tiers_offered(params: Params, book: PriceBook, gpu: str) -> list[str]:
    """The tiers a GPU may be picked on: those the price book prices it on, and the plan's
    own tier on the plan's own GPU (its booked rate prices it where the book has none: a GPU
    the file describes, a catalogue GPU on a tier the book does not list)."""
    offered = list(book.gpu_rates_usd_per_gpu_hour.get(gpu, {}))
    t = params.training
    if gpu == t.gpu and t.tier not in offered:
        offered.append(t.tier)
    return offered


def _offer_tiers_of_gpu(panel: Panel, gpu: str) -> None:
    """When the GPU changes, offer only its tiers (keeping the tier if the GPU has it)."""
    tier = panel.controls["tier"]
    offered = _tiers_offered(panel.params, panel.book, gpu)
    keep = tier.value if tier.value in offered else offered[0]
    tier.options = [(tables.TIER_LABELS.get(k, k), k) for k in offered]
    tier.value = keep
    panel.changed["tier"] = keep
    _price_new_hardware(panel, keep)


def _price_new_hardware(panel: Panel, _value: Any) -> None:
    """A booked rate belongs to its GPU and tier: on new hardware the price book's rate, on
    hardware the book does not price (the plan's own, back again) the plan's booked rate."""
    gpu, tier = panel.controls["gpu"].value, panel.controls["tier"].value
    priced = tables.price_book_band(panel.book, gpu, tier) is not None
    panel.controls["price_book_rate"].value = priced
    panel.changed["price_book_rate"] = priced


# ---------------------------------------------------------------- dataset


def dataset_panel(params: Params, book: PriceBook) -> Panel:
    """Pairs, annotation hours and rate, double-labelling and synthetic data → dataset stack."""
    controls = {
        "pairs": path_control(
            params, "dataset.pairs", count_slider, "Training pairs", 500, 200_000, 500, convert=float
        ),
        "annotation_hours": path_control(
            params, "dataset.annotation_hours", count_slider, "Annotation hours", 0, 5_000, 10, convert=float
        ),
        "annotation_rate": path_control(
            params, "dataset.annotation_rate_usd_per_hour", float_slider, "Annotation rate (USD/hour)", 0, 200, 1
        ),
        "double_label_fraction": path_control(
            params, "dataset.double_label_fraction", float_slider, "Double-labelled share", 0, 1, 0.05
        ),
        "synthetic_tokens_million": path_control(
            params, "dataset.synthetic_tokens_million", float_slider, "Synthetic tokens (millions)", 0, 500, 5
        ),
        "synthetic_price": path_control(
            params,
            "dataset.synthetic_price_usd_per_1m_tokens",
            float_slider,
            "Synthetic price (USD/1M tokens)",
            0,
            75,
            0.5,
        ),
        "curation_usd": path_control(params, "dataset.curation_usd", money, "Curation, amount given (USD)", 1000),
        "sourcing_usd": path_control(params, "dataset.sourcing_usd", money, "Sourcing and rights (USD)", 500),
    }
    return Panel(
        "Dataset: move the labelling plan",
        params,
        book,
        controls,
        tables.dataset_table,
        "dataset",
        dataset_headline,
        notes=physics_notes,
    )


# ---------------------------------------------------------------- evaluation


def eval_panel(params: Params, book: PriceBook) -> Panel:
    """Set-up, judged runs and continuous evaluation → one-time against monthly cost."""
    controls = {
        "setup_usd": path_control(params, "evaluation.setup_usd", money, "Harness set-up (USD)", 500),
        "runs_during_programme": path_control(
            params, "evaluation.runs_during_programme", count_slider, "Judged eval runs", 0, 100, convert=float
        ),
        "judge_examples_per_run": path_control(
            params, "evaluation.judge_examples_per_run", count_slider, "Examples per run", 0, 5000, 100, convert=float
        ),
        "judges": path_control(params, "evaluation.judges", count_slider, "Judges", 0, 5, convert=float),
        "judge_price": path_control(
            params, "evaluation.judge_price_usd_per_call", float_slider, "Price per judge call (USD)", 0, 0.2, 0.005
        ),
        "continuous_usd_per_month": path_control(
            params, "evaluation.continuous_usd_per_month", money, "Continuous eval (USD/month)", 100
        ),
        "horizon_months": horizon(params),
    }
    return Panel(
        "Evaluation: move the harness plan",
        params,
        book,
        controls,
        tables.eval_table,
        "eval",
        eval_headline,
        notes=judged_notes,
    )


# ---------------------------------------------------------------- maintenance


def maintenance_panel(params: Params, book: PriceBook) -> Panel:
    """Quarterly upkeep, re-training and migrations → cost per quarter and quality lost."""
    controls = {
        "start_month": path_control(params, "maintenance.start_month", int_slider, "Maintenance starts (month)", 1, 24),
        "re_evaluation": path_control(
            params, "maintenance.re_evaluation_usd_per_quarter", money, "Re-evaluation (USD/quarter)", 500
        ),
        "drift_monitoring": path_control(
            params, "maintenance.drift_monitoring_usd_per_quarter", money, "Drift monitoring (USD/quarter)", 500
        ),
        "incremental_data": path_control(
            params, "maintenance.incremental_data_usd_per_quarter", money, "Incremental data (USD/quarter)", 500
        ),
        "retrains_per_quarter": path_control(
            params, "maintenance.retrains_per_quarter", float_slider, "Re-trains per quarter", 0, 4, 0.5
        ),
        "migrations_per_year": path_control(
            params, "maintenance.migrations_per_year", float_slider, "Base-model migrations per year", 0, 6, 0.5
        ),
        "migration_usd": path_control(params, "maintenance.migration_usd", money, "Cost per migration (USD)", 1000),
        "horizon_months": horizon(params),
    }
    return Panel(
        "Maintenance: move the upkeep plan",
        params,
        book,
        controls,
        tables.maintenance_table,
        "maintenance_cost",
        maintenance_headline,
    )


# ---------------------------------------------------------------- ROI


def roi_panel(params: Params, book: PriceBook) -> Panel:
    """The alternative's own controls, serving, engineering and the horizon → cash flow."""
    controls = alternative_controls(params, book) | {
        "engineer_weeks": path_control(params, "engineering.engineer_weeks", float_slider, "Engineer weeks", 0, 52, 1),
        "serving_gpus": path_control(params, "serving.gpus", int_slider, "Serving GPUs", 0, 16),
        "serving_hours_per_month": path_control(
            params, "serving.hours_per_month", float_slider, "Serving hours per month", 0, 744, 1
        ),
        "horizon_months": horizon(params),
    }
    return Panel(
        "Return on investment: move the business case",
        params,
        book,
        controls,
        tables.monthly_costs_table,
        "cash_flow",
        roi_headline,
    )


PANELS: dict[str, Callable[[Params, PriceBook], Panel]] = {
    "compute": compute_panel,
    "dataset": dataset_panel,
    "eval": eval_panel,
    "maintenance": maintenance_panel,
    "roi": roi_panel,
}
"""Each notebook's panel by area."""
