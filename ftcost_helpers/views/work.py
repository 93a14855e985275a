"""Tables and readings of the work a DPO or RL plan does (issue 24): the preference losses side
by side on the plan's data, and an RL plan's rollouts against its training. Every figure is
the engine's (:mod:`ftcost_helpers.engine.model.preference`, :mod:`~ftcost_helpers.engine.model.rl`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ftcost_helpers.engine.breakdown import Breakdown
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.fit import plan_fit
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.schema import Params
from ftcost_helpers.views.notebook import with_changes
from ftcost_helpers.views.tables import Table, number, text, with_unit

PREFERENCE_VARIANTS = (
    ("DPO, reference model", "dpo", "model", "none"),
    ("DPO, precomputed reference", "dpo", "precomputed", "none"),
    ("DPO through LoRA adapters", "dpo", "model", "lora"),
    ("ORPO (no reference)", "orpo", "model", "none"),
    ("SimPO (no reference)", "simpo", "model", "none"),
    ("KTO, reference model", "kto", "model", "none"),
)
"""The rows of :func:`preference_table`: label, ``training.dpo`` loss, reference and adapter."""


def preference_table(params: Params, book: PriceBook) -> Table:
    """Each preference loss on the plan's data, GPUs and settings (every weight trained): FLOPs
    and physics GPU-hours per run, the multiple of SFT on the same data, the weights held per
    GPU (one model or two) and the fit verdict; SFT first as the yardstick."""
    rows = [_row("Full SFT (yardstick)", with_changes(params, {"training.method": "full_sft"}, book), book)]
    for label, loss, reference, adapter in PREFERENCE_VARIANTS:
        dpo = {"loss": loss, "reference": reference, "adapter": adapter}
        changes = {"training.method": "dpo", "training.dpo": dpo}
        rows.append(_row(label, with_changes(params, changes, book), book))
    frame = pd.DataFrame(rows)
    formats = {
        "FLOPs per run": lambda value: f"{float(value):.3g}",
        "Physics GPU-hours per run": with_unit("GPU-h", 1),
        "× SFT (same weights)": lambda value: f"{float(value):.2f}×",
        "Weights per GPU (GB)": with_unit("GB", 1),
        "Peak per GPU (GB)": with_unit("GB", 1),
        "Fit": text,
    }
    note = (
        "Each loss on the plan's pairs, tokens per pair, epochs and GPUs. DPO runs chosen and rejected forward and "
        "backward and a frozen reference forward; a precomputed reference runs once and is not held; ORPO and SimPO "
        "have no reference; KTO runs one completion, its KL pair and the reference; through LoRA adapters the "
        "reference is the frozen base with its adapters off. '× SFT' is against SFT on the same data training the "
        "same weights (all, or the adapters): a result of the work."
    )
    return Table(frame, formats, "Preference optimisation priced from its work", note, ("Method", "Fit"))


def _row(label: str, params: Params, book: PriceBook) -> dict[str, Any]:
    run = evaluate(params, book)
    c = run.compute
    return {
        "Method": label,
        "FLOPs per run": float(c.flops_per_run),
        "Physics GPU-hours per run": float(c.physics_gpu_hours_per_run),
        "× SFT (same weights)": float(c.compute_vs_sft),
        "Weights per GPU (GB)": float(c.memory_breakdown_gb["weights"]),
        "Peak per GPU (GB)": float(c.memory_per_gpu_gb),
        "Fit": plan_fit(params, book, run).verdict,
    }


def rl_reading(breakdown: Breakdown) -> str:
    """An RL plan's rollouts and training read out (Markdown), or what RL would need to be
    priced for a plan that is not one."""
    t, c = breakdown.params.training, breakdown.base.compute
    if t.method != "rl" or t.rl is None:
        return (
            "**Reading the result.** This plan is not an RL run. An RL plan (`training.method: rl`) describes its "
            "rollouts in `training.rl` (prompts, group size, prompt and generation tokens, reward) and is priced from "
            "them: a rollout line and, with a model grader, a grader line."
        )
    rollout, physics = float(np.max(c.rollout_gpu_hours_per_run)), float(np.max(c.physics_gpu_hours_per_run))
    samples = float(np.max(c.rl_samples_per_run))
    share = rollout / physics if physics > 0 else 0.0
    where = "on the run's own GPUs" if t.rl.colocated_inference else f"on {t.rl.inference_gpus} separate inference GPUs"
    return (
        f"**Reading the result.** {t.rl.algorithm.upper()} generates {number(samples)} samples per run "
        f"({number(float(np.max(c.tokens_per_run)) / 1e6, 1)}M tokens) {where}. Generating them takes "
        f"{number(rollout, 1)} of the run's {number(physics, 1)} physics GPU-hours ({share:.0%}); training on them, "
        f"with the reference and reward passes, the rest. In all {float(np.max(c.compute_vs_sft)):.2f}× the "
        "GPU-hours of SFT on the same samples."
    )
