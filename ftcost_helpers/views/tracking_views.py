"""Tables, charts and sentences of ``notebooks/06_tracking``: a pilot's calibration, a
re-quote's attribution and actual spend against the forecast (issue 23).

The figures come from the engine (:mod:`~ftcost_helpers.engine.calibration`,
:mod:`~ftcost_helpers.engine.requote`, :mod:`~ftcost_helpers.engine.tracking`); this module
only reads the files a notebook names, lays the figures out and draws them. The example
files in ``params/examples/`` are example A's (each says so in its first lines): for any
other client they are not used, and the notebook says that the client has none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

from ftcost_helpers.engine.breakdown import Breakdown
from ftcost_helpers.engine.calibration import Calibrated, CalibrationError, calibrate
from ftcost_helpers.engine.firm import load_firm
from ftcost_helpers.engine.headline import resolve_basis
from ftcost_helpers.engine.loading import ParamsError, display_path, project_root, read_yaml
from ftcost_helpers.engine.money import code
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import times
from ftcost_helpers.engine.readers.cost_exports import DEFAULT_AREA_TAG, read_actuals
from ftcost_helpers.engine.readers.pilot_logs import PilotLog, read_pilot_log
from ftcost_helpers.engine.requote import CAUSES, Requote
from ftcost_helpers.engine.schema import Params
from ftcost_helpers.engine.tracking import TRACKED_AREAS, measured_gpu_hours, placed, spend_to_date
from ftcost_helpers.views.charts import COLOURS, WIDE, currency_axis, new_figure
from ftcost_helpers.views.tables import Table, number, percent, text, usd

EXAMPLES = "params/examples"
"""Where the example pilot logs and cost exports live (all of them example A's)."""
EXAMPLE_CLIENT = "params/clients/example_a.yaml"
"""The client the example files were made for."""

CAUSE_LABELS = {
    "prices": "Prices",
    "plan": "Plan",
    "calibration": "Calibration",
    "model": "Model (ftcost version)",
    "interaction": "Interaction",
}
AREA_NAMES = {
    "compute": "Compute",
    "dataset": "Dataset",
    "eval": "Evaluation set-up",
    "engineering": "Engineering",
    "compliance": "Compliance",
    "continuous_eval": "Continuous evaluation",
    "serving": "Serving",
    "maintenance": "Maintenance",
}
WATERFALL_COLOURS = {"up": "#C44E52", "down": "#55A868", "total": "#4C72B0"}


# ---------------------------------------------------------------- which files apply


def example_client_name() -> str:
    """The ``client`` of the client file the example files were made for."""
    return str(read_yaml(project_root() / EXAMPLE_CLIENT)["client"])


def own_file(name: str | None, params: Params, what: str) -> tuple[Path | None, str]:
    """(the file to use, or None; a sentence on why none). An example file of
    ``params/examples/`` counts only for the client it was made for; a relative name is read
    from the project root."""
    if not name:
        return None, f"No {what} was given for this client."
    path = Path(name) if Path(name).is_absolute() else project_root() / name
    shown = display_path(path)
    if shown.startswith(f"{EXAMPLES}/") and params.client != example_client_name():
        return None, (
            f"No {what} for this client: `{shown}` is an example made for `{EXAMPLE_CLIENT}`. "
            f"Give this client's own with `papermill ... -p {what.replace(' ', '_')} FILE`."
        )
    if not path.is_file():
        return None, f"No {what}: `{shown}` is not a file."
    return path, ""


# ---------------------------------------------------------------- calibration


@dataclass(frozen=True)
class PilotReading:
    """A pilot's log read and transferred to the plan, or the one line saying why not."""

    log: PilotLog | None
    result: Calibrated | None
    message: str


def read_pilot(params: Params, book: PriceBook, path: Path | None, why_none: str = "") -> PilotReading:
    """The pilot at ``path`` calibrating the plan (the log is taken to have run the plan's own
    training where it does not say otherwise); a refusal is kept as its one line."""
    if path is None:
        return PilotReading(None, None, why_none)
    try:
        log = read_pilot_log(path)
        plan = params.model_copy(update={"calibration": None})
        return PilotReading(log, calibrate(plan, book, log, None, "the plan"), "")
    except (CalibrationError, ParamsError) as error:
        said = str(error).replace(str(path), display_path(path))  # no absolute path on the page
        return PilotReading(None, None, f"The pilot log does not calibrate this plan: {said}")


def pilot_table(result: Calibrated) -> Table:
    """What the pilot measured: the step time's spread, tokens, utilisation, memory."""
    m = result.measurement
    p10, p50, p90 = m.step_seconds
    rows = [
        ("Steps in the log", number(m.steps)),
        ("Warm-up steps set aside", number(m.warmup_steps)),
        ("Step time P10 / P50 / P90", f"{p10:.3f} / {p50:.3f} / {p90:.3f} s"),
        ("Tokens per second", number(m.tokens_per_second)),
        ("Model FLOPs utilisation (MFU)", percent(result.mfu, 1)),
        ("Peak memory measured", "not in the log" if m.peak_memory_gb is None else f"{m.peak_memory_gb:.1f} GB"),
        ("Peak memory estimated", f"{result.estimated_memory_gb:.1f} GB"),
        ("Transfer steps k", number(len(result.differences))),
        ("Band widened by w", percent(result.widening, 1)),
    ]
    frame = pd.DataFrame(rows, columns=["Measure", "Pilot"])
    note = "Transfer: " + "; ".join(result.differences) + "."
    return Table(frame, {}, "What the pilot measured", note, align_left=("Measure",))


def _band_text(low: float, base: float, high: float, fmt: Any) -> str:
    return fmt(base) if low == high else f"{fmt(low)}–{fmt(high)} ({fmt(base)})"


def corners(values: Any) -> tuple[float, float, float]:
    """(lowest, base, highest) of a corners figure (three values: low, base, high corners)."""
    array = np.broadcast_to(np.asarray(values, dtype=float), (3,))
    return float(array.min()), float(array[1]), float(array.max())


def hours_per_run(breakdown: Breakdown) -> tuple[float, float, float]:
    """Wall-clock hours of one run (booked GPU-hours ÷ GPUs): lowest, base, highest."""
    gpus = breakdown.params.training.gpus_per_run
    low, base, high = corners(breakdown.corners.compute.booked_gpu_hours_per_run)
    return low / gpus, base / gpus, high / gpus


def training_line(breakdown: Breakdown) -> tuple[float, float, float]:
    """(low, base, high) of the training-runs line, in the plan's currency."""
    item = next(i for i in breakdown.line_items if i.area == "compute" and i.item.startswith("Training runs"))
    return item.low, item.base, item.high


def calibration_table(before: Breakdown, after: Breakdown) -> Table:
    """Hours per run, utilisation and the training-runs line before and after calibrating."""

    def hours(x: float) -> str:
        return f"{x:.2f} h"

    rows = []
    for label, of, fmt in (
        ("Hours per run", hours_per_run, hours),
        ("Utilisation of peak", lambda b: corners(b.corners.compute.utilisation), percent),
        ("Training runs", training_line, usd),
    ):
        rows.append((label, _band_text(*of(before), fmt), _band_text(*of(after), fmt)))
    frame = pd.DataFrame(rows, columns=["Figure", "Before (low–high, base)", "After"])
    return Table(frame, {}, "The compute range before and after the pilot", align_left=("Figure",))


def calibration_chart(before: Breakdown, after: Breakdown) -> Figure:
    """Hours per run before and after: each range as a bar from low to high (a single value
    as a dot), the base case marked, on a log scale so that both show."""
    fig, ax = new_figure((9.0, 2.8))
    ends = []
    for y, (breakdown, colour) in enumerate(((before, "#8C8C8C"), (after, COLOURS["compute"]))):
        low, base, high = hours_per_run(breakdown)
        ends += [low, high]
        if high > low:
            ax.plot([low, high], [y, y], color=colour, linewidth=14, solid_capstyle="butt", alpha=0.6)
        else:
            ax.plot([low], [y], marker="o", markersize=10, color=colour, alpha=0.6)
        ax.plot([base], [y], marker="|", markersize=22, color="black")
        ax.annotate(
            f"{low:.2g}–{high:.2g} h" if high > low else f"{base:.2g} h",
            (high, y),
            xytext=(12, -3),
            textcoords="offset points",
            fontsize=8,
        )
    ax.set_yticks([0, 1], ["Before (booked)", "After the pilot"])
    ax.set_ylim(-0.6, 1.6)
    ax.set_xscale("log")
    ax.set_xlim(min(ends) / 1.6, max(ends) * 2.0)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _p: f"{x:g} h"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("Wall-clock hours per training run (log scale; | the base case)")
    ax.set_title("Hours per run: the range the pilot leaves")
    ax.grid(alpha=0.3, axis="x")
    return fig


def calibration_reading(result: Calibrated, before: Breakdown, after: Breakdown) -> str:
    """The sentence under the calibration: the pilot's step, the widening, the range before and after."""
    k = len(result.differences)

    def hours(x: float) -> str:
        return f"{x:.2f} h"

    return (
        f"**Reading the result.** The pilot's median step took {result.measurement.step_seconds[1]:.3f} s "
        f"({percent(result.mfu, 1)} MFU). Carried to the full run with the band widened by "
        f"{percent(result.widening, 1)} for {k} transfer step{'s' if k != 1 else ''}, a run takes "
        f"{_band_text(*hours_per_run(after), hours)}, against {_band_text(*hours_per_run(before), hours)} booked "
        f"before; the training-runs line becomes {_band_text(*training_line(after), usd)}."
    )


# ---------------------------------------------------------------- a price overlay


def scaled_book(book: PriceBook, factor: float) -> PriceBook:
    """The price book with every GPU rate × ``factor`` (an overlay for "GPU prices moved
    by this much"; a plan's own booked rate is the plan's, not the book's, and stays)."""
    if factor == 1.0:
        return book
    rates = {
        gpu: {tier: times(r, factor) for tier, r in by_tier.items()}
        for gpu, by_tier in book.gpu_rates_usd_per_gpu_hour.items()
    }
    return book.model_copy(update={"gpu_rates_usd_per_gpu_hour": rates})


def basis_of(params: Params) -> str:
    """The plan's headline basis (its ``report.basis``, else the firm's default)."""
    return resolve_basis(params, load_firm().default_basis)


# ---------------------------------------------------------------- the re-quote


def waterfall_steps(start: float, parts: Sequence[tuple[str, float]], end_label: str = "New") -> list[tuple]:
    """The bars of a waterfall: ``(label, bottom, height, kind)``, the first and last from 0
    (kind ``total``), each part from where the one before it ended (``up`` or ``down``)."""
    bars: list[tuple] = [("Old", 0.0, start, "total")]
    level = start
    for label, change in parts:
        bars.append((label, min(level, level + change), abs(change), "up" if change > 0 else "down"))
        level += change
    bars.append((end_label, 0.0, level, "total"))
    return bars


def attribution_parts(result: Requote, figure: str) -> list[tuple[str, float]]:
    return [(CAUSE_LABELS[cause], float(result.attribution[cause][figure])) for cause in CAUSES]


def waterfall_chart(result: Requote, figure: str = "tco") -> Figure:
    """The old quote, each cause's part and the new quote, as a waterfall."""
    start = float(result.old.figures()[figure])
    bars = waterfall_steps(start, attribution_parts(result, figure))
    fig, ax = new_figure(WIDE)
    x = np.arange(len(bars))
    ax.bar(x, [b[2] for b in bars], bottom=[b[1] for b in bars], color=[WATERFALL_COLOURS[b[3]] for b in bars])
    for i, (_label, bottom, height, kind) in enumerate(bars):
        value = height if kind == "total" else (height if kind == "up" else -height)
        ax.annotate(usd(value), (i, bottom + height), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, [b[0] for b in bars], fontsize=8)
    low = min(b[1] for b in bars[1:-1]) if len(bars) > 2 else 0.0
    ax.set_ylim(min(low, start, bars[-1][2]) * 0.97, max(b[1] + b[2] for b in bars) * 1.02)
    currency_axis(ax)
    name = "cost of ownership" if figure == "tco" else "programme"
    ax.set_ylabel(f"{code()} ({name}, {result.basis})")
    ax.set_title(f"Why the {name} moved: old quote, each cause alone, interaction, new quote")
    ax.grid(alpha=0.3, axis="y")
    return fig


def value_text(value: Any) -> str:
    """A client-file value as a reader writes it: a range ``10–20 (14)``, else the value."""
    if isinstance(value, Mapping) and {"low", "high"} <= set(value):
        mode = value.get("mode")
        return f"{value['low']:g}–{value['high']:g}" + (f" ({mode:g})" if mode is not None else "")
    return "none" if value is None else text(value)


def attribution_table(result: Requote) -> Table:
    """The old and new quote, and the change split into its causes (programme and TCO)."""
    rows = [("Old quote", *(result.old.figures()[f] for f in ("programme", "tco")))]
    rows += [(CAUSE_LABELS[c], result.attribution[c]["programme"], result.attribution[c]["tco"]) for c in CAUSES]
    rows += [("Change", result.change["programme"], result.change["tco"])]
    rows += [("New quote", *(result.new.figures()[f] for f in ("programme", "tco")))]
    frame = pd.DataFrame(rows, columns=["", "Programme", "Cost of ownership"])
    keys = "; ".join(f"{key}: {value_text(old)} → {value_text(new)}" for key, old, new in result.changed) or "none"
    note = f"Basis {result.basis}. Keys the plan changed: {keys}."
    return Table(frame, {"Programme": usd, "Cost of ownership": usd}, "The re-quote, attributed", note)


def requote_reading(result: Requote) -> str:
    change, parts = result.change, result.attribution
    largest = max(CAUSES, key=lambda c: abs(parts[c]["tco"]))
    return (
        f"**Reading the result.** The programme moves by {usd(change['programme'])} and the cost of ownership "
        f"by {usd(change['tco'])}; the largest part of the latter is *{CAUSE_LABELS[largest].lower()}* "
        f"({usd(parts[largest]['tco'])}), and the causes acting together add {usd(parts['interaction']['tco'])} "
        "that none of them makes alone."
    )


# ---------------------------------------------------------------- actual spend


def track_actuals(breakdown: Breakdown, path: Path, area_tag: str = DEFAULT_AREA_TAG) -> dict[str, Any]:
    """What ``ftcost track`` prints with ``--json``, for a plan already estimated: the
    forecast against the spend in ``path``, the variance split and the re-forecast (GPU-hours
    from the export's compute rows; :func:`~ftcost_helpers.engine.tracking.spend_to_date`)."""
    plan = breakdown.params
    try:
        actuals = read_actuals(path, TRACKED_AREAS, plan.currency, area_tag)
        rows = placed(actuals, plan, area_tag)
    except ParamsError as error:  # the same line, naming the file as the project shows it
        raise ParamsError(display_path(path), error.key, error.problem) from None
    figures = spend_to_date(breakdown, basis_of(plan), actuals, rows, measured_gpu_hours(actuals), area_tag)
    return {"actuals": display_path(path), **figures}


def by_month_table(figures: Mapping[str, Any]) -> Table:
    rows = [(r["period"], r["forecast_usd"], r["actual_usd"], r["variance_usd"]) for r in figures["by_month"]]
    rows.append(
        ("Total", figures["forecast_to_date_usd"], figures["actual_to_date_usd"], figures["variance_usd"]["total"])
    )
    frame = pd.DataFrame(rows, columns=["Month", "Forecast", "Actual", "Variance"])
    title = f"Forecast ({figures['basis']}) against actual spend, by month"
    return Table(frame, {c: usd for c in ("Forecast", "Actual", "Variance")}, title)


def by_area_table(figures: Mapping[str, Any]) -> Table:
    rows = [
        (
            AREA_NAMES.get(r["area"], r["area"]),
            r["forecast_usd"],
            r["actual_usd"],
            r["variance_usd"],
            r["rate_usd"],
            r["volume_usd"],
        )
        for r in figures["by_area"]
        if r["forecast_usd"] or r["actual_usd"]
    ]
    v = figures["variance_usd"]
    rows.append(
        ("Total", figures["forecast_to_date_usd"], figures["actual_to_date_usd"], v["total"], v["rate"], v["volume"])
    )
    columns = ["Area", "Forecast", "Actual", "Variance", "Rate", "Volume"]
    frame = pd.DataFrame(rows, columns=columns)
    notes = " ".join(f"{n[0].upper()}{n[1:]}." for n in figures["notes"])
    return Table(
        frame, {c: usd for c in columns[1:]}, "The variance to date by area: rate and volume", notes, ("Area",)
    )


def forecast_actual_chart(figures: Mapping[str, Any]) -> Figure:
    """Forecast and actual spend side by side for each month tracked."""
    rows = figures["by_month"]
    fig, ax = new_figure(WIDE)
    x = np.arange(len(rows))
    ax.bar(x - 0.2, [r["forecast_usd"] for r in rows], width=0.4, color="#8C8C8C", label="Forecast")
    ax.bar(x + 0.2, [r["actual_usd"] for r in rows], width=0.4, color=COLOURS["compute"], label="Actual")
    ax.set_xticks(x, [r["period"] for r in rows])
    currency_axis(ax)
    ax.set_ylabel(f"{code()} in the month")
    ax.set_title(f"Forecast ({figures['basis']}) against actual spend, month by month")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    return fig


def reforecast_table(figures: Mapping[str, Any]) -> Table:
    again = figures["reforecast"]
    before = again["original"]
    rows = []
    for key, label in (("programme_usd", "Programme"), ("tco_usd", "Cost of ownership")):
        for name, band in (("before", before[key]), ("re-forecast", again[key])):
            rows.append((f"{label}, {name}", band["p10"], band["p50"], band["p90"], band["p90"] - band["p10"]))
    frame = pd.DataFrame(rows, columns=["Figure", "P10", "P50", "P90", "P90 − P10"])
    title = f"The re-forecast: {again['draws']:,} draws (seed {again['seed']}), the months tracked fixed"
    return Table(frame, {c: usd for c in ("P10", "P50", "P90", "P90 − P10")}, title, align_left=("Figure",))


def reforecast_chart(figures: Mapping[str, Any]) -> Figure:
    """P10–P90 of the programme and the cost of ownership: the original quote against the re-forecast."""
    again = figures["reforecast"]
    fig, axes = new_figure(WIDE, columns=2)
    for ax, key, label in zip(axes, ("programme_usd", "tco_usd"), ("Programme", "Cost of ownership"), strict=True):
        for y, (band, colour) in enumerate(((again["original"][key], "#8C8C8C"), (again[key], COLOURS["compute"]))):
            ax.plot([band["p10"], band["p90"]], [y, y], color=colour, linewidth=8, solid_capstyle="butt", alpha=0.7)
            ax.plot([band["p50"]], [y], marker="|", markersize=16, color="black")
        ax.set_yticks([0, 1], ["Original", "Re-forecast"])
        ax.set_ylim(-0.6, 1.6)
        currency_axis(ax, "x")
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.tick_params(axis="x", labelsize=7)
        ax.set_title(f"{label}: P10–P90 (| P50)", fontsize=9)
        ax.grid(alpha=0.3, axis="x")
    return fig


def tracking_reading(figures: Mapping[str, Any]) -> str:
    v, again = figures["variance_usd"], figures["reforecast"]
    before, after = again["original"]["tco_usd"], again["tco_usd"]
    return (
        f"**Reading the result.** Through {figures['through']} the programme has spent "
        f"{usd(figures['actual_to_date_usd'])} against {usd(figures['forecast_to_date_usd'])} forecast, a variance "
        f"of {usd(v['total'])} ({usd(v['rate'])} rate, {usd(v['volume'])} volume). With those months fixed, the "
        f"cost of ownership's P10–P90 is {usd(after['p10'])}–{usd(after['p90'])}, "
        f"{'narrower' if again['narrower'] else 'no narrower'} than the original "
        f"{usd(before['p10'])}–{usd(before['p90'])}."
    )
