"""The rows of ``candidate_runs.yaml`` as the engine can take them, and what each measured in
the units the asserted table compares (GB per GPU, seconds per optimizer step).

A candidate row is written as its source printed it (tokens per second per GPU, seconds for a
run of N sequences, model TFLOP/s per GPU, GiB reserved or allocated) with keys the engine may
not have. :func:`normalise` turns it into a row of ``published_runs.yaml``'s form:

- training and model keys the schema does not know are dropped (each row's ``needs`` names
  them), ``nodes`` gives ``gpus_per_node`` where the row does not, and a row whose source gives
  only the global batch (Megatron-LM's Tables 1–2) runs with micro-batches of one sequence
  where the micro-batch is not given either, and accumulates the global batch; a pipeline's
  local batch is cut into ``pipeline_microbatches`` micro-batches (torchtitan's default: as
  many as stages), which the engine's pipeline takes as the accumulation steps;
- the time figure becomes seconds per optimizer step: tokens per second per GPU × GPUs; a
  run's seconds × the step's sequences ÷ the run's; the step's sequences ÷ sequences per
  second (MLPerf's ``tracked_stats`` throughput, in samples per second); model TFLOP/s per GPU through the
  source's own FLOP count (Narayanan et al. 2021, eq. 3: F = 96·B·s·l·h²·(1 + s/(6h) +
  V/(16·l·h)) per iteration of B sequences, so a step takes F ÷ (X·10¹² × GPUs));
- memory in GiB becomes GB (× 1.073741824).

What cannot be compared is said, not hidden: ``time_skipped`` and ``memory_skipped`` give the
reason (a GPU whose peak no datasheet in the catalogue gives; a sequence length the source does
not state).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ftcost_helpers.engine.schema import BaseModelSpec, Lora, Training

CANDIDATES = Path(__file__).with_name("candidate_runs.yaml")
GB_PER_GIB = 2.0**30 / 1e9

SPEC_CLASSES = {
    "RTX 3090": "consumer",
    "H100 96GB": "datacenter_sxm",
    "H800": "datacenter_sxm",
}
"""The class of each GPU a candidate row names outside the catalogue (params/gpus.yaml's
``gpu_class`` vocabulary), by the start of its label; an unnamed GPU has none."""

PLACEHOLDER_PEAK = {"bf16_tflops": 1000.0, "fp8_tflops": 2000.0, "memory_bandwidth_gbps": 3000.0}
"""Peaks a GPU outside the catalogue is given so that its memory and fit can be read: its
time is not compared (``time_skipped``), so these never reach a compared figure."""


def spec_class(label: str) -> str | None:
    return next((cls for start, cls in SPEC_CLASSES.items() if label.startswith(start)), None)


def _training(row: dict[str, Any]) -> dict[str, Any]:
    given = row["training"]
    training = {key: value for key, value in given.items() if key in Training.model_fields}
    if not isinstance(training.get("interconnect"), dict):
        training.pop("interconnect", None)  # a sentence in most candidates, GB/s in the schema
    if "lora" in training:
        training["lora"] = {key: value for key, value in training["lora"].items() if key in Lora.model_fields}
    if given.get("checkpointing_policy") == "op_selective":
        training["activation_checkpointing"] = "op_selective"
    nodes = given.get("nodes", 1)
    if "gpus_per_node" not in training and nodes >= 1:
        training["gpus_per_node"] = max(1, given["gpus_per_run"] // nodes)
    if "pipeline_microbatches" in given:  # a pipeline's local batch cut into micro-batches
        training["micro_batch_size"] = max(1, given["micro_batch_size"] // given["pipeline_microbatches"])
        training["gradient_accumulation_steps"] = given["pipeline_microbatches"]
    if "global_batch_sequences" in given and "gradient_accumulation_steps" not in given:
        replicas = given["gpus_per_run"] // (
            given.get("tensor_parallel", 1) * given.get("pipeline_parallel", 1) * given.get("context_parallel", 1)
        )
        training.setdefault("micro_batch_size", 1)
        per_step = replicas * training["micro_batch_size"]
        training["gradient_accumulation_steps"] = max(1, given["global_batch_sequences"] // per_step)
    return training


def _sequences_per_step(training: dict[str, Any]) -> int:
    model_parallel = (
        training.get("tensor_parallel", 1) * training.get("pipeline_parallel", 1) * training.get("context_parallel", 1)
    )
    replicas = training["gpus_per_run"] // model_parallel
    return training.get("micro_batch_size", 1) * training.get("gradient_accumulation_steps", 1) * replicas


def megatron_flops_per_step(model: dict[str, Any], sequences: int, sequence_length: int) -> float:
    """Model FLOPs of one iteration as Narayanan et al. (2021, eq. 3) count them, with the
    recomputation their figures include: 96·B·s·l·h²·(1 + s/(6h) + V/(16·l·h))."""
    layers, hidden, vocab = model["layers"], model["hidden_size"], model["vocab_size"]
    return (
        96.0
        * sequences
        * sequence_length
        * layers
        * hidden**2
        * (1.0 + sequence_length / (6.0 * hidden) + vocab / (16.0 * layers * hidden))
    )


def _seconds_per_step(row: dict[str, Any], training: dict[str, Any]) -> float | None:
    measured, gpus = row["measured"], training["gpus_per_run"]
    sequences = _sequences_per_step(training)
    tokens = sequences * training["sequence_length"]
    if "seconds_per_step" in measured:
        return float(measured["seconds_per_step"])
    if "tokens_per_second" in measured:
        return tokens / measured["tokens_per_second"]
    if "tokens_per_second_per_gpu" in measured:
        return tokens / (measured["tokens_per_second_per_gpu"] * gpus)
    if "sequences_per_second" in measured:
        return sequences / measured["sequences_per_second"]
    if "seconds_per_run" in measured:
        return measured["seconds_per_run"] * sequences / measured["sequences_per_run"]
    if "model_tflops_per_gpu" in measured:
        flops = megatron_flops_per_step(row["model"], sequences, training["sequence_length"])
        return flops / (measured["model_tflops_per_gpu"] * 1e12 * gpus)
    return None


def normalise(row: dict[str, Any]) -> dict[str, Any]:
    """A candidate row in ``published_runs.yaml``'s form (see the module's docstring)."""
    training = _training(row)
    model = {key: value for key, value in row["model"].items() if key in BaseModelSpec.model_fields}
    measured_in = row["measured"]
    measured: dict[str, Any] = {"fits": measured_in["fits"]}
    out: dict[str, Any] = {
        "id": row["id"],
        "source": row["source"],
        "model": model,
        "training": training,
        "measured": measured,
        "needs": list(row.get("needs", [])),
        "candidate": True,
    }
    if "note" in row:
        out["note"] = row["note"]
    time_skipped = memory_skipped = None
    if "gpu_spec" in row:
        spec = dict(row["gpu_spec"])
        gpu_class = spec_class(spec["label"])
        out["gpu_spec"] = {
            "label": spec["label"],
            "memory_gb": spec["memory_gb"],
            **PLACEHOLDER_PEAK,
            **({"gpu_class": gpu_class} if gpu_class else {}),
        }
        time_skipped = "no catalogued datasheet peak for this GPU"
    if "sequence_length" not in training:
        out["unexpressible"] = "the source does not state the sequence length"
        return out
    if measured_in["fits"]:
        if "peak_memory_gib" in measured_in:
            measured["peak_memory_gb"] = measured_in["peak_memory_gib"] * GB_PER_GIB
        elif "peak_memory_gb" in measured_in:
            measured["peak_memory_gb"] = measured_in["peak_memory_gb"]
        if "memory_metric" in measured_in:
            measured["memory_metric"] = measured_in["memory_metric"]
        seconds = _seconds_per_step(row, training)
        if seconds is not None and time_skipped is None:
            measured["seconds_per_step"] = seconds
    out["time_skipped"] = time_skipped
    out["memory_skipped"] = memory_skipped
    return out


def load_candidates() -> list[dict[str, Any]]:
    """Every candidate row, normalised (:func:`normalise`)."""
    return [normalise(row) for row in yaml.safe_load(CANDIDATES.read_text(encoding="utf-8"))["runs"]]
