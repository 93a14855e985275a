"""The ``base_model`` block of a client file: the open-weights model being fine-tuned.

Re-exported by :mod:`ftcost_helpers.engine.schema`, where client code imports them from.
"""

from __future__ import annotations

from pydantic import (
    ValidationInfo,
    field_validator,
)

from ftcost_helpers.engine.quantities import (
    CalendarDate,
    Count,
    Name,
    PositiveCount,
    PositiveQuantity,
    Quantity,
    Range,
    low_high,
)
from ftcost_helpers.engine.schema_base import (
    Flag,
    MlpKind,
    Section,
)

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
