"""Serving shapes and serving throughput from physics.

**Shapes** (``serving.shape``), each a monthly bill:

* ``dedicated``: GPUs held all month, GPUs × hours × rate (the plan's deployment);
* ``shared_base``: one base model on a dedicated deployment serving ``adapters`` LoRA
  adapters, its bill split evenly: GPUs × hours × rate ÷ adapters;
* ``serverless``: per token on the provider's shared deployment, tokens (millions) × price per
  1M tokens (Fireworks bills a LoRA served serverless "at the same rate as the underlying base
  model", fireworks.ai/pricing);
* ``batch``: the serverless bill less the batch API's discount, × (1 − discount);
* ``endpoint``: a dedicated endpoint billed by the minute for every replica that is up, idle
  or not ("These charges are incurred per minute, even when the model is not actively being
  used", support.together.ai, "Fine-Tuning Pricing"). In the busy hours it runs the replicas
  the load needs, between ``min_replicas`` (at least one) and ``max_replicas``; in the other
  hours ``min_replicas`` (0: it scales to zero).

**Throughput from physics** (when ``serving.tokens_per_second`` is not given), per replica of
``gpus`` GPUs at a batch of B concurrent sequences of context c:

* decode is bound by memory bandwidth: each step reads the weights (2 bytes per parameter in
  bf16) and the batch's KV cache (2 × layers × KV heads × head width × 2 bytes per token of
  context), and yields B tokens: B ÷ ((weights + B·c·KV) ÷ (GPUs × bandwidth)); or by compute
  when that is slower, 2 × active parameters × B FLOPs a step (Kaplan et al. 2020's 2N FLOPs
  per token of a forward pass);
* prefill is bound by compute: GPUs × peak × utilisation ÷ (2 × active parameters);
* a mix of input and output tokens takes input share ÷ prefill + output share ÷ decode
  seconds per token.

It is a ceiling: a serving engine's scheduling, sampling and kernel launches come on top.
Lambda's vLLM 0.5.4 benchmark (params/README.md) measured 3,281 output tokens/s for
Mistral-7B on one H100 at 320 concurrent prompts, where this bound at 320 × 1,000 tokens of
context gives about 19,000 (14.5 GB of weights + 41.9 GB of KV cache read in 16.8 ms): give
``serving.tokens_per_second`` where a measurement exists.
"""

from __future__ import annotations

import numpy as np

from ftcost_helpers.engine.quantities import Number

SECONDS_PER_HOUR = 3600.0
TOKENS_PER_MILLION = 1e6
BYTES_PER_WEIGHT = 2.0
"""bf16 weights and KV cache: 2 bytes per value."""
TERA = 1e12
GIGA = 1e9
KV_CACHE_MEMORY_SHARE = 0.9
"""Share of the GPUs' memory a serving engine lets the weights and KV cache take (vLLM's
``gpu_memory_utilization`` default, 0.9, docs.vllm.ai engine arguments)."""


def dedicated_cost(gpus: Number, hours_per_month: Number, rate_usd_per_gpu_hour: Number) -> Number:
    """USD per month of GPUs held all month: GPUs × hours × rate."""
    return gpus * hours_per_month * rate_usd_per_gpu_hour


def shared_base_cost(dedicated_usd_per_month: Number, adapters: Number) -> Number:
    """USD per month of one adapter's share of a base deployment serving ``adapters``:
    the deployment's bill ÷ adapters (four adapters on USD 2,000 a month: 500 each)."""
    return dedicated_usd_per_month / adapters


def per_token_cost(tokens_million_per_month: Number, price_usd_per_1m_tokens: Number, discount: Number = 0.0) -> Number:
    """USD per month billed per token: tokens (millions) × price × (1 − discount)
    (serverless: no discount; batch: the batch API's discount)."""
    return tokens_million_per_month * price_usd_per_1m_tokens * (1.0 - discount)


def endpoint_replica_hours(
    tokens_million_per_month: Number,
    replica_tokens_per_second: Number,
    busy_hours: Number,
    hours_per_month: Number,
    min_replicas: Number,
    max_replicas: Number,
) -> Number:
    """Replica-hours a per-minute endpoint is billed for in a month: in the busy hours the
    replicas the busy-hour load needs, ⌈tokens ÷ (busy hours × 3600) ÷ replica tokens/s⌉,
    kept between max(min_replicas, 1) and ``max_replicas`` (inf: unbounded); in the other
    hours ``min_replicas`` (0: scaled to zero). 100M tokens over 200 busy hours on a replica
    of 200 tokens/s: 100e6 ÷ 720,000 s = 138.9 tokens/s → 1 replica × 200 h; with
    min_replicas 1 the other 530 h of a 730-hour month add 530: 730 replica-hours."""
    tokens = np.asarray(tokens_million_per_month, dtype=float) * TOKENS_PER_MILLION
    seconds = np.asarray(busy_hours, dtype=float) * SECONDS_PER_HOUR
    with np.errstate(divide="ignore", invalid="ignore"):
        load = np.where(tokens > 0, tokens / seconds, 0.0)
        needed = np.ceil(load / replica_tokens_per_second)
    busy_replicas = np.clip(needed, np.maximum(min_replicas, 1), max_replicas)
    idle_hours = np.maximum(hours_per_month - busy_hours, 0.0)
    return (busy_replicas * busy_hours + min_replicas * idle_hours)[()]


def endpoint_cost(replica_hours: Number, gpus_per_replica: Number, rate_usd_per_gpu_hour: Number) -> Number:
    """USD per month of a per-minute endpoint: replica-hours × GPUs per replica × rate."""
    return replica_hours * gpus_per_replica * rate_usd_per_gpu_hour


def kv_bytes_per_token(layers: Number, kv_heads: Number, head_dim: Number) -> Number:
    """Bytes of KV cache per token of context: keys and values (2) × layers × KV heads ×
    head width × 2 bytes (bf16). Llama-3.1-8B, 32 layers × 8 × 128: 131,072 bytes."""
    return 2.0 * layers * kv_heads * head_dim * BYTES_PER_WEIGHT


def decode_tokens_per_second(
    gpus: Number,
    bandwidth_gbps: Number,
    peak_tflops: Number,
    utilisation: Number,
    parameters: Number,
    active_parameters: Number,
    kv_bytes: Number,
    context_tokens: Number,
    batch: Number,
    memory_gb: Number,
) -> Number:
    """Output tokens/s of one replica decoding ``batch`` sequences of ``context_tokens``: the
    batch ÷ the slower of reading weights and KV cache at the GPUs' bandwidth and computing
    2 × active parameters × batch FLOPs. The batch is capped by the memory left beside the
    weights (:data:`KV_CACHE_MEMORY_SHARE` of the GPUs' memory); 0 when the weights alone do
    not fit."""
    weights = parameters * BYTES_PER_WEIGHT
    room = gpus * memory_gb * GIGA * KV_CACHE_MEMORY_SHARE - weights
    per_sequence = kv_bytes * context_tokens
    batch = np.minimum(batch, np.floor(np.maximum(room, 0.0) / per_sequence))
    memory_seconds = (weights + batch * per_sequence) / (gpus * bandwidth_gbps * GIGA)
    compute_seconds = 2.0 * active_parameters * batch / (gpus * peak_tflops * TERA * utilisation)
    return (batch / np.maximum(memory_seconds, compute_seconds))[()]


def prefill_tokens_per_second(
    gpus: Number, peak_tflops: Number, utilisation: Number, active_parameters: Number
) -> Number:
    """Input tokens/s of one replica: GPUs × peak × utilisation ÷ (2 × active parameters)."""
    return gpus * peak_tflops * TERA * utilisation / (2.0 * active_parameters)


def mixed_tokens_per_second(prefill: Number, decode: Number, output_share: Number) -> Number:
    """Tokens/s (input + output) of a mix with ``output_share`` of its tokens generated:
    1 ÷ (input share ÷ prefill + output share ÷ decode)."""
    with np.errstate(divide="ignore"):
        seconds = (1.0 - output_share) / np.asarray(prefill, dtype=float) + output_share / np.asarray(
            decode, dtype=float
        )
        return (1.0 / seconds)[()]
