"""Every plan the schema accepts is a whole report, or a clean refusal (issue 27, What to build #3).

Plans are drawn from the schema (hypothesis), starting from a worked example and drawing
what the hostile corpus found broke reports after ``validate`` and ``estimate`` had passed:
a GPU the file describes (with and without its bandwidth), a catalogue GPU on a tier the
price book does not price (with its own rate), every method, precision and optimizer
(QLoRA under ``fp32`` or ``fp8`` included, which the schema refuses), extreme values
(utilisation, padding efficiency and bandwidth from 5e-324, which the schema refuses, to its
smallest, 1e-6; counts and amounts up to the schema's bounds) and scenarios overriding the
same keys.

* :func:`test_every_drawn_plan_estimates_or_is_refused_in_one_line` (many examples, in process):
  each plan is refused at validation, or its estimate (the engine, ``summary.json``, the
  terminal report, the scenario comparison and notebook 01's rate and method views) gives
  finite figures, or the engine refuses it (:class:`FigureOutOfRange`); every refusal is one
  line per problem naming the file.
* :func:`test_drawn_plans_make_whole_reports` (three plans, seeded; slow: runs the five
  notebooks through the report runner) asserts each writes ``report.html``,
  ``report.xlsx`` and ``summary.json``.

Between them, each guard and each view fix is checked on a plan worked by hand.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import tempfile
from pathlib import Path
from typing import Any, get_args

import numpy as np
import pytest
import yaml
from drawn_inputs import as_input  # a drawn number as a client file may give it (tests/ is on the path)
from hypothesis import HealthCheck, assume, event, given, seed, settings
from hypothesis import strategies as st

from ftcost_helpers.cli import main
from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.loading import ParamsError, load_gpus, load_price_book, project_root, read_yaml
from ftcost_helpers.engine.model import compute, roi
from ftcost_helpers.engine.model.guards import MAX_FIGURE, FigureOutOfRange, out_of_range
from ftcost_helpers.engine.overrides import load_plan
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import MIN_AMOUNT
from ftcost_helpers.engine.scenarios import compare_scenarios
from ftcost_helpers.engine.schema import (
    Checkpointing,
    Method,
    Offload,
    Optimizer,
    Params,
    Precision,
    QuantisedBase,
    Sharding,
)
from ftcost_helpers.engine.sensitivity import sensitivity
from ftcost_helpers.engine.summary import summarise
from ftcost_helpers.engine.uncertainty import simulate
from ftcost_helpers.report.index import REPORT_HTML, REPORT_XLSX, SUMMARY_JSON
from ftcost_helpers.report.runner import default_notebooks, run_reports
from ftcost_helpers.views import charts, readings, tables, widgets
from ftcost_helpers.views.text_report import breakdown_text, monte_carlo_text

CLIENTS = project_root() / "params" / "clients"
EXAMPLES = ("example_a.yaml", "example_b.yaml", "example_c.yaml")
TODAY = dt.date(2026, 6, 1)
PRINTABLE = 1e25
"""Below this, an amount rounds to the cent in the 28 digits the faces print money with."""
DRAWS = 64
"""Monte Carlo draws per plan: enough to draw every range, few enough for many plans."""

BOOK = load_price_book()
"""The price book as read; each plan gets a copy (:func:`fresh_book`)."""


def fresh_book() -> PriceBook:
    """A copy of the price book for one plan: a GPU the file describes joins its specs, and
    must not reach the next plan."""
    return BOOK.model_copy(deep=True)


CATALOGUE_GPUS = sorted(load_gpus().gpus)
TIERS = sorted(BOOK.tiers)

tiny = st.sampled_from([5e-324, 1e-300, 1e-12, MIN_AMOUNT, 2 * MIN_AMOUNT])
"""Near-zero values: below :data:`MIN_AMOUNT` refused by the schema (they divide to overflow),
from it accepted."""
huge = st.sampled_from([1e6, 1e9, 1e12])
"""Large values up to the schema's bound (1e12)."""
labels = st.sampled_from(["Lab card", "Rack $x$ card [beta]", "A*B_C <i>"])
"""Own GPU labels with Markdown, HTML and mathtext characters (client text, shown as written)."""


class Values:
    """The numbers a plan draws: ``extreme`` reaches the schema's edges (tiny divisors, huge
    counts), else values of a real plan (for the reports, which should not be refused)."""

    def __init__(self, extreme: bool) -> None:
        self.share = st.one_of(tiny, st.floats(1e-3, 1.0), st.just(1.0)) if extreme else st.floats(0.3, 1.0)
        self.amount = (
            st.one_of(st.just(0.0), st.floats(0.0, 1e4), huge) if extreme else st.floats(0.0, 1e4).map(as_input)
        )
        self.positive = st.one_of(tiny, st.floats(0.5, 1e4), huge) if extreme else st.floats(20.0, 2000.0)
        self.rate = st.one_of(st.floats(0.01, 20.0), tiny, huge) if extreme else st.floats(0.5, 5.0)


EXTREME, REAL = Values(extreme=True), Values(extreme=False)


def own_gpus(values: Values) -> st.SearchStrategy[dict[str, Any]]:
    """A GPU the client file describes: memory and BF16 peak, optionally bandwidth and FP8."""
    return st.fixed_dictionaries(
        {"label": labels, "memory_gb": values.positive, "bf16_tflops": values.positive},
        optional={"memory_bandwidth_gbps": values.positive, "fp8_tflops": values.positive},
    )


@st.composite
def hardware(draw: st.DrawFn, values: Values) -> dict[str, Any]:
    """GPU, tier and rate: a catalogue GPU on any tier, or the file's own GPU; a rate of the
    client's own where the price book has none (and sometimes where it has)."""
    gpu = draw(st.one_of(st.sampled_from(CATALOGUE_GPUS), own_gpus(values)))
    tier = draw(st.sampled_from(TIERS))
    priced = isinstance(gpu, str) and tables.price_book_band(BOOK, gpu, tier) is not None
    own_rate = draw(st.booleans()) or not priced
    return {"gpu": gpu, "tier": tier, "rate_usd_per_gpu_hour": draw(values.rate) if own_rate else None}


@st.composite
def training_changes(draw: st.DrawFn, values: Values) -> dict[str, Any]:
    """Training keys over an example's: hardware, method, precision, optimizer and the
    values that divide the physics view."""
    changes = draw(hardware(values))
    changes.update(
        method=draw(st.sampled_from(get_args(Method))),
        precision=draw(st.sampled_from(get_args(Precision))),
        optimizer=draw(st.sampled_from(get_args(Optimizer))),
        offload=draw(st.sampled_from(get_args(Offload))),
        sharding=draw(st.sampled_from(get_args(Sharding))),
        activation_checkpointing=draw(st.sampled_from(get_args(Checkpointing))),
        quantised_base=draw(st.sampled_from(get_args(QuantisedBase))),
        compiled=draw(st.booleans()),
        padding_efficiency=draw(values.share),
        utilisation=draw(st.one_of(st.none(), values.share)),
    )
    for key in ("tokens_per_pair", "epochs", "hours_per_run"):
        if draw(st.booleans()):
            changes[key] = draw(values.amount)
    return {key: value for key, value in changes.items() if value is not None}


@st.composite
def scenarios(draw: st.DrawFn, values: Values) -> dict[str, Any]:
    """A scenario overriding a few training keys (hours per run then follow the physics)."""
    changes = draw(training_changes(values))
    keys = draw(st.sets(st.sampled_from(sorted(changes)), min_size=1, max_size=4))
    if "gpu" in keys or "tier" in keys:  # new hardware brings its rate, as the plan's does
        keys |= {"gpu", "tier"} | ({"rate_usd_per_gpu_hour"} & set(changes))
    name = draw(st.sampled_from(["Own card", "Slow", "Another"]))
    return {"name": name, "overrides": {"training": {key: changes[key] for key in keys}}}


@st.composite
def client_plans(draw: st.DrawFn, values: Values = EXTREME) -> dict[str, Any]:
    """One client file's data: a worked example with drawn training, dataset, serving and
    alternative values and up to two drawn scenarios (the example's own are dropped)."""
    data = read_yaml(CLIENTS / draw(st.sampled_from(EXAMPLES)))
    data["training"].update(draw(training_changes(values)))
    data["serving"]["modelled"] = draw(st.sampled_from([True, True, False]))
    if draw(st.booleans()):  # serving on other hardware, perhaps the file's own GPU
        data["serving"].update({k: v for k, v in draw(hardware(values)).items() if v is not None})
    if {data["training"]["tier"], data["serving"]["tier"]} - set(BOOK.hipaa_eligible_tiers):
        data.setdefault("compliance", {})["hipaa"] = False  # else refused: PHI only on BAA tiers
    data["dataset"]["pairs"] = draw(values.amount)
    data["serving"]["tokens_per_second"] = draw(values.positive)
    data["serving"]["hours_per_month"] = draw(st.one_of(st.just(0.0), values.amount))
    if draw(st.booleans()):  # an API priced by its volumes instead of a bill
        volumes = {"input_tokens_million_per_month": draw(values.amount), "output_tokens_million_per_month": 10.0}
        data["alternative"] = {"kind": "api", "api": {"model": "gpt-4o", **volumes}}
    data["uncertainty"] = {"draws": DRAWS, "seed": draw(st.integers(0, 10**6))}
    data["scenarios"] = draw(st.lists(scenarios(values), max_size=2))
    return data


def _write(data: dict[str, Any], folder: Path, name: str = "drawn.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def assert_one_line_each(error: ParamsError, path: Path) -> None:
    """A clean refusal: each problem one line, ``file: key: problem``, naming the file."""
    for line in error.lines():
        assert "\n" not in line and "Traceback" not in line, line
        assert line.startswith(f"{path}: "), line


def not_finite(value: Any, where: str = "") -> list[str]:
    """The paths of the numbers in ``value`` (a summary's mapping, a list) that are not finite."""
    if isinstance(value, float):
        return [] if math.isfinite(value) else [f"{where}={value}"]
    if isinstance(value, dict):
        return [path for key, item in value.items() for path in not_finite(item, f"{where}.{key}")]
    if isinstance(value, list):
        return [path for index, item in enumerate(value) for path in not_finite(item, f"{where}[{index}]")]
    return []


def estimate_outcome(path: Path) -> str:
    """What ``estimate`` and the views of notebook 01 make of one file: refused (at
    validation or by the engine, in one line each) or estimated with finite figures."""
    book = fresh_book()
    try:
        params = load_plan(path, book)
    except ParamsError as error:
        assert_one_line_each(error, path)
        return "refused at validation"
    try:
        breakdown = estimate(params, book, TODAY, source=path)
        simulation = simulate(params, book, source=path)
        results = compare_scenarios(params, book, path)
        swings = sensitivity(params, book)
    except FigureOutOfRange as error:
        assert_one_line_each(error, path)
        return "refused by the engine"
    summary = summarise(breakdown, simulation, compute_draws=True)
    json.dumps(summary, allow_nan=False)  # no NaN or infinity reaches summary.json
    assert not_finite(summary) == []
    totals = [breakdown.programme_total, *breakdown.programme_range, breakdown.tco]
    assert not_finite(totals) == [] and max(totals) < PRINTABLE
    assert np.all(np.isfinite(breakdown.cash_flow))
    assert not_finite([[r.programme_total_usd, r.tco_usd] for r in results]) == []
    assert not_finite([[w.at_low, w.at_high] for w in swings.rows]) == []
    p10, p50, p90 = simulation.range_usd().values()
    assert "USD" in breakdown_text(breakdown) + monte_carlo_text(simulation.draws, simulation.seed, p10, p50, p90)
    assert "Reading the result" in readings.booked_rate(breakdown)
    assert "VRAM per GPU by method" in repr(tables.vram_table(params, book))
    return "estimated"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's overflow notes on the plans the guard refuses
@settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
@given(data=st.sampled_from([EXTREME, REAL]).flatmap(client_plans))
def test_every_drawn_plan_estimates_or_is_refused_in_one_line(data: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory(prefix="ftcost-drawn-") as folder:
        event(estimate_outcome(_write(data, Path(folder))))


def test_the_known_faults_estimate_and_read() -> None:
    """The four plans of issue 27's findings #2, fixed (not drawn), estimate and read in
    notebook 01's views: an own GPU (no price-book rate), a catalogue GPU on a tier the
    book does not price, ``fp32`` and ``fp8`` (QLoRA's row says why it cannot be computed),
    an own GPU without its bandwidth."""
    base = read_yaml(CLIENTS / "example_a.yaml") | {"scenarios": []}
    own = {"label": "Lab card", "memory_gb": 80, "bf16_tflops": 900}
    cases = {
        "own": {"gpu": {**own, "memory_bandwidth_gbps": 3000}},
        "unpriced_tier": {"gpu": "b200", "tier": "local_owned"},
        "fp32": {"precision": "fp32"},
        "fp8": {"precision": "fp8"},
        "no_bandwidth": {"gpu": own},
    }
    with tempfile.TemporaryDirectory(prefix="ftcost-known-") as folder:
        for name, change in cases.items():
            data = {**base, "training": {**base["training"], **change}}
            assert estimate_outcome(_write(data, Path(folder), f"{name}.yaml")) == "estimated", name
        book = fresh_book()
        reading = readings.booked_rate(estimate(load_plan(Path(folder) / "own.yaml", book), book, TODAY))
        assert "its own rate: the price book has no rate for that GPU and tier" in reading
        vram = tables.vram_table(load_plan(Path(folder) / "fp8.yaml", BOOK), BOOK)
        assert vram.value("QLoRA", "Fits") == "—"
        assert "QLoRA: not for this plan (QLoRA dequantises its 4-bit base to bf16" in vram.note


# ---------------------------------------------------------------- the guards, worked by hand


def _plan(folder: Path, name: str, training: dict[str, Any] | None = None, **sections: Any) -> Path:
    """Example A without its scenarios, with ``training`` keys and whole sections changed."""
    data = read_yaml(CLIENTS / "example_a.yaml") | {"scenarios": []} | sections
    data["training"] = {**data["training"], **(training or {})}
    return _write(data, folder, f"{name}.yaml")


def _unchecked(path: Path, **sections: dict[str, Any]) -> Params:
    """The plan at ``path`` with keys of its sections set past the schema (``model_copy``
    does not validate): the engine's own guards, behind the schema, on values it refuses."""
    params = load_plan(path, BOOK)
    updates = {name: getattr(params, name).model_copy(update=keys) for name, keys in sections.items()}
    return params.model_copy(update=updates)


def _refusal(path: Path, params: Params | None = None) -> FigureOutOfRange:
    book = fresh_book()
    params = load_plan(path, book) if params is None else params
    with pytest.raises(FigureOutOfRange) as caught:
        estimate(params, book, TODAY, source=path)
        compare_scenarios(params, book, path)
    assert_one_line_each(caught.value, path)
    return caught.value


def test_a_gpu_without_its_bandwidth_leaves_memory_bound_time_uncounted() -> None:
    # 1e9 bytes at 1,000 GB/s × a 0.5 share = 1e9 / 5e11 = 0.002 s; no bandwidth: 0 s.
    assert compute.memory_bound_seconds(1e9, 1000.0, 0.5) == pytest.approx(0.002)
    assert compute.memory_bound_seconds(1e9, None, 0.5) == 0.0


def test_work_over_a_rate_that_underflowed_to_zero() -> None:
    # 5e-324 TFLOPS × 1e12 × a 5e-324 utilisation is 0 in floats: work on it takes for ever.
    assert compute.quotient(6.0, 3.0) == 2.0
    assert compute.quotient(1.0, 5e-324 * 1e12 * 5e-324) == math.inf
    assert compute.quotient(0.0, 0.0) == 0.0  # no work takes no time


def test_average_load_over_no_serving_hours() -> None:
    # 440M tokens over 730 h: 440e6 / (730 × 3,600 = 2,628,000 s) = 167.43 tokens/s.
    assert roi.average_tokens_per_second(440.0, 730.0) == pytest.approx(167.427, abs=1e-3)
    assert roi.average_tokens_per_second(10.0, 0.0) == math.inf
    assert roi.average_tokens_per_second(0.0, 0.0) == 0.0


def test_amounts_up_to_the_bound_are_costed_and_past_it_refused(tmp_path: Path) -> None:
    # 8 GPUs × 6 h × 14 runs = 672 GPU-hours at USD 1e12 (the schema's largest) = 6.72e14 ≤ 1e15;
    # 16 GPUs: 1,344 GPU-hours × 1e12 = 1.344e15 > 1e15.
    fixed = {"runs": 14, "rate_usd_per_gpu_hour": 1e12}
    within = estimate(load_plan(_plan(tmp_path, "within", fixed), BOOK), BOOK, TODAY)
    assert within.areas_usd["compute"] == pytest.approx(6.72e14)
    error = _refusal(_plan(tmp_path, "past", fixed | {"gpus_per_run": 16}))
    assert error.key == "training"
    assert error.problem.startswith("'Training runs (GPUs × hours × runs × rate)' comes to USD 1.34e+15, past")


def test_a_near_zero_divisor_is_named_in_the_refusal(tmp_path: Path) -> None:
    path = _plan(tmp_path, "padding")
    error = _refusal(path, _unchecked(path, training={"padding_efficiency": 1e-300}))
    assert (error.key, error.file) == ("training", str(tmp_path / "padding.yaml"))
    assert "the physics view's GPU-hours a run overflow (" in error.problem
    assert "padding_efficiency 1e-300" in error.problem


def test_estimate_on_the_command_line_refuses_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The schema refuses a divisor this near zero, for validate and estimate alike.
    path = _plan(tmp_path, "padding", {"padding_efficiency": 1e-300})
    for command in ("validate", "estimate"):
        assert main([command, str(path)]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err
        assert err.startswith(f"error: {path}: training.padding_efficiency: must be at least 1e-06 when above 0")


def test_hours_too_few_to_set_the_flops_against_are_refused(tmp_path: Path) -> None:
    # 8 GPUs × 5e-324 h ≈ 4e-323 GPU-hours × 3,600 s × 989e12 FLOP/s ≈ 1.4e-304 FLOPs of capacity:
    # the run's 4.13e18 FLOPs over it is 2.9e322, past the largest float (1.8e308): infinite.
    path = _plan(tmp_path, "instant")
    error = _refusal(path, _unchecked(path, training={"hours_per_run": 5e-324}))
    assert error.key == "training.hours_per_run"
    assert error.problem.startswith("8 GPUs × 4.94e-324 hours a run are too few to set the run's FLOPs against")
    # No hours at all imply no utilisation (NaN, shown as none), which is no refusal.
    assert estimate_outcome(_plan(tmp_path, "no_hours", {"hours_per_run": 0})) == "estimated"


def test_a_scenario_past_the_bound_is_refused_by_name(tmp_path: Path) -> None:
    # 16 GPUs × 6 h × 14 runs = 1,344 GPU-hours at USD 1e12 = 1.344e15 > 1e15 (as above).
    dear = {"gpus_per_run": 16, "runs": 14, "rate_usd_per_gpu_hour": 1e12}
    scenario = {"name": "Dear card", "overrides": {"training": dear}}
    path = _plan(tmp_path, "scenario", scenarios=[scenario])
    book = fresh_book()
    params = load_plan(path, book)
    estimate(params, book, TODAY, source=path)  # the plan itself is fine
    with pytest.raises(FigureOutOfRange) as caught:
        compare_scenarios(params, book, path)
    assert caught.value.key == "scenarios.0 (Dear card): training"
    assert "comes to USD 1.34e+15, past" in caught.value.problem
    # A scenario's near-zero bandwidth is the schema's to refuse, before any figure.
    slow = {"label": "Slow card", "memory_gb": 80, "bf16_tflops": 500, "memory_bandwidth_gbps": 1e-300}
    crawl = {"name": "Slow card", "overrides": {"training": {"gpu": slow, "rate_usd_per_gpu_hour": 2}}}
    with pytest.raises(ParamsError) as refused:
        load_plan(_plan(tmp_path, "slow", scenarios=[crawl]), fresh_book())
    assert "scenarios.0 (Slow card): training.gpu.memory_bandwidth_gbps: must be at least 1e-06" in str(refused.value)


def test_a_volume_over_no_serving_hours_is_refused(tmp_path: Path) -> None:
    api = {"kind": "api", "api": {"model": "gpt-4o", "input_tokens_million_per_month": 10.0}}
    serving = read_yaml(CLIENTS / "example_a.yaml")["serving"] | {"hours_per_month": 0}
    error = _refusal(_plan(tmp_path, "no_hours", alternative=api, serving=serving))
    assert error.key == "serving.hours_per_month"
    assert error.problem.startswith("0 serving hours a month cannot carry the alternative's 10M tokens a month")


def test_a_throughput_next_to_nothing_is_refused_where_serving_is_modelled(tmp_path: Path) -> None:
    # An own card at USD 1e-300 an hour over 1e-300 tokens/s × 3,600 s is USD 277.78 per 1M
    # tokens: finite (and no price-book rate to set it against); but the volume's peak over
    # 1e-300 tokens/s a GPU needs ~1e300 GPUs.
    api = {"kind": "api", "api": {"model": "gpt-4o", "output_tokens_million_per_month": 10.0}}
    card = {"label": "Serving card", "memory_gb": 48, "bf16_tflops": 300}
    crawl = {"gpu": card, "tokens_per_second": 1e-300, "rate_usd_per_gpu_hour": 1e-300}
    serving = read_yaml(CLIENTS / "example_a.yaml")["serving"] | {"gpu": card, "rate_usd_per_gpu_hour": 2}
    path = _plan(tmp_path, "crawl", alternative=api, serving=serving)
    error = _refusal(path, _unchecked(path, serving={k: v for k, v in crawl.items() if k != "gpu"}))
    assert error.key == "serving.tokens_per_second"
    assert error.problem.startswith("1e-300 tokens/s on 1 GPU(s) would need ")
    unmodelled = _plan(tmp_path, "unmodelled", alternative=api, serving=serving | {"modelled": False})
    params = _unchecked(unmodelled, serving={"tokens_per_second": 1e-300, "rate_usd_per_gpu_hour": 1e-300})
    estimate(params, fresh_book(), TODAY, source=unmodelled)  # serving not counted: nothing to carry


# ---------------------------------------------------------------- notebook 01's views


def test_the_rate_chart_gives_an_unpriced_gpu_its_own_row(tmp_path: Path) -> None:
    own = {"label": "Lab $x$ card", "memory_gb": 80, "bf16_tflops": 900}
    book = fresh_book()
    plan = estimate(load_plan(_plan(tmp_path, "own", {"gpu": own}), book), book, TODAY)
    t = plan.params.training
    figure = charts.gpu_rates_chart(book, (t.gpu, t.tier, 1.71131))
    axes = figure.axes[0]
    assert axes.get_yticklabels()[-1].get_text() == r"Lab \$x\$ card"  # shown as written, not mathtext
    legend = [text.get_text() for text in axes.get_legend().get_texts()]
    assert "This plan: USD 1.71 (its own rate: no price-book rate)" in legend
    example = estimate(load_plan(_plan(tmp_path, "a"), BOOK), BOOK, TODAY).params.training
    priced = charts.gpu_rates_chart(BOOK, (example.gpu, example.tier, 1.71131)).axes[0]
    assert "This plan: USD 1.71" in [text.get_text() for text in priced.get_legend().get_texts()]


def test_the_vram_chart_keeps_a_ruled_out_method_in_place(tmp_path: Path) -> None:
    vram = tables.vram_by_method(load_plan(_plan(tmp_path, "fp32", {"precision": "fp32"}), BOOK), BOOK)
    qlora = vram.set_index("method").loc["qlora"]
    assert math.isnan(qlora["Per GPU (GB)"]) and qlora[tables.WHY_NOT].startswith("QLoRA computes in bf16")
    figure = charts.vram_chart(vram, "H100 SXM", 80.0)
    labels = [text.get_text() for text in figure.axes[0].texts]
    assert labels[list(vram["method"]).index("qlora")] == "not for this plan"


def test_the_compute_panel_offers_the_plans_own_tier_and_keeps_its_rate(tmp_path: Path) -> None:
    params = load_plan(_plan(tmp_path, "b200", {"gpu": "b200", "tier": "local_owned"}), BOOK)
    panel = widgets.compute_panel(params, BOOK)
    assert "local_owned" in [value for _, value in panel.controls["tier"].options]
    panel.controls["gpu"].value = "h100_sxm"  # priced hardware: the book's rate
    assert panel.controls["price_book_rate"].value is True and panel.error is None
    panel.controls["gpu"].value = "b200"  # the tier it had is kept where the GPU is offered on it
    assert "local_owned" in [value for _, value in panel.controls["tier"].options]
    panel.controls["tier"].value = "local_owned"  # back on the plan's own tier: the plan's own rate
    assert panel.controls["price_book_rate"].value is False and panel.error is None
    assert panel.headline()["Rate"] == "USD 1.71/GPU-hour"


@st.composite
def report_plans(draw: st.DrawFn) -> dict[str, Any]:
    """A real plan on hardware the price book does not price (an own GPU, or a catalogue GPU
    on a tier without a rate), at a precision other than bf16_mixed."""
    data = draw(client_plans(REAL))
    data["training"].update(
        gpu=draw(st.one_of(own_gpus(REAL), st.just("b200"))),
        tier="local_owned",
        rate_usd_per_gpu_hour=draw(REAL.rate),
        method=draw(st.sampled_from(["lora", "full_sft", "dpo"])),
        precision=draw(st.sampled_from(["fp32", "fp8", "bf16"])),
    )
    data["serving"]["hours_per_month"] = draw(st.floats(100.0, 730.0))
    return data


def _estimates(data: dict[str, Any]) -> bool:
    with tempfile.TemporaryDirectory(prefix="ftcost-drawn-") as folder:
        return estimate_outcome(_write(data, Path(folder))) == "estimated"


@pytest.mark.slow  # about 15 s a report: kept in `make test` (the marker only lets `-m "not slow"` leave it out)
@seed(27)
@settings(max_examples=1, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(plans=st.lists(report_plans(), min_size=3, max_size=3))
def test_drawn_plans_make_whole_reports(tmp_path_factory: pytest.TempPathFactory, plans: list[dict[str, Any]]) -> None:
    assume(all(_estimates(data) for data in plans))
    folder = tmp_path_factory.mktemp("drawn-clients")
    files = [_write(data, folder, f"drawn_{number}.yaml") for number, data in enumerate(plans)]
    out = tmp_path_factory.mktemp("drawn-reports")
    result = run_reports(files, out, jobs=1, notebooks=list(default_notebooks()), say=lambda line: None)
    assert result.failures == [], result.failures
    assert len(result.reports) == len(files)
    for report in result.reports.values():
        for name in (REPORT_HTML, REPORT_XLSX, SUMMARY_JSON):
            assert (report / name).is_file(), report / name
        assert not_finite(json.loads((report / SUMMARY_JSON).read_text(encoding="utf-8"))) == []


@pytest.mark.parametrize("shape", [float, np.array])
def test_out_of_range_on_a_point_and_on_draws(shape) -> None:
    # The bound is 1e15 in size, either sign; not a number and infinity are out at any size.
    assert not out_of_range(shape(MAX_FIGURE)) and not out_of_range(shape(-MAX_FIGURE))
    assert out_of_range(shape(1.000001 * MAX_FIGURE)) and out_of_range(shape(-2 * MAX_FIGURE))
    assert out_of_range(shape(math.nan)) and out_of_range(shape(math.inf))
    assert not out_of_range(shape(0.0))
