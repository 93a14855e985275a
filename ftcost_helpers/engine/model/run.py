"""One run of the whole cost model on resolved inputs (floats or arrays of draws)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from ftcost_helpers.engine.api_prices import ApiPrice, api_price
from ftcost_helpers.engine.model import (
    commitment,
    compute,
    dataset,
    engineering,
    evaluation,
    maintenance,
    ownership,
    rl,
    roi,
    serving_plan,
    training,
    work,
)
from ftcost_helpers.engine.model.calibrated import is_calibrated, with_calibration
from ftcost_helpers.engine.model.guards import (
    SECTION_OF_AREA,
    check_amounts,
    check_implied_utilisation,
    check_physics,
    check_serving_load,
)
from ftcost_helpers.engine.model.lines import AREAS, CLIENT, Line
from ftcost_helpers.engine.model.storage import storage_lines
from ftcost_helpers.engine.model.training import ComputeFacts
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import Number
from ftcost_helpers.engine.schema import Params

BILLION = 1e9


@dataclass(frozen=True)
class ServingFacts:
    """Self-hosted serving as the plan describes it, whether or not it is counted in the
    running costs (``serving.modelled``)."""

    rate_usd_per_gpu_hour: Number
    gpu_hours_per_month: Number
    usd_per_month: Number
    """What serving costs a month when it is counted, in the plan's shape
    (:func:`~ftcost_helpers.engine.model.serving_plan.serving_bill`; dedicated: GPUs × hours × rate)."""
    usd_per_1m_tokens: Number
    tokens_per_second: Number = 0.0
    """The deployment's throughput: the plan's, else from physics."""


@dataclass(frozen=True)
class ModelRun:
    """Every figure of one run; each is a float or one value per draw."""

    lines: list[Line]
    ongoing_monthly: dict[str, Number]
    maintenance_quarterly: dict[str, Number]
    running_by_month: np.ndarray
    maintained_by_month: np.ndarray
    """1.0 for each month 1..horizon under maintenance (:func:`maintenance.maintained_months`)."""
    alternative_monthly: Number
    cash_flow: np.ndarray
    break_even_month: Number
    serving: ServingFacts
    compute: ComputeFacts
    alternative_source: str = CLIENT
    extras: dict[str, Number] = field(default_factory=dict)

    @property
    def programme_total(self) -> Number:
        """USD of the one-time programme (every line)."""
        return sum((line.value for line in self.lines), start=0.0)

    def area_total(self, area: str) -> Number:
        """USD of one area's lines."""
        return sum((line.value for line in self.lines if line.area == area), start=0.0)

    @property
    def tco(self) -> Number:
        """USD of the programme plus running costs up to the horizon."""
        return self.programme_total + self.running_by_month.sum(axis=-1)


def training_rate(p: Params, book: PriceBook) -> tuple[Number, str]:
    """$/GPU-hour for training: the client's booked rate, else the price book's."""
    if p.training.rate_usd_per_gpu_hour is not None:
        return p.training.rate_usd_per_gpu_hour, CLIENT
    rate = book.gpu_rates_usd_per_gpu_hour[p.training.gpu][p.training.tier]
    return rate, book.rate_note(p.training.gpu, p.training.tier)


def compute_area(p: Params, book: PriceBook) -> tuple[list[Line], ComputeFacts]:
    """Compute lines (booked runs, rerun tax, sweep) and the physics and VRAM views."""
    t, gpu, method = p.training, book.gpus[p.training.gpu], work.method_spec(p, book)
    rate, rate_source = training_rate(p, book)
    booked = compute.booked_gpu_hours(t.gpus_per_run, t.hours_per_run, t.runs)
    failed = compute.failed_run_gpu_hours(
        t.gpus_per_run, t.hours_per_run, t.failed_runs, t.failed_run_completed_fraction
    )
    sweep = compute.sweep_gpu_hours(
        t.gpus_per_run, t.hours_per_run, t.sweep_trials, t.sweep_early_stopping, t.early_stopped_trial_fraction
    )
    source = f"{CLIENT} × {'booked rate' if rate_source == CLIENT else rate_source}"
    if t.provider == "managed":
        lines = serving_plan.managed_lines(p, book)
        return lines, _compute_facts(p, book, gpu, method, rate, rate_source, booked, failed + sweep)
    runs_source = source
    if is_calibrated(p):  # issue 23: the hours per run come from the pilot
        c = p.calibration
        runs_source = f"hours from a {c.pilot.steps}-step pilot on {c.date.isoformat()} × {source}"
    facts = _compute_facts(p, book, gpu, method, rate, rate_source, booked, failed + sweep)
    runs_line = Line(
        "compute", "Training runs (GPUs × hours × runs × rate)", compute.gpu_cost(booked, rate), runs_source
    )
    rl_lines: list[Line] = []
    if t.method == "rl" and t.rl is not None:
        runs_line, rl_lines = _rl_lines(p, book, facts, rate, runs_source)
    lines = [
        runs_line,
        *rl_lines,
        Line("compute", "Failed runs (rerun tax)", compute.gpu_cost(failed, rate), source),
        Line("compute", "Hyper-parameter sweep", compute.gpu_cost(sweep, rate), source),
    ]
    return lines, facts


PHYSICS_SHARE = "physics view (rollout GPU-hours ÷ physics GPU-hours per run)"
"""Where an RL plan's rollout share of its booked GPU time comes from."""


def rollout_share(facts: ComputeFacts) -> Number:
    """Share of a run's GPU time that generates rollouts, by the physics view (0 without)."""
    physics = np.asarray(facts.physics_gpu_hours_per_run, dtype=float)
    safe = np.where(physics > 0, physics, 1.0)
    return np.where(physics > 0, np.asarray(facts.rollout_gpu_hours_per_run) / safe, 0.0)[()]


def graded_runs(p: Params) -> Number:
    """Run-equivalents whose samples are graded: the runs, the failed runs' completed share and
    the sweep's trials (their run share when stopped early), as the compute lines count them."""
    t = p.training
    trial = t.early_stopped_trial_fraction if t.sweep_early_stopping else 1.0
    return t.runs + t.failed_runs * t.failed_run_completed_fraction + t.sweep_trials * trial


def _rl_lines(p: Params, book: PriceBook, facts: ComputeFacts, rate: Number, source: str) -> tuple[Line, list[Line]]:
    """An RL plan's compute lines (see :mod:`~ftcost_helpers.engine.model.rl`): the booked runs
    split into policy updates and rollouts by the physics view's rollout share when the
    inference engine shares the GPUs, or the separate engine's GPUs for the same hours; and
    the model grader's tokens at the grader's price (0 for a verifier or a reward model,
    whose compute is in the runs)."""
    t, r = p.training, p.training.rl
    booked = compute.gpu_cost(compute.booked_gpu_hours(t.gpus_per_run, t.hours_per_run, t.runs), rate)
    if r.colocated_inference:
        share = rollout_share(facts)
        runs = Line(
            "compute",
            "Training runs: policy updates (GPUs × hours × runs × rate × update share)",
            booked * (1 - share),
            source,
        )
        rollout = Line(
            "compute",
            "RL rollouts (GPUs × hours × runs × rate × rollout share)",
            booked * share,
            f"{source} × {PHYSICS_SHARE}",
        )
    else:
        runs = Line("compute", "Training runs (GPUs × hours × runs × rate)", booked, source)
        engine = compute.gpu_cost(compute.booked_gpu_hours(r.inference_gpus, t.hours_per_run, t.runs), rate)
        rollout = Line("compute", "RL rollouts: separate inference GPUs (GPUs × hours × runs × rate)", engine, source)
    prices = grader_prices(p)
    samples = graded_runs(p) * rl.samples_per_run(r.prompts, r.group_size, t.epochs)
    tokens = (0.0, 0.0) if r.grader is None else (r.grader.input_tokens_per_sample, r.grader.output_tokens_per_sample)
    usd = rl.grader_usd(samples, *tokens, prices.input, prices.output) if r.reward == "model_grader" else 0.0 * booked
    grader = Line("compute", "RL grader tokens (samples × tokens × price)", usd, prices.source)
    return runs, [rollout, grader]


def grader_prices(p: Params) -> ApiPrices:
    """USD per 1M tokens of an RL plan's model grader: the prices given, else the named
    model's at the plan's start date (genai-prices); nothing without a model grader."""
    r = p.training.rl
    g = r.grader if r is not None else None
    if r is None or r.reward != "model_grader" or g is None:
        return ApiPrices(0.0, 0.0, 0.0, "no model grader")
    if g.input_price_usd_per_1m_tokens is not None and g.output_price_usd_per_1m_tokens is not None:
        return ApiPrices(
            g.input_price_usd_per_1m_tokens, g.input_price_usd_per_1m_tokens, g.output_price_usd_per_1m_tokens, CLIENT
        )
    tokens = max(int(np.max(np.asarray(g.input_tokens_per_sample, dtype=float))), 1)
    named = api_price(g.model, g.provider, p.start_date, tokens)
    return ApiPrices(named.input_usd_per_1m, named.input_usd_per_1m, named.output_usd_per_1m, named.source)


def _compute_facts(p, book, gpu, method, rate, rate_source, booked, rerun) -> ComputeFacts:
    t = p.training
    return ComputeFacts(
        rate_usd_per_gpu_hour=rate,
        rate_source=rate_source,
        booked_gpu_hours=booked,
        booked_gpu_hours_per_run=t.gpus_per_run * t.hours_per_run,
        rerun_gpu_hours=rerun,
        **training.physics_view(p, book),
    )


def owned_lines(p: Params, book: PriceBook, rented: list[Line]) -> tuple[list[Line], Number]:
    """The compute lines of a plan trained on GPUs it buys, named as the rented ones
    (:func:`~ftcost_helpers.engine.model.ownership.owned_compute_lines`), and the energy bill
    re-training is a share of."""
    t = p.training
    hours = (
        compute.booked_gpu_hours(t.gpus_per_run, t.hours_per_run, t.runs),
        compute.failed_run_gpu_hours(t.gpus_per_run, t.hours_per_run, t.failed_runs, t.failed_run_completed_fraction),
        compute.sweep_gpu_hours(
            t.gpus_per_run, t.hours_per_run, t.sweep_trials, t.sweep_early_stopping, t.early_stopped_trial_fraction
        ),
    )
    values, energy = ownership.owned_compute_lines(p, book, hours)
    source = f"{CLIENT} × owned GPUs: GPU-hours × energy (kW × PUE × price per kWh); depreciation and colocation"
    return [Line(line.area, line.item, value, source) for line, value in zip(rented, values, strict=True)], energy


def dataset_area(p: Params) -> list[Line]:
    """Dataset lines from drivers, or the amount the client gives."""
    d = p.dataset
    hours = dataset.annotation_hours(d.annotation_hours, d.pairs, d.annotation_minutes_per_pair)
    annotation = dataset.annotation_cost(hours, d.annotation_rate_usd_per_hour)
    return [
        Line("dataset", "Dataset curation (amount given)", d.curation_usd, CLIENT),
        Line("dataset", "Sourcing and rights clearance", d.sourcing_usd, CLIENT),
        Line("dataset", "PII/PHI redaction pipeline", d.pii_redaction_usd, CLIENT),
        Line("dataset", "Expert annotation (hours × rate)", annotation, CLIENT),
        Line(
            "dataset",
            "Double-labelling (share × annotation)",
            dataset.double_labelling_cost(annotation, d.double_label_fraction),
            CLIENT,
        ),
        Line("dataset", "Adjudication of disagreements", d.adjudication_usd, CLIENT),
        Line(
            "dataset",
            "Synthetic data (tokens × price + verification)",
            dataset.synthetic_generation_cost(
                d.synthetic_tokens_million, d.synthetic_price_usd_per_1m_tokens, d.synthetic_verification_usd
            ),
            CLIENT,
        ),
        Line("dataset", "Decontamination and dataset eval", d.decontamination_usd, CLIENT),
    ]


def eval_area(p: Params) -> list[Line]:
    """One-time evaluation lines: harness set-up and judged runs during the programme."""
    e = p.evaluation
    run_usd = evaluation.judged_run_cost(e.judge_examples_per_run, e.judges, e.judge_price_usd_per_call)
    return [
        Line("eval", "Eval harness set-up", e.setup_usd, CLIENT),
        Line(
            "eval",
            "Judged eval runs (runs × examples × judges × price)",
            evaluation.programme_eval_runs_cost(e.runs_during_programme, run_usd),
            CLIENT,
        ),
    ]


def engineering_area(p: Params) -> list[Line]:
    """Engineering labour, other engineering amounts and serving set-up."""
    g = p.engineering
    return [
        Line(
            "engineering",
            "MLOps and engineering (weeks × hours × rate)",
            engineering.engineering_cost(g.engineer_weeks, g.hours_per_week, g.rate_usd_per_hour),
            CLIENT,
        ),
        Line("engineering", "Other engineering (amount given)", g.other_usd, CLIENT),
        Line("engineering", "Serving set-up", p.serving.setup_usd, CLIENT),
    ]


def compliance_area(p: Params) -> list[Line]:
    """Compliance work as explicit lines."""
    c = p.compliance
    return [
        Line("compliance", "GDPR (DPIA, processor agreements)", c.gdpr_usd, CLIENT),
        Line("compliance", "EU AI Act GPAI duties (redistribution)", c.eu_ai_act_usd, CLIENT),
        Line("compliance", "SOC 2 / ISO 27001 controls", c.soc2_usd, CLIENT),
        Line("compliance", "HIPAA review and BAA chain", c.hipaa_usd, CLIENT),
    ]


def serving_rate(p: Params, book: PriceBook) -> Number:
    """$/GPU-hour for serving: the client's rate, else the price book's; under a committed
    term (``serving.commitment``) less its discount (:mod:`~ftcost_helpers.engine.model.commitment`)."""
    s = p.serving
    rate = (
        s.rate_usd_per_gpu_hour
        if s.rate_usd_per_gpu_hour is not None
        else book.gpu_rates_usd_per_gpu_hour[s.gpu][s.tier]
    )
    if s.commitment is None:
        return rate
    return commitment.committed_rate(rate, book.committed_use[s.commitment].discount)


def maintenance_per_quarter(p: Params, first_compute_usd: Number) -> dict[str, Number]:
    """USD per quarter by maintenance item."""
    m = p.maintenance
    return {
        "Re-evaluation": m.re_evaluation_usd_per_quarter,
        "Drift monitoring": m.drift_monitoring_usd_per_quarter,
        "Incremental data": m.incremental_data_usd_per_quarter,
        "Re-training": maintenance.retrain_cost_per_quarter(
            m.retrains_per_quarter, m.retrain_fraction_of_first_compute, first_compute_usd
        ),
        "Base-model migration": maintenance.migration_cost_per_quarter(m.migrations_per_year, m.migration_usd),
    }


def alternative_monthly(p: Params, book: PriceBook) -> Number:
    """USD per month the alternative costs (the fine-tune's saving); 0 for none."""
    a = p.alternative
    if a.kind == "api":
        return api_monthly(p, book)
    if a.kind == "labour":
        lab = a.labour
        return roi.labour_saved_per_month(
            lab.staff, lab.hours_per_staff_per_month, lab.time_saved_fraction, lab.loaded_rate_usd_per_hour
        )
    if a.kind == "rag":
        return a.rag.usd_per_month
    return 0.0


@dataclass(frozen=True)
class ApiPrices:
    """USD per 1M tokens the API alternative is priced at, and where the figures come from."""

    input: Number
    cached_input: Number
    output: Number
    source: str


def named_api_price(p: Params, book: PriceBook) -> ApiPrice | None:
    """The genai-prices list price of ``alternative.api.model`` at the plan's start date."""
    api = p.alternative.api
    if api.model is None:
        return None
    per_request = api.input_tokens_per_request or book.api_typical_input_tokens_per_request
    return api_price(api.model, api.provider, p.start_date, per_request)


def api_prices_per_1m(p: Params, book: PriceBook) -> ApiPrices:
    """USD per 1M tokens: given per 1M, given per 1k, or the named model's (genai-prices).
    Cached input without a price of its own is billed at the input price."""
    api = p.alternative.api
    given = (api.input_price_usd_per_1m_tokens, api.input_price_usd_per_1k_tokens) != (None, None) and (
        api.output_price_usd_per_1m_tokens,
        api.output_price_usd_per_1k_tokens,
    ) != (None, None)
    named = None if given else named_api_price(p, book)

    def price(per_1m: Number | None, per_1k: Number | None, fallback: float) -> Number:
        if per_1m is not None:
            return per_1m
        if per_1k is not None:
            return roi.per_1m_from_per_1k(per_1k)
        return fallback

    input_price = price(
        api.input_price_usd_per_1m_tokens, api.input_price_usd_per_1k_tokens, _side(named, "input", book.per_usd)
    )
    output_price = price(
        api.output_price_usd_per_1m_tokens, api.output_price_usd_per_1k_tokens, _side(named, "output", book.per_usd)
    )
    cached = api.cached_input_price_usd_per_1m_tokens
    if cached is None:
        cached = (
            named.cached_input_usd_per_1m * book.per_usd
            if named and named.cached_input_usd_per_1m is not None
            else input_price
        )
    return ApiPrices(input_price, cached, output_price, named.source if named else CLIENT)


def _side(named: ApiPrice | None, side: str, per_usd: float = 1.0) -> float:
    """A genai-prices list price (USD per 1M tokens) in the book's currency (× ``per_usd``)."""
    return 0.0 if named is None else getattr(named, f"{side}_usd_per_1m") * per_usd


def api_monthly(p: Params, book: PriceBook) -> Number:
    """USD per month of the API alternative: the bill given, or tokens × prices."""
    api = p.alternative.api
    if api.usd_per_month is not None:
        return api.usd_per_month
    prices = api_prices_per_1m(p, book)
    return roi.api_cost_per_month(
        api.input_tokens_million_per_month,
        api.output_tokens_million_per_month,
        prices.input,
        prices.output,
        api.cached_input_tokens_million_per_month,
        prices.cached_input,
    )


def alternative_source(p: Params, book: PriceBook) -> str:
    """Where the alternative's monthly cost comes from (an API model names genai-prices)."""
    a = p.alternative
    if a.kind == "api" and a.api.usd_per_month is None:
        return api_prices_per_1m(p, book).source
    return CLIENT if a.kind != "none" else "no alternative"


def serving_facts(p: Params, book: PriceBook) -> ServingFacts:
    """Serving's rate, GPU-hours and cost per month and per 1M tokens (the one place they are
    worked out; the audit and the views read them from the run)."""
    rate = serving_plan.gpu_rate(p, book, serving_rate(p, book))
    bill = serving_plan.serving_bill(p, book, rate)
    return ServingFacts(
        rate_usd_per_gpu_hour=rate,
        gpu_hours_per_month=bill.gpu_hours_per_month,
        usd_per_month=bill.usd_per_month,
        usd_per_1m_tokens=bill.usd_per_1m_tokens,
        tokens_per_second=bill.tokens_per_second,
    )


def alternative_tokens_million_per_month(p: Params) -> Number | None:
    """Million tokens a month the fine-tune must serve to replace an API priced by its
    volumes (input + output); None when the alternative gives no volumes."""
    api = p.alternative.api
    if p.alternative.kind != "api" or api.usd_per_month is not None:
        return None
    return api.input_tokens_million_per_month + api.output_tokens_million_per_month


def serving_load(p: Params, book: PriceBook | None = None) -> tuple[Number, Number] | None:
    """(average, peak) tokens/s the alternative's volume needs over the serving hours
    (peak = average × ``serving.peak_to_average``); None without volumes. A load no
    deployment could carry (the volume over no serving hours, a throughput near zero) is refused
    where serving is modelled
    (:func:`~ftcost_helpers.engine.model.guards.check_serving_load`)."""
    tokens = alternative_tokens_million_per_month(p)
    if tokens is None:
        return None
    average = roi.average_tokens_per_second(tokens, p.serving.hours_per_month)
    peak = average * p.serving.peak_to_average
    if p.serving.modelled and p.serving.shape not in serving_plan.PER_TOKEN_SHAPES:
        speed = serving_plan.throughput(p, book) if book is not None else p.serving.tokens_per_second
        check_serving_load(p, tokens, peak, roi.gpus_to_carry(peak, speed, p.serving.gpus))
    return average, peak


def running_costs_by_month(ongoing: dict[str, Number], maintained: np.ndarray, launched: np.ndarray) -> np.ndarray:
    """USD each month 1..horizon of running the fine-tune (months on the last axis):
    evaluation and serving in the months ``launched`` marks (after the build,
    :func:`~ftcost_helpers.engine.model.roi.operating_months`), maintenance in the months
    ``maintained`` marks."""
    steady = np.asarray(ongoing["eval"] + ongoing["serving"], dtype=float)[..., None]
    upkeep = np.asarray(ongoing["maintenance"], dtype=float)[..., None]
    return steady * launched + upkeep * maintained


def programme_spend(p: Params, lines: list[Line]) -> np.ndarray:
    """USD of programme spend in each month 0..horizon: each area's lines spread over the
    build months by ``programme.spend_profile`` (all in month 0 without a build period)."""
    build, profile = p.programme.build_months, p.programme.spend_profile
    area_usd = {area: sum((line.value for line in lines if line.area == area), start=0.0) for area in AREAS}
    weights = {
        area: roi.build_weights(build, profile.get(area, "even") if isinstance(profile, dict) else profile)
        for area in AREAS
    }
    return roi.programme_spend_by_month(area_usd, weights, p.horizon_months)


def run_model(p: Params, book: PriceBook) -> ModelRun:
    """The whole model on resolved inputs (no Range left in ``p`` or ``book``); every figure
    finite and printable, else :class:`~ftcost_helpers.engine.model.guards.FigureOutOfRange`
    (:func:`~ftcost_helpers.engine.model.guards.check_physics`, :func:`amounts`). A
    ``calibration`` that applies sets the run's hours and utilisation (:mod:`calibrated`)."""
    p = with_calibration(p)
    compute_lines, facts = compute_area(p, book)
    first_compute = sum((line.value for line in compute_lines), start=0.0)
    if p.training.ownership is not None and p.training.ownership.costed:  # issue 24: on GPUs it buys
        compute_lines, first_compute = owned_lines(p, book, compute_lines)
    lines = (
        compute_lines
        + storage_lines(p, book, facts)
        + dataset_area(p)
        + eval_area(p)
        + engineering_area(p)
        + compliance_area(p)
    )
    quarterly = maintenance_per_quarter(p, first_compute)
    serving = serving_facts(p, book)
    ongoing = {
        "eval": p.evaluation.continuous_usd_per_month,
        "serving": serving.usd_per_month if p.serving.modelled else 0.0 * serving.usd_per_month,
        "maintenance": maintenance.monthly_from_quarterly(sum(quarterly.values(), start=0.0)),
    }
    build = p.programme.build_months
    months = np.arange(1, p.horizon_months + 1)
    maintained = maintenance.maintained_months(months, p.maintenance.start_month, build)
    operating = roi.operating_months(build, p.horizon_months)
    running = running_costs_by_month(ongoing, maintained, operating)
    alternative = alternative_monthly(p, book)
    cash = roi.cumulative_cash_flow(programme_spend(p, lines), roi.monthly_net_saving(alternative, running, operating))
    has_alternative = p.alternative.kind != "none"
    break_even = roi.break_even_month(cash) if has_alternative else np.nan
    run = ModelRun(
        lines=lines,
        ongoing_monthly=ongoing,
        maintenance_quarterly=quarterly,
        running_by_month=running,
        maintained_by_month=maintained,
        alternative_monthly=alternative,
        cash_flow=cash,
        break_even_month=break_even,
        serving=serving,
        compute=facts,
        alternative_source=alternative_source(p, book),
    )
    check_physics(p, book, facts.physics_gpu_hours_per_run, facts.tokens_per_run, facts.utilisation)
    check_implied_utilisation(p, facts.implied_utilisation)
    check_amounts(amounts(run))
    return run


def amounts(run: ModelRun) -> Iterator[tuple[str, str, Number]]:
    """(section of the client file, figure, USD) of every amount a run produces, programme
    lines first. The cash flow, TCO and break-even are sums of these over at most 120 months,
    so they stay finite and printable when these do."""
    for line in run.lines:
        yield SECTION_OF_AREA[line.area], f"'{line.item}'", line.value
    for name, value in run.ongoing_monthly.items():
        yield SECTION_OF_AREA[name], f"{name} per month", value
    for name, value in run.maintenance_quarterly.items():
        yield "maintenance", f"'{name}' per quarter", value
    yield "serving", "serving per 1M tokens", run.serving.usd_per_1m_tokens
    yield "alternative", "the alternative per month", run.alternative_monthly
