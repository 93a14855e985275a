"""Memory per GPU as a breakdown: weights, gradients, optimizer states, activations, logits,
framework overhead, and the peak over the forward/backward and optimizer-step phases.

Every function is pure and broadcasts over numpy arrays. Byte counts per parameter follow
the ZeRO paper's accounting (Rajbhandari et al. 2020, §3.1: mixed-precision Adam keeps
2 + 2 + 12 = 16 bytes per parameter: bf16 weights, bf16 gradients, fp32 master weights and
two fp32 moments) and the optimizers' own papers and implementations, cited per table.
Activation bytes per token follow Korthikanti et al. 2022 ("Reducing Activation
Recomputation in Large Transformer Models", §4), redone for today's blocks (RMSNorm, no
dropout, grouped-query attention, a gated MLP of width i, FlashAttention).
"""

from __future__ import annotations

import numpy as np

from ftcost_helpers.engine.model import checkpointing as recompute
from ftcost_helpers.engine.quantities import Number

BYTES_PER_GB = 1e9
BF16 = 2.0
FP32 = 4.0

WEIGHT_BYTES = {"bf16_mixed": BF16, "bf16": BF16, "fp8": BF16 + 1.0, "fp32": FP32}
"""Bytes per parameter of the weights the forward pass reads. ``fp8``: bf16 weights (the
master copy, as the issue defines it) plus their cached FP8 copy, 1 byte (NVIDIA Transformer
Engine keeps the FP8 cast of each weight between micro-batches)."""

FP8_WEIGHT_BYTES = 1.0
"""Bytes per weight of a frozen base held in FP8 only (``training.fp8_weights``): Transformer
Engine's ``fp8_model_init`` makes its modules "hold only FP8 copies of its parameters, as
opposed to the default behavior where both higher precision and FP8 copies are present",
named useful for "LoRA-like fine-tuning, where the main parameters of the model do not
change" (NVIDIA/TransformerEngine, ``transformer_engine/pytorch/fp8.py``, ``fp8_model_init``
docstring); NeMo's ``fp8_params: True`` turns it on (the MLPerf Training Llama 2 70B LoRA
configs, ``conf/megatron_gpt_peft_tuning_config.yaml``: ``fp8_params:
${oc.decode:${oc.env:FP8,False}}``). One scale per tensor (4 bytes per matrix) is left out.
Only Transformer Engine's modules (the blocks' linear layers) are made so: the embeddings
and the output head (Megatron's own layers) stay bf16, as :func:`frozen_bytes` counts a
quantised base."""

GRADIENT_BYTES = {"bf16_mixed": BF16, "bf16": BF16, "fp8": BF16, "fp32": FP32}
"""Bytes per trained parameter of its gradient (bf16 unless everything is fp32)."""

MASTER_BYTES = {"bf16_mixed": FP32, "bf16": 0.0, "fp8": 0.0, "fp32": 0.0}
"""An fp32 master copy exists only in mixed precision (ZeRO §3.1); pure bf16 and fp8 (bf16
master) update the weights themselves, fp32 weights are their own master."""

STATE_PRECISION_BYTES = {"bf16_mixed": FP32, "bf16": BF16, "fp8": FP32, "fp32": FP32}
"""Bytes of one optimizer moment: fp32, except in pure bf16 where PyTorch keeps states in
the parameters' dtype."""

MOMENTS = {
    "adamw": 2.0,
    "adamw_8bit": 2.0,
    "paged_adamw_8bit": 2.0,
    "paged_adamw_32bit": 2.0,
    "adafactor": 0.0,
    "sgd": 1.0,
}
"""Moments kept per trained parameter: Adam m and v (Loshchilov & Hutter 2019); 8-bit Adam
the same two, quantised; Adafactor factors v into row and column sums (Shazeer & Stern
2018; no first moment by default), O(rows + cols), taken as 0 per parameter; SGD with
momentum one buffer."""

QUANTISED_MOMENT_BYTES = {"adamw_8bit": 1.0, "paged_adamw_8bit": 1.0, "paged_adamw_32bit": FP32}
"""Bytes per moment of bitsandbytes' optimizers, whatever the weights' precision: 8-bit ones
store each moment in 1 byte, block-wise quantised (Dettmers et al. 2022, "8-bit Optimizers
via Block-wise Quantization"; constants per 2,048-value block neglected); the 32-bit paged
AdamW in fp32, 4 bytes. Their update is one fused kernel per parameter (no step buffer)."""

PAGED_OPTIMIZERS = frozenset({"paged_adamw_8bit", "paged_adamw_32bit"})
"""Optimizers whose states live in CUDA unified memory and page to the host under pressure."""


def optimizer_bytes_per_param(precision: str, optimizer: str) -> float:
    """Optimizer states per trained parameter: master copy + moments × bytes per moment.
    bf16_mixed AdamW: 4 + 2 × 4 = 12 (ZeRO §3.1); pure-bf16 AdamW: 0 + 2 × 2 = 4;
    8-bit AdamW in mixed precision: 4 + 2 × 1 = 6."""
    moment = QUANTISED_MOMENT_BYTES.get(optimizer, STATE_PRECISION_BYTES[precision])
    return MASTER_BYTES[precision] + MOMENTS[optimizer] * moment


def state_shards(gpus: Number, tensor_parallel: int, pipeline_parallel: int) -> Number:
    """Ranks that ZeRO/FSDP split one model-parallel slice's weights, gradients and optimizer
    states over: GPUs ÷ (tensor × pipeline), the data-parallel replicas × the context-parallel
    degree. Context-parallel ranks hold the same weights (only the sequence is split), so the
    frameworks shard the states across them too: torchtitan applies FSDP on ``dp_shard_cp``,
    the data-shard and context axes of its device mesh flattened (torchtitan
    ``parallel_dims.py``; Liang et al. 2024, "TorchTitan", §2.1), and Megatron-Core reduces
    gradients and shards its distributed optimizer over the data-parallel group with context
    parallel (``parallel_state.get_data_parallel_group(with_context_parallel=True)``;
    Megatron-Core docs, "context parallel": "the gradients are all-reduced across DP×CP").
    Without context parallelism this is the data-parallel degree."""
    return gpus / (tensor_parallel * pipeline_parallel)


def sharded(value: Number, degree: Number, applies: bool) -> Number:
    """A state split evenly over ``degree`` GPUs when its sharding applies (ZeRO stage 1
    splits optimizer states, 2 adds gradients, 3/FSDP adds weights)."""
    return value / degree if applies else value


def frozen_bytes(
    frozen_parameters: Number, embedding_parameters: Number, weight_bytes: float, quantised_bytes: float | None
) -> Number:
    """Bytes of the frozen copies. A quantised base (QLoRA's NF4, GPTQ Int4) quantises the
    blocks' linear layers only; the embedding and the output head stay at the compute
    precision (bitsandbytes and GPTQ skip them): N_q·b_q + N_emb·b_w."""
    if quantised_bytes is None:
        return frozen_parameters * weight_bytes
    return (frozen_parameters - embedding_parameters) * quantised_bytes + embedding_parameters * weight_bytes


def weights_gb(
    trained_parameters: Number,
    frozen_bytes_total: Number,
    weight_bytes: float,
    model_parallel: int,
    data_parallel: Number,
    shard_weights: bool,
    offloaded: bool,
) -> Number:
    """GB of weights on one GPU: (N_trained·b_w + frozen bytes) ÷ (tensor × pipeline
    degree) ÷ data-parallel degree under ZeRO-3/FSDP; 0 when offloaded to the host (the
    gathered working layer is counted separately, :func:`gathered_layer_gb`)."""
    if offloaded:
        return 0.0 * trained_parameters
    total = trained_parameters * weight_bytes + frozen_bytes_total
    return sharded(total / model_parallel, data_parallel, shard_weights) / BYTES_PER_GB


def gradients_gb(
    trained_parameters: Number, gradient_bytes: float, model_parallel: int, data_parallel: Number, shard: bool
) -> Number:
    """GB of gradients on one GPU: N_trained·b_g ÷ (tensor × pipeline) (÷ data parallel
    from ZeRO-2 on)."""
    return sharded(trained_parameters * gradient_bytes / model_parallel, data_parallel, shard) / BYTES_PER_GB


def optimizer_states_gb(
    trained_parameters: Number,
    bytes_per_param: float,
    model_parallel: int,
    data_parallel: Number,
    shard: bool,
    offloaded: bool,
) -> Number:
    """GB of optimizer states on one GPU: N_trained·b_opt ÷ (tensor × pipeline) (÷ data
    parallel from ZeRO-1 on); 0 when offloaded to the host (ZeRO-Offload, Ren et al. 2021)."""
    if offloaded:
        return 0.0 * trained_parameters
    return sharded(trained_parameters * bytes_per_param / model_parallel, data_parallel, shard) / BYTES_PER_GB


def activation_bytes_per_token_layer(
    hidden_size: int,
    kv_width: float,
    intermediate_size: Number,
    experts_per_token: int,
    attention_heads: int,
    sequence_length: int,
    memory_efficient_attention: bool,
    query_width: float | None = None,
) -> Number:
    """Bytes one layer keeps per token for the backward pass, bf16, no recomputation.

    Attention: the norm's input and output 2h + 2h, q 2·(a·d), k and v 2·2·h_kv, the
    attention output (o-projection input) 2·(a·d), FlashAttention's fp32 log-sum-exp 4·a:
    4h + 4·(a·d) + 4h_kv + 4a, which is 8h + 4h_kv + 4a when d = h / a (``query_width``
    a·d, default h). Without a memory-efficient kernel the scores are kept too, 5·a·s
    (Korthikanti et al. 2022, eq. 2: softmax output 2·a·s, its dropout mask a·s, the
    attention-over-values input 2·a·s). Gated MLP, per routed expert: the norm's input and
    output 4h, gate and up outputs 2i + 2i, the SiLU output 2i and the product (down-projection
    input) 2i: 4h + 8i·k. Korthikanti's 34·h (GELU MLP of 4h, dropout) is the same count for
    the older block."""
    q = hidden_size if query_width is None else query_width
    attention = 4.0 * hidden_size + 4.0 * q + 4.0 * kv_width + 4.0 * attention_heads
    if not memory_efficient_attention:
        attention = attention + 5.0 * attention_heads * sequence_length
    mlp = 4.0 * hidden_size + 8.0 * intermediate_size * experts_per_token
    return attention + mlp


def fp8_activation_input_saving(inner_mlp_bytes: Number, applies: bool) -> Number:
    """Bytes per token the MLPs' activation-function inputs no longer hold when they are
    saved in FP8 (``training.fp8_activations``): Megatron-Core's
    ``activation_func_fp8_input_store`` "Store[s] the input of MLP activation function in FP8
    for backprop to save memory. The stored input is casted back to the original precision
    before backprop computation" (NVIDIA/Megatron-LM,
    ``megatron/core/transformer/transformer_config.py``; used by ``bias_swiglu_impl`` in
    ``megatron/core/transformer/mlp.py``). The activation's input is half the MLP's inner
    bytes (:data:`blocks.MLP_INNER_ACTIVATION_BYTES`: gated, gate and up 4i of 8i; dense, the
    up output 2i of 4i), and FP8 halves it again: inner ÷ 4 (2i per token and layer of a
    gated MLP of width i). Nothing else is stored in FP8 by this switch: the norms' inputs,
    q, k, v and the matmul inputs stay bf16. Assumption: NeMo 1's ``fp8_activation_input_store``
    (AMD's and NVIDIA's MLPerf configs, set by ``FP8_ACTIVATION``) is passed on as this
    Megatron-Core switch (NeMo 2's configs name it directly: Dell's MLPerf v5.0
    ``nemo/train.py``, ``activation_func_fp8_input_store=cfg.model.activation_func_fp8_input_store``)."""
    return inner_mlp_bytes / 4.0 if applies else 0.0 * inner_mlp_bytes


def frozen_mlp_unsaved_bytes(inner_mlp_bytes: Number, layers: float, hidden_size: int, applies: bool) -> Number:
    """Bytes per token the stack does not keep when its MLPs are frozen and run by Transformer
    Engine's linears with Megatron-Core's fused activation (``training.frozen_mlp_unsaved``):

    - the inputs of the frozen up/gate and down projections, the MLP norm's output (2h a
      layer) and the activation's output (gated: the product, 2i; dense: 2i): a Transformer
      Engine ``Linear`` saves its input for the weight gradient only ``if
      weight.requires_grad`` (NVIDIA/TransformerEngine,
      ``transformer_engine/pytorch/module/linear.py``, ``_Linear.forward``: ``saved_inputmat =
      None`` unless the weight needs a gradient; its gradient with respect to the input needs
      the weight only);
    - the gated activation's SiLU output (2i): Megatron-Core's fused ``bias_swiglu_impl``
      (``megatron/core/fusions/fused_bias_swiglu.py``) saves only its input and recomputes
      the SiLU in the backward.

    Gated: SiLU output and product, 4i of the 8i inner bytes; dense: the activation's output,
    2i of 4i: half the inner bytes either way, plus 2h a layer: inner ÷ 2 + L·2h. What is left
    in each MLP is its norm's input (2h) and the activation's input (gated 4i, 2i in FP8
    under ``fp8_activations``)."""
    return inner_mlp_bytes / 2.0 + layers * 2.0 * hidden_size if applies else 0.0 * inner_mlp_bytes


def activations_gb(
    per_token_layer_bytes: Number,
    hidden_size: int,
    layers: int,
    tokens_per_micro_batch: Number,
    checkpointing: str,
    attention_score_bytes: Number,
    tensor_parallel: int,
    context_parallel: int,
) -> Number:
    """GB of activations one GPU holds at the end of the forward pass, for L identical
    layers of ``per_token_layer_bytes`` each (scores included): the bytes the policy keeps
    (:func:`checkpointing.kept_bytes_per_token`; ``op_selective`` is counted there with the
    MLP's inner bytes, which this per-layer total does not separate, so here as ``none`` less
    2h per layer) over the micro-batch (:func:`kept_activations_gb`)."""
    stack = layers * (per_token_layer_bytes - attention_score_bytes)
    kept = recompute.kept_bytes_per_token(stack, attention_score_bytes, layers, hidden_size, 0.0, checkpointing)
    return kept_activations_gb(kept, tokens_per_micro_batch, tensor_parallel, context_parallel)


def kept_activations_gb(
    bytes_per_token: Number, tokens_per_micro_batch: Number, tensor_parallel: int, context_parallel: int
) -> Number:
    """GB of activations one GPU holds: the bytes kept per token × the micro-batch's tokens ÷
    (tensor × context parallel). Tensor parallel with sequence parallelism splits them all by
    t (Korthikanti §4.2.2); context parallel splits the sequence by c. Pipeline parallel does
    not reduce them: with 1F1B the first stage holds p micro-batches of L/p layers
    (Korthikanti §4.2.3)."""
    return bytes_per_token * tokens_per_micro_batch / (tensor_parallel * context_parallel) / BYTES_PER_GB


LOGIT_BYTES = {
    "eager_fp32": FP32 + FP32 + FP32,
    "eager_fp32_held": FP32 + FP32 + FP32 + FP32,
    "eager_half": BF16 + BF16 + BF16,
    "fused": FP32,
}
"""Bytes per token and vocabulary entry the loss holds at its peak, by how it is computed.
``eager_fp32``: PyTorch's ``cross_entropy`` on logits cast to fp32 (Hugging Face's causal-LM
loss calls ``logits.float()``; torchtitan's ``cross_entropy_loss`` is
``F.cross_entropy(pred.flatten(0, 1).float(), ...)``) saves its fp32 log-softmax for the
backward, and the backward of that log-softmax (``_log_softmax_backward_data``) allocates the
gradient of its input beside the gradient of its output and the saved output: three fp32
tensors of s·b·V at once, 4 + 4 + 4 (under ``torch.autocast`` too: autocast runs
``log_softmax`` and ``cross_entropy`` in fp32). ``eager_fp32_held``: the same, and the
training loop keeps the model's output, whose logits Hugging Face's causal-LM models return
in fp32 (``logits = logits.float()``), until the backward is done (Answer.AI's fsdp_qlora
``train.py`` sets ``output = None`` only after ``loss.backward()``): 4 more. ``eager_half``: the same three tensors in
half precision when the model runs without autocast in fp16 or bf16 (a DeepSpeed fp16/bf16
engine casts the module and does not autocast), 2 + 2 + 2. ``fused``: a fused kernel (flash-attn's
``CrossEntropyLoss``, llm-foundry's default ``loss_fn: fused_crossentropy``) keeps the logits
and the per-row log-sum-exp and writes the gradient into a tensor of the logits' size, no
probabilities materialised: 4."""


def logits_gb(
    tokens_per_micro_batch: Number,
    vocab_size: int,
    tensor_parallel: int,
    context_parallel: int,
    bytes_per_entry: float = LOGIT_BYTES["eager_fp32"],
) -> Number:
    """GB of logits and loss state: s·b·V·(bytes per entry, :data:`LOGIT_BYTES`) ÷ (tensor ×
    context parallel); the output head is split over the vocabulary under tensor parallel
    (Megatron's vocab-parallel cross-entropy)."""
    return tokens_per_micro_batch * vocab_size * bytes_per_entry / (tensor_parallel * context_parallel) / BYTES_PER_GB


def gathered_layer_gb(
    parameters: Number, layers: int, weight_bytes: float, model_parallel: int, gathered: bool, units: float = 2.0
) -> Number:
    """GB of the full weights of the layers being computed when weights are sharded (FSDP/
    ZeRO-3) or offloaded: the current layer and the prefetched next one, 2·N/L·b_w ÷
    (tensor × pipeline) (PyTorch FSDP's default forward/backward prefetch of one unit);
    ``units`` of them (FSDP1 holds 3, :func:`allocator.gathered_units`)."""
    if not gathered:
        return 0.0 * parameters
    return units * parameters / layers * weight_bytes / model_parallel / BYTES_PER_GB


def dequantised_copies_gb(
    quantised_parameters: Number,
    layers: int,
    model_parallel: int,
    kept_for_backward: bool,
    checkpointing: str,
    every_layers: int = 1,
) -> Number:
    """GB of dequantised weights autograd keeps for the backward pass when the quantised
    base's library saves its fp16 copy as an ordinary matmul operand (AutoGPTQ in training,
    ``compute.DEQUANTISATION``'s ``in_backward`` false): 2 bytes per quantised weight of every
    layer without recomputation, of the one layer being recomputed under ``full``,
    ``selective`` or ``op_selective`` checkpointing (the copy is made by element-wise ops,
    which op-level checkpointing recomputes): N_q·2 or N_q/L·2, ÷ (tensor × pipeline). With
    ``full`` on one layer in n, the other layers keep theirs: (1 − 1/n)·N_q·2 + N_q/L·2. A
    library that dequantises again in the backward (bitsandbytes) keeps only one matrix at a
    time, left out."""
    if not kept_for_backward:
        return 0.0 * quantised_parameters
    if checkpointing == "none":
        held = quantised_parameters
    else:
        unchecked = 1.0 - recompute.checkpointed_share(checkpointing, every_layers) if checkpointing == "full" else 0.0
        held = unchecked * quantised_parameters + quantised_parameters / layers
    return held * BF16 / model_parallel / BYTES_PER_GB


def step_buffer_gb(
    trained_parameters: Number, state_bytes: float, model_parallel: int, data_parallel: Number, shard: bool, fused: bool
) -> Number:
    """GB of temporaries while the optimizer steps: PyTorch's multi-tensor (foreach) AdamW
    materialises √v for every parameter it updates, one buffer of the moments' size; fused
    8-bit kernels (bitsandbytes) and offloaded steps need none."""
    if fused:
        return 0.0 * trained_parameters
    return sharded(trained_parameters * state_bytes / model_parallel, data_parallel, shard) / BYTES_PER_GB


def peak_gb(
    weights: Number,
    gradients: Number,
    optimizer_states: Number,
    activations: Number,
    logits: Number,
    gathered_layer: Number,
    step_buffer: Number,
    overhead: Number,
    rollout: Number = 0.0,
) -> Number:
    """The peak over the phases. Forward/backward: weights, gradients (held across
    micro-batches while they accumulate), optimizer states, activations, logits and the
    gathered layer. Optimizer step: the states and the step's temporaries; activations are
    freed by then. RL's rollout (0 for other methods): the states and the inference engine's
    weights and KV cache, the engine sleeping through the update (verl's
    ``free_cache_engine``, TRL's ``vllm_enable_sleep_mode``). Plus the CUDA context and
    framework overhead in all."""
    states = weights + gradients + optimizer_states
    forward_backward = states + activations + logits + gathered_layer
    step = states + step_buffer
    return np.maximum(np.maximum(forward_backward, step), states + rollout)[()] + overhead


def fewest_data_parallel(fixed_gb: Number, shardable_gb: Number, usable_gb: Number, sharding: bool) -> Number:
    """The fewest data-parallel replicas d with fixed + shardable ÷ d ≤ usable (inf when
    the unsharded part alone does not fit, or when nothing shards and it does not fit)."""
    room = np.asarray(usable_gb - fixed_gb, dtype=float)
    shardable = np.asarray(shardable_gb, dtype=float)
    if sharding:
        safe = np.where(room > 0, room, 1.0)
        needed = np.where(room > 0, np.ceil(np.maximum(shardable / safe, 1.0) - 1e-9), np.inf)
    else:
        needed = np.where(shardable <= room, 1.0, np.inf)
    return np.maximum(needed, 1.0)[()]
