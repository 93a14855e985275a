"""Tables formatted for reading: currency, thousands separators and units.

Each function returns a :class:`Table`: the numbers as a pandas DataFrame (``.data``, for
tests and spreadsheets) and how to show them. In a notebook a Table renders as an HTML
table with a caption; its plain-text form is the same table as text. Both are
deterministic, so nbval can compare them run after run.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ftcost_helpers.engine.breakdown import Breakdown
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.feasibility import CANNOT_RUN
from ftcost_helpers.engine.fit import plan_fit
from ftcost_helpers.engine.loading import ParamsError
from ftcost_helpers.engine.model.lines import AREAS
from ftcost_helpers.engine.model.maintenance import quality_lost_unmaintained
from ftcost_helpers.engine.model.roi import decision_rule
from ftcost_helpers.engine.model.training import MEMORY_LABELS, peak_phase_terms
from ftcost_helpers.engine.money import code
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import Range, base_value, low_high
from ftcost_helpers.engine.scenarios import cheapest_that_can_run
from ftcost_helpers.engine.schema import SHARDING_WORDS, Params
from ftcost_helpers.engine.sensitivity import Sensitivity, input_value_text
from ftcost_helpers.views.notebook import with_changes

Formatter = Callable[[Any], str]

AREA_LABELS = {
    "compute": "Compute",
    "dataset": "Dataset",
    "eval": "Evaluation",
    "engineering": "Engineering and MLOps",
    "compliance": "Compliance",
}
TIER_LABELS = {
    "hyperscaler_on_demand": "Hyperscaler on-demand",
    "neocloud_on_demand": "Neocloud on-demand",
    "neocloud_spot": "Neocloud spot",
    "local_owned": "Local (owned card)",
}
MINUS = "−"
MAX_QUALITY_POINTS = 100.0
"""Percentage points: the most quality a model can lose."""


# ---------------------------------------------------------------- number formats


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float | np.floating) and not np.isfinite(value))


def usd(value: Any) -> str:
    """``USD 88,550`` (whole dollars; a minus sign for outflows; ``—`` when missing)."""
    if _missing(value):
        return "—"
    value = float(value)
    sign = MINUS if round(value) < 0 else ""
    return f"{sign}{code()} {abs(value):,.0f}"


def usd_cents(value: Any) -> str:
    """``USD 1.71`` (two decimals, for rates and unit prices)."""
    return "—" if _missing(value) else f"{code()} {float(value):,.2f}"


def usd_range(low: float, high: float) -> str:
    """``USD 1.20–1.80``."""
    return f"{code()} {low:,.2f}–{high:,.2f}"


def number(value: Any, decimals: int = 0) -> str:
    """``14,000`` (thousands separators)."""
    return "—" if _missing(value) else f"{float(value):,.{decimals}f}"


def with_unit(unit: str, decimals: int = 0) -> Formatter:
    """A formatter writing ``1,234 GPU-hours`` for a unit."""
    return lambda value: "—" if _missing(value) else f"{number(value, decimals)} {unit}"


def percent(value: Any, decimals: int = 0) -> str:
    """``12%`` from a share between 0 and 1."""
    return "—" if _missing(value) else f"{100 * float(value):.{decimals}f}%"


def text(value: Any) -> str:
    return "" if value is None else str(value)


# ---------------------------------------------------------------- the Table


@dataclass(frozen=True)
class Table:
    """Numbers (``data``) with a formatter per column and a caption."""

    data: pd.DataFrame
    formats: Mapping[str, Formatter]
    title: str
    note: str = ""
    align_left: Sequence[str] = field(default_factory=tuple)

    @property
    def key(self) -> str:
        """A stable HTML id from the title (two tables in a page never share one)."""
        return re.sub(r"[^a-z0-9]+", "_", self.title.lower()).strip("_")[:40] or "table"

    def formatted(self) -> pd.DataFrame:
        """Every cell as the text a reader sees."""
        return pd.DataFrame(
            {column: [self.formats.get(column, text)(value) for value in self.data[column]] for column in self.data}
        )

    def _repr_html_(self) -> str:
        left = [i for i, column in enumerate(self.data.columns) if column in self.align_left]
        styles = [
            {"selector": "caption", "props": "caption-side: top; font-weight: bold; text-align: left;"},
            {"selector": "td, th", "props": "text-align: right; padding: 2px 10px;"},
            *({"selector": f"td.col{i}, th.col{i}", "props": "text-align: left;"} for i in left),
        ]
        styler = (
            self.formatted()
            .style.hide(axis="index")
            .format(escape="html")
            .format_index(escape="html", axis=1)
            .set_uuid(self.key)
            .set_caption(html.escape(self.title))
            .set_table_styles(styles)
        )
        note = f"<p><em>{html.escape(self.note)}</em></p>" if self.note else ""
        return styler.to_html() + note

    def __repr__(self) -> str:
        body = self.formatted().to_string(index=False)
        return "\n".join(part for part in (self.title, body, self.note) if part)

    def value(self, row_label: str, column: str) -> Any:
        """The number in ``column`` on the row whose first column is ``row_label``."""
        first = self.data.columns[0]
        return self.data.loc[self.data[first] == row_label, column].iloc[0]


def _usd_columns(*columns: str) -> dict[str, Formatter]:
    return dict.fromkeys(columns, usd)


# ---------------------------------------------------------------- programme lines


def line_items_table(breakdown: Breakdown, areas: Sequence[str] | None = None, title: str | None = None) -> Table:
    """Line items (low, base, high, source) of some areas, zero lines left out, with a total."""
    areas = list(areas or AREAS)
    rows = [
        {"Line item": i.item, "Low": i.low, "Base": i.base, "High": i.high, "Source": i.source}
        for i in breakdown.line_items
        if i.area in areas and i.high > 0
    ]
    frame = pd.DataFrame(rows, columns=["Line item", "Low", "Base", "High", "Source"])
    total = {"Line item": "Total", "Source": ""} | {c: frame[c].sum() for c in ("Low", "Base", "High")}
    frame = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
    label = title or f"{', '.join(AREA_LABELS[a] for a in areas)}: line items"
    note = "Low and high put every ranged input at its low or its high end together."
    return Table(frame, _usd_columns("Low", "Base", "High"), label, note, ("Line item", "Source"))


def areas_table(breakdown: Breakdown) -> Table:
    """The programme by area with each area's share of the total."""
    total = breakdown.programme_total
    frame = pd.DataFrame(
        {
            "Area": [AREA_LABELS[a] for a in breakdown.areas_usd],
            f"{code()}": list(breakdown.areas_usd.values()),
            "Share": [v / total if total else np.nan for v in breakdown.areas_usd.values()],
        }
    )
    frame = pd.concat([frame, pd.DataFrame([{"Area": "Programme total", f"{code()}": total, "Share": 1.0}])])
    return Table(frame.reset_index(drop=True), {f"{code()}": usd, "Share": percent}, "Programme by area", "", ("Area",))


# ---------------------------------------------------------------- compute


def compute_views_table(breakdown: Breakdown) -> Table:
    """The booked plan against the physics of its FLOPs, per run."""
    c, t = breakdown.base.compute, breakdown.params.training
    rows = [
        ("GPUs per run", t.gpus_per_run, t.gpus_per_run, "GPUs"),
        ("Wall-clock hours per run", c.booked_gpu_hours_per_run / t.gpus_per_run, c.physics_hours_per_run, "hours"),
        ("GPU-hours per run", c.booked_gpu_hours_per_run, c.physics_gpu_hours_per_run, "GPU-hours"),
        ("Utilisation of peak BF16", 100 * c.implied_utilisation, 100 * c.utilisation, "% of peak"),
    ]
    frame = pd.DataFrame(
        [{"Figure": r[0], "Booked plan": float(r[1]), "Physics": float(r[2]), "Unit": r[3]} for r in rows]
    )
    note = (
        "Booked utilisation is the share of peak the booked hours imply; physics assumes the utilisation "
        f"input. Training tokens per run: {number(c.tokens_per_run)}; FLOPs per run: {float(c.flops_per_run):.3g}."
    )
    one_decimal = lambda value: number(value, 1)  # noqa: E731
    formats = {"Booked plan": one_decimal, "Physics": one_decimal}
    return Table(frame, formats, "Booked plan against physics, per run", note, ("Figure", "Unit"))


def gpu_hours_frame(breakdown: Breakdown) -> pd.DataFrame:
    """GPU-hours of all runs: the booked plan by part, and the physics view for the same runs
    with the range its inputs allow (rows: View, Part, GPU-hours, Low, High)."""
    base, corners, t = breakdown.base.compute, breakdown.corners.compute, breakdown.params.training
    runs = base_value(t.runs)
    failed, sweep = _compute_line_hours(breakdown)
    physics = np.asarray(corners.physics_gpu_hours_per_run, dtype=float) * np.asarray(_corner_values(t.runs))
    rows = [
        ("Booked plan", "Training runs", float(base.booked_gpu_hours)),
        ("Booked plan", "Failed runs", failed),
        ("Booked plan", "Sweep", sweep),
        ("Physics", "Same runs", float(base.physics_gpu_hours_per_run) * runs),
    ]
    frame = pd.DataFrame(rows, columns=["View", "Part", "GPU-hours"])
    frame["Low"] = frame["GPU-hours"]
    frame["High"] = frame["GPU-hours"]
    frame.loc[3, "Low"] = min(float(physics.min()), frame.loc[3, "GPU-hours"])
    frame.loc[3, "High"] = max(float(physics.max()), frame.loc[3, "GPU-hours"])
    return frame


def _corner_values(value: Any) -> list[float]:
    low, high = low_high(value)
    return [low, base_value(value), high]


def _compute_line_hours(breakdown: Breakdown) -> tuple[float, float]:
    """GPU-hours of the failed runs and of the sweep, from their cost lines and the rate."""
    rate = float(breakdown.base.compute.rate_usd_per_gpu_hour)
    usd = {line.item.split(" (")[0]: float(line.value) for line in breakdown.base.lines if line.area == "compute"}
    if not rate:
        return 0.0, 0.0
    return usd.get("Failed runs", 0.0) / rate, usd.get("Hyper-parameter sweep", 0.0) / rate


def compute_cost_table(breakdown: Breakdown) -> Table:
    """GPU-hours and USD of the training runs, the rerun tax and the sweep."""
    c = breakdown.base.compute
    rate = float(c.rate_usd_per_gpu_hour)
    lines = [line for line in breakdown.base.lines if line.area == "compute"]
    frame = pd.DataFrame(
        {
            "Line item": [line.item for line in lines],
            "GPU-hours": [float(line.value) / rate if rate else 0.0 for line in lines],
            f"{code()}": [float(line.value) for line in lines],
        }
    )
    total = {"Line item": "Compute total", "GPU-hours": frame["GPU-hours"].sum(), f"{code()}": frame[f"{code()}"].sum()}
    frame = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
    note = f"At {code()} {rate:,.2f} per GPU-hour ({c.rate_source})."
    formats = {"GPU-hours": with_unit("GPU-hours"), f"{code()}": usd}
    return Table(frame, formats, "Compute bill", note, ("Line item",))


def price_book_band(book: PriceBook, gpu: str, tier: str) -> Range | None:
    """The price book's USD per GPU-hour range for a GPU on a tier, or None where it has
    none: a GPU the client file describes, or a catalogue GPU on a tier the book does not
    list (the plan then books its own rate)."""
    return book.gpu_rates_usd_per_gpu_hour.get(gpu, {}).get(tier)


def gpu_label(book: PriceBook, gpu: str) -> str:
    """A GPU's label (a GPU the file describes carries its own), else its key."""
    spec = book.gpus.get(gpu)
    return spec.label if spec is not None else gpu


def gpu_rates_table(book: PriceBook) -> Table:
    """USD per GPU-hour by GPU and tier, from the price book."""
    tiers = book.tiers
    rows = []
    for gpu, by_tier in book.gpu_rates_usd_per_gpu_hour.items():
        row: dict[str, Any] = {"GPU": book.gpus[gpu].label}
        for tier in tiers:
            band = by_tier.get(tier)
            row[TIER_LABELS.get(tier, tier)] = (band.low, band.high) if band else None
        rows.append(row)
    frame = pd.DataFrame(rows)
    band_format: Formatter = lambda band: "—" if band is None else usd_range(*band)  # noqa: E731
    formats = {TIER_LABELS.get(t, t): band_format for t in tiers}
    note = f"Price book as of {book.as_of.isoformat()} ({book.sources['seed_market']}); — means not offered."
    return Table(frame, formats, f"{code()} per GPU-hour by GPU and tier", note, ("GPU",))


def peak_column(label: str) -> str:
    """The column of :func:`vram_by_method` holding one memory term at the peak phase."""
    return f"{label} at the peak (GB)"


FIT = "Fit"
"""The column of :func:`vram_by_method` with the fit verdict (fits, borderline, does not fit)."""

WHY_NOT = "Why not"
"""The column of :func:`vram_by_method` saying why a method's row has no figures ("" if it has)."""

VRAM_FIGURES = (
    "Weights and optimizer (GB)",
    "Activations (GB)",
    "Per GPU (GB)",
    "Usable per GPU (GB)",
    "Fewest GPUs",
    *(peak_column(label) for label in MEMORY_LABELS.values()),
)
"""The numeric columns of :func:`vram_by_method`."""


def vram_by_method(params: Params, book: PriceBook) -> pd.DataFrame:
    """VRAM per GPU each training method would need for this plan (the engine, method swapped).

    A method the plan's other settings rule out (QLoRA under ``fp32`` or ``fp8`` precision,
    say) keeps its row: its figures are NaN and :data:`WHY_NOT` holds the schema's reason."""
    rows = []
    for method, spec in book.methods.items():
        try:
            figures = _vram_figures(with_changes(params, {"training.method": method}, book), book)
        except ParamsError as error:
            figures = dict.fromkeys(VRAM_FIGURES, np.nan) | {FIT: "—", WHY_NOT: "; ".join(p for _, p in error.problems)}
        rows.append({"Method": spec.label, "method": method, **figures})
    return pd.DataFrame(rows)


def _vram_figures(params: Params, book: PriceBook) -> dict[str, Any]:
    """One row of :func:`vram_by_method`: the engine's memory figures of ``params``. Usable
    per GPU is the memory the stacked peak (its CUDA context included) may reach at the base
    case: the live tensors' usable memory plus the context; the fit is the engine's verdict."""
    run = evaluate(params, book)
    facts = run.compute
    peak = peak_phase_terms({name: float(value) for name, value in facts.memory_breakdown_gb.items()})
    return {
        "Weights and optimizer (GB)": float(facts.state_gb),
        "Activations (GB)": float(facts.activations_gb),
        "Per GPU (GB)": float(facts.memory_per_gpu_gb),
        "Usable per GPU (GB)": float(facts.usable_gb_per_gpu + facts.memory_breakdown_gb["overhead"]),
        FIT: plan_fit(params, book, run).verdict,
        "Fewest GPUs": float(facts.fewest_gpus),
        **{peak_column(MEMORY_LABELS[name]): value for name, value in peak.items()},
        WHY_NOT: "",
    }


def memory_breakdown_table(breakdown: Breakdown) -> Table:
    """The plan's memory per GPU term by term, at the peak phase (base case)."""
    c, t = breakdown.base.compute, breakdown.params.training
    terms = {name: float(value) for name, value in c.memory_breakdown_gb.items()}
    peak = peak_phase_terms(terms)
    frame = pd.DataFrame(
        [{"Term": MEMORY_LABELS[name], "At the peak (GB)": peak[name], "Held (GB)": terms[name]} for name in terms]
    )
    gb = with_unit("GB", 2)
    fit = plan_fit(breakdown.params, breakdown.book, breakdown.base)
    note = (
        f"Peak {float(c.memory_per_gpu_gb):,.1f} GB per GPU ({fit.allocated_gb:,.1f} GB of tensors, "
        f"{fit.reserved_gb:,.1f} GB reserved by the allocator, plus the CUDA context) of {fit.capacity_gb:,.1f} GB on "
        f"{book_label(breakdown, t.gpu)}; with the context and fragmentation the run needs {fit.need_p10_gb:,.1f}–"
        f"{fit.need_p90_gb:,.1f} GB (P10–P90): it {_fit_words(fit.verdict)}. The peak is the larger of the "
        "forward/backward phase and "
        f"the optimizer step; 'Held' shows every term, 'At the peak' those of the phase that sets it. "
        f"{t.precision} precision, {t.optimizer}, {SHARDING_WORDS[t.sharding]}, offload {t.offload}, "
        f"tensor × pipeline × context parallel {t.tensor_parallel} × {t.pipeline_parallel} × {t.context_parallel}."
    )
    return Table(frame, {"At the peak (GB)": gb, "Held (GB)": gb}, "Memory per GPU by term", note, ("Term",))


def fit_reading(breakdown: Breakdown) -> str:
    """The fit verdict read out (Markdown): the live tensors and the device memory they need
    against the GPU's, and what would make a run that does not fit fit."""
    t = breakdown.params.training
    fit = plan_fit(breakdown.params, breakdown.book, breakdown.base)
    head = (
        f"**Reading the result.** With {breakdown.book.methods[t.method].label}, each of the {t.gpus_per_run} "
        f"GPUs holds {number(fit.allocated_gb, 1)} GB of tensors, which with the CUDA context and the allocator's "
        f"fragmentation need {number(fit.need_p10_gb, 1)}–{number(fit.need_p90_gb, 1)} GB (P10–P90) of its "
        f"{number(fit.capacity_gb, 1)} GB: "
    )
    paging = " by paging optimizer states to the host" if fit.by_paging else ""
    if fit.verdict == "fits":
        return head + f"the run fits{paging}, and would fit on as few as {number(fit.fewest_gpus)} GPU(s)."
    if fit.verdict == "borderline":
        sure = "; ".join(fit.fixes)
        return head + f"the run is **borderline**{paging}: it may run, or run out of memory; to make it sure, {sure}."
    needs = f"it needs at least {gpu_count(fit.fewest_gpus)} GPUs, or: {'; '.join(fit.fixes)}"
    return head + f"the run does **not** fit; {needs}."


def _fit_words(verdict: str) -> str:
    """A fit verdict as the end of a sentence about the run."""
    return {"fits": "fits", "borderline": "is borderline", "does not fit": "does not fit"}[verdict]


def book_label(breakdown: Breakdown, gpu: str) -> str:
    """The price book's label of a GPU."""
    return gpu_label(breakdown.book, gpu)


def vram_table(params: Params, book: PriceBook) -> Table:
    """Whether each method fits the plan's GPUs, and the fewest GPUs it needs."""
    frame = vram_by_method(params, book)
    frame["Fits"] = np.where(frame[WHY_NOT] != "", "—", frame[FIT])
    ruled_out = [f"{row.Method}: not for this plan ({row[WHY_NOT]})." for _, row in frame.iterrows() if row[WHY_NOT]]
    terms = [peak_column(label) for label in MEMORY_LABELS.values()]
    frame = frame.drop(columns=["method", FIT, WHY_NOT, *terms])
    gb = with_unit("GB", 1)
    formats = dict.fromkeys(
        ["Weights and optimizer (GB)", "Activations (GB)", "Per GPU (GB)", "Usable per GPU (GB)"], gb
    )
    formats = {k.removesuffix(" (GB)"): v for k, v in formats.items()} | {"Fewest GPUs": gpu_count}
    frame.columns = [c.removesuffix(" (GB)") for c in frame.columns]
    t = params.training
    note = (
        f"On {t.gpus_per_run} × {gpu_label(book, t.gpu)}, {SHARDING_WORDS[t.sharding]}, "
        f"sequence {t.sequence_length:,} × micro-batch {t.micro_batch_size}, "
        f"{'with' if t.activation_checkpointing != 'none' else 'without'} activation checkpointing."
    )
    note = " ".join([note, *ruled_out])
    return Table(frame, formats, "VRAM per GPU by method", note, ("Method", "Fits"))


def gpu_count(value: Any) -> str:
    """A number of GPUs, 'does not fit' when no number of GPUs would do (infinite), or '—'
    when there is no figure (NaN: a method the plan rules out)."""
    if value is None or np.isnan(value):
        return "—"
    return "does not fit" if not np.isfinite(value) else number(value)


# ---------------------------------------------------------------- dataset


def dataset_table(breakdown: Breakdown) -> Table:
    """Dataset line items with the cost per training pair."""
    table = line_items_table(breakdown, ["dataset"], "Dataset cost stack")
    pairs = float(base_value(breakdown.params.dataset.pairs))
    per_pair = breakdown.areas_usd["dataset"] / pairs if pairs else float("nan")
    note = f"{number(pairs)} training pairs: {code()} {per_pair:,.2f} per pair. " + table.note
    return Table(table.data, table.formats, table.title, note, table.align_left)


def dataset_reference_table(book: PriceBook) -> Table:
    """The source's cost stack for a 30,000-pair regulated-domain dataset."""
    frame = pd.DataFrame(
        [
            {"Activity": name.replace("_", " ").capitalize(), "Low": band.low, "High": band.high}
            for name, band in book.dataset_activities_usd.items()
        ]
    )
    total = {"Activity": "Total", "Low": frame["Low"].sum(), "High": frame["High"].sum()}
    frame = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
    title = f"Reference stack for {book.dataset_reference_pairs:,} pairs ({book.sources['seed_market']})"
    return Table(frame, _usd_columns("Low", "High"), title, "", ("Activity",))


# ---------------------------------------------------------------- evaluation


def eval_table(breakdown: Breakdown) -> Table:
    """One-time evaluation costs against continuous evaluation over the horizon."""
    p = breakdown.params
    monthly = breakdown.ongoing_monthly_usd["eval"]
    one_time = breakdown.areas_usd["eval"]
    frame = pd.DataFrame(
        [
            {"Cost": "One-time (set-up and judged runs)", f"{code()}": one_time, "When": "before launch"},
            {"Cost": "Continuous evaluation", f"{code()}": monthly, "When": "per month"},
            {
                "Cost": f"Continuous evaluation over {p.horizon_months} months",
                f"{code()}": monthly * p.horizon_months,
                "When": "horizon",
            },
        ]
    )
    return Table(frame, {f"{code()}": usd}, "Evaluation: one-time against monthly", "", ("Cost", "When"))


# ---------------------------------------------------------------- maintenance


def maintenance_table(breakdown: Breakdown) -> Table:
    """Maintenance per quarter by item, per year, and over the horizon once it starts."""
    p = breakdown.params
    quarterly = {item: float(v) for item, v in breakdown.base.maintenance_quarterly.items()}
    maintained_months = int(breakdown.base.maintained_by_month.sum())
    frame = pd.DataFrame(
        {
            "Item": list(quarterly),
            "Per quarter": list(quarterly.values()),
            "Per year": [4 * v for v in quarterly.values()],
            "Over the horizon": [v * maintained_months / 3 for v in quarterly.values()],
        }
    )
    total = {"Item": "Total"} | {c: frame[c].sum() for c in ("Per quarter", "Per year", "Over the horizon")}
    frame = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
    note = f"Maintenance starts in month {p.maintenance.start_month}: {maintained_months} maintained months."
    return Table(frame, _usd_columns("Per quarter", "Per year", "Over the horizon"), "Maintenance", note, ("Item",))


def quality_loss(params: Params) -> pd.DataFrame:
    """Percentage points of quality lost after each quarter without maintenance (low, high),
    at most :data:`MAX_QUALITY_POINTS` (a model cannot lose more than all of its quality)."""
    quarters = np.arange(1, params.horizon_months // 3 + 1)
    low, high = low_high(params.maintenance.quality_loss_points_per_quarter_unmaintained)
    lost = np.minimum(quality_lost_unmaintained(np.array([low, high]), quarters), MAX_QUALITY_POINTS)
    return pd.DataFrame({"Quarter": quarters, "Low": lost[0], "High": lost[1]})


def quality_loss_table(params: Params) -> Table:
    """The quality lost when maintenance is skipped, quarter by quarter."""
    points = with_unit("points", 0)
    return Table(quality_loss(params), {"Low": points, "High": points}, "Quality lost without maintenance")


# ---------------------------------------------------------------- ROI


def monthly_costs_table(breakdown: Breakdown) -> Table:
    """What running the fine-tune costs each month against what the alternative costs."""
    run = breakdown.base
    rows = [
        {"Cost": f"Running: {name}", f"{code()} per month": value}
        for name, value in breakdown.ongoing_monthly_usd.items()
    ]
    rows.append(
        {
            "Cost": "Running: total (maintenance included)",
            f"{code()} per month": sum(breakdown.ongoing_monthly_usd.values()),
        }
    )
    rows.append(
        {
            "Cost": f"Alternative ({breakdown.params.alternative.kind})",
            f"{code()} per month": float(run.alternative_monthly),
        }
    )
    return Table(
        pd.DataFrame(rows), {f"{code()} per month": usd}, "Monthly cost against the alternative", "", ("Cost",)
    )


def cash_flow_table(breakdown: Breakdown, every: int = 1) -> Table:
    """Running cost, saving and cumulative cash flow by month (month 0 is the programme)."""
    run = breakdown.base
    months = np.arange(0, breakdown.params.horizon_months + 1)
    running = np.concatenate([[0.0], np.asarray(run.running_by_month, dtype=float)])
    alternative = np.where(months > breakdown.params.programme.build_months, float(run.alternative_monthly), 0.0)
    frame = pd.DataFrame(
        {
            "Month": months,
            "Running cost": running,
            "Alternative avoided": alternative,
            "Cumulative cash flow": breakdown.cash_flow,
        }
    )
    keep = (months % every == 0) | (months == months[-1])
    if breakdown.break_even_month is not None:
        keep |= months == breakdown.break_even_month
    formats = {"Month": number} | _usd_columns("Running cost", "Alternative avoided", "Cumulative cash flow")
    return Table(frame[keep].reset_index(drop=True), formats, "Cash flow by month")


def roi_summary_table(breakdown: Breakdown) -> Table:
    """The headline figures of the return on investment."""
    p, run = breakdown.params, breakdown.base
    month = breakdown.break_even_month
    rows = [
        ("Programme (one-time)", usd(breakdown.programme_total)),
        ("Running cost per month (maintained)", usd(sum(breakdown.ongoing_monthly_usd.values()))),
        ("Alternative per month", usd(run.alternative_monthly)),
        ("Serving cost per 1M tokens", usd_cents(run.serving.usd_per_1m_tokens)),
        (f"Total cost of ownership, {p.horizon_months} months", usd(breakdown.tco)),
        (f"Cash position after {p.horizon_months} months", usd(breakdown.cash_flow[-1])),
        ("Break-even month", "none within the horizon" if month is None else f"month {month}"),
    ]
    frame = pd.DataFrame(rows, columns=["Figure", "Value"])
    return Table(frame, {}, "Return on investment, base case (the line items as written)", "", ("Figure",))


def decision_rule_text(breakdown: Breakdown) -> str:
    """The source's rule of thumb applied to the alternative's monthly cost (API only)."""
    kind = breakdown.params.alternative.kind
    if kind != "api":
        what = "no alternative" if kind == "none" else f"the {kind} alternative"
        return f"the rule by monthly API spend does not apply: this plan is compared with {what}"
    rule = breakdown.book.decision_rule_api_usd_per_month
    spend = float(breakdown.base.alternative_monthly)
    return decision_rule(spend, rule["do_not_fine_tune_below"], rule["almost_always_above"])


# ---------------------------------------------------------------- uncertainty views


def percentiles_table(percentiles: Mapping[str, Mapping[str, float]], title: str = "P10, P50 and P90") -> Table:
    """Rows of figures (programme total, TCO...) with their P10, P50 and P90 in USD."""
    frame = pd.DataFrame(
        [{"Figure": name} | {k.upper(): float(v) for k, v in values.items()} for name, values in percentiles.items()]
    )
    columns = [c for c in frame.columns if c != "Figure"]
    return Table(frame, _usd_columns(*columns), title, "", ("Figure",))


def sensitivity_table(swings: Sensitivity, top: int = 10) -> Table:
    """The inputs that move the plan's quantity most (``swings``: a
    :class:`~ftcost_helpers.engine.sensitivity.Sensitivity`), its value with each input at
    its low and its high end, largest swing first."""
    name = swings.name
    low, high = f"{name} at low", f"{name} at high"
    rows = [
        {
            "Input": s.label,
            "Low end": input_value_text(s.path, s.input_low),
            "High end": input_value_text(s.path, s.input_high),
            low: s.at_low,
            high: s.at_high,
            "Swing": s.swing,
            "Break-even at low": s.low_break_even,
            "Break-even at high": s.high_break_even,
        }
        for s in swings.rows[:top]
    ]
    columns = ["Input", "Low end", "High end", low, high, "Swing", "Break-even at low", "Break-even at high"]
    frame = pd.DataFrame(rows, columns=columns)
    month = lambda m: "never" if _missing(m) else f"month {int(m)}"  # noqa: E731
    formats = _usd_columns(low, high, "Swing") | {
        "Break-even at low": month,
        "Break-even at high": month,
    }
    note = f"Each input alone from its low to its high end, every other at its base case ({usd(swings.base)})."
    return Table(frame, formats, f"Sensitivity of the {name.lower()}, one input at a time", note, ("Input",))


def scenarios_table(results: Sequence[Any], book: PriceBook | None = None) -> Table:
    """Scenario results (``scenarios.compare_scenarios``) side by side; ``book`` names the
    methods and GPUs as the price book labels them. A plan that cannot run as specified says
    so, and why, in its own column; the note names the lowest cost of ownership among those
    that can run (:func:`~ftcost_helpers.engine.scenarios.cheapest_that_can_run`)."""

    def method(key: str) -> str:
        return book.methods[key].label if book and key in book.methods else key

    def gpu(key: str) -> str:
        return book.gpus[key].label if book and key in book.gpus else key

    rows = [
        {
            "Scenario": r.name,
            "Method": method(r.method),
            "Hardware": f"{r.gpus_per_run} × {gpu(r.gpu)}, {TIER_LABELS.get(r.tier, r.tier).lower()}",
            "Runs as specified": "yes" if r.feasibility.feasible else r.feasibility.sentence,
            "Compute": r.compute_usd,
            "Programme": r.programme_total_usd,
            "Running per month": r.monthly_usd,
            "Break-even": r.break_even_month,
            "TCO": r.tco_usd,
        }
        for r in results
    ]
    month: Formatter = lambda m: "never" if _missing(m) else f"month {int(m)}"  # noqa: E731
    formats = _usd_columns("Compute", "Programme", "Running per month", "TCO") | {"Break-even": month}
    left = ("Scenario", "Method", "Hardware", "Runs as specified")
    return Table(pd.DataFrame(rows), formats, "Scenarios side by side", cheapest_note(results), left)


def cheapest_note(results: Sequence[Any]) -> str:
    """Which plan has the lowest cost of ownership among those that can run as specified (a
    plan that cannot run is never named), or that none can."""
    cheapest = cheapest_that_can_run(results)
    if cheapest is None:
        return f"Every plan here {CANNOT_RUN}: none can be recommended as it stands."
    shut_out = sum(not r.feasibility.feasible for r in results)
    among = f" among the {len(results) - shut_out} that can run as specified" if shut_out else ""
    return f"Lowest cost of ownership{among}: {cheapest.name} ({usd(cheapest.tco_usd)})."
