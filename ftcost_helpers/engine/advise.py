"""Advice: the cheapest plan that fits, finishes by the deadline and stays in budget at the
firm's confidence, the Pareto set of cost, time and risk, and why each rejected family failed.

The search (:func:`advise`) runs over the plan's free choices — method (LoRA, QLoRA, full
fine-tuning, for a supervised plan; a preference or RL plan keeps its method), GPU, tier, GPUs
per run, micro-batch (the global batch kept: accumulation follows), activation checkpointing,
optimizer and precision (FP8 on a GPU with an FP8 peak), and each managed service whose dated
price list prices the model — with the rest of the plan as filed:

* **physics decides fit and time**: each configuration is evaluated once at its base case
  (:func:`~ftcost_helpers.engine.evaluate.evaluate`); its fit verdict is the report's
  (:func:`~ftcost_helpers.engine.fit.plan_fit`) and its hours per run are the physics view's
  (``physics_hours_per_run``), so a configuration is costed on the time it would take, not
  on the plan's booked hours;
* **the Monte Carlo decides cost**: every configuration's compute cost is drawn on the plan's
  own draws (common random numbers) — its GPU rate from the price book's range for its GPU and
  tier, the plan's runs, and the utilisation band of its method and size scaling its hours
  (hours ∝ 1 ÷ utilisation) — and the programme cost per draw is the plan's programme with its
  compute area replaced by the configuration's. All configurations × draws are one array.

A managed service's option is its jobs priced from its dated list (the plan's programme with the
jobs in place of the GPUs), scaled by the drawn runs; the service holds the memory, so it fits,
and its time is not known, so it cannot be shown to meet a deadline nor placed on the Pareto set.

Cost at confidence *c* is the *c* quantile of that programme cost; risk is its P90 − P50;
wall-clock is hours per run × the plan's runs (run one after another), from ``start_date``.
A configuration is *acceptable* when it fits (verdict "fits"), ends by the deadline and costs
at most the budget at the confidence; the recommendation is the cheapest acceptable one.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ftcost_helpers.engine.fit import plan_fit
from ftcost_helpers.engine.model import compute, managed
from ftcost_helpers.engine.model.allocator import DOES_NOT_FIT, FITS
from ftcost_helpers.engine.model.guards import FigureOutOfRange
from ftcost_helpers.engine.model.run import run_model
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import base_value, low_high
from ftcost_helpers.engine.resolve import pick_base, resolve
from ftcost_helpers.engine.schema import ManagedTraining, Params
from ftcost_helpers.engine.trainer_config import data_parallel_ranks, global_batch_rows
from ftcost_helpers.engine.uncertainty import Simulation

SUPERVISED = ("lora", "qlora", "full_sft")
GPU_COUNTS = (1, 2, 4, 8, 16, 32, 64)
MICRO_BATCHES = (1, 2, 4)
CHECKPOINTING = ("none", "full")
OPTIMIZERS = ("adamw", "adamw_8bit")
HOURS_PER_DAY = 24.0


@dataclass(frozen=True)
class Constraints:
    """What the client requires: a budget (USD, at ``confidence``), a deadline for training
    to end, and which GPUs and tiers may be used (None: every one the price book prices)."""

    budget_usd: float | None = None
    deadline: dt.date | None = None
    gpus: tuple[str, ...] | None = None
    tiers: tuple[str, ...] | None = None
    confidence: float = 0.8


@dataclass(frozen=True)
class Configuration:
    """One point of the search: the training choices it sets over the plan as filed."""

    method: str
    gpu: str
    tier: str
    gpus_per_run: int
    micro_batch_size: int
    gradient_accumulation_steps: int
    activation_checkpointing: str
    optimizer: str
    precision: str = "bf16_mixed"
    provider: str = "self_hosted"
    """``managed``: a managed service (its name in ``gpu``) trains and bills tokens."""

    @property
    def family(self) -> tuple[str, str, str]:
        """The family a rejection is stated for: method, GPU and tier."""
        return (self.method, self.gpu, self.tier)

    def overrides(self) -> dict[str, Any]:
        """The ``training`` keys a scenario writes for it (hours from the physics view)."""
        if self.provider == "managed":
            return {"method": self.method, "provider": "managed", "managed": {"service": self.gpu}}
        return {
            "method": self.method,
            "gpu": self.gpu,
            "tier": self.tier,
            "gpus_per_run": self.gpus_per_run,
            "micro_batch_size": self.micro_batch_size,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
            "activation_checkpointing": self.activation_checkpointing,
            "optimizer": self.optimizer,
            "precision": self.precision,
        }


@dataclass
class Evaluated:
    """A configuration's physics (base case) and cost (one value per draw)."""

    configuration: Configuration
    verdict: str
    hours_per_run: float
    memory_gb: float
    usable_gb: float
    cost_at_confidence: float
    """The programme cost's quantile at the confidence (USD)."""
    p50: float
    p90: float

    @property
    def risk(self) -> float:
        """P90 − P50 of the programme cost (USD)."""
        return self.p90 - self.p50

    def wall_clock_hours(self, runs: float) -> float:
        return self.hours_per_run * runs

    def as_dict(self, runs: float) -> dict[str, Any]:
        def known(value: float, digits: int) -> float | None:
            return round(value, digits) if math.isfinite(value) else None

        return {
            **self.configuration.overrides(),
            "fit": self.verdict,
            "memory_gb_per_gpu": known(self.memory_gb, 1),
            "usable_gb_per_gpu": known(self.usable_gb, 1),
            "hours_per_run": known(self.hours_per_run, 2),
            "wall_clock_days": known(self.wall_clock_hours(runs) / HOURS_PER_DAY, 2),
            "cost_at_confidence_usd": round(self.cost_at_confidence, 2),
            "p50_usd": round(self.p50, 2),
            "risk_usd": round(self.risk, 2),
        }


def methods_for(params: Params) -> tuple[str, ...]:
    """The methods the search may use: the supervised three for a supervised plan; a preference,
    RL or continued-pre-training plan keeps its method."""
    return SUPERVISED if params.training.method in SUPERVISED else (params.training.method,)


def precisions_for(params: Params, book: PriceBook, gpu: str) -> tuple[str, ...]:
    """BF16 mixed precision, and FP8 on a GPU with an FP8 peak (never for a 4-bit QLoRA base);
    the plan's own precision too."""
    choices = ["bf16_mixed"]
    if book.gpus[gpu].fp8_tflops:
        choices.append("fp8")
    if params.training.precision not in choices:
        choices.append(params.training.precision)
    return tuple(choices)


def configurations(params: Params, book: PriceBook, constraints: Constraints) -> list[Configuration]:
    """Every configuration of the search space (the global batch of the plan kept)."""
    t = params.training
    rows = global_batch_rows(t)
    checkpointing_choices = ("full",) if t.checkpoint_every_layers > 1 else CHECKPOINTING
    model_parallel = t.model_parallel
    gpus = constraints.gpus or tuple(book.gpu_rates_usd_per_gpu_hour)
    out = []
    for method, gpu in itertools.product(methods_for(params), gpus):
        tiers = [tier for tier in book.gpu_rates_usd_per_gpu_hour.get(gpu, {}) if _allowed(tier, constraints)]
        counts = [n for n in GPU_COUNTS if n % model_parallel == 0]
        precisions = [p for p in precisions_for(params, book, gpu) if not (p == "fp8" and method == "qlora")]
        for tier, count, micro, checkpointing, optimizer, precision in itertools.product(
            tiers, counts, MICRO_BATCHES, checkpointing_choices, OPTIMIZERS, precisions
        ):
            accumulation = max(1, math.ceil(rows / (micro * data_parallel_ranks(t, count))))
            out.append(
                Configuration(method, gpu, tier, count, micro, accumulation, checkpointing, optimizer, precision)
            )
    return out


def _allowed(tier: str, constraints: Constraints) -> bool:
    return constraints.tiers is None or tier in constraints.tiers


def with_configuration(params: Params, configuration: Configuration) -> Params:
    """The plan with the configuration's training choices and the tier's price-book rate (not
    the plan's booked one). The choices are valid by construction (:func:`configurations`), so
    the section is copied rather than validated again: the search's inner loop."""
    update = configuration.overrides() | {"rate_usd_per_gpu_hour": None}
    return params.model_copy(update={"training": params.training.model_copy(update=update)})


def _physics(
    params: Params, book: PriceBook, base_book: PriceBook, configuration: Configuration
) -> tuple[str, float, float, float] | None:
    """(verdict, hours per run, memory per GPU, usable per GPU) at the base case, or None when the
    configuration cannot be computed. ``base_book``: ``book`` resolved at its base case, once."""
    try:
        plan = with_configuration(params, configuration)
        run = run_model(resolve(plan, pick_base), base_book)
    except (ValueError, FigureOutOfRange, ZeroDivisionError, FloatingPointError):
        return None
    fit = plan_fit(plan, book, run)
    hours = float(np.max(run.compute.physics_hours_per_run))
    if not math.isfinite(hours) or hours <= 0:
        return None
    return fit.verdict, hours, fit.allocated_gb, fit.usable_gb


def _physics_key(configuration: Configuration) -> tuple[Any, ...]:
    """What the physics depends on: everything but the tier (a price, not a machine)."""
    c = configuration
    return (c.method, c.gpu, c.gpus_per_run, c.micro_batch_size, c.activation_checkpointing, c.optimizer, c.precision)


def utilisation_class(params: Params, method: str) -> str:
    """The price book's utilisation band for a method and model size (adapters or full; small
    below 20 billion parameters)."""
    kind = "adapters" if method in ("lora", "qlora") else "full"
    size = "small" if base_value(params.base_model.parameters_billion) < 20 else "large"
    return f"{kind}_{size}"


def _per_draw(simulation: Simulation, path: str, base: float) -> np.ndarray:
    """An input's draws from the plan's simulation, or its base case when it was not drawn."""
    draws = simulation.inputs.get(path)
    return np.full(simulation.draws, base) if draws is None else np.asarray(draws, dtype=float)


def compute_cost_draws(
    params: Params,
    book: PriceBook,
    simulation: Simulation,
    configurations: Sequence[Configuration],
    hours_per_run: np.ndarray,
) -> np.ndarray:
    """Compute-area USD per configuration and draw (configurations × draws): GPUs × hours ×
    (runs + failed runs' completed share + the sweep, the plan's) × the tier's rate, the hours
    scaled by the utilisation band's draw over its base (hours ∝ 1 ÷ utilisation)."""
    t = params.training
    runs = _per_draw(simulation, "training.runs", base_value(t.runs))
    gpus = np.array([c.gpus_per_run for c in configurations], dtype=float)[:, None]
    hours = np.asarray(hours_per_run, dtype=float)[:, None]
    rates = np.stack([_rate_draws(book, simulation, c) for c in configurations])
    slowdown = np.stack([_slowdown(params, book, simulation, c.method) for c in configurations])
    hours = hours * slowdown
    booked = compute.booked_gpu_hours(gpus, hours, runs)
    failed = compute.failed_run_gpu_hours(gpus, hours, base_value(t.failed_runs), t.failed_run_completed_fraction)
    sweep = compute.sweep_gpu_hours(
        gpus, hours, base_value(t.sweep_trials), t.sweep_early_stopping, base_value(t.early_stopped_trial_fraction)
    )
    return (booked + failed + sweep) * rates


def _rate_draws(book: PriceBook, simulation: Simulation, configuration: Configuration) -> np.ndarray:
    rate = book.gpu_rates_usd_per_gpu_hour[configuration.gpu][configuration.tier]
    path = f"pricebook.gpu_rates_usd_per_gpu_hour.{configuration.gpu}.{configuration.tier}"
    return _per_draw(simulation, path, base_value(rate))


def _slowdown(params: Params, book: PriceBook, simulation: Simulation, method: str) -> np.ndarray:
    """Each draw's utilisation over the band's base case, inverted: the factor on the hours."""
    name = utilisation_class(params, method)
    band = getattr(book.utilisation_defaults, name)
    base = base_value(band)
    return base / _per_draw(simulation, f"pricebook.utilisation_defaults.{name}", base)


@dataclass(frozen=True)
class Advice:
    """The search's outcome."""

    evaluated: list[Evaluated]
    recommended: Evaluated | None
    pareto: list[Evaluated]
    rejected: dict[tuple[str, str, str], str]
    searched: int
    runs: float
    constraints: Constraints

    def as_dict(self) -> dict[str, Any]:
        return {
            "searched": self.searched,
            "evaluated": len(self.evaluated),
            "confidence": self.constraints.confidence,
            "budget_usd": self.constraints.budget_usd,
            "deadline": None if self.constraints.deadline is None else self.constraints.deadline.isoformat(),
            "recommended": None if self.recommended is None else self.recommended.as_dict(self.runs),
            "pareto": [item.as_dict(self.runs) for item in self.pareto],
            "rejected": [
                {"method": m, "gpu": g, "tier": t, "why": why} for (m, g, t), why in sorted(self.rejected.items())
            ],
        }


def acceptable(item: Evaluated, params: Params, constraints: Constraints, runs: float) -> str | None:
    """None when the configuration meets every constraint, else why not (the first that fails:
    fit, then the deadline, then the budget)."""
    if item.verdict != FITS:
        return "does not fit" if item.verdict == DOES_NOT_FIT else "fits only borderline"
    if constraints.deadline is not None and not math.isfinite(item.hours_per_run):
        return "time not known"
    if constraints.deadline is not None:
        end = params.start_date + dt.timedelta(hours=item.wall_clock_hours(runs))
        if end > constraints.deadline:
            return "too slow"
    if constraints.budget_usd is not None and item.cost_at_confidence > constraints.budget_usd:
        return "over budget"
    return None


def dominated(scores: np.ndarray) -> np.ndarray:
    """For points (rows) scored on columns to minimise: whether another point is no worse on
    every column and better on one."""
    no_worse = (scores[None, :, :] <= scores[:, None, :]).all(axis=2)
    better = (scores[None, :, :] < scores[:, None, :]).any(axis=2)
    return (no_worse & better).any(axis=1)


def pareto_front(items: Sequence[Evaluated], runs: float) -> list[Evaluated]:
    """The configurations no other beats on all of cost at confidence, wall-clock and risk
    (one of each set of equal scores kept), cheapest first."""
    items = [item for item in items if math.isfinite(item.hours_per_run)]  # a managed job's time is not known
    if not items:
        return []
    scores = np.array([(i.cost_at_confidence, i.wall_clock_hours(runs), i.risk) for i in items])
    front, seen = [], set()
    for index in np.flatnonzero(~dominated(scores)):
        key = tuple(scores[index])
        if key not in seen:
            seen.add(key)
            front.append(items[index])
    return sorted(front, key=lambda item: item.cost_at_confidence)


REASON_ORDER = ("over budget", "too slow", "time not known", "fits only borderline", "does not fit")
"""A family's reason is the one its best configuration got: over budget is nearest to acceptable."""


def managed_configurations(params: Params, book: PriceBook, constraints: Constraints) -> list[Configuration]:
    """A managed service for each kind of job its dated price list prices for this model (one
    per kind: LoRA and QLoRA are billed alike), unless the search is held to named GPUs."""
    if constraints.gpus is not None:
        return []
    t = params.training
    low, high = low_high(params.base_model.parameters_billion)
    out, seen = [], set()
    for name, service in book.managed_services.items():
        for method in methods_for(params):
            kind = managed.JOB_KIND.get(method)
            if kind is None or (name, kind) in seen:
                continue
            if all(service.training_price(size, kind) is not None for size in (low, high)):
                seen.add((name, kind))
                out.append(
                    Configuration(
                        method,
                        name,
                        "managed",
                        0,
                        t.micro_batch_size,
                        t.gradient_accumulation_steps,
                        t.activation_checkpointing,
                        t.optimizer,
                        t.precision,
                        "managed",
                    )
                )
    return out


def _managed_cost(params: Params, book: PriceBook, base_book: PriceBook, configuration: Configuration) -> float:
    """Base-case USD of the compute area when the service trains (its jobs, failed jobs, sweep)."""
    update = {
        "method": configuration.method,
        "provider": "managed",
        "managed": ManagedTraining(service=configuration.gpu),
    }
    plan = params.model_copy(update={"training": params.training.model_copy(update=update)})
    return float(run_model(resolve(plan, pick_base), base_book).area_total("compute"))


def _managed_evaluated(
    params: Params,
    book: PriceBook,
    base_book: PriceBook,
    simulation: Simulation,
    constraints: Constraints,
    others: np.ndarray,
) -> list[Evaluated]:
    """Each managed option priced on the plan's draws: its base-case jobs scaled by the drawn
    runs (a job's tokens do not depend on the other ranges); the service holds the memory."""
    runs_base = base_value(params.training.runs)
    runs = _per_draw(simulation, "training.runs", runs_base) / runs_base
    out = []
    for configuration in managed_configurations(params, book, constraints):
        draws = others + _managed_cost(params, book, base_book, configuration) * runs
        levels = np.quantile(draws, [constraints.confidence, 0.5, 0.9])
        out.append(Evaluated(configuration, FITS, math.nan, math.nan, math.nan, *(float(v) for v in levels)))
    return out


def advise(params: Params, book: PriceBook, simulation: Simulation, constraints: Constraints) -> Advice:
    """Search the plan's free choices; see the module's notes."""
    space = configurations(params, book, constraints)
    managed_count = len(managed_configurations(params, book, constraints))
    base_book = resolve(book, pick_base, "pricebook")
    physics: dict[tuple[Any, ...], tuple[str, float, float, float] | None] = {}
    kept, facts = [], []
    for configuration in space:
        key = _physics_key(configuration)
        if key not in physics:
            physics[key] = _physics(params, book, base_book, configuration)
        if physics[key] is not None:
            kept.append(configuration)
            facts.append(physics[key])
    runs = base_value(params.training.runs)
    if not kept:
        return Advice([], None, [], {}, len(space), runs, constraints)
    hours = np.array([fact[1] for fact in facts])
    compute_draws = compute_cost_draws(params, book, simulation, kept, hours)
    others = simulation.programme_total - simulation.areas["compute"]
    levels = np.quantile(others[None, :] + compute_draws, [constraints.confidence, 0.5, 0.9], axis=1)
    evaluated = [
        Evaluated(c, verdict, hours_run, memory, usable, *(float(level) for level in levels[:, i]))
        for i, (c, (verdict, hours_run, memory, usable)) in enumerate(zip(kept, facts, strict=True))
    ]
    evaluated += _managed_evaluated(params, book, base_book, simulation, constraints, others)
    reasons = {id(item): acceptable(item, params, constraints, runs) for item in evaluated}
    good = [item for item in evaluated if reasons[id(item)] is None]
    recommended = min(good, key=lambda item: (item.cost_at_confidence, item.wall_clock_hours(runs)), default=None)
    rejected: dict[tuple[str, str, str], str] = {}
    for item in evaluated:
        family, why = item.configuration.family, reasons[id(item)]
        if why is None:
            rejected[family] = ""
        elif rejected.get(family, "does not fit") != "" and REASON_ORDER.index(why) <= REASON_ORDER.index(
            rejected.get(family, "does not fit")
        ):
            rejected[family] = why
    rejected = {family: why for family, why in rejected.items() if why}
    searched = len(space) + managed_count
    return Advice(evaluated, recommended, pareto_front(good, runs), rejected, searched, runs, constraints)
