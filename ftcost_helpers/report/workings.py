"""The workings of an estimate as inputs and formulas: every driver of the base case with
its unit and source, and every line item, running cost and the alternative as a formula
over those drivers.

One description serves two faces: the client document prints each line's drivers in
words ("8 GPUs × 6 hours × 14 runs × USD 1.71/GPU-hour"), and the workbook writes each
formula as a spreadsheet formula over its Inputs sheet, so a changed input recalculates.
The formulas restate the engine's (``engine/model/run.py``); :func:`check_against_engine`
evaluates them here and the workbook test recalculates them in LibreOffice, both against
the engine's own figures.

A formula is a small tree: a number, an input key (``"training.runs"``), a reference to an
earlier formula (``Ref("compute_total")``), or ``(op, *args)`` with ``op`` one of
``+ - * /`` and ``if`` (``("if", condition, then, else)``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Union

from ftcost_helpers.engine import provenance as origin_of
from ftcost_helpers.engine.model.calibrated import calibrated_hours_range, is_calibrated
from ftcost_helpers.engine.model.lines import CLIENT
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.provenance import Provenance, firm_default_keys, input_provenance
from ftcost_helpers.engine.quantities import Range, base_value
from ftcost_helpers.engine.schema import Params


@dataclass(frozen=True)
class Ref:
    """A reference to an earlier formula by its id."""

    name: str


Formula = Union[float, int, str, Ref, tuple]  # noqa: UP007 (a recursive alias reads better so)


@dataclass(frozen=True)
class Input:
    """One driver of the base case: ``value`` in ``unit`` (a bool for a yes/no choice)."""

    key: str
    label: str
    value: float | bool
    unit: str
    source: str
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Item:
    """One computed figure: a programme line, a running cost or the alternative (USD)."""

    id: str
    area: str
    label: str
    formula: Formula
    engine_item: str | None = None
    """The engine's line name (``Line.item``) this formula restates, for programme lines."""


@dataclass(frozen=True)
class Workings:
    """The inputs and formulas of one plan's base case."""

    inputs: dict[str, Input]
    lines: list[Item]
    """Programme line items, in the engine's order."""
    running: list[Item]
    """Monthly running costs: evaluation, serving, then maintenance (per quarter items and the monthly figure)."""
    alternative: Item | None
    """The alternative's monthly cost, or None when the fine-tune replaces nothing."""
    maintenance_start_key: str
    horizon_months: int
    build_months_key: str = "programme.build_months"
    """The input holding the build months before launch (issue 15: spend spread over them,
    running costs and the alternative avoided from the month after)."""
    spend_profile: str | dict[str, list[int]] = "front_loaded"
    """``programme.spend_profile``: ``front_loaded``, ``even``, or build months by area."""

    def values(self) -> dict[str, float]:
        """Every input's base value and every formula's result, by key or id."""
        known: dict[str, float] = {key: float(item.value) for key, item in self.inputs.items()}
        for item in [*self.lines, *self.running, *([self.alternative] if self.alternative else [])]:
            known[item.id] = evaluate_formula(item.formula, known)
        return known


# --------------------------------------------------------------------------- formulas


def evaluate_formula(formula: Formula, known: Mapping[str, float]) -> float:
    """The value of ``formula`` given input values and earlier results by key."""
    if isinstance(formula, bool):
        return float(formula)
    if isinstance(formula, int | float):
        return float(formula)
    if isinstance(formula, str):
        return float(known[formula])
    if isinstance(formula, Ref):
        return float(known[formula.name])
    op, *args = formula
    if op == "if":
        condition, then, otherwise = args
        return evaluate_formula(then if evaluate_formula(condition, known) else otherwise, known)
    values = [evaluate_formula(arg, known) for arg in args]
    if op == "+":
        return math.fsum(values)
    if op == "-":
        return values[0] - sum(values[1:])
    if op == "*":
        return math.prod(values)
    if op == "/":
        return values[0] / values[1]
    raise ValueError(f"unknown operator {op!r}")


def spreadsheet_formula(formula: Formula, cell: Callable[[str], str]) -> str:
    """``formula`` in spreadsheet syntax (no leading ``=``); ``cell(key)`` names the cell
    of an input or an earlier result."""
    if isinstance(formula, bool):
        return "TRUE" if formula else "FALSE"
    if isinstance(formula, int | float):
        return repr(float(formula)).removesuffix(".0")
    if isinstance(formula, str):
        return cell(formula)
    if isinstance(formula, Ref):
        return cell(formula.name)
    op, *args = formula
    parts = [spreadsheet_formula(arg, cell) for arg in args]
    if op == "if":
        return f"IF({parts[0]},{parts[1]},{parts[2]})"
    if op == "+":
        return "(" + "+".join(parts) + ")"
    if op == "-":
        return "(" + "-".join(parts) + ")"
    return op.join(part if _atomic(part) else f"({part})" for part in parts)


def _atomic(text: str) -> bool:
    """Whether ``text`` needs no brackets as a factor: a cell, a number, a bracketed sum or a call."""
    bare = text.replace("$", "").replace(".", "").replace("!", "").replace("'", "")
    return bare.isalnum() or (text.startswith(("(", "IF(")) and text.endswith(")"))


def inputs_in(formula: Formula) -> list[str]:
    """The input keys ``formula`` reads, in order, each once."""
    found: list[str] = []

    def walk(node: Formula) -> None:
        if isinstance(node, str) and node not in found:
            found.append(node)
        elif isinstance(node, tuple):
            for arg in node[1:]:
                walk(arg)

    walk(formula)
    return found


# --------------------------------------------------------------------------- the plan's workings

CLIENT_SOURCE = "client file"
DEFAULT_SOURCE = "firm defaults"
"""How the Source column names the client's own figures and the firm's defaults (a price-book
figure is named by its date, GPU and tier: ``price book of 26 May 2026: H100 SXM, ...``)."""


class _Collector:
    """Builds the inputs table while the formulas name their drivers; each input's source is
    :func:`~ftcost_helpers.engine.provenance.input_provenance`'s."""

    def __init__(self, params: Params, book: PriceBook, client_keys: frozenset[str]) -> None:
        self.params, self.book, self.client_keys = params, book, client_keys
        self.default_keys = firm_default_keys()
        self.inputs: dict[str, Input] = {}

    def add(self, key: str, label: str, unit: str, value: Any = None, source: str | None = None) -> str:
        """Register the input at dotted ``key`` (its value read from the plan unless given)."""
        raw = _lookup(self.params, key) if value is None else value
        low = high = None
        if isinstance(raw, Range):
            low, high = raw.low, raw.high
        number = raw if isinstance(raw, bool) else base_value(raw)
        if source is None:
            source = source_words(input_provenance(key, self.params, self.book, self.client_keys, self.default_keys))
        self.inputs[key] = Input(key, label, number, unit, source, low, high)
        return key


def source_words(origin: Provenance) -> str:
    """An input's source as the Source column words it: the client file, the firm defaults,
    the dated price book (with the GPU and tier) or the dated catalogue."""
    if origin.kind == origin_of.CLIENT:
        return CLIENT_SOURCE
    if origin.kind == origin_of.FIRM_DEFAULT:
        return DEFAULT_SOURCE
    return origin.detail


def _lookup(node: Any, key: str) -> Any:
    for part in key.split("."):
        node = getattr(node, part)
    return node


def _rate(c: _Collector, section: str, book: PriceBook) -> str:
    """The $/GPU-hour input of ``training`` or ``serving``: booked, else the price book's."""
    plan = getattr(c.params, section)
    key = f"{section}.rate_usd_per_gpu_hour"
    label = "Training rate" if section == "training" else "Serving rate"
    if plan.rate_usd_per_gpu_hour is not None:
        return c.add(key, f"{label} (booked)", "USD/GPU-hour")
    return c.add(key, label, "USD/GPU-hour", book.gpu_rate(plan.gpu, plan.tier))


def _managed_lines(c: _Collector, book: PriceBook) -> list[Item]:
    """A managed plan's compute lines (:mod:`~ftcost_helpers.engine.model.managed`): each job
    billed epochs × pairs × tokens per pair (× the maximum length for unpacked data where the
    service bills it so) + the validation tokens it bills, × the price per 1M tokens."""
    from ftcost_helpers.engine.model.serving_plan import managed_price
    from ftcost_helpers.engine.resolve import pick_base, resolve

    t = c.params.training
    assert t.managed is not None
    service = book.managed_services[t.managed.service]
    base = resolve(c.params, pick_base)
    price, where = managed_price(base, resolve(book, pick_base, "pricebook"))
    source = CLIENT_SOURCE if where == CLIENT else where
    key = "training.managed.price_usd_per_1m_tokens"
    rate = c.add(key, "Managed service price", "USD/1M tokens", float(price), source)
    epochs = c.add("training.epochs", "Epochs", "passes")
    pairs = c.add("dataset.pairs", "Training pairs", "pairs")
    per_pair: Formula = c.add("training.tokens_per_pair", "Tokens per pair", "tokens")
    if service.bills_unpacked_at_max_length:
        packed = c.add("training.packing", "Examples packed", "yes/no")
        longest = c.add("training.sequence_length", "Maximum sequence length (billed when unpacked)", "tokens")
        per_pair = ("if", packed, per_pair, longest)
    tokens: Formula = ("*", epochs, pairs, per_pair)
    if service.bills_evaluation_tokens:
        evaluation = c.add(
            "training.managed.evaluation_tokens_million_per_run", "Validation tokens per job", "million tokens"
        )
        tokens = ("+", tokens, ("*", evaluation, 1_000_000))
    job: Formula = ("/", ("*", tokens, rate), 1_000_000)
    runs = c.add("training.runs", "Training runs", "runs")
    failed = c.add("training.failed_runs", "Failed runs", "runs")
    done = c.add("training.failed_run_completed_fraction", "Share of a failed run completed", "share")
    trials = c.add("training.sweep_trials", "Sweep trials", "trials")
    early = c.add("training.sweep_early_stopping", "Sweep stops trials early", "yes/no")
    kept = c.add("training.early_stopped_trial_fraction", "Share of an early-stopped trial run", "share")
    item = "Managed fine-tuning jobs (billed tokens × price per 1M)"
    return [
        Item("training_runs", "compute", "Managed fine-tuning jobs", ("*", runs, job), item),
        Item("failed_runs", "compute", "Failed runs (rerun tax)", ("*", failed, done, job), "Failed runs"),
        Item("sweep", "compute", "Hyper-parameter sweep", ("*", trials, ("if", early, kept, 1), job), "Hyper"),
    ]


def _owned_rate(c: _Collector, book: PriceBook) -> tuple[str, str]:
    """A plan trained on GPUs it buys (issue 24): the energy per GPU-hour as its rate, and
    the GPUs' depreciation over the horizon with the colocation as one amount."""
    from ftcost_helpers.engine.model.ownership import energy_per_gpu_hour, owned_figures, owned_fixed_cost
    from ftcost_helpers.engine.resolve import pick_base, resolve

    p, b = resolve(c.params, pick_base), resolve(book, pick_base)
    v = owned_figures(p, b)
    gpus = p.training.ownership.gpus or p.training.gpus_per_run
    energy = energy_per_gpu_hour(v["power_kw_per_gpu"], v["pue"], v["kwh_price_usd"])
    owned = "owned GPUs: kW × PUE × price per kWh"
    rate = c.add(
        "training.ownership.energy_usd_per_gpu_hour", "Energy per GPU-hour (owned)", "USD/GPU-hour", energy, owned
    )
    fixed = c.add(
        "training.ownership.fixed_usd",
        "Owning the GPUs over the horizon (depreciation and colocation)",
        "USD",
        owned_fixed_cost(gpus, p.horizon_months, v),
        "owned GPUs: purchase, resale, years and colocation",
    )
    return rate, fixed


def _compute_lines(c: _Collector, book: PriceBook) -> list[Item]:
    if c.params.training.provider == "managed" and c.params.training.managed is not None:
        return _managed_lines(c, book)
    g = c.add("training.gpus_per_run", "GPUs per run", "GPUs")
    h = c.add("training.hours_per_run", "Hours per run", "hours")
    if is_calibrated(c.params):  # issue 23: the pilot-implied hours replace the booked ones
        pilot = c.params.calibration.pilot
        source = f"a {pilot.steps}-step pilot on {c.params.calibration.date.isoformat()}"
        h = c.add(
            "training.hours_per_run",
            "Hours per run (from the pilot)",
            "hours",
            calibrated_hours_range(c.params),
            source,
        )
    own = c.params.training.ownership
    fixed = None
    if own is not None and own.costed:
        rate, fixed = _owned_rate(c, book)
    else:
        rate = _rate(c, "training", book)
    runs = c.add("training.runs", "Training runs", "runs")
    failed = c.add("training.failed_runs", "Failed runs", "runs")
    done = c.add("training.failed_run_completed_fraction", "Share of a failed run completed", "share")
    trials = c.add("training.sweep_trials", "Sweep trials", "trials")
    early = c.add("training.sweep_early_stopping", "Sweep stops trials early", "yes/no")
    kept = c.add("training.early_stopped_trial_fraction", "Share of an early-stopped trial run", "share")
    runs_formula = ("*", g, h, runs, rate) if fixed is None else ("+", ("*", g, h, runs, rate), fixed)
    booked = [Item("training_runs", "compute", "Training runs", runs_formula, "Training runs")]
    if c.params.training.method == "rl" and c.params.training.rl is not None:
        graded = ("+", runs, ("*", failed, done), ("*", trials, ("if", early, kept, 1)))
        booked = _rl_lines(c, (g, h, runs, rate), graded)
    return [
        *booked,
        Item("failed_runs", "compute", "Failed runs (rerun tax)", ("*", g, h, failed, done, rate), "Failed runs"),
        Item("sweep", "compute", "Hyper-parameter sweep", ("*", g, h, trials, ("if", early, kept, 1), rate), "Hyper"),
    ]


def _rl_lines(c: _Collector, booked: tuple[str, str, str, str], graded: Formula) -> list[Item]:
    """An RL plan's runs, rollouts and grader (the engine's ``_rl_lines``): the booked runs
    split by the physics view's rollout share (an input the workbook shows, from the engine),
    or a separate engine's GPUs for the same hours; the grader's samples × tokens × prices."""
    from ftcost_helpers.engine.evaluate import evaluate  # the model runs only for an RL plan
    from ftcost_helpers.engine.model.run import PHYSICS_SHARE, grader_prices, rollout_share

    g, h, runs, rate = booked
    r, book = c.params.training.rl, c.book
    run = evaluate(c.params, book)
    if r.colocated_inference:
        share = c.add(
            "rl.rollout_share", "Rollout share of run time", "share", float(rollout_share(run.compute)), PHYSICS_SHARE
        )
        items = [
            Item(
                "training_runs",
                "compute",
                "Training runs: policy updates",
                ("*", g, h, runs, rate, ("-", 1, share)),
                "Training runs",
            ),
            Item("rl_rollouts", "compute", "RL rollouts", ("*", g, h, runs, rate, share), "RL rollouts"),
        ]
    else:
        engine = c.add("training.rl.inference_gpus", "Separate inference GPUs", "GPUs")
        items = [
            Item("training_runs", "compute", "Training runs", ("*", g, h, runs, rate), "Training runs"),
            Item(
                "rl_rollouts",
                "compute",
                "RL rollouts: separate inference GPUs",
                ("*", engine, h, runs, rate),
                "RL rollouts",
            ),
        ]
    rl = "training.rl."
    prompts = c.add(rl + "prompts", "RL prompts per epoch", "prompts")
    group = c.add(rl + "group_size", "Completions per prompt", "completions")
    epochs = c.add("training.epochs", "Epochs", "epochs")
    prices = grader_prices(c.params)
    if r.reward == "model_grader" and r.grader is not None:
        tokens_in = c.add(rl + "grader.input_tokens_per_sample", "Grader input tokens per sample", "tokens")
        tokens_out = c.add(rl + "grader.output_tokens_per_sample", "Grader output tokens per sample", "tokens")
        price_in = c.add(
            "rl.grader_input_price", "Grader input price", "USD/1M tokens", float(prices.input), prices.source
        )
        price_out = c.add(
            "rl.grader_output_price", "Grader output price", "USD/1M tokens", float(prices.output), prices.source
        )
        per_sample = ("/", ("+", ("*", tokens_in, price_in), ("*", tokens_out, price_out)), 1_000_000)
    else:
        per_sample = 0
    grader = ("*", graded, prompts, group, epochs, per_sample)
    return [*items, Item("rl_grader", "compute", "RL grader tokens", grader, "RL grader tokens")]


def _storage_lines(c: _Collector, book: PriceBook) -> list[Item]:
    """Storage and egress (issue 24, money; :mod:`ftcost_helpers.engine.model.storage`)."""
    from ftcost_helpers.engine.evaluate import evaluate
    from ftcost_helpers.engine.model.storage import storage_inputs

    st, p = "storage.", c.params
    derived = storage_inputs(p, book, evaluate(p, book).compute)
    data = c.add(st + "data_tb", "Data kept", "TB")
    kept = c.add(st + "checkpoints_kept", "Checkpoints kept", "checkpoints")
    size_source = (
        None if p.storage.checkpoint_gb is not None else "trained parameters × 14 bytes (weights and Adam states)"
    )
    size = c.add(
        st + "checkpoint_gb",
        "Size of one checkpoint",
        "GB",
        derived["checkpoint_gb"],
        size_source,
    )
    months = c.add(
        st + "months",
        "Months kept",
        "months",
        derived["months"],
        None if p.storage.months is not None else "the horizon",
    )
    price = c.add(
        st + "usd_per_tb_month",
        "Storage price",
        "USD/TB-month",
        derived["usd_per_tb_month"],
    )
    out = c.add(st + "egress_tb", "Egress", "TB")
    out_price = c.add(
        st + "egress_usd_per_tb",
        "Egress price",
        "USD/TB",
        derived["egress_usd_per_tb"],
    )
    return [
        Item(
            "storage",
            "compute",
            "Storage: data and checkpoints",
            ("*", ("+", data, ("*", kept, size, 0.001)), months, price),
            "Storage",
        ),
        Item("egress", "compute", "Egress", ("*", out, out_price), "Egress"),
    ]


def _dataset_lines(c: _Collector) -> list[Item]:
    d = "dataset."
    hours = c.add(d + "annotation_hours", "Annotation hours given", "hours")
    pairs = c.add(d + "pairs", "Training pairs", "pairs")
    minutes = c.add(d + "annotation_minutes_per_pair", "Annotation minutes per pair", "minutes")
    rate = c.add(d + "annotation_rate_usd_per_hour", "Annotation rate", "USD/hour")
    double = c.add(d + "double_label_fraction", "Share labelled twice", "share")
    tokens = c.add(d + "synthetic_tokens_million", "Synthetic tokens", "million tokens")
    price = c.add(d + "synthetic_price_usd_per_1m_tokens", "Synthetic data price", "USD/1M tokens")
    check = c.add(d + "synthetic_verification_usd", "Synthetic data verification", "USD")
    amount = {
        key: c.add(d + key, label, "USD")
        for key, label in [
            ("curation_usd", "Dataset curation"),
            ("sourcing_usd", "Sourcing and rights clearance"),
            ("pii_redaction_usd", "PII/PHI redaction pipeline"),
            ("adjudication_usd", "Adjudication of disagreements"),
            ("decontamination_usd", "Decontamination and dataset evaluation"),
        ]
    }
    return [
        Item("curation", "dataset", "Dataset curation", amount["curation_usd"], "Dataset curation"),
        Item("sourcing", "dataset", "Sourcing and rights clearance", amount["sourcing_usd"], "Sourcing"),
        Item("redaction", "dataset", "PII/PHI redaction pipeline", amount["pii_redaction_usd"], "PII"),
        Item(
            "annotation",
            "dataset",
            "Expert annotation",
            ("*", ("+", hours, ("/", ("*", pairs, minutes), 60)), rate),
            "Expert annotation",
        ),
        Item("double_labelling", "dataset", "Double-labelling", ("*", Ref("annotation"), double), "Double-labelling"),
        Item("adjudication", "dataset", "Adjudication of disagreements", amount["adjudication_usd"], "Adjudication"),
        Item("synthetic", "dataset", "Synthetic data", ("+", ("*", tokens, price), check), "Synthetic"),
        Item("decontamination", "dataset", "Decontamination", amount["decontamination_usd"], "Decontamination"),
    ]


def _eval_lines(c: _Collector) -> list[Item]:
    e = "evaluation."
    setup = c.add(e + "setup_usd", "Evaluation harness set-up", "USD")
    runs = c.add(e + "runs_during_programme", "Judged evaluation runs", "runs")
    examples = c.add(e + "judge_examples_per_run", "Examples per evaluation run", "examples")
    judges = c.add(e + "judges", "Judges per example", "judges")
    price = c.add(e + "judge_price_usd_per_call", "Price per judge call", "USD/call")
    return [
        Item("eval_setup", "eval", "Evaluation harness set-up", setup, "Eval harness"),
        Item("eval_runs", "eval", "Judged evaluation runs", ("*", runs, examples, judges, price), "Judged eval runs"),
    ]


def _engineering_lines(c: _Collector) -> list[Item]:
    g = "engineering."
    weeks = c.add(g + "engineer_weeks", "Engineer weeks", "weeks")
    per_week = c.add(g + "hours_per_week", "Hours per week", "hours")
    rate = c.add(g + "rate_usd_per_hour", "Engineering rate", "USD/hour")
    other = c.add(g + "other_usd", "Other engineering", "USD")
    setup = c.add("serving.setup_usd", "Serving set-up", "USD")
    return [
        Item("engineering", "engineering", "MLOps and engineering", ("*", weeks, per_week, rate), "MLOps"),
        Item("other_engineering", "engineering", "Other engineering", other, "Other engineering"),
        Item("serving_setup", "engineering", "Serving set-up", setup, "Serving set-up"),
    ]


def _compliance_lines(c: _Collector) -> list[Item]:
    named = [
        ("gdpr_usd", "GDPR (impact assessment, processor agreements)", "GDPR"),
        ("eu_ai_act_usd", "EU AI Act duties (redistribution)", "EU AI Act"),
        ("soc2_usd", "SOC 2 / ISO 27001 controls", "SOC 2"),
        ("hipaa_usd", "HIPAA review and business associate agreements", "HIPAA"),
    ]
    return [
        Item(key.removesuffix("_usd"), "compliance", label, c.add(f"compliance.{key}", label, "USD"), prefix)
        for key, label, prefix in named
    ]


def _running(c: _Collector, book: PriceBook) -> list[Item]:
    m, s = "maintenance.", "serving."
    continuous = c.add("evaluation.continuous_usd_per_month", "Continuous evaluation", "USD/month")
    modelled = c.add(s + "modelled", "Serving is costed", "yes/no")
    serving_formula = _serving_formula(c, book)
    c.add(m + "start_month", "Maintenance starts in month", "month")
    quarterly = [
        Item(
            "re_evaluation",
            "maintenance",
            "Re-evaluation",
            c.add(m + "re_evaluation_usd_per_quarter", "Re-evaluation", "USD/quarter"),
        ),
        Item(
            "drift",
            "maintenance",
            "Drift monitoring",
            c.add(m + "drift_monitoring_usd_per_quarter", "Drift monitoring", "USD/quarter"),
        ),
        Item(
            "incremental_data",
            "maintenance",
            "Incremental data",
            c.add(m + "incremental_data_usd_per_quarter", "Incremental data", "USD/quarter"),
        ),
        Item(
            "retraining",
            "maintenance",
            "Re-training",
            (
                "*",
                c.add(m + "retrains_per_quarter", "Re-trainings per quarter", "per quarter"),
                c.add(m + "retrain_fraction_of_first_compute", "Re-training cost as a share of first compute", "share"),
                Ref("compute_total"),
            ),
        ),
        Item(
            "migration",
            "maintenance",
            "Base-model migration",
            (
                "*",
                ("/", c.add(m + "migrations_per_year", "Base-model migrations per year", "per year"), 4),
                c.add(m + "migration_usd", "Cost of one migration", "USD"),
            ),
        ),
    ]
    return [
        Item("eval_monthly", "running", "Continuous evaluation per month", continuous),
        Item("serving_monthly", "running", "Serving per month", ("if", modelled, serving_formula, 0)),
        *quarterly,
        Item(
            "maintenance_monthly",
            "running",
            "Maintenance per month",
            ("/", ("+", *(Ref(item.id) for item in quarterly)), 3),
        ),
    ]


def _serving_formula(c: _Collector, book: PriceBook) -> Formula:
    """Serving per month in the plan's shape (:mod:`~ftcost_helpers.engine.model.serving`):
    GPUs × hours × rate (``dedicated``), ÷ adapters (``shared_base``), tokens × price
    (``serverless``), × (1 − discount) (``batch``), replica-hours × GPUs × rate (``endpoint``,
    its replica-hours worked out by the engine from the busy-hour load)."""
    from ftcost_helpers.engine.model import serving_plan
    from ftcost_helpers.engine.model.run import serving_rate
    from ftcost_helpers.engine.resolve import pick_base, resolve

    sv, shape = "serving.", c.params.serving.shape
    base, base_book = resolve(c.params, pick_base), resolve(book, pick_base, "pricebook")
    if shape in serving_plan.PER_TOKEN_SHAPES:
        tokens_given = c.params.serving.tokens_million_per_month is not None
        volume = serving_plan.tokens_million_per_month(base)
        tokens = c.add(
            sv + "tokens_million_per_month",
            "Tokens served per month",
            "million tokens",
            None if tokens_given else float(volume or 0.0),
            None if tokens_given else "the alternative's API volumes",
        )
        price, where = serving_plan.per_token_price(base, base_book)
        source = None if where == CLIENT else where
        per_1m = c.add(sv + "price_usd_per_1m_tokens", "Serving price", "USD/1M tokens", float(price), source)
        if shape == "batch":
            given = c.params.serving.batch_discount_fraction is not None
            service = serving_plan.service_of(book, c.params.serving.service)
            discount = c.add(
                sv + "batch_discount_fraction",
                "Batch API discount",
                "share",
                None if given else float(serving_plan.batch_discount(base, base_book)),
                None if given or service is None else service.citation(),
            )
            return ("*", tokens, per_1m, ("-", 1, discount))
        return ("*", tokens, per_1m)
    gpus = c.add(sv + "gpus", "Serving GPUs", "GPUs")
    hours = c.add(sv + "hours_per_month", "Serving hours per month", "hours")
    fallback = serving_rate(base, base_book)
    rate_value = serving_plan.gpu_rate(base, base_book, fallback)
    service = serving_plan.service_of(book, c.params.serving.service)
    if rate_value is not fallback and service is not None:
        rate = c.add(
            sv + "rate_usd_per_gpu_hour",
            "Serving rate (service endpoint)",
            "USD/GPU-hour",
            float(rate_value),
            service.citation(),
        )
    else:
        rate = _rate(c, "serving", book)
    if shape == "shared_base":
        return ("/", ("*", gpus, hours, rate), c.add(sv + "adapters", "Adapters sharing the base", "adapters"))
    if shape == "endpoint":
        bill = serving_plan.serving_bill(base, base_book, rate_value)
        replica_hours = float(bill.gpu_hours_per_month) / max(c.params.serving.gpus, 1)
        busy = c.add(
            sv + "replica_hours_per_month",
            "Endpoint replica-hours per month",
            "hours",
            replica_hours,
            "the busy-hour load, between the replica bounds",
        )
        return ("*", busy, ("if", gpus, gpus, 1), rate)
    return ("*", gpus, hours, rate)


def _alternative(c: _Collector, book: PriceBook) -> Item | None:
    a = c.params.alternative
    label = "Alternative per month"
    if a.kind == "none":
        return None
    if a.kind == "labour":
        lab = "alternative.labour."
        formula: Formula = (
            "*",
            c.add(lab + "staff", "Staff doing the work today", "people"),
            c.add(lab + "hours_per_staff_per_month", "Hours per person per month", "hours"),
            c.add(lab + "time_saved_fraction", "Share of their time saved", "share"),
            c.add(lab + "loaded_rate_usd_per_hour", "Loaded staff rate", "USD/hour"),
        )
        return Item("alternative_monthly", "alternative", "Staff time saved per month", formula)
    if a.kind == "rag":
        return Item(
            "alternative_monthly",
            "alternative",
            label,
            c.add("alternative.rag.usd_per_month", "RAG set-up per month", "USD/month"),
        )
    api = a.api
    if api.usd_per_month is not None:
        return Item(
            "alternative_monthly",
            "alternative",
            label,
            c.add("alternative.api.usd_per_month", "API bill per month", "USD/month"),
        )
    from ftcost_helpers.engine.model.run import api_prices_per_1m

    prices = api_prices_per_1m(c.params, book)
    source = prices.source if prices.source != CLIENT else CLIENT_SOURCE
    a_ = "alternative.api."
    formula = (
        "+",
        (
            "*",
            c.add(a_ + "input_tokens_million_per_month", "API input tokens per month", "million tokens"),
            c.add(a_ + "input_price", "API input price", "USD/1M tokens", float(prices.input), source),
        ),
        (
            "*",
            c.add(a_ + "cached_input_tokens_million_per_month", "API cached input tokens per month", "million tokens"),
            c.add(
                a_ + "cached_input_price", "API cached input price", "USD/1M tokens", float(prices.cached_input), source
            ),
        ),
        (
            "*",
            c.add(a_ + "output_tokens_million_per_month", "API output tokens per month", "million tokens"),
            c.add(a_ + "output_price", "API output price", "USD/1M tokens", float(prices.output), source),
        ),
    )
    return Item("alternative_monthly", "alternative", label, formula)


def plan_workings(params: Params, book: PriceBook, client_keys: frozenset[str] = frozenset()) -> Workings:
    """The inputs and formulas of ``params``' base case; ``client_keys`` are the dotted keys
    the client file gives itself (:func:`~ftcost_helpers.engine.provenance.given_keys`): each
    input's source follows :func:`~ftcost_helpers.engine.provenance.input_provenance`."""
    c = _Collector(params, book, client_keys)
    build = c.add("programme.build_months", "Build months before launch", "months")
    compute = _compute_lines(c, book)
    lines = (
        compute
        + _storage_lines(c, book)
        + _dataset_lines(c)
        + _eval_lines(c)
        + _engineering_lines(c)
        + _compliance_lines(c)
    )
    compute_total = Item("compute_total", "compute", "Compute subtotal", ("+", *(Ref(i.id) for i in compute)))
    running = [compute_total, *_running(c, book)]
    return Workings(
        c.inputs,
        lines,
        running,
        _alternative(c, book),
        "maintenance.start_month",
        params.horizon_months,
        build,
        params.programme.spend_profile,
    )
