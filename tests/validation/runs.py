"""The engine on each published run of ``published_runs.yaml``: predicted against measured.

Each row becomes a plan: example A with the row's model and training keys (everything else
at the defaults), one optimizer step's worth of data, the row's GPU. Memory is the engine's
peak per GPU (without the CUDA context when the source read PyTorch's live tensors); time is
seconds per optimizer step or tokens per second at the P10, P50 and P90 of a Monte Carlo over
the price book's utilisation and throughput ranges.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.fit import plan_fit
from ftcost_helpers.engine.loading import load_price_book, params_from_mapping, project_root, read_yaml
from ftcost_helpers.engine.pricebook import GpuSpec, PriceBook
from ftcost_helpers.engine.uncertainty import draw_inputs, picker_from_draws

from .candidates import load_candidates

RUNS_FILE = Path(__file__).with_name("published_runs.yaml")
DRAWS = 2000
SEED = 20260526


@dataclass(frozen=True)
class Outcome:
    """One row: what was measured and what the engine says."""

    row: dict[str, Any]
    predicted_memory_gb: float | None
    measured_memory_gb: float | None
    predicted_fits: bool
    predicted_verdict: str
    measured_fits: bool | None
    seconds_per_step: dict[str, float]
    """Engine's P10/P50/P90 (and base) seconds per optimizer step."""
    measured_seconds_per_step: float | None

    @property
    def id(self) -> str:
        return str(self.row["id"])

    @property
    def publication(self) -> str:
        """The document the row's figure comes from (the unit of leave-one-source-out)."""
        return publication(self.row)

    @property
    def gpu_class(self) -> str:
        """The GPU's class (params/gpus.yaml ``gpu_class``), AMD Instinct apart."""
        return str(self.row.get("_gpu_class", "unknown"))

    @property
    def memory_error(self) -> float | None:
        """(predicted − measured) ÷ measured, or None when memory was not measured."""
        if self.measured_memory_gb is None or self.predicted_memory_gb is None:
            return None
        return self.predicted_memory_gb / self.measured_memory_gb - 1.0

    @property
    def time_error(self) -> float | None:
        """(predicted P50 − measured) ÷ measured seconds per step."""
        if self.measured_seconds_per_step is None:
            return None
        return self.seconds_per_step["p50"] / self.measured_seconds_per_step - 1.0

    @property
    def time_inside_band(self) -> bool | None:
        if self.measured_seconds_per_step is None:
            return None
        return self.seconds_per_step["p10"] <= self.measured_seconds_per_step <= self.seconds_per_step["p90"]

    @property
    def band_width(self) -> float:
        return self.seconds_per_step["p90"] / self.seconds_per_step["p10"]


def publication(row: dict[str, Any]) -> str:
    """The publication a row's figure comes from: its source document, up to the first " ("
    or "," that starts a qualifier (the revision, the date, a table)."""
    document = str(row["source"]["document"])
    for mark in (" (", ", "):
        document = document.split(mark)[0]
    return document.strip()


def published_rows() -> list[dict[str, Any]]:
    """The rows of ``published_runs.yaml``."""
    return yaml.safe_load(RUNS_FILE.read_text(encoding="utf-8"))["runs"]


def load_rows() -> list[dict[str, Any]]:
    """The asserted table: every published row and every candidate row the engine can
    express (``candidates.normalise``; a row whose source leaves out the sequence length is
    listed by :func:`unexpressible_rows`)."""
    return published_rows() + [row for row in load_candidates() if "unexpressible" not in row]


def unexpressible_rows() -> list[dict[str, Any]]:
    """Candidate rows the engine cannot run, each with its reason."""
    return [row for row in load_candidates() if "unexpressible" in row]


def _book_for(row: dict[str, Any], book: PriceBook) -> tuple[PriceBook, str]:
    """The price book, with the row's own GPU added when the source tested a memory size
    the book does not list."""
    if "gpu_spec" not in row:
        return book, row["training"]["gpu"]
    name = "validation_gpu"
    gpus = {**book.gpus, name: GpuSpec(**row["gpu_spec"])}
    rates = {
        **book.gpu_rates_usd_per_gpu_hour,
        name: {"local_owned": book.gpu_rates_usd_per_gpu_hour["rtx_4090"]["local_owned"]},
    }
    return book.model_copy(update={"gpus": gpus, "gpu_rates_usd_per_gpu_hour": rates}), name


def plan_for(row: dict[str, Any], book: PriceBook):
    """Example A's plan with the row's model, training and one optimizer step of data."""
    book, gpu = _book_for(row, book)
    data = read_yaml(project_root() / "params" / "clients" / "example_a.yaml")
    data.pop("scenarios", None)
    training = {key: value for key, value in row["training"].items()}
    tiers = book.gpu_rates_usd_per_gpu_hour.get(gpu, {})
    tier = "neocloud_on_demand" if "neocloud_on_demand" in tiers else next(iter(tiers), "local_owned")
    if not tiers:
        rates = {
            **book.gpu_rates_usd_per_gpu_hour,
            gpu: {"local_owned": book.gpu_rates_usd_per_gpu_hour["rtx_4090"]["local_owned"]},
        }
        book = book.model_copy(update={"gpu_rates_usd_per_gpu_hour": rates})
    training.update(gpu=gpu, tier=tier)
    training.pop("rate_usd_per_gpu_hour", None)
    model_parallel = (
        training.get("tensor_parallel", 1) * training.get("pipeline_parallel", 1) * training.get("context_parallel", 1)
    )
    replicas = training.get("gpus_per_run", 1) // model_parallel
    sequences = training.get("gradient_accumulation_steps", 1) * training.get("micro_batch_size", 1) * replicas
    data["training"] = {**data["training"], **training, "epochs": 1, "tokens_per_pair": training["sequence_length"]}
    data["training"].pop("rate_usd_per_gpu_hour", None)
    data["base_model"] = dict(row["model"])
    data["dataset"] = {**data["dataset"], "pairs": sequences}
    return params_from_mapping(data, row["id"], book), book


def run_row(row: dict[str, Any], book: PriceBook) -> Outcome:
    params, book = plan_for(row, book)
    gpu = book.gpus[params.training.gpu]
    if "gpu_spec" in row and "gpu_class" not in row["gpu_spec"]:
        gpu_class = "unknown"
    else:
        gpu_class = "amd_instinct" if gpu.label.startswith(("MI", "AMD")) else gpu.gpu_class
    row = {**row, "_gpu_class": gpu_class}
    base_run = evaluate(params, book)
    base, fit = base_run.compute, plan_fit(params, book, base_run)
    draws = evaluate(params, book, picker_from_draws(draw_inputs(params, book, DRAWS, SEED))).compute
    measured = row.get("measured", {})
    overhead = float(base.memory_breakdown_gb["overhead"])
    predicted = float(base.memory_per_gpu_gb)
    metric = measured.get("memory_metric")
    if metric == "active":
        predicted -= overhead
    elif metric == "allocated":
        predicted = float(base.allocated_gb)
    elif metric == "reserved":
        predicted = float(base.reserved_gb)
    seconds = np.asarray(draws.physics_hours_per_run, dtype=float) * 3600.0
    t = params.training
    step_tokens = (
        t.sequence_length * t.micro_batch_size * t.gradient_accumulation_steps * t.gpus_per_run // t.model_parallel
    )
    measured_seconds = measured.get("seconds_per_step")
    if measured_seconds is None and "tokens_per_second" in measured:
        measured_seconds = step_tokens / measured["tokens_per_second"]
    return Outcome(
        row=row,
        predicted_memory_gb=predicted,
        measured_memory_gb=measured.get("peak_memory_gb"),
        predicted_fits=fit.fits,
        predicted_verdict=fit.verdict,
        measured_fits=measured.get("fits"),
        seconds_per_step={
            "base": float(base.physics_hours_per_run) * 3600.0,
            **{f"p{q}": float(np.percentile(seconds, q)) for q in (10, 50, 90)},
        },
        measured_seconds_per_step=measured_seconds,
    )


def outcomes() -> list[Outcome]:
    book = load_price_book()
    return [run_row(row, book) for row in load_rows()]


def pair_ratios(results: list[Outcome]) -> list[tuple[str, float, float]]:
    """(pair, predicted, measured) LoRA ÷ full time per token for each LoRA/full pair."""
    by_pair: dict[str, dict[str, Outcome]] = {}
    for outcome in results:
        if "pair" in outcome.row:
            kind = "full" if outcome.row["training"]["method"] == "full_sft" else "lora"
            by_pair.setdefault(outcome.row["pair"], {})[kind] = outcome
    ratios = []
    for name, pair in sorted(by_pair.items()):
        lora, full = pair["lora"], pair["full"]
        predicted = lora.seconds_per_step["p50"] / full.seconds_per_step["p50"]
        measured = lora.measured_seconds_per_step / full.measured_seconds_per_step
        ratios.append((name, predicted, measured))
    return ratios
