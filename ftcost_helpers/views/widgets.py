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

from ftcost_helpers.engine.breakdown import Breakdown, estimate
from ftcost_helpers.engine.loading import ParamsError
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import base_value
from ftcost_helpers.engine.schema import Params
from ftcost_helpers.views import charts, tables
from ftcost_helpers.views.notebook import with_changes

Changes = Callable[[Any], dict[str, Any]]
"""What setting a control to a value changes: {parameter path: value}."""
Render = Callable[[Breakdown], tuple[Any, Any]]
"""(table, figure) for a breakdown."""
Headline = Callable[[Breakdown], dict[str, str]]

LAYOUT = {"description_width": "215px"}
WIDGET_DPI = 80
"""Resolution of a panel's chart: lower than the static cells' so a redraw stays quick."""
CONTROL_WIDTH = "465px"


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
        render: Render,
        headline: Headline,
        hooks: Mapping[str, Callable[[Panel, Any], None]] | None = None,
    ) -> None:
        self.title = title
        self.params = params
        self.book = book
        self._controls = dict(controls)
        self._render = render
        self._headline = headline
        self._hooks = dict(hooks or {})
        self._suspended = False
        self.changed: dict[str, Any] = {}
        """Controls the analyst moved: {control name: value}."""
        self.error: str | None = None
        self.last_redraw_seconds: float = 0.0
        self.status = w.HTML()
        self.table_view = w.HTML()
        self.chart_view = w.Image(format="png")
        self._axes_positions: list[Any] | None = None
        self.breakdown = estimate(params, book)
        self.table, self.figure = render(self.breakdown)
        for name, control in self._controls.items():
            control.widget.observe(self._on_change(name), names="value")
        self.widget = w.VBox(
            [
                w.HTML(f"<h4>{html.escape(title)}</h4>"),
                w.GridBox(
                    [c.widget for c in self._controls.values()],
                    layout=w.Layout(grid_template_columns=f"repeat(2, {CONTROL_WIDTH})"),
                ),
                self.status,
                self.table_view,
                self.chart_view,
            ]
        )
        self._draw()

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

    def recompute(self) -> None:
        """Re-run the estimate with the controls' values and redraw table and chart."""
        start = time.perf_counter()
        try:
            params = self.current_params()
        except ParamsError as error:
            self.error = error.problem
        else:
            self.error = None
            self.breakdown = estimate(params, self.book)
            with charts.fixed_layout():
                self.table, self.figure = self._render(self.breakdown)
        self._draw()
        self.last_redraw_seconds = time.perf_counter() - start

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
            self.recompute()

        return handler

    def _draw(self) -> None:
        """Chart and table first, the headline last: once the headline shows a new total, the
        table and chart beside it already show the same plan."""
        self.chart_view.value = self._png()
        self.chart_view.width = str(round(self.figure.get_figwidth() * WIDGET_DPI))
        self.table_view.value = self.table._repr_html_()
        figures = " · ".join(f"{html.escape(k)}: <b>{html.escape(v)}</b>" for k, v in self.headline().items())
        problem = f"<br><span style='color:#b00'>Not applied: {html.escape(self.error)}</span>" if self.error else ""
        self.status.value = f"<div>{figures}{problem}</div>"

    def _png(self) -> bytes:
        """The chart as PNG, in place of the previous one. The first drawing lays the axes
        out; later ones reuse that layout (a layout pass costs about a third of a redraw)."""
        figure = self.figure
        if figure.get_layout_engine() is None and self._axes_positions is not None:
            for ax, position in zip(figure.axes, self._axes_positions, strict=False):
                ax.set_position(position)
        png = charts.png_bytes(figure, WIDGET_DPI)
        if figure.get_layout_engine() is None and not charts.fits_inside(figure):
            # Labels grew (USD 1M...): draw the chart again with its own layout.
            self.table, self.figure = self._render(self.breakdown)
            png = charts.png_bytes(self.figure, WIDGET_DPI)
            self._axes_positions = None
        if self._axes_positions is None:
            self._axes_positions = [ax.get_position() for ax in self.figure.axes]
        return png


# ---------------------------------------------------------------- widget builders


def _style(widget: w.ValueWidget) -> w.ValueWidget:
    widget.style = LAYOUT
    widget.layout = w.Layout(width=CONTROL_WIDTH)
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


def money(description: str, value: float, step: float = 100.0) -> w.BoundedFloatText:
    return _style(w.BoundedFloatText(value=round(value, 2), min=0.0, max=1e9, step=step, description=description))


def dropdown(description: str, value: str, options: list[tuple[str, str]]) -> w.Dropdown:
    return _style(w.Dropdown(options=options, value=value, description=description))


def checkbox(description: str, value: bool) -> w.Checkbox:
    return _style(w.Checkbox(value=value, description=description, indent=True))


def _usd_headline(values: Mapping[str, float]) -> dict[str, str]:
    return {name: tables.usd(value) for name, value in values.items()}


def _break_even(breakdown: Breakdown) -> str:
    month = breakdown.break_even_month
    return "none within the horizon" if month is None else f"month {month}"


# ---------------------------------------------------------------- compute


def compute_panel(params: Params, book: PriceBook) -> Panel:
    """GPU, tier, method, GPUs, hours, runs and the rerun tax → compute bill and GPU-hours."""
    t = params.training
    rated = book.gpu_rates_usd_per_gpu_hour
    gpus = [(g.label, k) for k, g in book.gpus.items() if k in rated or k == t.gpu]
    tiers = [(tables.TIER_LABELS.get(k, k), k) for k in rated.get(t.gpu, {t.tier: None})]
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
    return Panel("Compute: move the training plan", params, book, controls, _render_compute, _compute_headline, hooks)


def _render_compute(breakdown: Breakdown) -> tuple[Any, Any]:
    return tables.compute_cost_table(breakdown), charts.gpu_hours_chart(breakdown)


def _compute_headline(breakdown: Breakdown) -> dict[str, str]:
    c = breakdown.base.compute
    return _usd_headline({"Compute": breakdown.areas_usd["compute"], "Programme total": breakdown.programme_total}) | {
        "Rate": tables.usd_cents(c.rate_usd_per_gpu_hour) + "/GPU-hour",
        "Implied utilisation": tables.percent(c.implied_utilisation, 1),
    }


def _offer_tiers_of_gpu(panel: Panel, gpu: str) -> None:
    """When the GPU changes, offer only its tiers (keeping the tier if the GPU has it)."""
    tier = panel.controls["tier"]
    offered = list(panel.book.gpu_rates_usd_per_gpu_hour[gpu])
    keep = tier.value if tier.value in offered else offered[0]
    tier.options = [(tables.TIER_LABELS.get(k, k), k) for k in offered]
    tier.value = keep
    panel.changed["tier"] = keep
    _price_new_hardware(panel, keep)


def _price_new_hardware(panel: Panel, _value: Any) -> None:
    """A booked rate belongs to its GPU and tier: on new hardware, price from the book."""
    panel.controls["price_book_rate"].value = True
    panel.changed["price_book_rate"] = True


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
    return Panel("Dataset: move the labelling plan", params, book, controls, _render_dataset, _dataset_headline)


def _render_dataset(breakdown: Breakdown) -> tuple[Any, Any]:
    return tables.dataset_table(breakdown), charts.dataset_stack_chart(breakdown)


def _dataset_headline(breakdown: Breakdown) -> dict[str, str]:
    areas = breakdown.areas_usd
    ratio = areas["dataset"] / areas["compute"] if areas["compute"] else float("nan")
    return _usd_headline({"Dataset": areas["dataset"], "Programme total": breakdown.programme_total}) | {
        "Dataset ÷ compute": f"{ratio:,.1f}×"
    }


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
    return Panel("Evaluation: move the harness plan", params, book, controls, _render_eval, _eval_headline)


def _render_eval(breakdown: Breakdown) -> tuple[Any, Any]:
    return tables.eval_table(breakdown), charts.eval_chart(breakdown)


def _eval_headline(breakdown: Breakdown) -> dict[str, str]:
    return _usd_headline(
        {
            "Evaluation, one-time": breakdown.areas_usd["eval"],
            "Per month": breakdown.ongoing_monthly_usd["eval"],
            "Programme total": breakdown.programme_total,
        }
    )


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
        "Maintenance: move the upkeep plan", params, book, controls, _render_maintenance, _maintenance_headline
    )


def _render_maintenance(breakdown: Breakdown) -> tuple[Any, Any]:
    return tables.maintenance_table(breakdown), charts.maintenance_cost_chart(breakdown)


def _maintenance_headline(breakdown: Breakdown) -> dict[str, str]:
    quarterly = sum(float(v) for v in breakdown.base.maintenance_quarterly.values())
    return _usd_headline(
        {
            "Maintenance per quarter": quarterly,
            "TCO over the horizon": breakdown.tco,
            "Programme total": breakdown.programme_total,
        }
    )


# ---------------------------------------------------------------- ROI


def roi_panel(params: Params, book: PriceBook) -> Panel:
    """The alternative's monthly cost, serving, engineering and the horizon → cash flow."""
    controls = {
        "api_usd_per_month": Control(
            money("API bill replaced (USD/month)", _api_bill(params, book), 1000),
            lambda v: {"alternative.kind": "api", "alternative.api.usd_per_month": v},
        ),
        "engineer_weeks": _control(params, "engineering.engineer_weeks", float_slider, "Engineer weeks", 0, 52, 1),
        "serving_gpus": _control(params, "serving.gpus", int_slider, "Serving GPUs", 0, 16),
        "serving_hours_per_month": _control(
            params, "serving.hours_per_month", float_slider, "Serving hours per month", 0, 744, 1
        ),
        "horizon_months": _horizon(params),
    }
    if params.alternative.kind == "labour":
        controls["labour_staff"] = _control(
            params, "alternative.labour.staff", float_slider, "Staff whose time is saved", 0, 500, 1
        )
        controls["time_saved_fraction"] = _control(
            params, "alternative.labour.time_saved_fraction", float_slider, "Share of their time saved", 0, 1, 0.01
        )
    return Panel("Return on investment: move the business case", params, book, controls, _render_roi, _roi_headline)


def _api_bill(params: Params, book: PriceBook) -> float:
    """USD per month of the API alternative in the base case (0 when the plan has none)."""
    return float(estimate(params, book).base.alternative_monthly) if params.alternative.kind == "api" else 0.0


def _render_roi(breakdown: Breakdown) -> tuple[Any, Any]:
    return tables.monthly_costs_table(breakdown), charts.cash_flow_chart(breakdown)


def _roi_headline(breakdown: Breakdown) -> dict[str, str]:
    return _usd_headline(
        {
            "Programme total": breakdown.programme_total,
            "Alternative per month": float(breakdown.base.alternative_monthly),
        }
    ) | {"Break-even": _break_even(breakdown)}


PANELS: dict[str, Callable[[Params, PriceBook], Panel]] = {
    "compute": compute_panel,
    "dataset": dataset_panel,
    "eval": eval_panel,
    "maintenance": maintenance_panel,
    "roi": roi_panel,
}
"""Each notebook's panel by area."""
