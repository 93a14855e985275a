"""A transformer's widths and the parameter counts of its parts (attention, embeddings,
attention adapters); :mod:`blocks` counts whole models from them.

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


def attention_lora_parameters(
    rank: int, hidden_size: int, attention_heads: int, kv_heads: int, head_dim: int | None = None
) -> float:
    """Adapter parameters on one attention block: each adapted d_in × d_out matrix trains A
    (r × d_in) and B (d_out × r), r·(d_in + d_out) (Hu et al. 2021, LoRA). q (h → a·d), o
    (a·d → h) and k, v (h → h_kv): r·(4h + 2·a·d + 2h_kv) (r·(6h + 2h_kv) when d = h / a)."""
    h_kv = kv_width(hidden_size, attention_heads, kv_heads, head_dim)
    q = query_width(hidden_size, attention_heads, head_dim)
    return rank * (4.0 * hidden_size + 2.0 * q + 2.0 * h_kv)


def relative_mismatch(given: Number, derived: Number) -> Number:
    """|derived − given| ÷ given (0 when nothing is given to compare with)."""
    given = np.asarray(given, dtype=float)
    gap = np.abs(np.asarray(derived, dtype=float) - given)
    return np.where(given > 0, gap / np.where(given > 0, given, 1.0), 0.0)[()]
