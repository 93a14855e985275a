"""The controls of a widget panel: ipywidgets built to show the plan as filed, each with the
parameter paths its value sets (:class:`Control`), laid out to fit a laptop or a phone."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ipywidgets as w

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import base_value
from ftcost_helpers.engine.schema import Params

Changes = Callable[[Any], dict[str, Any]]
"""What setting a control to a value changes: {parameter path: value}."""

LAYOUT = {"description_width": "min(215px, 45%)"}
"""Labels keep 215 px beside their control, but never more than 45 % of it (a phone's 390 px)."""
CONTROL_WIDTH = "465px"
"""Widest a control grows; on a narrower screen it takes the width there is."""
CONTROL_COLUMNS = f"repeat(auto-fit, minmax(min(300px, 100%), {CONTROL_WIDTH}))"
"""The controls' grid: as many columns of 300–465 px as fit, one narrower column on a phone."""


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


def path_control(
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


def horizon(params: Params) -> Control:
    """The horizon in months: the same control on every panel that shows running costs."""
    return path_control(params, "horizon_months", int_slider, "Horizon (months)", 6, 60)


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


def percent_control(params: Params, path: str, label: str) -> Control:
    """A share (0–1 in the file) shown and moved as a percentage (0–100)."""
    value = base_value(functools.reduce(getattr, path.split("."), params))
    slider = float_slider(label, round(100 * float(value), 4), 0, 100, 1)
    slider.readout_format = ",.4"
    return Control(slider, _at(path, lambda percent: round(float(percent) / 100, 6)))


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


def alternative_controls(params: Params, book: PriceBook) -> dict[str, Control]:
    """The controls of what the fine-tune replaces, by its kind: an API bill; labour (staff,
    hours per month, share of time saved as a percentage, loaded rate); a RAG bill. A plan
    with nothing to replace gets an API bill starting at 0, to ask "what if there were one"."""
    kind = params.alternative.kind
    if kind == "labour":
        return {
            "labour_staff": path_control(
                params, "alternative.labour.staff", count_slider, "Staff whose time is saved", 0, 500, convert=float
            ),
            "labour_hours": path_control(
                params,
                "alternative.labour.hours_per_staff_per_month",
                float_slider,
                "Hours per person a month",
                0,
                300,
                1,
            ),
            "time_saved_percent": percent_control(
                params, "alternative.labour.time_saved_fraction", "Share of their time saved (%)"
            ),
            "labour_rate": path_control(
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
            "rag_usd_per_month": path_control(
                params, "alternative.rag.usd_per_month", money, "RAG bill replaced (USD/month)", 1000
            )
        }
    return {
        "api_usd_per_month": Control(
            money("API bill replaced (USD/month)", api_bill(params, book), 1000),
            lambda v: {"alternative.kind": "api", "alternative.api.usd_per_month": v},
        )
    }


def api_bill(params: Params, book: PriceBook) -> float:
    """USD per month of the API alternative in the base case (0 when the plan has none)."""
    return float(estimate(params, book).base.alternative_monthly) if params.alternative.kind == "api" else 0.0
