"""The typed schema of a client parameter file (``params/clients/*.yaml``).

Units live in key names (``_usd``, ``_hours``, ``_per_1m_tokens``...). Unknown keys are
rejected; every numeric input is a :data:`~ftcost_helpers.engine.quantities.Quantity` (one value
or a ``{low, high, mode}`` range). Defaults for facts live in ``params/defaults.yaml``; a
default written here is only ever "not used" (zero, off, absent).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from ftcost_helpers.engine.quantities import (
    CalendarDate,
    Name,
    PositiveCount,
    Text,
)
from ftcost_helpers.engine.schema_alternative import (
    Alternative,
    ApiAlternative,
    LabourAlternative,
    RagAlternative,
)
from ftcost_helpers.engine.schema_base import (
    MAX_DRAWS,
    MAX_HORIZON,
    MAX_SCENARIOS,
    SHARDING_WORDS,
    AlternativeKind,
    Checkpointing,
    CrossEntropy,
    CurrencyCode,
    Flag,
    FsdpVersion,
    GradientSync,
    HostOptimizer,
    Method,
    MlpKind,
    Offload,
    OffloadDevice,
    Optimizer,
    OptimizerImplementation,
    Precision,
    ProgrammeArea,
    QuantisedBase,
    Section,
    Sharding,
    SpendProfile,
    TargetModules,
)
from ftcost_helpers.engine.schema_model import (
    RAW_COUNT_BILLION,
    BaseModelSpec,
)
from ftcost_helpers.engine.schema_plan import (
    Band,
    BeforeCalibration,
    CalibratedFor,
    Calibration,
    Finance,
    PilotRun,
    ReportSettings,
    Storage,
    Uncertainty,
)
from ftcost_helpers.engine.schema_programme import (
    MAX_STAGES,
    AtLeastOne,
    Compliance,
    Dataset,
    Engineering,
    Evaluation,
    Maintenance,
    Programme,
    Serving,
    ServingShape,
    Stage,
)
from ftcost_helpers.engine.schema_training import (
    LEGACY_TRAINING_KEYS,
    Adapter,
    Dpo,
    HostSpec,
    Interconnect,
    Lora,
    ManagedTraining,
    Ownership,
    PreferenceLoss,
    PreferenceReference,
    Provider,
    Rl,
    RlAlgorithm,
    RlGrader,
    RlReference,
    RlReward,
    Training,
    legacy_key_clashes,
    legacy_key_notices,
)

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
    overrides: dict[str, Any] = {}  # noqa: RUF012 (a pydantic field: Section is a BaseModel, which copies the default)

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


__all__ = [
    "LEGACY_TRAINING_KEYS",
    "MAX_DRAWS",
    "MAX_HORIZON",
    "MAX_SCENARIOS",
    "MAX_STAGES",
    "RAW_COUNT_BILLION",
    "SCENARIO_FIXED_KEYS",
    "SHARDING_WORDS",
    "TOP_LEVEL_KEYS",
    "Adapter",
    "Alternative",
    "AlternativeKind",
    "ApiAlternative",
    "AtLeastOne",
    "Band",
    "BaseModelSpec",
    "BeforeCalibration",
    "CalibratedFor",
    "Calibration",
    "Checkpointing",
    "Compliance",
    "CrossEntropy",
    "CurrencyCode",
    "Dataset",
    "Dpo",
    "Engineering",
    "Evaluation",
    "Finance",
    "Flag",
    "FsdpVersion",
    "GradientSync",
    "HostOptimizer",
    "HostSpec",
    "Interconnect",
    "LabourAlternative",
    "Lora",
    "Maintenance",
    "ManagedTraining",
    "Method",
    "MlpKind",
    "Offload",
    "OffloadDevice",
    "Optimizer",
    "OptimizerImplementation",
    "Ownership",
    "Params",
    "PilotRun",
    "Precision",
    "PreferenceLoss",
    "PreferenceReference",
    "Programme",
    "ProgrammeArea",
    "Provider",
    "QuantisedBase",
    "RagAlternative",
    "ReportSettings",
    "Rl",
    "RlAlgorithm",
    "RlGrader",
    "RlReference",
    "RlReward",
    "Scenario",
    "Section",
    "Serving",
    "ServingShape",
    "Sharding",
    "SpendProfile",
    "Stage",
    "Storage",
    "TargetModules",
    "Training",
    "Uncertainty",
    "configuration_problems",
    "legacy_key_clashes",
    "legacy_key_notices",
]
