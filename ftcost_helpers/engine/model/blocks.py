"""Transformer blocks beyond the Llama shape: dense (non-gated) MLPs, parallel attention and
MLP, biases, encoder-decoder stacks with cross-attention, multi-head latent attention (MLA)
and mixtures of experts with shared experts and dense first layers.

:mod:`architecture` counts the Llama/Qwen/Mistral block (gated MLP, no biases, decoder
only); the functions here count any of the blocks above and reduce to it when
:class:`Blocks` is left at its defaults. Symbols as in :mod:`architecture`: ``h`` hidden
size, ``a`` heads, ``d`` head dimension, ``h_kv`` key/value width, ``i`` the MLP width (one
routed expert's in a mixture), ``L`` decoder layers. Norms (2h per norm) and a learned
position table are left out here as there (< 1 % of any model below 1B, far less above).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ftcost_helpers.engine.model import architecture, memory
from ftcost_helpers.engine.quantities import Number

MLP_MATRICES = {"gated": 3.0, "dense": 2.0}
"""Weight matrices of one MLP: a gated MLP (SwiGLU, GeGLU: Shazeer 2020) has gate, up and
down, each h × i; a dense MLP (GPT-2, BLOOM, Falcon, MPT, T5 v1.0: Vaswani et al. 2017 §3.3,
``FFN(x) = act(x·W1 + b1)·W2 + b2``) has up and down."""

MLP_INNER_ACTIVATION_BYTES = {"gated": 8.0, "dense": 4.0}
"""Bytes per token and unit of MLP width the MLP keeps for its backward (bf16): gated, the
gate and up outputs and the activation's output and the product (2i + 2i + 2i + 2i); dense,
the up output (the activation's input) and the activation's output (the down-projection's
input), 2i + 2i (Korthikanti et al. 2022, §4.1: "GeLU input 8sbh, second linear input 8sbh"
for i = 4h, their 16·s·b·h)."""


@dataclass(frozen=True)
class LatentAttention:
    """Multi-head latent attention (DeepSeek-V2 §2.1, DeepSeek-V3 §2.1.1; config.json keys
    ``q_lora_rank``, ``kv_lora_rank``, ``qk_nope_head_dim``, ``qk_rope_head_dim``,
    ``v_head_dim``): queries and keys/values pass through low-rank latents."""

    kv_rank: int
    nope_dim: float
    rope_dim: int
    value_dim: float
    query_rank: int | None = None

    @property
    def key_dim(self) -> float:
        """Per-head query/key width: the part without rotary embedding plus the rotary part."""
        return self.nope_dim + self.rope_dim


@dataclass(frozen=True)
class Blocks:
    """What sets a model's blocks apart from the Llama block (defaults: the Llama block)."""

    mlp: str = "gated"
    parallel: bool = False
    biases: bool = False
    encoder_layers: int = 0
    shared_experts: int = 0
    dense_layers: int = 0
    dense_width: float | None = None
    latent: LatentAttention | None = None

    @property
    def encoder_decoder(self) -> bool:
        """Whether an encoder stack feeds the decoder through cross-attention (T5, mT0)."""
        return self.encoder_layers > 0


def blocks_from_keys(keys: Mapping[str, Any]) -> Blocks:
    """The :class:`Blocks` that ``base_model`` keys describe (absent keys: the Llama block).
    MLA is on when ``kv_lora_rank`` is given: ``head_dim`` is then the per-head query/key
    width without rotary embedding (config.json ``qk_nope_head_dim``), ``v_head_dim`` the
    value head (``head_dim`` when absent)."""
    latent = None
    if keys.get("kv_lora_rank"):
        nope = architecture.head_dimension(keys["hidden_size"], keys["attention_heads"], keys.get("head_dim"))
        value = float(keys.get("v_head_dim") or nope)
        rope = keys.get("qk_rope_head_dim") or 0
        latent = LatentAttention(keys["kv_lora_rank"], nope, rope, value, keys.get("q_lora_rank"))
    dense_width = keys.get("dense_intermediate_size")
    return Blocks(
        mlp=keys.get("mlp") or "gated",
        parallel=bool(keys.get("parallel_attention")),
        biases=bool(keys.get("biases")),
        encoder_layers=keys.get("encoder_layers") or 0,
        shared_experts=keys.get("shared_experts") or 0,
        dense_layers=keys.get("first_dense_layers") or 0,
        dense_width=None if dense_width is None else float(dense_width),
        latent=latent,
    )


def mlp_parameters(hidden_size: int, width: Number, kind: str, biases: bool) -> Number:
    """Weights of one MLP (one expert): matrices·h·i (gated: 3, Shazeer 2020, "GLU Variants
    Improve Transformer", Llama's ``LlamaMLP``; dense: 2), plus biases on each matrix's output,
    (matrices − 1)·i + h (GPT-2 and BLOOM: ``c_fc`` and ``dense_h_to_4h`` carry biases)."""
    matrices = MLP_MATRICES[kind]
    bias = (matrices - 1.0) * width + hidden_size if biases else 0.0
    return matrices * hidden_size * width + bias


def attention_parameters(
    hidden_size: int, heads: int, kv_heads: int, head_dim: int | None, biases: bool, latent: LatentAttention | None
) -> float:
    """Weights of one attention block: :func:`architecture.attention_parameters`, plus the
    projections' biases q + 2·h_kv + h when the model has them; or the latent attention's
    (:func:`latent_attention_parameters`)."""
    if latent is not None:
        return latent_attention_parameters(hidden_size, heads, latent)
    weights = architecture.attention_parameters(hidden_size, heads, kv_heads, head_dim)
    if not biases:
        return weights
    q = architecture.query_width(hidden_size, heads, head_dim)
    return weights + q + 2.0 * architecture.kv_width(hidden_size, heads, kv_heads, head_dim) + hidden_size


def latent_attention_parameters(hidden_size: int, heads: int, latent: LatentAttention) -> float:
    """Weights of one MLA block (DeepSeek-V3 §2.1.1, eqs. 1–10): queries h → r_q → a·(d_n + d_r)
    (or h → a·(d_n + d_r) without a query latent); keys and values h → r_kv + d_r (the shared
    rotary key), then r_kv → a·(d_n + d_v); output a·d_v → h. DeepSeek-V3 (h 7168, a 128,
    r_q 1536, r_kv 512, d_n 128, d_r 64, d_v 128): 11,010,048 + 37,748,736 + 4,128,768 +
    16,777,216 + 117,440,512 = 187,105,280 per layer."""
    h, a, lat = hidden_size, heads, latent
    query_in = lat.query_rank or h  # without a query latent, q projects h straight to a·(d_n + d_r)
    query = (h * lat.query_rank if lat.query_rank else 0) + query_in * a * lat.key_dim
    key_value = h * (lat.kv_rank + lat.rope_dim) + lat.kv_rank * a * (lat.nope_dim + lat.value_dim)
    return float(query + key_value + a * lat.value_dim * h)


def stack_parameters(
    layers: int,
    hidden_size: int,
    heads: int,
    kv_heads: int,
    head_dim: int | None,
    width: Number,
    experts_used: int,
    blocks: Blocks,
) -> Number:
    """Weights of the layers (embeddings aside), with ``experts_used`` routed experts per MoE
    layer (all E for the total, k for what a token passes). Decoder: L attention blocks; the
    first ``dense_layers`` of a mixture have one MLP of ``dense_width``, the others
    ``experts_used + shared_experts`` MLPs of width i. Encoder-decoder: the encoder's layers
    (self-attention and one MLP) and a cross-attention block in each decoder layer, of the
    self-attention's shape (Raffel et al. 2020, T5, §2.1)."""
    attention = attention_parameters(hidden_size, heads, kv_heads, head_dim, blocks.biases, blocks.latent)
    expert = mlp_parameters(hidden_size, width, blocks.mlp, blocks.biases)
    dense_width = width if blocks.dense_width is None else blocks.dense_width
    dense = mlp_parameters(hidden_size, dense_width, blocks.mlp, blocks.biases)
    mixture_layers = layers - blocks.dense_layers
    decoder = layers * attention + mixture_layers * expert * (experts_used + blocks.shared_experts)
    decoder = decoder + blocks.dense_layers * dense
    if not blocks.encoder_decoder:
        return decoder
    plain = attention_parameters(hidden_size, heads, kv_heads, head_dim, blocks.biases, None)
    encoder = blocks.encoder_layers * (plain + expert)
    return decoder + encoder + layers * plain


def total_parameters(
    layers: int,
    hidden_size: int,
    heads: int,
    kv_heads: int,
    width: Number,
    vocab_size: int,
    tied: bool,
    experts: int = 1,
    head_dim: int | None = None,
    blocks: Blocks | None = None,
) -> Number:
    """Every parameter: :func:`stack_parameters` with every expert, plus the embeddings
    (the Llama block when ``blocks`` is None: L·(2·h·a·d + 2·h·h_kv + E·3·h·i) + V·h·(1 or 2))."""
    blocks = blocks or Blocks()
    stack = stack_parameters(layers, hidden_size, heads, kv_heads, head_dim, width, experts, blocks)
    return stack + architecture.embedding_parameters(vocab_size, hidden_size, tied)


def active_parameters(
    layers: int,
    hidden_size: int,
    heads: int,
    kv_heads: int,
    width: Number,
    vocab_size: int,
    tied: bool,
    routed: int,
    head_dim: int | None = None,
    blocks: Blocks | None = None,
) -> Number:
    """Parameters a token passes through: k routed experts (and the shared ones) per MoE
    layer. The input embedding is a lookup, but the convention (Qwen3-30B-A3B's "3.3B
    activated") counts it, so it is counted here too. In an
    encoder-decoder, a token of the pair is either input (encoder) or target (decoder):
    with half the tokens in each, the mean token passes half the stack."""
    blocks = blocks or Blocks()
    stack = stack_parameters(layers, hidden_size, heads, kv_heads, head_dim, width, routed, blocks)
    if blocks.encoder_decoder:
        stack = stack / 2.0
    return stack + architecture.embedding_parameters(vocab_size, hidden_size, tied)


def derived_intermediate_size(
    parameters: Number,
    layers: int,
    hidden_size: int,
    heads: int,
    kv_heads: int,
    vocab_size: int,
    tied: bool,
    experts: int = 1,
    head_dim: int | None = None,
    blocks: Blocks | None = None,
) -> Number:
    """The MLP width i that makes :func:`total_parameters` equal the given count. The count
    is affine in i, so i = (N − count at i = 0) ÷ (count at i = 1 − count at i = 0); at
    least h/4 when the count is too small for the stated shape (the architecture check
    then warns). The Llama block: i = (N − V·h·(1 or 2) − L·(2·h·a·d + 2h·h_kv)) ÷ (3·h·E·L)."""
    shape = (layers, hidden_size, heads, kv_heads)
    at_zero = total_parameters(*shape, 0.0, vocab_size, tied, experts, head_dim, blocks)
    at_one = total_parameters(*shape, 1.0, vocab_size, tied, experts, head_dim, blocks)
    width = (parameters - at_zero) / (at_one - at_zero)
    return np.maximum(width, hidden_size / 4.0)[()]


def lora_parameters(
    rank: int,
    target_modules: str,
    layers: int,
    hidden_size: int,
    heads: int,
    kv_heads: int,
    width: Number,
    experts: int = 1,
    head_dim: int | None = None,
    blocks: Blocks | None = None,
) -> Number:
    """Adapter parameters, r·(d_in + d_out) per adapted matrix (Hu et al. 2021): the
    attention adapters of :func:`architecture.attention_lora_parameters` on every attention block (the
    encoder's and the cross-attention too), and under ``all_linear`` r·(h + i) on each of an
    MLP's matrices (3 gated, 2 dense) for every expert and shared expert (Dettmers et al.
    2023, QLoRA: adapters on every linear layer)."""
    blocks = blocks or Blocks()
    attention_blocks = layers + (blocks.encoder_layers + layers if blocks.encoder_decoder else 0)
    attention = architecture.attention_lora_parameters(rank, hidden_size, heads, kv_heads, head_dim)
    total = attention_blocks * attention
    if target_modules != "all_linear":
        return total + 0.0 * width
    matrices = MLP_MATRICES[blocks.mlp]
    dense_width = width if blocks.dense_width is None else blocks.dense_width
    mixture_mlps = (layers - blocks.dense_layers) * (experts + blocks.shared_experts) + blocks.encoder_layers
    mlp = matrices * rank * ((hidden_size + width) * mixture_mlps + (hidden_size + dense_width) * blocks.dense_layers)
    return total + mlp


def attention_activation_bytes(
    hidden_size: int, query_width: float, kv_width: float, heads: int, latent: LatentAttention | None
) -> float:
    """Bytes per token one attention block keeps for its backward, its norm's input and
    output included, FlashAttention's kernel (:func:`memory.activation_bytes_per_token_layer`
    with no MLP, less that MLP's norm 4h). MLA keeps instead: the norm's 4h, the query latent
    and its norm's output 2r_q + 2r_q, the key/value latent with the rotary key 2(r_kv + d_r)
    and the latent's norm output 2r_kv, the up-projected q and k 2·2·a·(d_n + d_r), v
    2·a·d_v, the attention output 2·a·d_v and the log-sum-exp 4a."""
    if latent is None:
        layer = memory.activation_bytes_per_token_layer(hidden_size, kv_width, 0.0, 0, heads, 0, True, query_width)
        return float(layer - 4.0 * hidden_size)
    lat, a = latent, heads
    latents = 4.0 * (lat.query_rank or 0) + 4.0 * lat.kv_rank + 2.0 * lat.rope_dim
    projected = 4.0 * a * lat.key_dim + 4.0 * a * lat.value_dim
    return 4.0 * hidden_size + latents + projected + 4.0 * a


def mlp_activation_bytes(hidden_size: int, width: Number, routed: float, kind: str) -> Number:
    """Bytes per token one MLP layer keeps: its norm's input and output 4h and, per expert
    the token passes, the inner activations (:data:`MLP_INNER_ACTIVATION_BYTES`)."""
    return 4.0 * hidden_size + MLP_INNER_ACTIVATION_BYTES[kind] * width * routed


def parallel_block_saving(hidden_size: int, parallel: bool) -> float:
    """Bytes per token a parallel block (GPT-J, PaLM §2, Falcon: attention and MLP read the
    same normalised input and add to one residual) does not keep: the MLP norm's input is
    the layer's input, already held, 2h."""
    return 2.0 * hidden_size if parallel else 0.0


def stack_activation_bytes(
    layers: int,
    hidden_size: int,
    query_width: float,
    kv_width: float,
    heads: int,
    width: Number,
    routed: int,
    blocks: Blocks,
) -> Number:
    """Bytes per token the whole stack keeps without recomputation, summed over its layers.
    Decoder layers: attention + MLP (k routed and the shared experts; the dense first
    layers one MLP of their width) − the parallel block's saving. Encoder-decoder: encoder
    layers (self-attention + MLP), decoder layers with a cross-attention block each, and
    half the pair's tokens in each stack (:func:`active_parameters`)."""
    attention = attention_activation_bytes(hidden_size, query_width, kv_width, heads, blocks.latent)
    saving = parallel_block_saving(hidden_size, blocks.parallel)
    expert_mlp = mlp_activation_bytes(hidden_size, width, routed + blocks.shared_experts, blocks.mlp)
    dense_width = width if blocks.dense_width is None else blocks.dense_width
    dense_mlp = mlp_activation_bytes(hidden_size, dense_width, 1.0, blocks.mlp)
    decoder = (layers - blocks.dense_layers) * (attention + expert_mlp - saving)
    decoder = decoder + blocks.dense_layers * (attention + dense_mlp - saving)
    if not blocks.encoder_decoder:
        return decoder
    plain = attention_activation_bytes(hidden_size, query_width, kv_width, heads, None)
    encoder = blocks.encoder_layers * (plain + mlp_activation_bytes(hidden_size, width, 1.0, blocks.mlp) - saving)
    return (encoder + decoder + layers * plain) / 2.0


def checkpointed_layers(layers: int, blocks: Blocks) -> float:
    """Layer inputs per token full checkpointing keeps: every layer of the stack (half of an
    encoder-decoder's, per token of the pair)."""
    if blocks.encoder_decoder:
        return (layers + blocks.encoder_layers) / 2.0
    return float(layers)


def stack_inner_mlp_bytes(layers: int, width: Number, routed: int, blocks: Blocks) -> Number:
    """Bytes per token of the MLPs' inner activations over the stack (the
    :data:`MLP_INNER_ACTIVATION_BYTES` part of :func:`stack_activation_bytes`): what
    op-level checkpointing halves (:mod:`checkpointing`)."""
    inner = MLP_INNER_ACTIVATION_BYTES[blocks.mlp]
    dense_width = width if blocks.dense_width is None else blocks.dense_width
    decoder = (layers - blocks.dense_layers) * inner * width * (routed + blocks.shared_experts)
    decoder = decoder + blocks.dense_layers * inner * dense_width
    if not blocks.encoder_decoder:
        return decoder
    return (decoder + blocks.encoder_layers * inner * width) / 2.0


def attention_matmul_widths(
    hidden_size: int, query_width: float, kv_width: float, heads: int, latent: LatentAttention | None
) -> list[float]:
    """Output widths of one attention block's weight matmuls in forward order: q, k, v and
    the output projection (q·W_q of width a·d, k and v of h_kv, o of h); with MLA the query
    latent (when there is one), the up-projected query a·(d_n + d_r), the key/value latent
    with the rotary key r_kv + d_r, its up-projection a·(d_n + d_v) and o."""
    if latent is None:
        return [query_width, kv_width, kv_width, float(hidden_size)]
    lat = latent
    query = [float(lat.query_rank)] if lat.query_rank else []
    return [
        *query,
        heads * lat.key_dim,
        float(lat.kv_rank + lat.rope_dim),
        heads * (lat.nope_dim + lat.value_dim),
        float(hidden_size),
    ]


def mlp_matmul_widths(hidden_size: int, width: Number, kind: str, mlps: Number) -> list[Number]:
    """Output widths of one MLP layer's weight matmuls in forward order, summed over the
    ``mlps`` experts a token passes: gated, gate and up i each then down h (torchtitan's
    ``w2(silu(w1(x)) * w3(x))``); dense, up i then down h."""
    inner = [width * mlps, width * mlps] if kind == "gated" else [width * mlps]
    return [*inner, hidden_size * mlps]


def alternate_matmul_bytes(widths: list[Number]) -> Number:
    """Bytes per token (bf16) of the outputs of every second matmul of one layer, counting
    from the first (the 2nd, 4th, ...): what torchtitan's op-level selective checkpointing
    recomputes (its policy counts ``aten.mm`` calls per checkpointed layer and saves every
    matmul output "except every second mm": torchtitan ``parallelize_llama.py``,
    ``_apply_ac_to_transformer_block``, ``_custom_policy``)."""
    return 2.0 * sum((w for n, w in enumerate(widths, start=1) if n % 2 == 0), 0.0 * widths[0])


def stack_alternate_matmul_bytes(
    layers: int,
    hidden_size: int,
    query_width: float,
    kv_width: float,
    heads: int,
    width: Number,
    routed: int,
    blocks: Blocks,
) -> Number:
    """Bytes per token over the stack of the matmul outputs op-level checkpointing recomputes
    (:func:`alternate_matmul_bytes` of each layer's attention then MLP matmuls), summed as
    :func:`stack_activation_bytes` sums the layers: mixture layers with k routed and the
    shared experts' MLPs, dense first layers with their width, an encoder-decoder's decoder
    layers with their cross-attention, half the pair's tokens in each stack. Llama-2-7B's
    layer (h = a·d = h_kv = 4096, i = 11,008): k, o and up, 2·(4,096 + 4,096 + 11,008) =
    38,400 bytes."""
    attention = attention_matmul_widths(hidden_size, query_width, kv_width, heads, blocks.latent)
    dense_width = width if blocks.dense_width is None else blocks.dense_width
    expert = alternate_matmul_bytes(
        attention + mlp_matmul_widths(hidden_size, width, blocks.mlp, routed + blocks.shared_experts)
    )
    dense = alternate_matmul_bytes(attention + mlp_matmul_widths(hidden_size, dense_width, blocks.mlp, 1.0))
    decoder = (layers - blocks.dense_layers) * expert + blocks.dense_layers * dense
    if not blocks.encoder_decoder:
        return decoder
    plain = attention_matmul_widths(hidden_size, query_width, kv_width, heads, None)
    mlp = mlp_matmul_widths(hidden_size, width, blocks.mlp, 1.0)
    encoder = blocks.encoder_layers * alternate_matmul_bytes(plain + mlp)
    crossed = layers * alternate_matmul_bytes(attention + plain + mlp)
    return (encoder + crossed) / 2.0


def attention_width_for_flops(query_width: float, heads: int, latent: LatentAttention | None) -> float:
    """The width the attention-score FLOPs scale with (``query_width`` of
    :func:`compute.flops_per_token`: 2·s·(a·d) per token and layer, forward, causal, counting
    Q·Kᵀ at width a·d and the product with V at a·d): with MLA, Q·Kᵀ runs at a·(d_n + d_r)
    and the product with V at a·d_v, so the mean a·(d_n + d_r + d_v)/2."""
    if latent is None:
        return query_width
    return heads * (latent.key_dim + latent.value_dim) / 2.0


def attention_layer_equivalents(layers: int, blocks: Blocks) -> float:
    """Causal self-attention layers that cost what the stack's attention costs per token of
    the pair: a decoder-only model's L. An encoder's self-attention and a decoder's
    cross-attention see every key (no causal mask: twice a causal layer's FLOPs), and each
    token passes one of the two stacks: (2·L_enc + L + 2·L) ÷ 2."""
    if not blocks.encoder_decoder:
        return float(layers)
    return (2.0 * blocks.encoder_layers + 3.0 * layers) / 2.0
