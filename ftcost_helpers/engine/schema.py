"""The typed schema of a client parameter file (``params/clients/*.yaml``).

Units live in key names (``_usd``, ``_hours``, ``_per_1m_tokens``...). Unknown keys are
rejected; every numeric input is a :data:`~ftcost_helpers.engine.quantities.Quantity` (one value
or a ``{low, high, mode}`` range). Defaults for facts live in ``params/defaults.yaml``; a
default written here is only ever "not used" (zero, off, absent).
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ftcost_helpers.engine.ceilings import (  # each key's own ceiling: see that module
    MAX_ENGINEER_WEEKS,
    MAX_GENERATION_TOKENS,
    MAX_HOURLY_RATE,
    MAX_HOURS_PER_MILLION_TOKENS,
    MAX_HOURS_PER_MONTH,
    MAX_HOURS_PER_WEEK,
    MAX_KWH_PRICE,
    MAX_MIGRATIONS_PER_YEAR,
    MAX_MINUTES_PER_PAIR,
    MAX_PRICE_PER_1M_TOKENS,
    MAX_RETRAIN_FRACTION,
    MAX_RETRAINS_PER_QUARTER,
    MAX_STAFF,
)
from ftcost_helpers.engine.quantities import (
    CalendarDate,
    Count,
    FiniteAmount,
    Fraction,
    Name,
    PositiveCount,
    PositiveFraction,
    PositiveQuantity,
    Quantity,
    Range,
    Share,
    Text,
    at_most,
    base_value,
    low_high,
)

Method = Literal["lora", "qlora", "full_sft", "dpo", "continued_pretraining", "rl"]
Precision = Literal["bf16_mixed", "bf16", "fp8", "fp32"]
Optimizer = Literal["adamw", "adamw_8bit", "paged_adamw_8bit", "paged_adamw_32bit", "adafactor", "sgd"]
OptimizerImplementation = Literal["foreach", "fused", "for_loop"]
FsdpVersion = Literal[1, 2]
GradientSync = Literal["micro_batch", "step"]
CrossEntropy = Literal["eager_fp32", "eager_fp32_held", "eager_half", "fused"]
Offload = Literal["none", "optimizer", "optimizer_and_parameters"]
OffloadDevice = Literal["cpu", "nvme"]
HostOptimizer = Literal["deepspeed_cpu_adam", "pytorch"]
Sharding = Literal["none", "optimizer", "gradients", "full"]
Checkpointing = Literal["none", "selective", "op_selective", "full"]
MlpKind = Literal["gated", "dense"]
TargetModules = Literal["attention", "all_linear"]
QuantisedBase = Literal["nf4", "gptq"]

SHARDING_WORDS: dict[str, str] = {
    "none": "not sharded",
    "optimizer": "optimizer states sharded (ZeRO-1)",
    "gradients": "optimizer states and gradients sharded (ZeRO-2)",
    "full": "sharded (FSDP/ZeRO-3)",
}
"""How each ``training.sharding`` choice reads in a sentence."""
AlternativeKind = Literal["api", "labour", "rag", "none"]
ProgrammeArea = Literal["compute", "dataset", "eval", "engineering", "compliance"]
SpendProfile = Literal["front_loaded", "even"]


MAX_DRAWS = 200_000
"""Monte Carlo draws at most: time and memory grow in proportion (1,000,000 draws took 23 s
and 3.2 GB per estimate), and the P10 and P90 have long settled by then."""

MAX_SCENARIOS = 100
"""Scenarios in one client file at most (each is a whole plan, validated and evaluated)."""

MAX_HORIZON = 120
"""Months of cost of ownership at most (ten years)."""

Flag = Annotated[bool, Strict()]
"""A yes/no key: ``true`` or ``false`` only (``1``, ``"yes"`` and ``"true"`` are refused:
numbers are not booleans, as booleans are not numbers)."""


class Section(BaseModel):
    """A block of a parameter file: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


RAW_COUNT_BILLION = 100_000.0
"""A ``parameters_billion`` above this (100 trillion parameters) was written as a raw count."""


class BaseModelSpec(Section):
    """The open-weights model being fine-tuned. Absent architecture keys are derived:
    ``kv_heads`` = ``attention_heads`` (no GQA), ``head_dim`` = ``hidden_size`` ÷
    ``attention_heads``, ``intermediate_size`` from the parameter count,
    ``active_parameters_billion`` = ``parameters_billion`` (a dense model)."""

    name: Name
    parameters_billion: Quantity
    layers: PositiveCount
    hidden_size: PositiveCount
    attention_heads: PositiveCount
    vocab_size: PositiveCount
    intermediate_size: PositiveCount | None = None
    kv_heads: PositiveCount | None = None
    head_dim: PositiveCount | None = None
    tied_embeddings: Flag = False
    active_parameters_billion: PositiveQuantity | None = None
    experts: PositiveCount | None = None
    experts_per_token: PositiveCount | None = None
    sliding_window: PositiveCount | None = None
    sliding_window_layers: Count | None = None
    end_of_life: CalendarDate | None = None
    mlp: MlpKind = "gated"
    parallel_attention: Flag = False
    biases: Flag = False
    encoder_layers: Count = 0
    shared_experts: Count = 0
    first_dense_layers: Count = 0
    dense_intermediate_size: PositiveCount | None = None
    kv_lora_rank: PositiveCount | None = None
    q_lora_rank: PositiveCount | None = None
    qk_rope_head_dim: Count = 0
    v_head_dim: PositiveCount | None = None

    @field_validator("first_dense_layers")
    @classmethod
    def _dense_layers_within_layers(cls, value: int, info: ValidationInfo) -> int:
        """The dense first layers of a mixture are some of its layers (DeepSeek-V3: 3 of 61)."""
        layers = info.data.get("layers")
        if layers is not None and value > layers:
            raise ValueError(f"{value} is more than layers ({layers})")
        return value

    @field_validator("parameters_billion")
    @classmethod
    def _in_billions(cls, value: float | Range) -> float | Range:
        top = value.high if isinstance(value, Range) else value
        if top > RAW_COUNT_BILLION:
            raise ValueError(
                f"{top:g} looks like a raw parameter count; give billions (e.g. {top / 1e9:g} for {top:,.0f})"
            )
        return value

    @field_validator("active_parameters_billion")
    @classmethod
    def _active_within_total(cls, value: float | Range | None, info: ValidationInfo) -> float | Range | None:
        """The parameters a token uses are a share of all of them: the most ``active`` may
        be (its high) must not exceed the least the total may be (its low), or some draws
        would use more parameters than the model has."""
        total = info.data.get("parameters_billion")
        if value is None or total is None:
            return value
        active, least = low_high(value)[1], low_high(total)[0]
        if active > least:
            highest = " at its highest" if isinstance(value, Range) else ""
            lowest = " at its lowest" if isinstance(total, Range) else ""
            raise ValueError(
                f"more than parameters_billion{lowest} ({least:g}): it is the share of them a token uses, "
                f"got {active:g}{highest}"
            )
        return value

    @field_validator("kv_heads")
    @classmethod
    def _kv_heads_divide_heads(cls, value: int | None, info: ValidationInfo) -> int | None:
        heads = info.data.get("attention_heads")
        if value is not None and heads is not None and heads % value:
            raise ValueError(f"{value} does not divide attention_heads ({heads}); each KV head serves a group")
        return value

    @field_validator("experts_per_token")
    @classmethod
    def _routed_within_experts(cls, value: int | None, info: ValidationInfo) -> int | None:
        experts = info.data.get("experts")
        if value is not None and experts is not None and value > experts:
            raise ValueError(f"{value} is more than experts ({experts})")
        return value


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


class Dataset(Section):
    """Building the training set: sourcing, redaction, labelling, synthesis, checks."""

    pairs: Quantity
    curation_usd: Quantity = 0.0
    sourcing_usd: Quantity = 0.0
    pii_redaction_usd: Quantity = 0.0
    annotation_hours: Quantity = 0.0
    annotation_minutes_per_pair: Annotated[Quantity, at_most(MAX_MINUTES_PER_PAIR, "a day a pair")] = 0.0
    annotation_rate_usd_per_hour: Annotated[Quantity, at_most(MAX_HOURLY_RATE, "an hourly rate")] = 0.0
    synthetic_tokens_million: Quantity = 0.0
    synthetic_price_usd_per_1m_tokens: Quantity = 0.0
    synthetic_verification_usd: Quantity = 0.0
    double_label_fraction: Fraction = 0.0
    adjudication_usd: Quantity = 0.0
    decontamination_usd: Quantity = 0.0


class Evaluation(Section):
    """The evaluation harness: set-up, judged runs during the programme, continuous eval."""

    setup_usd: Quantity = 0.0
    runs_during_programme: Quantity = 0.0
    judge_examples_per_run: Quantity = 0.0
    judges: Quantity = 0.0
    judge_price_usd_per_call: Quantity = 0.0
    continuous_usd_per_month: Quantity = 0.0
    harness: Flag
    frozen_test_set: Flag
    contamination_check: Flag


class Maintenance(Section):
    """Keeping the model current once it is in production (per quarter)."""

    start_month: Annotated[PositiveCount, Field(le=MAX_HORIZON)]
    re_evaluation_usd_per_quarter: Quantity = 0.0
    drift_monitoring_usd_per_quarter: Quantity = 0.0
    incremental_data_usd_per_quarter: Quantity = 0.0
    retrains_per_quarter: Annotated[Quantity, at_most(MAX_RETRAINS_PER_QUARTER, "one a day")] = 0.0
    retrain_fraction_of_first_compute: Annotated[
        Quantity, at_most(MAX_RETRAIN_FRACTION, "ten times the first compute")
    ] = 0.0
    migrations_per_year: Annotated[Quantity, at_most(MAX_MIGRATIONS_PER_YEAR, "one a day")] = 0.0
    migration_usd: Quantity = 0.0
    quality_loss_points_per_quarter_unmaintained: Quantity


class Engineering(Section):
    """MLOps and engineering labour."""

    engineer_weeks: Annotated[Quantity, at_most(MAX_ENGINEER_WEEKS, "10,000 engineers for 50 weeks")] = 0.0
    hours_per_week: Annotated[Quantity, at_most(MAX_HOURS_PER_WEEK, "the hours in a week")]
    rate_usd_per_hour: Annotated[Quantity, at_most(MAX_HOURLY_RATE, "an hourly rate")] = 0.0
    other_usd: Quantity = 0.0


class Compliance(Section):
    """Regulatory work, as explicit line items."""

    hipaa: Flag = False
    redistributes_weights: Flag = False
    gdpr_usd: Quantity = 0.0
    eu_ai_act_usd: Quantity = 0.0
    soc2_usd: Quantity = 0.0
    hipaa_usd: Quantity = 0.0


MAX_STAGES = 12
"""Stage gates in one programme at most."""


class Stage(Section):
    """One stage gate: the decision taken when ``spent_fraction`` of the programme cost has
    been spent, passed with ``chance_of_passing``."""

    name: Name
    chance_of_passing: Share
    spent_fraction: Share


class Programme(Section):
    """How long the programme takes to build, when each area spends its money, and the stage
    gates it may stop at."""

    build_months: Annotated[Count, Field(le=60)] = 0
    spend_profile: SpendProfile | dict[ProgrammeArea, list[PositiveCount]]
    stages: list[Stage] = Field(default=[], max_length=MAX_STAGES)

    @field_validator("stages")
    @classmethod
    def _spend_rises(cls, stages: list[Stage]) -> list[Stage]:
        """Each gate comes after the one before it: its spent share is larger."""
        for earlier, later in itertools.pairwise(stages):
            if later.spent_fraction <= earlier.spent_fraction:
                raise ValueError(
                    f"spent_fraction must rise from gate to gate: {later.name!r} ({later.spent_fraction:g}) "
                    f"comes after {earlier.name!r} ({earlier.spent_fraction:g})"
                )
        return stages

    @model_validator(mode="after")
    def _months_within_build(self) -> Programme:
        """Per-area months must be build months (1..build_months), and need a build period."""
        if isinstance(self.spend_profile, dict):
            for area, months in self.spend_profile.items():
                if not months or any(not 1 <= month <= self.build_months for month in months):
                    raise ValueError(
                        f"spend_profile.{area}: months must be a non-empty list within the build months "
                        f"1..{self.build_months}, got {months!r}"
                    )
        return self


def _at_least_one(value: float | Range) -> float | Range:
    """A peak-to-average ratio: the peak is never below the average."""
    least = low_high(value)[0]
    if least < 1:
        raise ValueError(f"must be at least 1 (a peak is never below the average), got {least:g}")
    return value


AtLeastOne = Annotated[FiniteAmount | Range, AfterValidator(_at_least_one)]
"""A ratio of at least 1, given as one value or as a range."""


ServingShape = Literal["dedicated", "serverless", "shared_base", "endpoint", "batch"]
"""How the fine-tuned model is served and billed (:mod:`~ftcost_helpers.engine.model.serving`)."""


class Serving(Section):
    """Inference of the fine-tuned model, in one of five shapes (``shape``): GPUs held all
    month (``dedicated``), per token on a shared deployment (``serverless``), one base shared
    by several adapters (``shared_base``), a per-minute endpoint that scales between replica
    bounds (``endpoint``) or a discounted batch API (``batch``)."""

    modelled: Flag = True
    gpu: str
    tier: str
    gpus: Count
    hours_per_month: Quantity
    rate_usd_per_gpu_hour: Quantity | None = None
    tokens_per_second: PositiveQuantity | None = None
    """Throughput of the deployment (None: from physics, :mod:`~ftcost_helpers.engine.model.serving`)."""
    peak_to_average: AtLeastOne
    setup_usd: Quantity = 0.0
    # --- serving shapes (issue 24) ---
    shape: ServingShape = "dedicated"
    service: Name | None = None
    tokens_million_per_month: Quantity | None = None
    price_usd_per_1m_tokens: Quantity | None = None
    batch_discount_fraction: Fraction | None = None
    adapters: PositiveCount = 1
    min_replicas: Count = 1
    max_replicas: PositiveCount | None = None
    busy_hours_per_month: Quantity | None = None
    concurrent_requests: PositiveCount | None = None
    context_tokens: PositiveCount | None = None

    @model_validator(mode="after")
    def _replicas_in_order(self) -> Serving:
        """An endpoint's least replicas are at most its most."""
        if self.max_replicas is not None and self.min_replicas > self.max_replicas:
            raise ValueError(f"min_replicas ({self.min_replicas}) is more than max_replicas ({self.max_replicas})")
        return self

    commitment: str | None = None
    """A reserved / committed-use term of the price book's ``committed_use`` (issue 24):
    the rate less its discount, every hour of the month billed."""


class ApiAlternative(Section):
    """A frontier API doing the same job: a monthly bill, or tokens × price. A ``model`` is any
    model genai-prices knows (``provider`` when the name is ambiguous), priced at the plan's
    start date for requests of ``input_tokens_per_request`` input tokens (None: the price
    book's typical request). Prices given here win over the model's."""

    usd_per_month: Quantity | None = None
    model: str | None = None
    provider: str | None = None
    input_tokens_per_request: PositiveCount | None = None
    input_tokens_million_per_month: Quantity = 0.0
    cached_input_tokens_million_per_month: Quantity = 0.0
    output_tokens_million_per_month: Quantity = 0.0
    input_price_usd_per_1m_tokens: Quantity | None = None
    output_price_usd_per_1m_tokens: Quantity | None = None
    cached_input_price_usd_per_1m_tokens: Quantity | None = None
    input_price_usd_per_1k_tokens: Quantity | None = None
    output_price_usd_per_1k_tokens: Quantity | None = None

    @model_validator(mode="after")
    def _one_way_to_cost(self) -> ApiAlternative:
        """A bill and token volumes would give two monthly costs: refuse rather than pick one."""
        if self.usd_per_month is not None and _has_tokens(self):
            raise ValueError(
                "give usd_per_month or token volumes (input/output_tokens_million_per_month), not both: "
                "they are two figures for one monthly cost (set usd_per_month: null to price the tokens)"
            )
        return self


class LabourAlternative(Section):
    """People's time the fine-tuned model saves."""

    staff: Annotated[Quantity, at_most(MAX_STAFF, "a generous headcount")] = 0.0
    hours_per_staff_per_month: Annotated[Quantity, at_most(MAX_HOURS_PER_MONTH, "the hours in a month")] = 0.0
    time_saved_fraction: Fraction = 0.0
    loaded_rate_usd_per_hour: Annotated[Quantity, at_most(MAX_HOURLY_RATE, "an hourly rate")] = 0.0
    realised: Flag = False
    """True when the time saved becomes cash (fewer hires, contractors let go); false:
    staff time valued at its loaded cost, not cash the business banks."""


class RagAlternative(Section):
    """A retrieval-augmented set-up on a frontier API doing the same job."""

    usd_per_month: Quantity = 0.0


class Alternative(Section):
    """What the fine-tune replaces; its monthly cost is the saving."""

    kind: AlternativeKind
    api: ApiAlternative = ApiAlternative()
    labour: LabourAlternative = LabourAlternative()
    rag: RagAlternative = RagAlternative()

    @model_validator(mode="after")
    def _figures_for_kind(self) -> Alternative:
        """The chosen kind must come with its figures: a silent USD 0/month saving would
        read as "never pays back"."""
        if self.kind in {"labour", "rag"} and self.kind not in self.model_fields_set:
            raise ValueError(f"kind '{self.kind}' needs the alternative.{self.kind} section")
        if self.kind == "api" and not _api_is_priced(self.api):
            raise ValueError(
                "kind 'api' needs alternative.api.usd_per_month, or tokens per month with a model or prices"
            )
        return self


def _api_is_priced(api: ApiAlternative) -> bool:
    """An API alternative has a bill, or tokens and a way to price them."""
    if api.usd_per_month is not None:
        return True
    prices = (
        api.input_price_usd_per_1m_tokens,
        api.output_price_usd_per_1m_tokens,
        api.input_price_usd_per_1k_tokens,
        api.output_price_usd_per_1k_tokens,
    )
    return _has_tokens(api) and (api.model is not None or any(price is not None for price in prices))


def _has_tokens(api: ApiAlternative) -> bool:
    """Token volumes were given (a base case above zero)."""
    return base_value(api.input_tokens_million_per_month) + base_value(api.output_tokens_million_per_month) > 0


class Uncertainty(Section):
    """Monte Carlo settings."""

    draws: Annotated[PositiveCount, Field(le=MAX_DRAWS)]
    seed: Count


# ---- Money (issue 24, item 5) ------------------------------------------------------------


class Finance(Section):
    """Money as a CFO counts it: the rate the client discounts its cash at
    (:mod:`ftcost_helpers.engine.finance`)."""

    discount_rate: Annotated[float, Field(ge=0, le=1)] | None = None
    """Annual effective rate (0.08 = 8 % a year); None: no discounting (NPV and discounted
    payback not stated)."""


class Storage(Section):
    """Storage and egress as programme lines (:mod:`ftcost_helpers.engine.model.storage`)."""

    data_tb: Quantity = 0.0
    """TB of data kept (datasets, logs) besides the checkpoints."""
    checkpoints_kept: Quantity = 0.0
    checkpoint_gb: Quantity | None = None
    """GB per checkpoint (None: trained parameters × 14 bytes)."""
    months: Quantity | None = None
    """Months the data and checkpoints are kept (None: the horizon)."""
    usd_per_tb_month: Quantity | None = None
    egress_tb: Quantity = 0.0
    """TB moved out of the provider during the programme (checkpoints, exports)."""
    egress_usd_per_tb: Quantity | None = None


class ReportSettings(Section):
    """How the client document states its figures."""

    basis: Literal["p50", "p80", "base_case"] | None = None
    """The budget basis of every headline (None: the firm file's ``default_basis``, else
    ``p50``; see :mod:`ftcost_helpers.engine.headline`)."""
    version: Name = "1.0"
    """The document's version, printed on the cover and every page."""
    prepared_by: Name | None = None
    reviewed_by: Name | None = None
    approved_by: Name | None = None
    """Names in the sign-off block (a blank line to sign where not given)."""


SCENARIO_FIXED_KEYS = ("client", "currency", "scenarios", "report", "calibration")
"""Top-level keys a scenario may not override."""


def _unknown_override_keys(model: type[BaseModel], overrides: dict[str, Any], where: str = "") -> list[str]:
    """Keys of ``overrides`` the schema does not know, each with the closest valid key."""
    problems = []
    for key, value in overrides.items():
        field = model.model_fields.get(key)
        path = f"{where}{key}"
        if field is None and model is Training and key in LEGACY_TRAINING_KEYS:
            continue
        if field is None and model is BaseModelSpec and key == "config_json":
            continue  # read by the loader, which fills the architecture keys from it
        if field is None:
            close = difflib.get_close_matches(key, list(model.model_fields), n=1, cutoff=0.6)
            problems.append(f"{path}: unknown key" + (f" (did you mean '{close[0]}'?)" if close else ""))
            continue
        annotation = field.annotation
        if isinstance(value, dict) and isinstance(annotation, type) and issubclass(annotation, BaseModel):
            problems += _unknown_override_keys(annotation, value, f"{path}.")
    return problems


class Scenario(Section):
    """An alternative plan: ``overrides`` merged over the client's plan (same keys, same
    rules). The whole merged plan is validated when scenarios are compared."""

    name: Name
    description: Text = ""
    overrides: dict[str, Any] = {}

    @field_validator("overrides")
    @classmethod
    def _known_keys(cls, overrides: dict[str, Any]) -> dict[str, Any]:
        fixed = [key for key in overrides if key in SCENARIO_FIXED_KEYS]
        if fixed:
            raise ValueError(f"a scenario cannot change {', '.join(fixed)}")
        problems = _unknown_override_keys(Params, overrides)
        if problems:
            raise ValueError("; ".join(problems))
        return overrides


# --- calibration from a pilot run (issue 23; written by `calibrate`) -------------------------


class Band(Section):
    """A recorded low, base and high (not an uncertain input: never drawn or swung)."""

    low: FiniteAmount
    base: FiniteAmount
    high: FiniteAmount


class CalibratedFor(Section):
    """The training configuration a calibration was made for: it applies only while the
    plan's ``training`` keeps these (a scenario that changes one is costed uncalibrated)."""

    gpu: str
    gpus_per_run: PositiveCount
    sequence_length: PositiveCount
    micro_batch_size: PositiveCount
    method: Method


class PilotRun(Section):
    """What the pilot ran and what it measured (a record: the engine reads ``Calibration``'s
    own keys, not these)."""

    log: Text
    log_format: Literal["trainer_state", "plain_csv", "wandb_csv", "lightning_csv", "torchtune_csv"]
    steps: PositiveCount
    warmup_steps_set_aside: Count
    gpu: str
    gpus: PositiveCount
    micro_batch_size: PositiveCount
    sequence_length: PositiveCount
    method: Method
    step_seconds: Band
    """P10, median and P90 seconds per optimizer step."""
    tokens_per_second: FiniteAmount
    mfu: FiniteAmount
    peak_memory_gb: FiniteAmount | None = None
    estimated_memory_gb: FiniteAmount | None = None


class BeforeCalibration(Section):
    """The ranges the plan had before it was calibrated, kept to show before and after."""

    hours_per_run: Band
    utilisation: Band
    training_runs_usd: Band


class Calibration(Section):
    """A pilot run's measurement, transferred to the plan's own training configuration
    (:mod:`ftcost_helpers.engine.calibration`). While ``calibrated_for`` matches the plan,
    the run's wall-clock hours come from ``hours_per_million_tokens`` × the run's tokens
    (instead of ``training.hours_per_run``), the physics view's utilisation from
    ``utilisation`` and the estimated memory is scaled by ``memory_ratio``."""

    date: CalendarDate
    calibrated_on: CalendarDate
    hours_per_million_tokens: Annotated[PositiveQuantity, at_most(MAX_HOURS_PER_MILLION_TOKENS, "a million hours")]
    utilisation: PositiveFraction
    memory_ratio: Annotated[FiniteAmount, Field(gt=0, le=10)] = 1.0
    widening: Annotated[FiniteAmount, Field(le=10)] = 0.0
    calibrated_for: CalibratedFor
    pilot: PilotRun
    before: BeforeCalibration


# --- end of calibration block ------------------------------------------------------------
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
"""An ISO 4217 code, three capital letters (``USD``, ``EUR``): the currency of every amount
in the plan and its outputs (issue 24, money; ftcost_helpers/engine/fx.py)."""


class Params(Section):
    """One client's whole plan."""

    client: Name
    currency: CurrencyCode
    start_date: CalendarDate
    horizon_months: Annotated[PositiveCount, Field(le=MAX_HORIZON)]
    programme: Programme
    base_model: BaseModelSpec
    training: Training
    dataset: Dataset
    evaluation: Evaluation
    maintenance: Maintenance
    engineering: Engineering
    compliance: Compliance
    serving: Serving
    alternative: Alternative
    uncertainty: Uncertainty
    finance: Finance = Finance()
    storage: Storage = Storage()
    scenarios: list[Scenario] = Field(default=[], max_length=MAX_SCENARIOS)
    report: ReportSettings = ReportSettings()
    calibration: Calibration | None = None
    _notices: tuple[tuple[str, str], ...] = PrivateAttr(default=())

    @property
    def notices(self) -> tuple[tuple[str, str], ...]:
        """(key, note) for each older name the file used and how it was read (``sharded``,
        ``model: gpt_4o``...): not errors, but worth a line so the file can be brought up to date."""
        return self._notices

    def with_notices(self, notices: Sequence[tuple[str, str]], replace: bool = False) -> Params:
        """This plan with ``notices`` after its own (or instead of them, ``replace``); the
        plan is not copied."""
        self._notices = tuple(notices) if replace else (*self._notices, *notices)
        return self

    @model_validator(mode="after")
    def _launch_within_horizon(self) -> Params:
        """The horizon counts from the programme's start, so the build must end before it."""
        if self.programme.build_months >= self.horizon_months:
            raise ValueError(
                f"programme.build_months ({self.programme.build_months}) must be shorter than "
                f"horizon_months ({self.horizon_months}): the horizon counts from the programme's start"
            )
        return self


def configuration_problems(params: Params) -> list[tuple[str, str]]:
    """(key, problem) for each training configuration that cannot run: parallel degrees
    that do not divide the GPUs or the heads, QLoRA in fp32, states sharded on one GPU..."""
    t, m = params.training, params.base_model
    problems: list[tuple[str, str]] = []
    if t.gpus_per_run % t.model_parallel:
        problems.append(
            (
                "training.gpus_per_run",
                f"{t.gpus_per_run} GPUs are not a multiple of tensor × pipeline × context parallel "
                f"({t.tensor_parallel} × {t.pipeline_parallel} × {t.context_parallel} = {t.model_parallel})",
            )
        )
    kv_heads = m.kv_heads or m.attention_heads
    if m.attention_heads % t.tensor_parallel or (kv_heads % t.tensor_parallel and t.tensor_parallel % kv_heads):
        problems.append(
            (
                "training.tensor_parallel",
                f"{t.tensor_parallel} does not divide the attention heads ({m.attention_heads}, {kv_heads} KV)",
            )
        )
    if t.pipeline_parallel > m.layers:
        problems.append(("training.pipeline_parallel", f"{t.pipeline_parallel} stages for {m.layers} layers"))
    if t.sequence_length % t.context_parallel:
        problems.append(
            ("training.context_parallel", f"{t.context_parallel} does not divide sequence_length ({t.sequence_length})")
        )
    adapted = {"dpo": t.dpo.adapter, "rl": t.rl.adapter if t.rl is not None else "none"}.get(t.method, "none")
    if adapted == "qlora" and t.precision in {"fp32", "fp8"}:
        problems.append(
            (f"training.{t.method}.adapter", f"QLoRA adapters compute in bf16 over a 4-bit base; not {t.precision}")
        )
    if t.method == "qlora" and t.precision == "fp32":
        problems.append(("training.precision", "QLoRA computes in bf16 over a 4-bit base; fp32 is not a QLoRA set-up"))
    if t.method == "qlora" and t.precision == "fp8":
        problems.append(("training.precision", "QLoRA dequantises its 4-bit base to bf16; fp8 matmuls do not apply"))
    if m.sliding_window_layers is not None and m.sliding_window is None:
        problems.append(("base_model.sliding_window_layers", "give base_model.sliding_window (tokens) with it"))
    if m.sliding_window_layers is not None and m.sliding_window_layers > m.layers:
        problems.append(
            ("base_model.sliding_window_layers", f"{m.sliding_window_layers} is more than layers ({m.layers})")
        )
    if (m.experts is None) != (m.experts_per_token is None):
        given = "experts" if m.experts is not None else "experts_per_token"
        problems.append((f"base_model.{given}", "give both experts and experts_per_token, or neither"))
    return problems


TOP_LEVEL_KEYS: tuple[str, ...] = tuple(Params.model_fields)
"""The keys a client file (and a notebook's ``parameters`` cell) may set."""
