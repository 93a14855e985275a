"""Parameter counts from a transformer's architecture (decoder-only, gated MLP, GQA, MoE).

Conventions (Llama/Qwen/Mistral family, as in their Hugging Face ``config.json``):
``h`` hidden size, ``a`` attention heads, ``a_kv`` key/value heads (grouped-query attention;
``a_kv = a`` without it), ``i`` the MLP's intermediate size (per expert in a mixture of
experts), ``E`` experts per layer, ``k`` experts each token is routed to, ``V`` vocabulary,
``L`` layers, ``d`` the head dimension (``head_dim`` in config.json; ``h / a`` unless the
model sets it apart, as Qwen3 and gpt-oss do). The query and attention-output width is
``a·d`` and the key/value width ``h_kv = a_kv·d``; with ``d = h / a`` they are ``h`` and
``h · a_kv / a``.
"""

from __future__ import annotations

import numpy as np

from ftcost_helpers.engine.quantities import Number

GATED_MLP_MATRICES = 3
"""A SwiGLU MLP has three h × i matrices (gate, up, down) (Shazeer 2020, "GLU Variants
Improve Transformer"; Llama's ``LlamaMLP``)."""


def head_dimension(hidden_size: int, attention_heads: int, head_dim: int | None = None) -> float:
    """d: the model's ``head_dim``, else h / a."""
    return float(head_dim) if head_dim else hidden_size / attention_heads


def query_width(hidden_size: int, attention_heads: int, head_dim: int | None = None) -> float:
    """Width of the query projection and of the attention output, a·d (= h when d = h / a)."""
    return attention_heads * head_dimension(hidden_size, attention_heads, head_dim)


def kv_width(hidden_size: int, attention_heads: int, kv_heads: int, head_dim: int | None = None) -> float:
    """Width of the key and value projections, h_kv = a_kv·d (= h · a_kv / a when d = h / a)."""
    return kv_heads * head_dimension(hidden_size, attention_heads, head_dim)


def attention_parameters(hidden_size: int, attention_heads: int, kv_heads: int, head_dim: int | None = None) -> float:
    """Weights of one attention block: q is h × a·d, o is a·d × h, k and v are h × h_kv:
    2·h·a·d + 2·h·h_kv (biases and norms are negligible; 2h² + 2·h·h_kv when d = h / a)."""
    q = query_width(hidden_size, attention_heads, head_dim)
    return 2.0 * hidden_size * q + 2.0 * hidden_size * kv_width(hidden_size, attention_heads, kv_heads, head_dim)


def embedding_parameters(vocab_size: int, hidden_size: int, tied: bool) -> float:
    """Input embedding V × h, plus an output head V × h unless the two are tied."""
    return vocab_size * hidden_size * (1.0 if tied else 2.0)


def mlp_parameters(hidden_size: int, intermediate_size: Number, experts: int) -> Number:
    """Weights of one MLP layer: E experts of 3·h·i each (E = 1 for a dense model)."""
    return GATED_MLP_MATRICES * hidden_size * intermediate_size * experts


def total_parameters(
    layers: int,
    hidden_size: int,
    attention_heads: int,
    kv_heads: int,
    intermediate_size: Number,
    vocab_size: int,
    tied: bool,
    experts: int = 1,
    head_dim: int | None = None,
) -> Number:
    """Every parameter: L·(2·h·a·d + 2·h·h_kv + E·3·h·i) + V·h·(1 or 2)."""
    per_layer = attention_parameters(hidden_size, attention_heads, kv_heads, head_dim) + mlp_parameters(
        hidden_size, intermediate_size, experts
    )
    return layers * per_layer + embedding_parameters(vocab_size, hidden_size, tied)


def derived_intermediate_size(
    parameters: Number,
    layers: int,
    hidden_size: int,
    attention_heads: int,
    kv_heads: int,
    vocab_size: int,
    tied: bool,
    experts: int = 1,
    head_dim: int | None = None,
) -> Number:
    """The MLP width that makes :func:`total_parameters` equal the given count:
    i = (N − V·h·(1 or 2) − L·(2·h·a·d + 2h·h_kv)) ÷ (3·h·E·L); at least h/4 when the count is
    too small for the stated shape (the architecture check then warns)."""
    rest = parameters - embedding_parameters(vocab_size, hidden_size, tied)
    rest = rest - layers * attention_parameters(hidden_size, attention_heads, kv_heads, head_dim)
    width = rest / (GATED_MLP_MATRICES * hidden_size * experts * layers)
    return np.maximum(width, hidden_size / 4.0)[()]


def active_parameters(
    layers: int,
    hidden_size: int,
    attention_heads: int,
    kv_heads: int,
    intermediate_size: Number,
    vocab_size: int,
    tied: bool,
    experts_per_token: int,
    head_dim: int | None = None,
) -> Number:
    """Parameters a token passes through: the dense layers and k of the E experts. The
    input embedding is a lookup, but the convention (Qwen3-30B-A3B's "3.3B activated")
    counts it, so it is counted here too."""
    return total_parameters(
        layers, hidden_size, attention_heads, kv_heads, intermediate_size, vocab_size, tied, experts_per_token, head_dim
    )


def lora_parameters(
    rank: int,
    target_modules: str,
    layers: int,
    hidden_size: int,
    attention_heads: int,
    kv_heads: int,
    intermediate_size: Number,
    experts: int = 1,
    head_dim: int | None = None,
) -> Number:
    """Adapter parameters: each adapted d_in × d_out matrix trains A (r × d_in) and B
    (d_out × r), r·(d_in + d_out) (Hu et al. 2021, LoRA). Attention: q (h → a·d), o
    (a·d → h) and k, v (h → h_kv): r·(4h + 2·a·d + 2h_kv) per layer (r·(6h + 2h_kv) when
    d = h / a); ``all_linear`` adds gate, up, down: 3·r·(h + i) per expert (Dettmers et al.
    2023, QLoRA: adapters on every linear layer)."""
    h_kv = kv_width(hidden_size, attention_heads, kv_heads, head_dim)
    q = query_width(hidden_size, attention_heads, head_dim)
    attention = rank * (4.0 * hidden_size + 2.0 * q + 2.0 * h_kv)
    mlp = GATED_MLP_MATRICES * rank * (hidden_size + intermediate_size) * experts
    per_layer = attention + (mlp if target_modules == "all_linear" else 0.0)
    return layers * per_layer


def relative_mismatch(given: Number, derived: Number) -> Number:
    """|derived − given| ÷ given (0 when nothing is given to compare with)."""
    given = np.asarray(given, dtype=float)
    gap = np.abs(np.asarray(derived, dtype=float) - given)
    return np.where(given > 0, gap / np.where(given > 0, given, 1.0), 0.0)[()]
