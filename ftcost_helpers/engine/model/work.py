"""What a plan's method does besides one forward and backward pass per token, wired to a
plan's keys: the passes of its preference loss or RL algorithm (:mod:`preference`,
:mod:`rl`), the frozen copies it holds, the tokens it runs over, an RL plan's rollout time
and its rollout engine's memory, and the work as results (the multiple of SFT). The model's
shape is :class:`~ftcost_helpers.engine.model.training.Shape` (layers, widths, parameters);
this module does not import :mod:`training`, which calls it."""

from __future__ import annotations

from typing import Any

import numpy as np

from ftcost_helpers.engine.model import blocks, compute, preference, rl
from ftcost_helpers.engine.pricebook import MethodSpec, PriceBook
from ftcost_helpers.engine.quantities import Number
from ftcost_helpers.engine.schema import Params


def method_work(p: Params) -> preference.Work:
    """The passes the plan's method makes per row of its data (:mod:`preference`, :mod:`rl`):
    the preference loss's for ``dpo``, the RL algorithm's for ``rl``, one forward and
    backward otherwise."""
    t = p.training
    if t.method == "dpo":
        return preference.preference_work(t.dpo.loss, t.dpo.reference)
    if t.method == "rl" and t.rl is not None:
        return rl.rl_work(t.rl.algorithm, t.rl.reference, t.rl.reward, t.rl.updates_per_batch)
    return preference.SFT


def adapter(p: Params) -> str:
    """``none``, ``lora`` or ``qlora``: how a DPO or RL plan's policy trains (``none`` for the
    other methods, whose price-book entry says it)."""
    t = p.training
    if t.method == "dpo":
        return t.dpo.adapter
    if t.method == "rl" and t.rl is not None:
        return t.rl.adapter
    return "none"


def method_spec(p: Params, book: PriceBook) -> MethodSpec:
    """The price book's entry for the plan's method; a DPO or RL policy trained through
    adapters takes the adapter method's (LoRA's or QLoRA's: trained parameters, FLOPs per
    token, frozen base, default utilisation), under the plan's method's label."""
    method = book.methods[p.training.method]
    kind = adapter(p)
    if kind == "none":
        return method
    return book.methods[kind].model_copy(update={"label": f"{method.label} ({book.methods[kind].label})"})


def frozen_copies(p: Params, method: MethodSpec) -> float:
    """Frozen copies of the model held besides what trains: the price book's (LoRA's base),
    plus a DPO or RL plan's reference and reward model. A reference of a policy trained
    through adapters is its base with the adapters switched off (TRL's DPOTrainer with a PEFT
    model and no ``ref_model``), so it adds no copy."""
    if p.training.method not in {"dpo", "rl"}:
        return method.frozen_copies
    plan_work = method_work(p)
    extra = plan_work.frozen_copies
    if adapter(p) != "none" and _has_reference(p):
        extra -= 1.0
    return method.frozen_copies + extra


def _has_reference(p: Params) -> bool:
    """Whether the plan's method holds a reference policy (RL's reward model is not one)."""
    t = p.training
    if t.method == "dpo":
        return t.dpo.loss not in preference.REFERENCE_FREE and t.dpo.reference == "model"
    return t.rl is not None and t.rl.reference == "model"


def run_tokens(p: Params) -> Number:
    """Tokens of data one run passes over: pairs × tokens per pair × epochs (a preference
    pair's row is its prompt with one response); for RL the generated samples × (prompt +
    generation) tokens."""
    t = p.training
    if t.method == "rl" and t.rl is not None:
        samples = rl.samples_per_run(t.rl.prompts, t.rl.group_size, t.epochs)
        return samples * rl.sample_tokens(t.rl.prompt_tokens, t.rl.generation_tokens)
    return compute.training_tokens(p.dataset.pairs, t.tokens_per_pair, t.epochs)


def rollout_term(p: Params, book: PriceBook, shape: Any) -> dict[str, Number]:
    """``{"rollout": GB}`` for an RL plan whose inference engine shares the training GPUs,
    else nothing (see :func:`rollout_memory_gb`)."""
    t = p.training
    if t.method != "rl" or t.rl is None or not t.rl.colocated_inference:
        return {}
    return {"rollout": rollout_memory_gb(p, book, shape)}


def rollout_memory_gb(p: Params, book: PriceBook, shape: Any) -> Number:
    """GB per GPU of an RL rollout engine: its copy of the policy's weights at the matmul
    precision ÷ its tensor parallel, and the KV cache of its batch (:func:`rl.kv_cache_gb`)."""
    r, element = p.training.rl, compute.MATMUL_OPERAND_BYTES[p.training.precision]
    batch, tp = _rollout_batch(p), r.inference_tensor_parallel
    kv = rl.kv_bytes_per_token(shape.layers, shape.kv_width, element) / tp
    return shape.total * element / tp / 1e9 + rl.kv_cache_gb(batch, r.prompt_tokens, r.generation_tokens, kv)


def rollout_gpus(p: Params) -> int:
    """GPUs that generate an RL plan's rollouts: the run's own (colocated) or the separate engine's."""
    r = p.training.rl
    return p.training.gpus_per_run if r.colocated_inference else r.inference_gpus


def _rollout_batch(p: Params) -> Number:
    """Completions one inference replica decodes at once: the step's prompts × group size over
    the replicas (rollout GPUs ÷ the engine's tensor parallel)."""
    r = p.training.rl
    replicas = max(rollout_gpus(p) // r.inference_tensor_parallel, 1)
    return r.prompts_per_step * r.group_size / replicas


FORWARD_SHARE = 1.0 / 3.0
"""A forward pass's share of a forward and backward one (2N of 6N FLOPs per token; Kaplan et
al. 2020, §2.1): how a forward-only pass counts in micro-batches, launches and weight reads."""


def epochs_of(p: Params) -> Number:
    """Passes over the data (prompts for RL): ``training.epochs``."""
    return p.training.epochs


def forward_flops_per_token(p: Params, shape: Any, row: float) -> tuple[Number, Number]:
    """(matmul, attention) FLOPs per token of a forward pass alone through a model of the
    policy's size (a frozen reference, a reward model, old log-probabilities): a third of a
    full forward and backward without recomputation (:func:`compute.flops_per_token`: 2·N and
    the causal attention's 2·L·s·(a·d))."""
    matmul, attention = compute.flops_per_token(
        shape.active,
        0.0,
        True,
        blocks.attention_layer_equivalents(shape.layers, shape.blocks),
        blocks.attention_width_for_flops(shape.query_width, shape.heads, shape.blocks.latent),
        row,
        "none",
        shape.sliding_layers,
        shape.sliding_window,
    )
    return matmul * FORWARD_SHARE, attention * FORWARD_SHARE


def rollout_wall_seconds(p: Params, book: PriceBook, shape: Any, peak_tflops: float, utilisation: Number) -> Number:
    """Wall-clock seconds per run of an RL plan's rollouts (:mod:`rl`): per step, the replicas
    decode their batches side by side (:func:`rl.decode_seconds`) and the verifier checks the
    samples; × steps. Synchronous on-policy RL: the training waits for them, so every GPU of
    the run spends them (decoding, colocated; waiting, with a separate engine)."""
    t, gpu = p.training, book.gpus[p.training.gpu]
    r = t.rl
    element = compute.MATMUL_OPERAND_BYTES[t.precision]
    tp = r.inference_tensor_parallel
    longest = r.max_generation_tokens if r.max_generation_tokens is not None else r.generation_tokens
    forward_matmul, forward_attention = forward_flops_per_token(p, shape, t.sequence_length)
    decode = rl.decode_seconds(
        shape.total * element / tp,
        rl.kv_bytes_per_token(shape.layers, shape.kv_width, element) / tp,
        _rollout_batch(p),
        r.prompt_tokens,
        r.generation_tokens,
        longest,
        (forward_matmul + forward_attention) / tp,
        gpu.memory_bandwidth_gbps,
        book.training_physics.elementwise_bandwidth_share,
        peak_tflops,
        utilisation,
    )
    verify = rl.verifier_seconds(r.prompts_per_step * r.group_size, r.verifier_seconds_per_sample, r.verifier_workers)
    return rl.rollout_steps(r.prompts, t.epochs, r.prompts_per_step) * (decode + verify)


def work_facts(p: Params, time: dict[str, Number], physics_hours: Number) -> dict[str, Number]:
    """The method's work as results: its GPU-hours against SFT on the same data (SFT's FLOPs
    at the plan's own GPU-hours per FLOP of training; rollouts come on top), the rollouts'
    GPU-hours and the samples generated."""
    rollout = time["split_gpu_hours"].get("rollout", 0.0 * physics_hours)
    training = physics_hours - rollout
    flops = np.where(np.asarray(time["flops"]) > 0, time["flops"], 1.0)
    with np.errstate(over="ignore", invalid="ignore"):  # a plan past every bound: the guards refuse it
        sft = training * (time["sft_flops"] / flops)
        ratio = np.where(np.asarray(sft) > 0, physics_hours / np.where(np.asarray(sft) > 0, sft, 1.0), 1.0)[()]
    t = p.training
    samples = 0.0
    if t.method == "rl" and t.rl is not None:
        samples = rl.samples_per_run(t.rl.prompts, t.rl.group_size, t.epochs)
    return {"compute_vs_sft": ratio, "rollout_gpu_hours_per_run": rollout, "rl_samples_per_run": samples}


def training_share(split_gpu_hours: dict[str, Number], physics_hours: Number) -> Number:
    """Share of a run's physics GPU-hours that trains (1 − the rollouts' share; 1 without
    rollouts): the booked hours an RL plan's FLOPs are set against when the plan's implied
    utilisation is read, since decoding is bound by memory bandwidth, not by the matmul peak."""
    rollout = split_gpu_hours.get("rollout")
    if rollout is None:
        return 1.0
    hours = np.asarray(physics_hours, dtype=float)
    return np.where(hours > 0, 1.0 - np.asarray(rollout) / np.where(hours > 0, hours, 1.0), 1.0)[()]
