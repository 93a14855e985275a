"""The ``training`` block of a client file: method, precision, parallelism, adapters,
preference optimisation and RL, managed fine-tuning and ownership.

Re-exported by :mod:`ftcost_helpers.engine.schema`, where client code imports them from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    model_validator,
)

from ftcost_helpers.engine.ceilings import (  # each key's own ceiling: see that module
    MAX_GENERATION_TOKENS,
    MAX_KWH_PRICE,
    MAX_PRICE_PER_1M_TOKENS,
)
from ftcost_helpers.engine.quantities import (
    CalendarDate,
    FiniteAmount,
    Fraction,
    Name,
    PositiveCount,
    PositiveFraction,
    PositiveQuantity,
    Quantity,
    at_most,
    base_value,
)
from ftcost_helpers.engine.schema_base import (
    Checkpointing,
    CrossEntropy,
    Flag,
    FsdpVersion,
    GradientSync,
    HostOptimizer,
    Method,
    Offload,
    OffloadDevice,
    Optimizer,
    OptimizerImplementation,
    Precision,
    QuantisedBase,
    Section,
    Sharding,
    TargetModules,
)


class Lora(Section):
    """The adapter: its rank and which linear layers get one (the trainable count follows
    from the architecture)."""

    rank: PositiveCount
    target_modules: TargetModules


class Interconnect(Section):
    """The links between the GPUs of a run, when they are not the GPU's usual ones
    (``params/gpus.yaml``): GB/s per GPU and direction inside a node and between nodes."""

    intra_node_gbps: Annotated[FiniteAmount, Field(gt=0)] | None = None
    inter_node_gbps: Annotated[FiniteAmount, Field(gt=0)] | None = None


class HostSpec(Section):
    """The node's host as an offloaded optimizer step uses it, when it is not the price
    book's (``training_physics.host_*``): each key alone wins over the book's."""

    cpu_cores: Annotated[FiniteAmount, Field(gt=0)] | None = None
    core_gflops: Annotated[FiniteAmount, Field(gt=0)] | None = None
    memory_bandwidth_gbps: Annotated[FiniteAmount, Field(gt=0)] | None = None
    nvme_gbps: Annotated[FiniteAmount, Field(gt=0)] | None = None
    optimizer: HostOptimizer = "deepspeed_cpu_adam"
    """The optimizer the host runs: DeepSpeed's vectorised CPU-Adam (ZeRO-Offload) or
    PyTorch's own on CPU tensors (FSDP ``CPUOffload``)."""


LEGACY_TRAINING_KEYS: dict[str, tuple[str, dict[bool, str]]] = {
    "sharded": ("sharding", {True: "full", False: "none"}),
    "gradient_checkpointing": ("activation_checkpointing", {True: "full", False: "none"}),
}
"""Old boolean keys and the key that replaced them: an old file keeps working."""


def legacy_key_notices(training: Any) -> list[tuple[str, str]]:
    """``(key, note)`` for each old key of a ``training`` mapping and the value it is read as."""
    if not isinstance(training, Mapping):
        return []
    return [
        (f"training.{old}", f"an older name, read as {new}: {mapping[value]} (write that instead)")
        for old, (new, mapping) in LEGACY_TRAINING_KEYS.items()
        if isinstance(training.get(old), bool) and new not in training
        for value in (training[old],)
    ]


def legacy_key_clashes(training: Any) -> list[tuple[str, str]]:
    """``(key, problem)`` for each old key given beside the key that replaced it in one
    ``training`` mapping as a file (or a scenario) wrote it, before defaults are merged under
    it: which of the two was meant cannot be told, so neither is taken."""
    if not isinstance(training, Mapping):
        return []
    return [
        (f"training.{old}", f"given together with training.{new}; keep {new} alone ({old} is its older name)")
        for old, (new, _) in LEGACY_TRAINING_KEYS.items()
        if old in training and new in training
    ]


# --- preference optimisation and RL (issue 24: priced from their work) -------------------

PreferenceLoss = Literal["dpo", "orpo", "simpo", "kto"]
PreferenceReference = Literal["model", "precomputed"]
RlAlgorithm = Literal["grpo", "ppo", "rloo"]
RlReward = Literal["verifier", "model_grader", "reward_model"]
RlReference = Literal["model", "none"]
Adapter = Literal["none", "lora", "qlora"]


class Dpo(Section):
    """The preference-optimisation family (``training.method: dpo``): which loss, and how the
    frozen reference's log-probabilities are had (read only when the method is ``dpo``).
    ORPO and SimPO have no reference, so ``reference`` does not apply to them."""

    loss: PreferenceLoss = "dpo"
    reference: PreferenceReference = "model"
    adapter: Adapter = "none"
    """``none``: every weight of the policy trains; ``lora``/``qlora``: adapters on a frozen
    (4-bit) base, the reference being that base with the adapters switched off (no copy)."""


class RlGrader(Section):
    """A model grader's tokens per graded sample and its price: a model genai-prices knows
    (``provider`` when ambiguous), priced at the plan's start date, unless prices are given."""

    model: str | None = None
    provider: str | None = None
    input_tokens_per_sample: Quantity = 0.0
    output_tokens_per_sample: Quantity = 0.0
    input_price_usd_per_1m_tokens: Quantity | None = None
    output_price_usd_per_1m_tokens: Quantity | None = None


class Rl(Section):
    """Reinforcement learning (``training.method: rl``): rollouts generated by the policy,
    scored by a reward, then trained on (read only when the method is ``rl``)."""

    algorithm: RlAlgorithm
    prompts: PositiveQuantity
    group_size: PositiveCount
    prompt_tokens: Quantity
    generation_tokens: Annotated[PositiveQuantity, at_most(MAX_GENERATION_TOKENS, "a whole count's ceiling")]
    prompts_per_step: PositiveCount
    reward: RlReward
    max_generation_tokens: PositiveCount | None = None
    reference: RlReference = "model"
    colocated_inference: Flag = True
    inference_gpus: PositiveCount | None = None
    inference_tensor_parallel: PositiveCount = 1
    updates_per_batch: PositiveCount = 1
    verifier_seconds_per_sample: Quantity = 0.0
    verifier_workers: PositiveCount = 1
    grader: RlGrader | None = None
    adapter: Adapter = "none"

    @model_validator(mode="after")
    def _consistent(self) -> Rl:
        """A separate engine needs its GPUs; a model grader needs a model or its prices."""
        if not self.colocated_inference and self.inference_gpus is None:
            raise ValueError("colocated_inference: false needs inference_gpus (the separate engine's GPUs)")
        if self.reward == "model_grader":
            g = self.grader
            priced = g is not None and (
                g.model is not None
                or (g.input_price_usd_per_1m_tokens is not None and g.output_price_usd_per_1m_tokens is not None)
            )
            if not priced:
                raise ValueError("reward: model_grader needs grader.model (or grader's input and output prices)")
        if self.max_generation_tokens is not None and self.max_generation_tokens < base_value(self.generation_tokens):
            raise ValueError(
                f"max_generation_tokens ({self.max_generation_tokens}) is less than generation_tokens "
                f"({base_value(self.generation_tokens):g}), the mean"
            )
        return self


# --- managed fine-tuning (issue 24) -------------------------------------------------------

Provider = Literal["self_hosted", "managed"]
"""Who runs the training: the team on GPUs it books (``self_hosted``), or a managed service
that bills tokens (``managed``, :mod:`~ftcost_helpers.engine.model.managed`)."""


class ManagedTraining(Section):
    """A managed fine-tuning service (``training.provider: managed``): a service of the price
    book's ``managed_services``, its price for the model's size and kind of job unless the
    client was quoted its own, and the validation tokens each job evaluates."""

    service: Name
    price_usd_per_1m_tokens: Annotated[Quantity, at_most(MAX_PRICE_PER_1M_TOKENS, "one a token")] | None = None
    evaluation_tokens_million_per_run: Quantity = 0.0
    end_of_life: CalendarDate | None = None
    """The day the service stops (or retires the base model it tunes), as its vendor gave
    notice (None: the price book's, if it states one)."""


class Ownership(Section):
    """Owned hardware for the training GPU (issue 24, money): what buying the GPUs would
    cost against renting them (:mod:`ftcost_helpers.engine.model.ownership`). A key left out
    takes the price book's ``ownership_defaults`` (by GPU where it depends on the GPU)."""

    gpus: PositiveCount | None = None
    """GPUs bought (default: ``training.gpus_per_run``)."""
    purchase_usd_per_gpu: Quantity | None = None
    years: PositiveQuantity | None = None
    """Straight-line depreciation life."""
    power_kw_per_gpu: Quantity | None = None
    pue: PositiveQuantity | None = None
    kwh_price_usd: Annotated[Quantity, at_most(MAX_KWH_PRICE, "a generous price for a kWh")] | None = None
    colocation_usd_per_month: Quantity | None = None
    resale_fraction: Fraction | None = None
    costed: Flag = False
    """Cost the plan on the GPUs bought (a scenario "buy the GPUs"): its compute lines become
    energy × GPU-hours, plus depreciation over the horizon and colocation."""


class Training(Section):
    """The training plan: booked GPU time, rerun tax, and what physics needs."""

    provider: Provider = "self_hosted"
    managed: ManagedTraining | None = None
    method: Method
    gpu: str
    tier: str
    gpus_per_run: PositiveCount
    hours_per_run: Quantity
    runs: Quantity
    rate_usd_per_gpu_hour: Quantity | None = None
    ownership: Ownership | None = None
    """Buy instead of rent: the buy-vs-rent comparison (issue 24)."""
    failed_runs: Quantity = 0.0
    failed_run_completed_fraction: Fraction = 0.0
    sweep_trials: Quantity = 0.0
    sweep_early_stopping: Flag = True
    early_stopped_trial_fraction: Fraction = 1.0
    tokens_per_pair: Quantity
    epochs: Quantity
    sequence_length: PositiveCount
    micro_batch_size: PositiveCount
    gradient_accumulation_steps: PositiveCount = 1
    precision: Precision
    optimizer: Optimizer
    offload: Offload = "none"
    offload_device: OffloadDevice = "cpu"
    """Where offloaded states live: host memory, or NVMe drives (ZeRO-Infinity)."""
    host: HostSpec = HostSpec()
    sharding: Sharding
    tensor_parallel: PositiveCount = 1
    pipeline_parallel: PositiveCount = 1
    context_parallel: PositiveCount = 1
    activation_checkpointing: Checkpointing
    memory_efficient_attention: Flag
    lora: Lora
    trainable_fraction: Fraction | None = None
    quantised_base: QuantisedBase = "nf4"
    padding_efficiency: PositiveFraction = 1.0
    compiled: Flag = False
    utilisation: PositiveFraction | None = None
    memory_headroom_fraction: Fraction = 0.0
    tokenizer_change: Flag = False
    checkpoint_every_layers: PositiveCount = 1
    packing: Flag = True
    mean_sequence_length: PositiveCount | None = None
    gpus_per_node: PositiveCount | None = None
    interconnect: Interconnect | None = None
    expert_parallel: PositiveCount = 1
    """GPUs the experts of a mixture-of-experts model are split over (EP ranks, drawn from the
    data-parallel ranks): each holds 1/ep of the experts."""
    optimizer_implementation: OptimizerImplementation = "foreach"
    """PyTorch AdamW's implementation, which sets the step's temporaries (foreach: one buffer
    of the moments' size; fused, for_loop: none)."""
    fsdp_version: FsdpVersion = 2
    cross_entropy: CrossEntropy = "eager_fp32"
    """How the loss is computed over the vocabulary, which sets the logits' memory
    (``memory.LOGIT_BYTES``): ``eager_fp32`` (PyTorch's ``cross_entropy`` on fp32 logits:
    Hugging Face models, under autocast too, torchtitan), ``eager_fp32_held`` (the same with
    the model's fp32 logits kept through the backward by the training loop), ``eager_half`` (on fp16/bf16 logits
    without autocast: a DeepSpeed fp16/bf16 engine) or ``fused`` (a fused kernel: flash-attn's,
    llm-foundry's default)."""
    """FSDP1 (``FullyShardedDataParallel``) or FSDP2 (``fully_shard``): FSDP1 holds one more
    gathered unit (its all-gather buffers are freed through ``recordStream``)."""
    nf4_double_quant: Flag = True
    """NF4 with double quantisation of its block constants (QLoRA's recipe), 0.516 bytes per
    weight, or without, 0.5625."""
    gradient_sync: GradientSync = "micro_batch"
    """When sharded gradients are reduced across the data-parallel GPUs: after every
    micro-batch (each GPU keeps its shard), or once per optimizer step, the micro-batches
    before it accumulating unsharded gradients on every GPU (FSDP1 ``no_sync()``, Lightning
    Fabric's ``no_backward_sync``, FSDP2 ``set_requires_gradient_sync(False)``), reduce-scattered
    once."""
    fsdp_mixed_units: Flag = False
    """FSDP1 units whose flat parameter holds frozen weights beside trained ones
    (``use_orig_params=True`` with units wrapped by block, as Lightning Fabric and LitGPT
    do): gradients for every weight of those units, as if nothing were frozen, with their
    weight-gradient matmuls and their reduce-scatter."""
    fp8_weights: Flag = False
    """The frozen base's linear weights held in FP8 only, 1 byte each (Transformer Engine's
    ``fp8_model_init``, NeMo's ``fp8_params``), not the bf16 weights and their FP8 cast of
    ``precision: fp8``; the embeddings and head stay bf16. Needs ``precision: fp8`` and a
    LoRA base (frozen weights)."""
    fp8_activations: Flag = False
    """The MLP activation function's input saved for the backward in FP8, 1 byte per value
    instead of bf16's 2 (Megatron-Core ``activation_func_fp8_input_store``, NeMo's
    ``fp8_activation_input_store``). Needs ``precision: fp8``."""
    frozen_mlp_unsaved: Flag = False
    """A LoRA plan whose MLPs are frozen (``lora.target_modules: attention``) run by
    Transformer Engine's linears and Megatron-Core's fused SwiGLU: the MLP keeps for the
    backward only its norm's input and the activation's input; its norm output and the
    down-projection's input (inputs of frozen weights, saved by a Transformer Engine Linear
    only ``if weight.requires_grad``) and the activation's output (the fused kernel keeps
    only its input) are not kept."""
    dpo: Dpo = Dpo()
    """The preference loss and its reference (method ``dpo``)."""
    rl: Rl | None = None
    """Rollouts, reward and grader (method ``rl``; required for it)."""

    @model_validator(mode="after")
    def _managed_names_its_service(self) -> Training:
        """A managed plan names its service (``training.managed.service``)."""
        if self.provider == "managed" and self.managed is None:
            raise ValueError("provider 'managed' needs training.managed with its service (e.g. {service: fireworks})")
        return self

    @model_validator(mode="after")
    def _mean_within_maximum(self) -> Training:
        """The mean sequence is no longer than the longest (``sequence_length``)."""
        mean = self.mean_sequence_length
        if mean is not None and mean > self.sequence_length:
            raise ValueError(
                f"mean_sequence_length ({mean}) is more than sequence_length ({self.sequence_length}), the longest"
            )
        return self

    @model_validator(mode="after")
    def _mixed_units_are_fsdp1(self) -> Training:
        """Frozen and trained weights share a flat parameter only in FSDP1 with sharded
        gradients, and only when the base is not quantised (a flat parameter holds one dtype)."""
        if not self.fsdp_mixed_units:
            return self
        if self.fsdp_version != 1 or self.sharding not in {"gradients", "full"}:
            raise ValueError(
                f"fsdp_mixed_units needs fsdp_version: 1 and sharding: gradients or full, got fsdp_version: "
                f"{self.fsdp_version}, sharding: {self.sharding}"
            )
        adapter = {"dpo": self.dpo.adapter, "rl": self.rl.adapter if self.rl else "none"}.get(self.method, self.method)
        if adapter == "qlora":
            raise ValueError("fsdp_mixed_units needs an unquantised base: FSDP1 flattens one dtype per unit")
        return self

    @model_validator(mode="after")
    def _fp8_storage_needs_fp8(self) -> Training:
        """FP8-only weights and FP8-stored activations exist only under FP8 training; FP8-only
        weights only for a frozen, unquantised base (LoRA): a trained weight keeps its
        higher-precision copy for the update."""
        for key in ("fp8_weights", "fp8_activations"):
            if getattr(self, key) and self.precision != "fp8":
                raise ValueError(f"{key} needs precision: fp8, got precision: {self.precision}")
        adapter = {"dpo": self.dpo.adapter, "rl": self.rl.adapter if self.rl else "none"}.get(self.method, self.method)
        if self.fp8_weights and adapter != "lora":
            raise ValueError(f"fp8_weights needs a frozen LoRA base (method lora), got {adapter}")
        return self

    @model_validator(mode="after")
    def _frozen_mlp_is_lora_on_attention(self) -> Training:
        """Only a LoRA plan with adapters on the attention alone has frozen MLPs; op-level
        checkpointing already drops the same tensors (:mod:`checkpointing`)."""
        if not self.frozen_mlp_unsaved:
            return self
        adapter = {"dpo": self.dpo.adapter, "rl": self.rl.adapter if self.rl else "none"}.get(self.method, self.method)
        if adapter != "lora" or self.lora.target_modules != "attention":
            raise ValueError(
                "frozen_mlp_unsaved needs LoRA on the attention alone (method lora, target_modules: attention)"
            )
        if self.activation_checkpointing == "op_selective":
            raise ValueError("frozen_mlp_unsaved does not combine with activation_checkpointing: op_selective")
        return self

    @model_validator(mode="after")
    def _every_layers_with_full(self) -> Training:
        """One layer in n is checkpointed only under ``activation_checkpointing: full``."""
        if self.checkpoint_every_layers > 1 and self.activation_checkpointing != "full":
            raise ValueError(
                f"checkpoint_every_layers ({self.checkpoint_every_layers}) needs activation_checkpointing: full, "
                f"got {self.activation_checkpointing}"
            )
        return self

    @model_validator(mode="before")
    @classmethod
    def _migrate_legacy_keys(cls, data: Any) -> Any:
        """``sharded: true/false`` and ``gradient_checkpointing: true/false`` still work:
        they become ``sharding: full/none`` and ``activation_checkpointing: full/none``."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for old, (new, mapping) in LEGACY_TRAINING_KEYS.items():
            if old not in data:
                continue
            value = data.pop(old)
            if not isinstance(value, bool):
                choices = " or ".join(f"{new}: {choice}" for choice in mapping.values())
                raise ValueError(f"{old} is replaced by {new}; write {choices}")
            data[new] = mapping[value]
        return data

    @model_validator(mode="after")
    def _rl_described(self) -> Training:
        """RL is priced from its rollouts: ``method: rl`` needs the ``rl`` block."""
        if self.method == "rl" and self.rl is None:
            raise ValueError(
                "method: rl needs training.rl (algorithm, prompts, group_size, prompt_tokens, "
                "generation_tokens, prompts_per_step, reward)"
            )
        return self

    @property
    def model_parallel(self) -> int:
        """GPUs that hold one replica: tensor × pipeline × context parallel degrees."""
        return self.tensor_parallel * self.pipeline_parallel * self.context_parallel
