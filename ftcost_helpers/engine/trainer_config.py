"""The training configuration a costed plan assumes, in the key names four libraries document.

``ftcost export PLAN --format trl|axolotl|deepspeed|accelerate`` writes what
:func:`trainer_config` returns: every choice the cost model priced (method, adapter rank and
targets, precision, optimizer, micro-batch, accumulation, checkpointing, sharding and
offload, sequence length, packing, parallel degrees) under the name the library reads it by:

* ``trl`` — a ``trl sft|dpo|grpo --config FILE`` YAML: ``transformers.TrainingArguments``,
  ``trl.SFTConfig``/``DPOConfig``/``GRPOConfig`` and ``trl.ModelConfig`` keys, flat;
* ``axolotl`` — an ``axolotl train FILE`` YAML (``src/axolotl/utils/schemas/*.py``);
* ``deepspeed`` — a DeepSpeed JSON config (``deepspeed/runtime/constants.py``,
  ``deepspeed/runtime/zero/config.py``, ``offload_config.py``);
* ``accelerate`` — an ``accelerate launch --config_file FILE`` YAML
  (``accelerate/commands/config/config_args.py``, ``cluster.py``).

What the plan does not decide (the data, the learning rate, LoRA's alpha) is left out, and
:func:`unsaid` lists it with what a choice the library cannot express would cost. The key
names every format may emit are checked by the test suite against a fixture of the libraries'
documented names (``tests/fixtures/trainer_keys.yaml``), so a renamed key is caught there.

A *pilot* (``pilot_steps``) is the same configuration cut to a number of optimizer steps
with a log line every step and a checkpoint at the end, whose ``trainer_state.json`` (the
Hugging Face Trainer's log) is what ``ftcost calibrate`` reads back.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import base_value
from ftcost_helpers.engine.schema import Params, Training

Format = Literal["trl", "axolotl", "deepspeed", "accelerate"]
FORMATS: tuple[Format, ...] = ("trl", "axolotl", "deepspeed", "accelerate")

ATTENTION_PROJECTIONS = ["q_proj", "k_proj", "v_proj", "o_proj"]
"""The attention projections' module names in Llama-style Hugging Face models (LoRA's
``target_modules: attention``)."""

TRANSFORMERS_OPTIMIZERS: dict[tuple[str, str], str] = {
    ("adamw", "foreach"): "adamw_torch",
    ("adamw", "for_loop"): "adamw_torch",
    ("adamw", "fused"): "adamw_torch_fused",
    ("adamw_8bit", "foreach"): "adamw_bnb_8bit",
    ("paged_adamw_8bit", "foreach"): "paged_adamw_8bit",
    ("paged_adamw_32bit", "foreach"): "paged_adamw_32bit",
    ("adafactor", "foreach"): "adafactor",
    ("sgd", "foreach"): "sgd",
}
"""``(training.optimizer, training.optimizer_implementation)`` → ``TrainingArguments.optim``
(transformers' ``OptimizerNames``; axolotl's ``optimizer`` takes the same names). Only AdamW
has a fused variant there; the others take the ``foreach`` row."""

ZERO_STAGES = {"none": 0, "optimizer": 1, "gradients": 2, "full": 3}
"""``training.sharding`` → DeepSpeed's ``zero_optimization.stage``."""

TRL_COMMANDS = {"dpo": "dpo", "rl": "grpo"}
"""The TRL command a method runs under (``sft`` for the rest)."""


def optimizer_name(training: Training) -> str:
    """The transformers/axolotl optimizer name of the plan's optimizer and implementation."""
    key = (training.optimizer, training.optimizer_implementation)
    return TRANSFORMERS_OPTIMIZERS.get(key, TRANSFORMERS_OPTIMIZERS[(training.optimizer, "foreach")])


def data_parallel_ranks(training: Training, gpus: int | None = None) -> int:
    """GPUs per run (or ``gpus``) ÷ (tensor × pipeline × context parallel): the replicas a
    global batch is split over (at least 1)."""
    return max(1, (training.gpus_per_run if gpus is None else gpus) // training.model_parallel)


def global_batch_rows(training: Training) -> int:
    """Sequences per optimizer step: micro-batch × accumulation × data-parallel ranks."""
    return training.micro_batch_size * training.gradient_accumulation_steps * data_parallel_ranks(training)


def gpus_per_node(params: Params, book: PriceBook) -> int:
    """The plan's GPUs per node: its own ``training.gpus_per_node``, else the GPU's (price book)."""
    training = params.training
    return training.gpus_per_node or book.gpus[training.gpu].gpus_per_node


def nodes(params: Params, book: PriceBook) -> int:
    """Machines one run spans: ⌈GPUs per run ÷ GPUs per node⌉."""
    return math.ceil(params.training.gpus_per_run / gpus_per_node(params, book))


def epochs(training: Training) -> float:
    """The plan's epochs (the base case of a range)."""
    return float(base_value(training.epochs))


def trainer_config(params: Params, book: PriceBook, fmt: Format, pilot_steps: int | None = None) -> dict[str, Any]:
    """The configuration ``fmt`` reads for the plan (a nested mapping, keys as documented)."""
    builders = {"trl": _trl, "axolotl": _axolotl, "deepspeed": _deepspeed, "accelerate": _accelerate}
    config = builders[fmt](params, book)
    if pilot_steps is not None and fmt in ("trl", "axolotl"):
        config.update(_pilot_keys(fmt, pilot_steps))
    return config


def _pilot_keys(fmt: Format, steps: int) -> dict[str, Any]:
    """A pilot's cut: ``steps`` optimizer steps, a log line each, one checkpoint at the end
    (its folder holds the ``trainer_state.json`` calibrate reads)."""
    shared = {"max_steps": steps, "logging_steps": 1, "save_strategy": "steps", "save_steps": steps}
    if fmt == "trl":
        return shared | {"include_tokens_per_second": True}
    return shared


def _precision_trl(training: Training) -> dict[str, Any]:
    """Mixed or pure bf16 both train under ``bf16: true``; pure bf16 also loads the weights in
    bf16 (``dtype: bfloat16``). fp8 has no TrainingArguments key (accelerate's
    ``mixed_precision: fp8`` sets it); fp32 is neither."""
    if training.precision == "fp32":
        return {"bf16": False}
    config: dict[str, Any] = {"bf16": True}
    if training.precision == "bf16":
        config["dtype"] = "bfloat16"
    return config


def _adapter_trl(params: Params) -> dict[str, Any]:
    """``trl.ModelConfig``'s PEFT and 4-bit keys for LoRA and QLoRA (none for full training)."""
    training = params.training
    if training.method not in ("lora", "qlora"):
        return {}
    config: dict[str, Any] = {
        "use_peft": True,
        "lora_r": training.lora.rank,
        "lora_target_modules": _targets(training, "all-linear"),
    }
    if training.method == "qlora":
        config |= {
            "load_in_4bit": True,
            "bnb_4bit_quant_type": training.quantised_base,
            "use_bnb_nested_quant": training.nf4_double_quant,
        }
    return config


def _targets(training: Training, all_linear: str | bool) -> Any:
    """LoRA's targets: the attention projections, or every linear layer (``all_linear``:
    peft's ``"all-linear"``, axolotl's ``lora_target_linear: true``)."""
    return list(ATTENTION_PROJECTIONS) if training.lora.target_modules == "attention" else all_linear


def _sharding_trl(training: Training) -> dict[str, Any]:
    """FSDP through ``TrainingArguments.fsdp`` (:func:`distributed_type`; parameters offloaded
    add ``offload``); DeepSpeed through a file (``deepspeed``, written by ``--format deepspeed``)."""
    kind = distributed_type(training)
    if kind == "FSDP":
        offload = " offload" if training.offload == "optimizer_and_parameters" else ""
        return {"fsdp": f"full_shard{offload} auto_wrap"}
    if kind == "DEEPSPEED":
        return {"deepspeed": "ds_config.json"}
    return {}


def _trl(params: Params, book: PriceBook) -> dict[str, Any]:
    training = params.training
    config: dict[str, Any] = {
        "model_name_or_path": params.base_model.name,
        "output_dir": "out",
        "num_train_epochs": epochs(training),
        "per_device_train_batch_size": training.micro_batch_size,
        "gradient_accumulation_steps": training.gradient_accumulation_steps,
        "optim": optimizer_name(training),
        "gradient_checkpointing": training.activation_checkpointing != "none",
        "report_to": "none",
    }
    command = trl_command(params)
    if command in ("sft", "dpo"):
        config["max_length"] = training.sequence_length
    if command == "sft":
        config["packing"] = training.packing
    if command == "dpo" and training.dpo is not None:
        config["precompute_ref_log_probs"] = training.dpo.reference == "precomputed"
    if command == "grpo" and training.rl is not None:
        config |= _grpo(training)
    if training.compiled:
        config["torch_compile"] = True
    return config | _precision_trl(training) | _adapter_trl(params) | _sharding_trl(training)


def _grpo(training: Training) -> dict[str, Any]:
    """TRL GRPOConfig's keys the plan's RL block sets: completions per prompt, the longest
    completion, and a separate vLLM server when inference is not colocated."""
    rl = training.rl
    longest = rl.max_generation_tokens or math.ceil(base_value(rl.generation_tokens))
    config: dict[str, Any] = {"num_generations": rl.group_size, "max_completion_length": longest}
    config |= {"use_vllm": True, "vllm_mode": "colocate" if rl.colocated_inference else "server"}
    return config


def _axolotl(params: Params, book: PriceBook) -> dict[str, Any]:
    training = params.training
    config: dict[str, Any] = {
        "base_model": params.base_model.name,
        "output_dir": "./out",
        "sequence_len": training.sequence_length,
        "sample_packing": training.packing,
        "micro_batch_size": training.micro_batch_size,
        "gradient_accumulation_steps": training.gradient_accumulation_steps,
        "num_epochs": epochs(training),
        "optimizer": optimizer_name(training),
        "gradient_checkpointing": training.activation_checkpointing != "none",
        "bf16": training.precision in ("bf16_mixed", "bf16"),
    }
    if training.precision == "fp8":
        config["fp8"] = True
    if training.method in ("lora", "qlora"):
        config |= {"adapter": training.method, "lora_r": training.lora.rank}
        targets = _targets(training, True)
        config |= {"lora_target_linear": True} if targets is True else {"lora_target_modules": targets}
    if training.method == "qlora":
        config["load_in_4bit"] = True
    if training.method == "dpo":
        loss = training.dpo.loss if training.dpo is not None else "dpo"
        config["rl"] = loss
        if training.dpo is not None and training.dpo.reference == "precomputed":
            config["precompute_ref_log_probs"] = True
    if training.method == "rl":
        config["rl"] = "grpo"
    if training.tensor_parallel > 1:
        config["tensor_parallel_size"] = training.tensor_parallel
    if training.context_parallel > 1:
        config["context_parallel_size"] = training.context_parallel
    if training.compiled:
        config["torch_compile"] = True
    return config | _axolotl_sharding(training)


def _axolotl_sharding(training: Training) -> dict[str, Any]:
    """FSDP (``fsdp_version`` and ``fsdp_config``) for full sharding; a DeepSpeed file for ZeRO-1/2."""
    if distributed_type(training) == "FSDP":
        fsdp: dict[str, Any] = {
            "auto_wrap_policy": "TRANSFORMER_BASED_WRAP",
            "reshard_after_forward": True,
            "offload_params": training.offload == "optimizer_and_parameters",
        }
        return {"fsdp_version": training.fsdp_version, "fsdp_config": fsdp}
    if distributed_type(training) == "DEEPSPEED":
        return {"deepspeed": "ds_config.json"}
    return {}


def _offload(device_needed: bool) -> dict[str, str]:
    return {"device": "cpu" if device_needed else "none"}


def _deepspeed(params: Params, book: PriceBook) -> dict[str, Any]:
    """A DeepSpeed config: the global batch is micro-batch × accumulation × data-parallel ranks."""
    training = params.training
    zero: dict[str, Any] = {"stage": zero_stage(training)}
    if training.offload != "none":
        zero["offload_optimizer"] = _offload(True)
    if training.offload == "optimizer_and_parameters":
        zero["offload_param"] = _offload(True)
    return {
        "train_batch_size": global_batch_rows(training),
        "train_micro_batch_size_per_gpu": training.micro_batch_size,
        "gradient_accumulation_steps": training.gradient_accumulation_steps,
        "bf16": {"enabled": training.precision in ("bf16_mixed", "bf16")},
        "zero_optimization": zero,
    }


def _accelerate(params: Params, book: PriceBook) -> dict[str, Any]:
    training = params.training
    config: dict[str, Any] = {
        "compute_environment": "LOCAL_MACHINE",
        "distributed_type": distributed_type(training),
        "mixed_precision": {"fp32": "no", "fp8": "fp8"}.get(training.precision, "bf16"),
        "num_machines": nodes(params, book),
        "num_processes": training.gpus_per_run,
        "machine_rank": 0,
    }
    if config["distributed_type"] == "FSDP":
        config["fsdp_config"] = {
            "fsdp_version": training.fsdp_version,
            "fsdp_auto_wrap_policy": "TRANSFORMER_BASED_WRAP",
            "fsdp_reshard_after_forward": True,
            "fsdp_offload_params": training.offload == "optimizer_and_parameters",
            "fsdp_activation_checkpointing": training.activation_checkpointing != "none",
        }
    if config["distributed_type"] == "DEEPSPEED":
        config["deepspeed_config"] = {
            "zero_stage": zero_stage(training),
            "offload_optimizer_device": "cpu" if training.offload != "none" else "none",
            "offload_param_device": "cpu" if training.offload == "optimizer_and_parameters" else "none",
            "gradient_accumulation_steps": training.gradient_accumulation_steps,
        }
    return config


def zero_stage(training: Training) -> int:
    """DeepSpeed's ZeRO stage for the plan's sharding, raised to what its offload needs:
    optimizer offload runs under stage 1 or more, parameter offload under stage 3 only
    (DeepSpeed's ``offload_optimizer`` / ``offload_param``)."""
    stage = ZERO_STAGES[training.sharding]
    if training.offload == "optimizer_and_parameters":
        return 3
    return max(stage, 1) if training.offload == "optimizer" else stage


def distributed_type(training: Training) -> str:
    """FSDP for full sharding without offload or with parameters offloaded; DeepSpeed for
    ZeRO-1/2 or optimizer-only offload; plain data parallel (MULTI_GPU) otherwise; NO on one GPU."""
    if training.sharding == "full" and training.offload != "optimizer":
        return "FSDP"
    if training.sharding != "none" or training.offload != "none":
        return "DEEPSPEED"
    return "MULTI_GPU" if training.gpus_per_run > 1 else "NO"


def unsaid(params: Params, fmt: Format) -> list[str]:
    """What the exported file leaves to the team, and what the library cannot say of the plan
    (each a sentence, for the file's header)."""
    training = params.training
    lines = [
        "The data (dataset_name or datasets), the learning rate and LoRA's alpha are not part of the "
        "costed plan: set them for the run.",
    ]
    if training.activation_checkpointing in ("selective", "op_selective") and fmt in ("trl", "accelerate"):
        lines.append(
            f"activation_checkpointing: {training.activation_checkpointing} has no {fmt} key: "
            "gradient checkpointing here recomputes every layer, which takes longer than the plan's estimate."
        )
    if training.checkpoint_every_layers > 1:
        lines.append(
            f"checkpoint_every_layers: {training.checkpoint_every_layers} has no {fmt} key: "
            "every layer is checkpointed, which takes longer than the plan's estimate."
        )
    if training.precision == "fp8" and fmt == "trl":
        lines.append("precision: fp8 is set by accelerate (mixed_precision: fp8): export --format accelerate.")
    storage = [key for key in ("fp8_weights", "fp8_activations", "frozen_mlp_unsaved") if getattr(training, key)]
    if storage:
        lines.append(
            f"{', '.join(storage)}: Transformer Engine and Megatron-Core settings (NeMo's fp8_params, "
            "fp8_activation_input_store); this file cannot set them, and without them the run needs more memory "
            "than the plan's estimate."
        )
    parallel = {"tensor_parallel": training.tensor_parallel, "pipeline_parallel": training.pipeline_parallel}
    if fmt != "axolotl":
        parallel["context_parallel"] = training.context_parallel
    for key, degree in parallel.items():
        if degree > 1:
            lines.append(f"{key}: {degree} is set in the framework's launcher, not in this file.")
    if training.method == "rl":
        lines.append("The prompts, reward functions and generation settings of the RL run are set for the run.")
    loss = training.dpo.loss if training.method == "dpo" and training.dpo is not None else None
    if loss in ("orpo", "simpo", "kto") and fmt == "trl":
        lines.append(
            f"dpo.loss: {loss} runs under its own TRL trainer (ORPO, CPO with SimPO's loss, KTO): start from this file."
        )
    if training.offload != "none" and zero_stage(training) != ZERO_STAGES[training.sharding]:
        lines.append(
            f"offload: {training.offload} runs under DeepSpeed ZeRO stage {zero_stage(training)} "
            f"(sharding: {training.sharding} alone would be stage {ZERO_STAGES[training.sharding]})."
        )
    return lines


def trl_command(params: Params) -> str:
    """``sft``, ``dpo`` or ``grpo``: the ``trl`` command the exported file is for."""
    return TRL_COMMANDS.get(params.training.method, "sft")
