"""``ftcost advise`` in the terminal: the recommendation, the Pareto set and why each rejected
family of configurations failed."""

from __future__ import annotations

from ftcost_helpers.engine.advise import Advice, Evaluated
from ftcost_helpers.engine.money import usd

PARETO_SHOWN = 10
"""Pareto rows the terminal lists (``--json`` gives them all)."""

METHOD_WORDS = {"lora": "LoRA", "qlora": "QLoRA", "full_sft": "full fine-tune", "dpo": "DPO", "rl": "RL"}


def configuration_words(item: Evaluated) -> str:
    """One configuration in a line: method, GPUs, tier, micro-batch, checkpointing, optimizer."""
    c = item.configuration
    method = METHOD_WORDS.get(c.method, c.method.replace("_", " "))
    if c.provider == "managed":
        return f"{method} on the managed service {c.gpu} (billed per token; the service holds the memory)"
    checkpointing = "no checkpointing" if c.activation_checkpointing == "none" else "full checkpointing"
    return (
        f"{method} on {c.gpus_per_run} × {c.gpu} ({c.tier.replace('_', ' ')}), micro-batch {c.micro_batch_size} "
        f"× {c.gradient_accumulation_steps} accumulated, {checkpointing}, {c.optimizer}, "
        f"{c.precision.replace('_', ' ')}"
    )


def figures_words(item: Evaluated, advice: Advice) -> str:
    """Cost at the confidence, P50, risk, hours and memory of one configuration."""
    level = f"P{round(advice.constraints.confidence * 100)}"
    if item.configuration.provider == "managed":
        return (
            f"{level} {usd(item.cost_at_confidence)} (P50 {usd(item.p50)}, P90 − P50 {usd(item.risk)}); time not known"
        )
    days = item.wall_clock_hours(advice.runs) / 24
    return (
        f"{level} {usd(item.cost_at_confidence)} (P50 {usd(item.p50)}, P90 − P50 {usd(item.risk)}); "
        f"{item.hours_per_run:.1f} h a run, {days:.1f} days of training; "
        f"{item.memory_gb:.0f} of {item.usable_gb:.0f} GB a GPU"
    )


def advice_text(advice: Advice, seconds: float) -> str:
    """The advice as the terminal shows it."""
    out = [f"Searched {advice.searched:,} configurations in {seconds:.1f} s ({len(advice.evaluated):,} computed)."]
    limits = []
    if advice.constraints.budget_usd is not None:
        limits.append(f"budget {usd(advice.constraints.budget_usd)} at P{round(advice.constraints.confidence * 100)}")
    if advice.constraints.deadline is not None:
        limits.append(f"training done by {advice.constraints.deadline:%d %B %Y}")
    out.append("Constraints: " + ("; ".join(limits) if limits else "none but fitting the GPUs") + ".")
    if advice.recommended is None:
        out.append("No configuration meets them.")
    else:
        out.append("Recommended: " + configuration_words(advice.recommended))
        out.append("  " + figures_words(advice.recommended, advice))
    if advice.pareto:
        out.append(f"Pareto set (cost, time and risk; {len(advice.pareto)} configurations, cheapest first):")
        for item in advice.pareto[:PARETO_SHOWN]:
            out.append("  " + configuration_words(item))
            out.append("    " + figures_words(item, advice))
    if advice.rejected:
        out.append("Rejected (method, GPU, tier: why the best of them failed):")
        for (method, gpu, tier), why in sorted(advice.rejected.items()):
            out.append(f"  {METHOD_WORDS.get(method, method)}, {gpu}, {tier.replace('_', ' ')}: {why}")
    return "\n".join(out)
