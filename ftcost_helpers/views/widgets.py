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

import functools
import html
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import ipywidgets as w
import yaml

from ftcost_helpers.engine.breakdown import Breakdown, estimate
from ftcost_helpers.engine.feasibility import plan_feasibility
from ftcost_helpers.engine.fit import plan_fit
from ftcost_helpers.engine.loading import ParamsError
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import base_value
from ftcost_helpers.engine.schema import Params
from ftcost_helpers.views import charts, live, tables
from ftcost_helpers.views.notebook import with_changes

Changes = Callable[[Any], dict[str, Any]]
"""What setting a control to a value changes: {parameter path: value}."""
Table = Callable[[Breakdown], Any]
"""The panel's table for a breakdown."""
Headline = Callable[[Breakdown], dict[str, str]]
Notes = Callable[["Panel"], list[str]]
"""Sentences under the headline saying what a move did that the figures alone do not show."""

LAYOUT = {"description_width": "min(215px, 45%)"}
"""Labels keep 215 px beside their control, but never more than 45 % of it (a phone's 390 px)."""
WIDGET_DPI = 80
"""Resolution of a panel's chart: lower than the static cells' so a redraw stays quick."""
CONTROL_WIDTH = "465px"
"""Widest a control grows; on a narrower screen it takes the width there is."""
CONTROL_COLUMNS = f"repeat(auto-fit, minmax(min(300px, 100%), {CONTROL_WIDTH}))"
"""The controls' grid: as many columns of 300–465 px as fit, one narrower column on a phone."""
REFERENCE_STYLE = live.REFERENCE_STYLE
"""How a chart draws the plan as filed under the moved plan: faint dashed outlines."""
SCENARIO_NAME = "Moved in the workshop panel"
HEADROOM = 0.15
"""Share of the value axis's span added when a move's data passes the axis (see ``Panel._hold_axes``)."""
PANEL_CLASS = "ftcost-panel"
"""The CSS class of a panel's outer box (:data:`PANEL_CSS` applies inside it only)."""
PANEL_CSS = f"""
.{PANEL_CLASS} .widget-inline-hbox, .{PANEL_CLASS} .jupyter-widget-inline-hbox {{ min-width: 0; max-width: 100%; }}
.{PANEL_CLASS} .widget-inline-hbox .widget-label,
.{PANEL_CLASS} .jupyter-widget-inline-hbox .jupyter-widget-label {{
  white-space: normal; overflow: visible; text-overflow: clip; line-height: 1.25; align-self: center;
}}
.{PANEL_CLASS} .widget-hslider, .{PANEL_CLASS} .jupyter-widget-hslider {{ min-width: 0; }}
.{PANEL_CLASS} .slider-container {{ min-width: 0; }}
.{PANEL_CLASS} input {{ min-width: 0; }}
@media (max-width: 540px) {{
  .{PANEL_CLASS} .widget-inline-hbox, .{PANEL_CLASS} .jupyter-widget-inline-hbox {{ flex-wrap: wrap; }}
  .{PANEL_CLASS} .widget-inline-hbox .widget-label,
  .{PANEL_CLASS} .jupyter-widget-inline-hbox .jupyter-widget-label {{
    width: 100% !important; text-align: left; margin-right: 0;
  }}
}}
"""
"""Labels wrap instead of being cut ("Synthetic price (USD/1M toke…"); on a phone each label
sits above its control, so no field runs past the screen's edge."""


@dataclass(frozen=True)
class Control:
    """A widget and what its value changes in the parameters."""

    widget: w.ValueWidget
    changes: Changes


def _same(value: Any) -> Any:
    """The value unchanged (a setter that needs no conversion)."""
    return value


def _at(path: str, convert: Callable[[Any], Any] = _same) -> Changes:
    """A control that sets one parameter path."""
    return lambda value: {path: convert(value)}


def _control(
    params: Params,
    path: str,
    build: Callable[..., w.ValueWidget],
    label: str,
    *limits: Any,
    convert: Callable[[Any], Any] = _same,
) -> Control:
    """A control on one parameter path: ``build(label, start, *limits)`` starting at the plan's
    value there (a range's base case; whole numbers, flags and names as filed), whose value
    sets that path (through ``convert``)."""
    value = functools.reduce(getattr, path.split("."), params)
    start = value if isinstance(value, bool | int | str) else base_value(value)
    return Control(build(label, start, *limits), _at(path, convert))


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
        self.reset_button = w.Button(description="Reset to the plan", tooltip="Every control back to the client file")
        self.keep_button = w.Button(description="Keep as scenario", tooltip="The moved settings as a YAML block")
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
        """The moved settings as a ``scenarios:`` block to paste into the client file (empty
        when nothing moved)."""
        moved = self.moved()
        if not moved:
            return ""
        overrides: dict[str, Any] = {}
        for path, value in moved.items():
            *parents, leaf = path.split(".")
            section = overrides
            for part in parents:
                section = section.setdefault(part, {})
            section[leaf] = value
        block = [{"name": SCENARIO_NAME, "overrides": overrides}]
        return yaml.safe_dump({"scenarios": block}, sort_keys=False, allow_unicode=True)

    def show_scenario(self) -> None:
        """Show the YAML block of the moved settings (or say that nothing moved)."""
        text = self.scenario_yaml()
        if not text:
            self.scenario_view.value = "<div>Nothing moved yet: the panel shows the client file as filed.</div>"
            return
        self.scenario_view.value = (
            "<div>Paste under the client file's <code>scenarios:</code> (or as its own block):"
            f"<pre class='ftcost-scenario'>{html.escape(text)}</pre></div>"
        )

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


def feasibility_lines(breakdown: Breakdown) -> list[str]:
    """A plan that cannot run as written, said as the report says it
    (:func:`~ftcost_helpers.engine.feasibility.plan_feasibility`), and for a model that does
    not fit its GPUs, what would make it fit (:func:`~ftcost_helpers.engine.fit.plan_fit`)."""
    verdict = plan_feasibility(breakdown)
    if verdict.feasible:
        return []
    lines = [verdict.sentence[0].upper() + verdict.sentence[1:] + "."]
    fit = plan_fit(breakdown.params, breakdown.book, breakdown.base)
    if not fit.fits:
        lines.append(f"To make it fit: {'; or '.join(fit.fixes)}. The figures price runs that would not start.")
    return lines


def _oriented(limits: tuple[float, float], inverted: bool) -> tuple[float, float]:
    low, high = sorted(limits)
    return (high, low) if inverted else (low, high)


# ---------------------------------------------------------------- widget builders


def _style(widget: w.ValueWidget) -> w.ValueWidget:
    widget.style = LAYOUT
    widget.layout = w.Layout(width="100%", max_width=CONTROL_WIDTH)
    return widget


def _ranged(
    slider_class: type[w.IntSlider] | type[w.FloatSlider],
    description: str,
    value: float,
    low: float,
    high: float,
    step: float,
) -> w.IntSlider | w.FloatSlider:
    """A slider whose range always takes in the plan's own ``value`` (up to twice it), so the
    slider shows the plan as filed."""
    return _style(
        slider_class(
            value=value,
            min=min(low, value),
            max=max(high, 2 * value),
            step=step,
            description=description,
            continuous_update=False,
        )
    )


def int_slider(description: str, value: int, low: int, high: int, step: int = 1) -> w.IntSlider:
    """A slider for a whole number the schema keeps whole (GPUs, months)."""
    return _ranged(w.IntSlider, description, value, low, high, step)


def float_slider(description: str, value: float, low: float, high: float, step: float) -> w.FloatSlider:
    """A slider for an amount, a rate or a share."""
    return _ranged(w.FloatSlider, description, value, low, high, step)


def _horizon(params: Params) -> Control:
    """The horizon in months: the same control on every panel that shows running costs."""
    return _control(params, "horizon_months", int_slider, "Horizon (months)", 6, 60)


def count_slider(description: str, value: float, low: float, high: float, step: float = 1) -> w.FloatSlider:
    """A slider for a count the schema lets be fractional (runs, pairs, judges: an expected
    value such as 2.5 runs): the plan's value shows unrounded, whole numbers without decimals."""
    slider = float_slider(description, value, low, high, step)
    slider.readout_format = ",.6"  # no type: d3 trims trailing zeros (2.5, 14,000)
    return slider


def money(description: str, value: float, step: float = 100.0) -> w.FloatText:
    """An amount typed in (USD): any number; the schema refuses what a client file may not
    hold (a negative bill), in its own words, and the panel keeps its last good plan."""
    return _style(w.FloatText(value=round(value, 2), step=step, description=description))


def dropdown(description: str, value: str, options: list[tuple[str, str]]) -> w.Dropdown:
    return _style(w.Dropdown(options=options, value=value, description=description))


def checkbox(description: str, value: bool) -> w.Checkbox:
    return _style(w.Checkbox(value=value, description=description, indent=True))


def _usd_headline(values: Mapping[str, float]) -> dict[str, str]:
    return {name: tables.usd(value) for name, value in values.items()}


def _break_even(breakdown: Breakdown) -> str:
    month = breakdown.break_even_month
    return "none within the horizon" if month is None else f"month {month}"


def _programme(breakdown: Breakdown) -> dict[str, str]:
    """The three figures every panel shows beside its own: the one-time programme, the total
    cost of ownership over the horizon and the break-even month."""
    return {
        "Programme total": tables.usd(breakdown.programme_total),
        "TCO over the horizon": tables.usd(breakdown.tco),
        "Break-even": _break_even(breakdown),
    }


def _number(value: float, decimals: int = 0) -> str:
    return f"{float(value):,.{decimals}f}"


def _physics_notes(panel: Panel) -> list[str]:
    """What a move did to the physics view (tokens, physics GPU-hours, implied utilisation),
    and whether the booked plan followed: the booked GPU-hours only move with GPUs, hours
    per run and runs."""
    now, plan = panel.breakdown.base.compute, panel.base.base.compute
    if float(now.tokens_per_run) == float(plan.tokens_per_run) and float(now.flops_per_run) == float(
        plan.flops_per_run
    ):
        return []
    sentence = (
        f"Physics view: {_number(float(now.tokens_per_run) / 1e6, 1)}M training tokens per run "
        f"(plan {_number(float(plan.tokens_per_run) / 1e6, 1)}M), "
        f"{_number(now.physics_gpu_hours_per_run, 1)} physics GPU-hours per run "
        f"(plan {_number(plan.physics_gpu_hours_per_run, 1)}), "
        f"implied utilisation {tables.percent(now.implied_utilisation, 1)} "
        f"(plan {tables.percent(plan.implied_utilisation, 1)})."
    )
    if float(now.booked_gpu_hours) == float(plan.booked_gpu_hours):
        sentence += (
            f" The booked plan does not follow: it still books {_number(now.booked_gpu_hours)} GPU-hours, "
            "so the compute bill is unchanged (move hours per run in the compute panel)."
        )
    return [sentence]


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
        "gpu": _control(params, "training.gpu", dropdown, "GPU", gpus),
        "tier": _control(params, "training.tier", dropdown, "Pricing tier", tiers),
        "method": _control(params, "training.method", dropdown, "Method", methods),
        "price_book_rate": Control(
            checkbox("Price-book rate", not has_booked_rate),
            lambda on: {"training.rate_usd_per_gpu_hour": None} if on else {},
        ),
        "gpus_per_run": _control(params, "training.gpus_per_run", int_slider, "GPUs per run", 1, 64),
        "hours_per_run": _control(params, "training.hours_per_run", float_slider, "Hours per run", 0.5, 48, 0.5),
        "runs": _control(params, "training.runs", count_slider, "Runs", 1, 50, convert=float),
        "failed_runs": _control(params, "training.failed_runs", count_slider, "Failed runs", 0, 20, convert=float),
        "sweep_trials": _control(params, "training.sweep_trials", count_slider, "Sweep trials", 0, 50, convert=float),
        "sweep_early_stopping": _control(params, "training.sweep_early_stopping", checkbox, "Sweep early stopping"),
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
        _compute_headline,
        hooks,
        notes=_physics_notes,
    )


def _compute_headline(breakdown: Breakdown) -> dict[str, str]:
    c = breakdown.base.compute
    return (
        _usd_headline({"Compute": breakdown.areas_usd["compute"]})
        | {
            "Rate": tables.usd_cents(c.rate_usd_per_gpu_hour) + "/GPU-hour",
            "Booked GPU-hours": _booked_hours(breakdown),
            "Implied utilisation": tables.percent(c.implied_utilisation, 1),
            "Fewest GPUs": _number(c.fewest_gpus),
            "Memory per GPU": f"{float(c.memory_per_gpu_gb):,.2f} GB",
        }
        | _programme(breakdown)
    )


def _booked_hours(breakdown: Breakdown) -> str:
    """Every GPU-hour the plan books (training runs, the failed runs' rerun tax and the sweep),
    as the chart's booked bar and the table's compute total count them
    (:func:`~ftcost_helpers.views.tables.gpu_hours_frame`); the training runs' own share after
    it when the other parts book any."""
    frame = tables.gpu_hours_frame(breakdown)
    booked = frame[frame["View"] == "Booked plan"]
    total, runs = float(booked["GPU-hours"].sum()), float(booked["GPU-hours"].iloc[0])
    return _number(total) if _number(total) == _number(runs) else f"{_number(total)} ({_number(runs)} in training runs)"


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
        "pairs": _control(params, "dataset.pairs", count_slider, "Training pairs", 500, 200_000, 500, convert=float),
        "annotation_hours": _control(
            params, "dataset.annotation_hours", count_slider, "Annotation hours", 0, 5_000, 10, convert=float
        ),
        "annotation_rate": _control(
            params, "dataset.annotation_rate_usd_per_hour", float_slider, "Annotation rate (USD/hour)", 0, 200, 1
        ),
        "double_label_fraction": _control(
            params, "dataset.double_label_fraction", float_slider, "Double-labelled share", 0, 1, 0.05
        ),
        "synthetic_tokens_million": _control(
            params, "dataset.synthetic_tokens_million", float_slider, "Synthetic tokens (millions)", 0, 500, 5
        ),
        "synthetic_price": _control(
            params,
            "dataset.synthetic_price_usd_per_1m_tokens",
            float_slider,
            "Synthetic price (USD/1M tokens)",
            0,
            75,
            0.5,
        ),
        "curation_usd": _control(params, "dataset.curation_usd", money, "Curation, amount given (USD)", 1000),
        "sourcing_usd": _control(params, "dataset.sourcing_usd", money, "Sourcing and rights (USD)", 500),
    }
    return Panel(
        "Dataset: move the labelling plan",
        params,
        book,
        controls,
        tables.dataset_table,
        "dataset",
        _dataset_headline,
        notes=_physics_notes,
    )


def _dataset_headline(breakdown: Breakdown) -> dict[str, str]:
    areas = breakdown.areas_usd
    ratio = areas["dataset"] / areas["compute"] if areas["compute"] else float("nan")
    return (
        _usd_headline({"Dataset": areas["dataset"]}) | {"Dataset ÷ compute": f"{ratio:,.1f}×"} | _programme(breakdown)
    )


# ---------------------------------------------------------------- evaluation


def eval_panel(params: Params, book: PriceBook) -> Panel:
    """Set-up, judged runs and continuous evaluation → one-time against monthly cost."""
    controls = {
        "setup_usd": _control(params, "evaluation.setup_usd", money, "Harness set-up (USD)", 500),
        "runs_during_programme": _control(
            params, "evaluation.runs_during_programme", count_slider, "Judged eval runs", 0, 100, convert=float
        ),
        "judge_examples_per_run": _control(
            params, "evaluation.judge_examples_per_run", count_slider, "Examples per run", 0, 5000, 100, convert=float
        ),
        "judges": _control(params, "evaluation.judges", count_slider, "Judges", 0, 5, convert=float),
        "judge_price": _control(
            params, "evaluation.judge_price_usd_per_call", float_slider, "Price per judge call (USD)", 0, 0.2, 0.005
        ),
        "continuous_usd_per_month": _control(
            params, "evaluation.continuous_usd_per_month", money, "Continuous eval (USD/month)", 100
        ),
        "horizon_months": _horizon(params),
    }
    return Panel(
        "Evaluation: move the harness plan",
        params,
        book,
        controls,
        tables.eval_table,
        "eval",
        _eval_headline,
        notes=_judged_notes,
    )


def _eval_headline(breakdown: Breakdown) -> dict[str, str]:
    return _usd_headline(
        {
            "Evaluation, one-time": breakdown.areas_usd["eval"],
            "Per month": breakdown.ongoing_monthly_usd["eval"],
        }
    ) | _programme(breakdown)


JUDGED_FACTORS = {
    "runs_during_programme": "judged eval runs",
    "judge_examples_per_run": "examples per run",
    "judges": "judges",
    "judge_price": "price per judge call",
}
"""The four controls whose product is the LLM-as-judge bill (runs × examples × judges × price)."""


def _judged_notes(panel: Panel) -> list[str]:
    """The judged-evaluation bill is a product: while any factor is 0, moving the others does
    nothing, so say which factors are 0 (the controls are inactive until they are set)."""
    zero = [label for name, label in JUDGED_FACTORS.items() if not panel.controls[name].value]
    if not zero or len(zero) == len(JUDGED_FACTORS):
        active = not zero
        return [] if active else ["Judged evaluation is off (runs, examples, judges and price are all 0)."]
    return [
        "Judged evaluation is inactive: runs × examples × judges × price per call is 0 while "
        + ", ".join(zero)
        + (" is" if len(zero) == 1 else " are")
        + " 0; set "
        + ("it" if len(zero) == 1 else "them")
        + " to price the judge calls."
    ]


# ---------------------------------------------------------------- maintenance


def maintenance_panel(params: Params, book: PriceBook) -> Panel:
    """Quarterly upkeep, re-training and migrations → cost per quarter and quality lost."""
    controls = {
        "start_month": _control(params, "maintenance.start_month", int_slider, "Maintenance starts (month)", 1, 24),
        "re_evaluation": _control(
            params, "maintenance.re_evaluation_usd_per_quarter", money, "Re-evaluation (USD/quarter)", 500
        ),
        "drift_monitoring": _control(
            params, "maintenance.drift_monitoring_usd_per_quarter", money, "Drift monitoring (USD/quarter)", 500
        ),
        "incremental_data": _control(
            params, "maintenance.incremental_data_usd_per_quarter", money, "Incremental data (USD/quarter)", 500
        ),
        "retrains_per_quarter": _control(
            params, "maintenance.retrains_per_quarter", float_slider, "Re-trains per quarter", 0, 4, 0.5
        ),
        "migrations_per_year": _control(
            params, "maintenance.migrations_per_year", float_slider, "Base-model migrations per year", 0, 6, 0.5
        ),
        "migration_usd": _control(params, "maintenance.migration_usd", money, "Cost per migration (USD)", 1000),
        "horizon_months": _horizon(params),
    }
    return Panel(
        "Maintenance: move the upkeep plan",
        params,
        book,
        controls,
        tables.maintenance_table,
        "maintenance_cost",
        _maintenance_headline,
    )


def _maintenance_headline(breakdown: Breakdown) -> dict[str, str]:
    quarterly = breakdown.base.maintenance_quarterly
    return _usd_headline(
        {
            "Maintenance per quarter": sum(float(v) for v in quarterly.values()),
            "Per month once started": breakdown.ongoing_monthly_usd["maintenance"],
            "Migrations per quarter": float(quarterly.get("Base-model migration", 0.0)),
        }
    ) | _programme(breakdown)


# ---------------------------------------------------------------- ROI


def roi_panel(params: Params, book: PriceBook) -> Panel:
    """The alternative's own controls, serving, engineering and the horizon → cash flow."""
    controls = _alternative_controls(params, book) | {
        "engineer_weeks": _control(params, "engineering.engineer_weeks", float_slider, "Engineer weeks", 0, 52, 1),
        "serving_gpus": _control(params, "serving.gpus", int_slider, "Serving GPUs", 0, 16),
        "serving_hours_per_month": _control(
            params, "serving.hours_per_month", float_slider, "Serving hours per month", 0, 744, 1
        ),
        "horizon_months": _horizon(params),
    }
    return Panel(
        "Return on investment: move the business case",
        params,
        book,
        controls,
        tables.monthly_costs_table,
        "cash_flow",
        _roi_headline,
    )


def _alternative_controls(params: Params, book: PriceBook) -> dict[str, Control]:
    """The controls of what the fine-tune replaces, by its kind: an API bill; labour (staff,
    hours per month, share of time saved as a percentage, loaded rate); a RAG bill. A plan
    with nothing to replace gets an API bill starting at 0, to ask "what if there were one"."""
    kind = params.alternative.kind
    if kind == "labour":
        return {
            "labour_staff": _control(
                params, "alternative.labour.staff", count_slider, "Staff whose time is saved", 0, 500, convert=float
            ),
            "labour_hours": _control(
                params,
                "alternative.labour.hours_per_staff_per_month",
                float_slider,
                "Hours per person a month",
                0,
                300,
                1,
            ),
            "time_saved_percent": _percent_control(
                params, "alternative.labour.time_saved_fraction", "Share of their time saved (%)"
            ),
            "labour_rate": _control(
                params,
                "alternative.labour.loaded_rate_usd_per_hour",
                count_slider,
                "Loaded rate (USD/hour)",
                0,
                300,
                convert=float,
            ),
        }
    if kind == "rag":
        return {
            "rag_usd_per_month": _control(
                params, "alternative.rag.usd_per_month", money, "RAG bill replaced (USD/month)", 1000
            )
        }
    return {
        "api_usd_per_month": Control(
            money("API bill replaced (USD/month)", _api_bill(params, book), 1000),
            lambda v: {"alternative.kind": "api", "alternative.api.usd_per_month": v},
        )
    }


def _percent_control(params: Params, path: str, label: str) -> Control:
    """A share (0–1 in the file) shown and moved as a percentage (0–100)."""
    value = base_value(functools.reduce(getattr, path.split("."), params))
    slider = float_slider(label, round(100 * float(value), 4), 0, 100, 1)
    slider.readout_format = ",.4"
    return Control(slider, _at(path, lambda percent: round(float(percent) / 100, 6)))


def _api_bill(params: Params, book: PriceBook) -> float:
    """USD per month of the API alternative in the base case (0 when the plan has none)."""
    return float(estimate(params, book).base.alternative_monthly) if params.alternative.kind == "api" else 0.0


def _roi_headline(breakdown: Breakdown) -> dict[str, str]:
    return (
        _usd_headline(
            {
                "Alternative per month": float(breakdown.base.alternative_monthly),
                "Serving per month": breakdown.ongoing_monthly_usd["serving"],
            }
        )
        | {"Serving per 1M tokens": tables.usd_cents(breakdown.base.serving.usd_per_1m_tokens)}
        | _programme(breakdown)
    )


PANELS: dict[str, Callable[[Params, PriceBook], Panel]] = {
    "compute": compute_panel,
    "dataset": dataset_panel,
    "eval": eval_panel,
    "maintenance": maintenance_panel,
    "roi": roi_panel,
}
"""Each notebook's panel by area."""
