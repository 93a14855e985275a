"""The building blocks of the client-file schema: :class:`Section` (unknown keys are errors),
the yes/no :data:`Flag`, the choices each key takes (``Literal`` aliases) and the plan-wide maxima.

Re-exported by :mod:`ftcost_helpers.engine.schema`, where client code imports them from.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
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


CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
"""An ISO 4217 code, three capital letters (``USD``, ``EUR``): the currency of every amount
in the plan and its outputs (issue 24, money; ftcost_helpers/engine/fx.py)."""
