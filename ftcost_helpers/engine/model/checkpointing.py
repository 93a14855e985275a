"""Activation checkpointing as frameworks ship it: what each policy keeps for the backward
pass and what it computes again.

Policies (``training.activation_checkpointing``), with ``training.checkpoint_every_layers``:

- ``none``: every layer keeps all its activations.
- ``selective``: Korthikanti et al. 2022 (§5, Megatron-LM ``--recompute-granularity
  selective``): the attention core's scores are recomputed, everything else kept.
- ``op_selective``: op-level selective checkpointing (PyTorch's
  ``torch.utils.checkpoint.create_selective_checkpoint_contexts`` with a policy that marks
  the matmuls and the attention kernel ``MUST_SAVE`` and every other op
  ``PREFER_RECOMPUTE``; torchtitan's ``selective_ac_option: op``): each layer keeps its input
  and the outputs of its matmuls and its attention kernel; the norms, the activation
  function, the gate product and the residual adds are recomputed, and so is every second
  matmul of each layer (torchtitan's policy counts the layer's ``aten.mm`` calls and saves
  their outputs "except every second mm": ``parallelize_llama.py``, ``_custom_policy``), which
  the memory counts (:func:`blocks.stack_alternate_matmul_bytes`); the FLOPs of those
  recomputed matmuls (k, o and up of a Llama layer, about a third of its matmul FLOPs) are
  not added to the time, which counts op-level recompute as element-wise only.
- ``full``: each checkpointed layer keeps only its input and runs its forward again in the
  backward (Chen et al. 2016, "Training Deep Nets with Sublinear Memory Cost"). With
  ``checkpoint_every_layers`` n > 1, one layer in n is checkpointed and the others keep all
  their activations (torchtitan ``selective_ac_option: "n"``; Megatron-LM
  ``--recompute-method uniform/block`` with ``--recompute-num-layers``).

Every function is pure and broadcasts over numpy arrays.
"""

from __future__ import annotations

from ftcost_helpers.engine.quantities import Number

BF16 = 2.0
"""Bytes of one bf16 value: a checkpointed layer's input is kept in bf16."""

POLICIES = ("none", "selective", "op_selective", "full")
"""The values ``training.activation_checkpointing`` takes."""


def checkpointed_share(policy: str, every_layers: int = 1) -> float:
    """Share of the layers that keep only their input and recompute their whole forward:
    1/n under ``full`` (n = ``checkpoint_every_layers``), else 0."""
    return 1.0 / every_layers if policy == "full" else 0.0


def matmul_recompute_share(policy: str, every_layers: int = 1) -> float:
    """Share of one forward pass's weight matmuls run again in the backward: the
    checkpointed layers' under ``full``; none under ``selective`` and ``op_selective``
    (their matmul outputs are kept)."""
    return checkpointed_share(policy, every_layers)


def attention_recompute_share(policy: str, every_layers: int = 1) -> float:
    """Share of one forward's attention-core FLOPs run again: all of it under ``selective``
    (Korthikanti §5), the checkpointed layers' under ``full``, none under ``op_selective``
    (the attention kernel's output is saved)."""
    if policy == "selective":
        return 1.0
    return checkpointed_share(policy, every_layers)


def elementwise_recompute_share(policy: str, every_layers: int = 1) -> float:
    """Share of one forward's element-wise ops (norms, activation, rotary embedding, residual
    adds) run again: all under ``op_selective``, the checkpointed layers' under ``full``."""
    if policy == "op_selective":
        return 1.0
    return checkpointed_share(policy, every_layers)


def kept_bytes_per_token(
    stack_bytes: Number,
    score_bytes_per_layer: Number,
    layers: float,
    hidden_size: int,
    inner_mlp_bytes: Number,
    policy: str,
    every_layers: int = 1,
    alternate_matmul_bytes: Number = 0.0,
) -> Number:
    """Bytes per token the stack holds at the end of the forward pass (bf16).

    ``stack_bytes``: every layer's activations without recomputation and without attention
    scores, summed (:func:`blocks.stack_activation_bytes`); ``score_bytes_per_layer``: the
    scores a kernel without memory-efficient attention keeps (5·a·s, Korthikanti eq. 2);
    ``layers``: the layers a token passes; ``inner_mlp_bytes``: the MLPs' inner activations
    summed (:func:`blocks.stack_inner_mlp_bytes`).

    - ``none``: stack + L·scores (Korthikanti's s·b·h·L·(34 + 5·a·s/h) for GPT's block).
    - ``selective``: the stack alone (the scores are recomputed).
    - ``op_selective``: per layer, the input 2h and the matmul and attention outputs are
      kept; the attention norm's output and the MLP norm's output (2h + 2h) are not, the
      attention output's projection (2h) is: 2h less per layer; in the MLP, of gate, up,
      activation and product (gated, 8i) only gate and up, of up and activation (dense, 4i)
      only up: half the inner bytes; and of the matmul outputs, every second one of each
      layer is recomputed, ``alternate_matmul_bytes`` over the stack
      (:func:`blocks.stack_alternate_matmul_bytes`): stack − L·2h − inner/2 − alternate
      (+ L·scores: a kernel that materialises the scores does so with batched matmuls,
      whose outputs are kept).
    - ``full``, one layer in n: the checkpointed layers keep their input, 2h each
      (Korthikanti's 2·s·b·h per layer), the others everything, plus one layer's full
      activations while it is recomputed: (L/n)·2h + (1 − 1/n)·(stack + L·scores) +
      (stack + L·scores)/L."""
    everything = stack_bytes + layers * score_bytes_per_layer
    if policy == "selective":
        return stack_bytes
    if policy == "op_selective":
        return everything - layers * BF16 * hidden_size - inner_mlp_bytes / 2.0 - alternate_matmul_bytes
    share = checkpointed_share(policy, every_layers)
    if share == 0.0:
        return everything
    one_layer = everything / layers
    return share * layers * BF16 * hidden_size + (1.0 - share) * everything + one_layer
