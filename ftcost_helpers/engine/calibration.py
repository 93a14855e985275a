"""Calibrating a plan from a pilot run (issue 23): what the pilot measured, the utilisation at
which the engine reproduces it, and that utilisation transferred to the plan's full run.

Rules, each in one function:

* **Warm-up** (:func:`warmup_steps`): the first 10 % of the log's steps, at least 5, are set
  aside (CUDA context, allocator growth, ``torch.compile`` and data-loader start-up land
  there); a logged interval that begins before that step is not timed. A
  ``trainer_state.json`` gives one mean over the whole loop, so nothing can be set aside:
  its mean includes the warm-up, evaluation and checkpoint saves (slower, not faster).
* **Too short** (:func:`steps_needed`): at least :data:`MIN_TIMED_STEPS` timed steps after
  the warm-up (25 steps in all for the smallest logs).
* **Step time** (:func:`measure`): each timed interval's seconds ÷ its steps, weighted by its
  steps; P10, median and P90 by the inverted distribution function (the smallest value whose
  cumulative share of the steps reaches 10, 50, 90 %; Hyndman & Fan 1996, definition 1).
* **Utilisation** (:func:`solve_utilisation`): the engine's own time view
  (:func:`~ftcost_helpers.engine.model.training.time_terms`, overheads, bandwidth-bound terms
  and communication included) run on the pilot's configuration over a grid of utilisations;
  the one whose step time equals the measured one is the calibrated utilisation. The MFU
  reported beside it is the engine's FLOPs per step ÷ (step seconds × GPUs × dense BF16 peak
  of ``params/gpus.yaml``).
* **Transfer** (:func:`transfer_widening`): the band widens by a factor 1.078 for each of k
  steps: one for the pilot itself (assumption: a full run on the same configuration still
  meets other nodes, start-up, evaluation and checkpoint saves that its timed steps leave
  out); one for each of GPUs, sequence length, micro-batch and method in which the full run
  differs from the pilot; two when the full run spans more nodes than the pilot
  (multi-node efficiency varies more); one for a mean-only log (the spread it cannot
  show). 7.8 % is the median absolute error of the engine's P50 step time over the 32
  published runs of ``docs/accuracy.md``: the error the engine makes when it carries a time
  from one configuration to another. The band is P10 ÷ (1 + w) to P90 × (1 + w) of the
  measured step time, w = 1.078ᵏ − 1.
* **Memory** (:func:`memory_ratio`): measured peak ÷ the engine's live tensors at the peak
  for the pilot's configuration (``allocated_gb``). Refused outside 1/3–3 (assumption: the
  engine's memory is within ±15 % on all 25 published rows of ``docs/accuracy.md``, so a
  factor of 3 means another model or configuration).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ftcost_helpers.engine.model import training
from ftcost_helpers.engine.model.batches import row_tokens
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import CalendarDate, Name, PositiveCount, base_value
from ftcost_helpers.engine.readers.pilot_logs import PilotLog
from ftcost_helpers.engine.resolve import pick_base, resolve
from ftcost_helpers.engine.schema import Method, Params, Section, configuration_problems

if TYPE_CHECKING:
    from ftcost_helpers.engine.breakdown import Breakdown

WARMUP_SHARE = 0.10
WARMUP_MIN_STEPS = 5
MIN_TIMED_STEPS = 20
MIN_INTERVALS_FOR_SPREAD = 5
"""Fewer timed intervals than this give a mean, not a spread (counted as mean-only)."""
TRANSFER_ERROR = 0.078
"""Median absolute P50 step-time error of the engine over 32 published runs (docs/accuracy.md)."""
MEMORY_RATIO_LIMITS = (1.0 / 3.0, 3.0)
UTILISATION_GRID = np.geomspace(0.002, 1.0, 2000)


class CalibrationError(Exception):
    """A pilot that cannot calibrate the plan; ``str()`` is one line naming what is wrong."""


class PilotFile(Section):
    """The small YAML that says what the pilot ran, where its log does not (``--pilot``)."""

    model: Name | None = None
    gpu: str | None = None
    gpus: PositiveCount | None = None
    micro_batch_size: PositiveCount | None = None
    sequence_length: PositiveCount | None = None
    method: Method | None = None
    gradient_accumulation_steps: PositiveCount | None = None
    date: CalendarDate | None = None


@dataclass(frozen=True)
class PilotConfig:
    """What the pilot ran."""

    model: str
    gpu: str
    gpus: int
    micro_batch_size: int
    sequence_length: int
    method: str
    gradient_accumulation_steps: int


@dataclass(frozen=True)
class Measurement:
    """What the pilot's log measured (seconds per optimizer step over all GPUs)."""

    steps: int
    warmup_steps: int
    timed_steps: int
    step_seconds: tuple[float, float, float]
    """(P10, median, P90); the three equal for a mean-only log."""
    tokens_per_step: float
    tokens_from_log: bool
    peak_memory_gb: float | None
    mean_only: bool

    @property
    def tokens_per_second(self) -> float:
        return self.tokens_per_step / self.step_seconds[1]


def warmup_steps(last_step: int) -> int:
    """Steps set aside at the start: 10 % of the log's steps, at least 5 (rounded up)."""
    return max(WARMUP_MIN_STEPS, math.ceil(WARMUP_SHARE * last_step))


def steps_needed() -> int:
    """The fewest steps a log needs: its warm-up set aside, :data:`MIN_TIMED_STEPS` remain."""
    steps = MIN_TIMED_STEPS
    while steps - warmup_steps(steps) < MIN_TIMED_STEPS:
        steps += 1
    return steps


def weighted_percentile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The smallest value whose cumulative share of ``weights`` reaches ``q`` % (Hyndman &
    Fan 1996, definition 1, weighted)."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    index = int(np.searchsorted(cumulative, q / 100.0 * cumulative[-1], side="left"))
    return float(values[order][min(index, len(values) - 1)])


def tokens_per_step(config: PilotConfig, plan: Params) -> float:
    """Tokens one optimizer step processes on the pilot's configuration when the log does not
    say: row tokens × micro-batch × accumulation × GPUs ÷ model-parallel degree × the plan's
    padding efficiency (packed rows are full)."""
    t = plan.training
    row = row_tokens(config.sequence_length, t.packing, t.mean_sequence_length)
    replicas = config.gpus // t.model_parallel
    return float(row * config.micro_batch_size * config.gradient_accumulation_steps * replicas) * base_value(
        t.padding_efficiency
    )


def measure(log: PilotLog, config: PilotConfig, config_tokens_per_step: float) -> Measurement:
    """Step time, its spread, tokens and peak memory from a log, its warm-up set aside;
    :class:`CalibrationError` when too few steps remain (saying how many are needed)."""
    warmup = warmup_steps(log.steps)
    timed = log.start_steps >= warmup
    timed_steps = int(np.sum((log.end_steps - log.start_steps)[timed]))
    mean_only = log.mean_only
    if mean_only:
        timed, timed_steps = np.ones_like(timed), log.steps
    needed = steps_needed()
    if log.steps < needed or timed_steps < MIN_TIMED_STEPS:
        raise CalibrationError(
            f"{log.file}: the log has {log.steps} step{'s' if log.steps != 1 else ''}; calibration needs at least "
            f"{needed} ({warmup_steps(needed)} warm-up steps set aside, then {MIN_TIMED_STEPS} timed)"
        )
    counts = (log.end_steps - log.start_steps)[timed]
    if log.tokens_per_second_per_gpu is not None:
        seconds = config_tokens_per_step / (log.tokens_per_second_per_gpu[timed] * config.gpus)
        per_step = seconds
    else:
        per_step = log.seconds[timed] / counts
    if np.any(~np.isfinite(per_step)) or np.any(per_step <= 0):
        raise CalibrationError(f"{log.file}: a timed interval of no time (or no tokens per second): a malformed log")
    mean_only = mean_only or int(np.sum(timed)) < MIN_INTERVALS_FOR_SPREAD
    if mean_only:
        mean = float(np.sum(per_step * counts) / np.sum(counts))
        spread = (mean, mean, mean)
    else:
        spread = tuple(weighted_percentile(per_step, counts, q) for q in (10.0, 50.0, 90.0))
    tokens, from_log = config_tokens_per_step, False
    if log.tokens is not None:
        logged = log.tokens[timed] if log.tokens.size == timed.size else log.tokens
        steps_of_tokens = np.sum(counts) if log.tokens.size == timed.size else log.steps
        if np.sum(logged) > 0:
            tokens, from_log = float(np.sum(logged) / steps_of_tokens), True
    set_aside = 0 if log.mean_only else warmup
    return Measurement(log.steps, set_aside, timed_steps, spread, tokens, from_log, log.peak_memory_gb, mean_only)


def pilot_config(plan: Params, log: PilotLog, pilot: PilotFile | None, source: str) -> PilotConfig:
    """The pilot's configuration: the pilot file's keys, else the log's, else (without a
    pilot file) the plan's own training. A key the log and the pilot file (or, without one,
    the plan) give differently, or that nothing gives, is one :class:`CalibrationError`;
    another model or GPU is :func:`check_pilot_matches`'s to refuse."""
    t = plan.training
    plan_values = {
        "model": plan.base_model.name,
        "gpu": t.gpu,
        "gpus": t.gpus_per_run,
        "micro_batch_size": t.micro_batch_size,
        "sequence_length": t.sequence_length,
        "method": t.method,
        "gradient_accumulation_steps": t.gradient_accumulation_steps,
    }
    chosen: dict[str, Any] = {}
    for key, plan_value in plan_values.items():
        given = getattr(pilot, key) if pilot is not None else None
        said = log.says.get(key)
        if given is not None and said is not None and str(given).lower() != str(said).lower():
            raise CalibrationError(f"{log.file}: {key}: the log says {said}, {source} says {given}")
        value = given if given is not None else said
        if value is None and pilot is None:
            value = plan_value
        if value is None and key in ("model", "gradient_accumulation_steps"):
            value = plan_value  # the model is checked below; accumulation rarely changes
        if value is None:
            raise CalibrationError(
                f"{source}: {key}: not given, and the log does not say it (give it in the pilot file)"
            )
        if pilot is None and key not in ("model", "gpu") and str(value).lower() != str(plan_value).lower():
            raise CalibrationError(
                f"{log.file}: {key}: the log says {value}, the plan's training has {plan_value}: "
                "give --pilot FILE with what the pilot ran"
            )
        chosen[key] = value
    return PilotConfig(**chosen)


def same_model(a: str, b: str) -> bool:
    """Whether two model names name one model: equal ignoring case, or with the organisation
    left off one of them (``Qwen2.5-7B`` and ``Qwen/Qwen2.5-7B``)."""
    a, b = a.strip().lower(), b.strip().lower()
    return a == b or (a.rsplit("/", 1)[-1] == b.rsplit("/", 1)[-1] and ("/" not in a or "/" not in b))


def check_pilot_matches(plan: Params, config: PilotConfig, book: PriceBook, log_file: str) -> None:
    """A pilot on another model or another GPU does not calibrate the plan."""
    if not same_model(config.model, plan.base_model.name):
        raise CalibrationError(
            f"{log_file}: the pilot ran {config.model}, the plan fine-tunes {plan.base_model.name}: "
            "a pilot of another model says nothing about this plan's steps"
        )
    if config.gpu not in book.gpus:
        raise CalibrationError(f"{log_file}: gpu: {config.gpu!r} is not a GPU of the price book")
    if config.gpu != plan.training.gpu:
        raise CalibrationError(
            f"{log_file}: the pilot ran on {config.gpu}, the plan trains on {plan.training.gpu}: "
            "a pilot on another GPU does not calibrate this plan"
        )


def pilot_plan(plan: Params, config: PilotConfig) -> Params:
    """The plan with the pilot's training configuration (and no calibration)."""
    t = plan.training
    mean = t.mean_sequence_length
    update = {
        "gpu": config.gpu,
        "gpus_per_run": config.gpus,
        "micro_batch_size": config.micro_batch_size,
        "sequence_length": config.sequence_length,
        "method": config.method,
        "gradient_accumulation_steps": config.gradient_accumulation_steps,
        "mean_sequence_length": None if mean is None else min(mean, config.sequence_length),
    }
    pilot = plan.model_copy(update={"training": t.model_copy(update=update), "calibration": None})
    problems = configuration_problems(pilot)
    if problems:
        key, problem = problems[0]
        raise CalibrationError(f"the pilot's configuration cannot run with the plan's other keys: {key}: {problem}")
    return pilot


def _with_utilisation(p: Params, utilisation: Any) -> Params:
    return p.model_copy(update={"training": p.training.model_copy(update={"utilisation": utilisation})})


def engine_step(p: Params, book: PriceBook, tokens: float, utilisation: np.ndarray) -> tuple[np.ndarray, float]:
    """(wall seconds, FLOPs) of ``tokens`` on the resolved plan ``p`` at each utilisation."""
    p = _with_utilisation(p, utilisation)
    method = book.methods[p.training.method]
    shape = training.model_shape(p)
    trained = training.trained_parameters(p, method, shape)
    time = training.time_terms(p, book, shape, trained, tokens)
    gpu_hours = sum(time["split_gpu_hours"].values())
    seconds = np.broadcast_to(np.asarray(gpu_hours * 3600.0 / p.training.gpus_per_run, dtype=float), utilisation.shape)
    return seconds, float(np.max(time["flops"]))


def solve_utilisation(seconds_grid: np.ndarray, seconds: float) -> float | None:
    """The smallest utilisation of :data:`UTILISATION_GRID` at which the engine's step time
    falls to ``seconds`` (linear between grid points); None outside the grid."""
    if seconds < seconds_grid[-1] * (1 - 1e-9) or seconds > seconds_grid[0]:
        return None
    index = int(np.argmax(seconds_grid <= seconds))
    if index == 0:
        return float(UTILISATION_GRID[0])
    t0, t1 = seconds_grid[index - 1], seconds_grid[index]
    u0, u1 = UTILISATION_GRID[index - 1], UTILISATION_GRID[index]
    return float(u1 if t0 == t1 else u0 + (u1 - u0) * (t0 - seconds) / (t0 - t1))


def nodes(gpus: int, per_node: int) -> int:
    return math.ceil(gpus / max(per_node, 1))


def transfer_differences(plan: Params, config: PilotConfig, book: PriceBook) -> list[str]:
    """Each way the plan's full run differs from the pilot (see the module's rule)."""
    t = plan.training
    pairs = [
        ("GPUs", config.gpus, t.gpus_per_run),
        ("sequence length", config.sequence_length, t.sequence_length),
        ("micro-batch", config.micro_batch_size, t.micro_batch_size),
        ("method", config.method, t.method),
    ]
    differences = ["the pilot itself (a full run is not the pilot)"]
    differences += [f"{name} {pilot} → {full}" for name, pilot, full in pairs if pilot != full]
    per_node = t.gpus_per_node or book.gpus[t.gpu].gpus_per_node
    pilot_nodes, full_nodes = nodes(config.gpus, per_node), nodes(t.gpus_per_run, per_node)
    if full_nodes > pilot_nodes:
        differences += [f"nodes {pilot_nodes} → {full_nodes}"] * 2
    return differences


def transfer_widening(steps: int) -> float:
    """w = 1.078ᵏ − 1 for k transfer steps (see the module's rule)."""
    return (1.0 + TRANSFER_ERROR) ** steps - 1.0


def memory_ratio(measured_gb: float | None, estimated_gb: float, log_file: str) -> float:
    """Measured ÷ estimated peak (1 when the log gives none); another model's log refused."""
    if measured_gb is None or estimated_gb <= 0:
        return 1.0
    ratio = measured_gb / estimated_gb
    low, high = MEMORY_RATIO_LIMITS
    if not low <= ratio <= high:
        raise CalibrationError(
            f"{log_file}: peak memory {measured_gb:.1f} GB is {ratio:.2f}× the {estimated_gb:.1f} GB estimated for "
            "the pilot's configuration: the log looks like another model or configuration"
        )
    return ratio


@dataclass(frozen=True)
class Calibrated:
    """Everything ``calibrate`` derives: the measurement, the pilot's utilisation and MFU,
    the transferred band and the full run's hours."""

    config: PilotConfig
    measurement: Measurement
    mfu: float
    utilisation: tuple[float, float, float]
    """(low, mode, high) for the full run, widened."""
    widening: float
    differences: list[str]
    hours_per_run: tuple[float, float, float]
    """Pilot-implied wall-clock hours of one full run (low, mode, high)."""
    tokens_per_run: float
    memory_ratio: float
    estimated_memory_gb: float


def calibrate(plan: Params, book: PriceBook, log: PilotLog, pilot: PilotFile | None, source: str) -> Calibrated:
    """The pilot's measurement transferred to the plan (see the module's rules)."""
    plan = plan.model_copy(update={"calibration": None})
    config = pilot_config(plan, log, pilot, source)
    check_pilot_matches(plan, config, book, log.file)
    pilot = resolve(pilot_plan(plan, config), pick_base)
    full = resolve(plan, pick_base)
    rbook = resolve(book, pick_base, "pricebook")
    measurement = measure(log, config, tokens_per_step(config, plan))
    grid, flops = engine_step(pilot, rbook, measurement.tokens_per_step, UTILISATION_GRID)
    p10, median, p90 = measurement.step_seconds
    differences = transfer_differences(plan, config, book)
    if measurement.mean_only:
        differences.append("one mean over the log, no spread")
    widening = transfer_widening(len(differences))
    solved = [solve_utilisation(grid, s) for s in (p90 * (1 + widening), median, p10 / (1 + widening))]
    if solved[1] is None:
        fastest = grid[-1]
        why = "faster than the engine allows at 100 % of peak" if median < fastest else "slower than 0.2 % of peak"
        raise CalibrationError(
            f"{log.file}: {median:.3g} s a step is {why} for this configuration ({fastest:.3g} s at 100 %): "
            "the log is from another GPU, model or configuration than stated"
        )
    low = solved[0] if solved[0] is not None else float(UTILISATION_GRID[0])
    high = solved[2] if solved[2] is not None else 1.0
    band = (low, float(solved[1]), high)
    gpu = book.gpus[config.gpu]
    mfu = flops / (median * config.gpus * gpu.bf16_tflops * 1e12)
    physics = training.physics_view(_with_utilisation(full, np.array([band[2], band[1], band[0]])), rbook)
    hours = tuple(float(h) for h in np.asarray(physics["physics_hours_per_run"], dtype=float))
    estimated = float(np.max(training.physics_view(pilot, rbook)["allocated_gb"]))
    ratio = memory_ratio(measurement.peak_memory_gb, estimated, log.file)
    tokens = float(np.max(physics["tokens_per_run"]))
    return Calibrated(config, measurement, mfu, band, widening, differences, hours, tokens, ratio, estimated)


def _three(values: Any, digits: int = 4) -> dict[str, float]:
    """(low, base, high) of a corners figure: its lowest, base and highest corner."""
    array = np.broadcast_to(np.asarray(values, dtype=float), (3,))
    corners = {"low": array.min(), "base": array[1], "high": array.max()}
    return {key: float(f"{value:.{digits}g}") for key, value in corners.items()}


def _quantity(value: Any) -> dict[str, float]:
    """A recorded band as {low, base, high}."""
    return {"low": value.low, "base": value.base, "high": value.high}


def pilot_words(params: Params) -> str:
    """Where a calibrated figure comes from: "a 200-step pilot on 2026-11-28"."""
    c = params.calibration
    return f"a {c.pilot.steps}-step pilot on {c.date.isoformat()}"


def calibration_summary(breakdown: Breakdown) -> dict[str, Any] | None:
    """``summary.json``'s ``calibration`` object (None without a calibration block): whether
    it applies (and why not), where it comes from, and the hours per run, utilisation and
    training-runs line before (as recorded when it was made) and after (this estimate)."""
    from ftcost_helpers.engine.model.calibrated import calibration_mismatch

    params = breakdown.params
    c = params.calibration
    if c is None:
        return None
    mismatch = calibration_mismatch(params)
    compute, gpus = breakdown.corners.compute, params.training.gpus_per_run
    line = next(i for i in breakdown.line_items if i.area == "compute" and i.item.startswith("Training runs"))
    return {
        "applied": mismatch is None,
        "not_applied_because": mismatch,
        "source": f"from {pilot_words(params)}",
        "date": c.date.isoformat(),
        "calibrated_on": c.calibrated_on.isoformat(),
        "pilot": {
            "log": c.pilot.log,
            "log_format": c.pilot.log_format,
            "steps": c.pilot.steps,
            "gpus": c.pilot.gpus,
            "step_seconds": _quantity(c.pilot.step_seconds),
            "mfu": c.pilot.mfu,
        },
        "widening": c.widening,
        "memory_ratio": c.memory_ratio,
        "before": {
            "hours_per_run": _quantity(c.before.hours_per_run),
            "utilisation": _quantity(c.before.utilisation),
            "training_runs_usd": _quantity(c.before.training_runs_usd),
        },
        "after": {
            "hours_per_run": _three(np.asarray(compute.booked_gpu_hours_per_run, dtype=float) / gpus),
            "utilisation": _three(compute.utilisation),
            "training_runs_usd": {"low": round(line.low, 2), "base": round(line.base, 2), "high": round(line.high, 2)},
        },
    }
