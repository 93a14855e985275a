"""The model's shape as the training formulas take it: the architecture with its derived
keys (KV heads, head dimension, MLP width, active parameters), the parameters that get
gradients, and the routed experts' share. The formulas live in :mod:`architecture` and
:mod:`blocks`; this module wires a plan's ``base_model`` and ``training`` keys to them."""

from __future__ import annotations

from dataclasses import dataclass, field

from ftcost_helpers.engine.model import architecture, blocks
from ftcost_helpers.engine.pricebook import MethodSpec
from ftcost_helpers.engine.quantities import Number
from ftcost_helpers.engine.schema import Params

BILLION = 1e9


ARCHITECTURE_TOLERANCE = 0.10
"""The given parameter count and the architecture's may differ by this share before the
audit says so (embeddings, biases and norms the formulas leave out are ~1–3%)."""


@dataclass(frozen=True)
class Shape:
    """The model's architecture as the formulas take it (derived keys filled in)."""

    layers: int
    hidden: int
    heads: int
    kv_heads: int
    vocab: int
    tied: bool
    experts: int
    routed: int
    intermediate: Number
    total: Number
    active: Number
    architecture_total: Number
    head_dim: int | None = None
    sliding_window: int | None = None
    sliding_layers: int = 0
    blocks: blocks.Blocks = field(default_factory=blocks.Blocks)

    @property
    def query_width(self) -> float:
        """a·d: the query projection's and the attention output's width."""
        return architecture.query_width(self.hidden, self.heads, self.head_dim)

    @property
    def kv_width(self) -> float:
        """a_kv·d: the key and value projections' width."""
        return architecture.kv_width(self.hidden, self.heads, self.kv_heads, self.head_dim)


def model_blocks(p: Params) -> blocks.Blocks:
    """What sets the model's blocks apart from the Llama block (:class:`blocks.Blocks`):
    dense MLP, parallel blocks, biases, an encoder, shared experts, dense first layers, MLA."""
    return blocks.blocks_from_keys(dict(p.base_model))


def model_shape(p: Params) -> Shape:
    """The architecture with its derived keys: KV heads, head dimension, MLP width, active
    parameters."""
    m = p.base_model
    kv_heads = m.kv_heads or m.attention_heads
    experts, routed = m.experts or 1, m.experts_per_token or 1
    total = m.parameters_billion * BILLION
    shape = (m.layers, m.hidden_size, m.attention_heads, kv_heads)
    vocab, tied, d, kind = m.vocab_size, m.tied_embeddings, m.head_dim, model_blocks(p)
    if m.intermediate_size is None:
        width = blocks.derived_intermediate_size(total, *shape, vocab, tied, experts, d, kind)
    else:
        width = float(m.intermediate_size)
    counted = blocks.total_parameters(*shape, width, vocab, tied, experts, d, kind)
    if m.active_parameters_billion is not None:
        active = m.active_parameters_billion * BILLION
    elif experts > 1 or kind.encoder_decoder:
        active = blocks.active_parameters(*shape, width, vocab, tied, routed, d, kind)
    else:
        active = total
    sliding = 0
    if m.sliding_window:  # every layer slides unless the file says how many
        sliding = m.layers if m.sliding_window_layers is None else m.sliding_window_layers
    return Shape(
        *shape, vocab, tied, experts, routed, width, total, active, counted, d, m.sliding_window, sliding, kind
    )


def trained_parameters(p: Params, method: MethodSpec, shape: Shape, active: bool = False) -> Number:
    """Parameters that get gradients: all of them, or the adapters (``trainable_fraction``
    when given, else from the LoRA rank and target modules). ``active``: only those a token
    passes through (the routed experts' adapters), which is what the FLOPs count."""
    if method.trains_all_weights:
        return shape.active if active else shape.total
    if p.training.trainable_fraction is not None:
        return p.training.trainable_fraction * (shape.active if active else shape.total)
    lora = p.training.lora
    adapters = blocks.lora_parameters(
        lora.rank,
        lora.target_modules,
        shape.layers,
        shape.hidden,
        shape.heads,
        shape.kv_heads,
        shape.intermediate,
        shape.routed if active else shape.experts,
        shape.head_dim,
        shape.blocks,
    )
    return adapters / 2.0 if active and shape.blocks.encoder_decoder else adapters


def frozen_with_gradients(p: Params, method: MethodSpec, shape: Shape, active: bool = False) -> Number:
    """Frozen weights that get gradients all the same: under ``fsdp_mixed_units`` (FSDP1 units
    mixing frozen and trained weights, :func:`allocator.gradient_parameters`) every block's
    weights, the total (``active``: a token's active) parameters less the embeddings and head,
    a frozen unit of their own; none otherwise, and none when every weight trains."""
    parameters = shape.active if active else shape.total
    if not p.training.fsdp_mixed_units or method.trains_all_weights:
        return 0.0 * parameters
    return parameters - architecture.embedding_parameters(shape.vocab, shape.hidden, shape.tied)


def expert_parameters(shape: Shape) -> Number:
    """Parameters in the routed experts: with E experts of e parameters each, k per token,
    total − active = (E − k)·e, so E·e = (total − active)·E / (E − k); 0 for a dense model."""
    if shape.experts <= 1 or shape.experts <= shape.routed:
        return 0.0 * shape.total
    return (shape.total - shape.active) * shape.experts / (shape.experts - shape.routed)
