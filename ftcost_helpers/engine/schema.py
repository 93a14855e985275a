"""The typed schema of a client parameter file (``params/clients/*.yaml``).

Units live in key names (``_usd``, ``_hours``, ``_per_1m_tokens``...). Unknown keys are
rejected; every numeric input is a :data:`~ftcost_helpers.engine.quantities.Quantity` (one value
or a ``{low, high, mode}`` range). Defaults for facts live in ``params/defaults.yaml``; a
default written here is only ever "not used" (zero, off, absent).
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ftcost_helpers.engine.quantities import (
    CalendarDate,
    Count,
    Fraction,
    Name,
    PositiveCount,
    PositiveFraction,
    PositiveQuantity,
    Quantity,
    Text,
    base_value,
)

Method = Literal["lora", "qlora", "full_sft", "dpo", "continued_pretraining", "rl"]
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


class Section(BaseModel):
    """A block of a parameter file: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class BaseModelSpec(Section):
    """The open-weights model being fine-tuned."""

    name: Name
    parameters_billion: Quantity
    layers: PositiveCount
    hidden_size: PositiveCount
    attention_heads: PositiveCount
    vocab_size: PositiveCount
    end_of_life: CalendarDate | None = None


class Training(Section):
    """The training plan: booked GPU time, rerun tax, and what physics needs."""

    method: Method
    gpu: str
    tier: str
    gpus_per_run: PositiveCount
    hours_per_run: Quantity
    runs: Quantity
    rate_usd_per_gpu_hour: Quantity | None = None
    failed_runs: Quantity = 0.0
    failed_run_completed_fraction: Fraction = 0.0
    sweep_trials: Quantity = 0.0
    sweep_early_stopping: bool = True
    early_stopped_trial_fraction: Fraction = 1.0
    tokens_per_pair: Quantity
    epochs: Quantity
    sequence_length: PositiveCount
    micro_batch_size: PositiveCount
    gradient_checkpointing: bool
    memory_efficient_attention: bool
    trainable_fraction: Fraction
    utilisation: PositiveFraction
    sharded: bool
    memory_headroom_fraction: Fraction
    tokenizer_change: bool = False


class Dataset(Section):
    """Building the training set: sourcing, redaction, labelling, synthesis, checks."""

    pairs: Quantity
    curation_usd: Quantity = 0.0
    sourcing_usd: Quantity = 0.0
    pii_redaction_usd: Quantity = 0.0
    annotation_hours: Quantity = 0.0
    annotation_minutes_per_pair: Quantity = 0.0
    annotation_rate_usd_per_hour: Quantity = 0.0
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
    harness: bool
    frozen_test_set: bool
    contamination_check: bool


class Maintenance(Section):
    """Keeping the model current once it is in production (per quarter)."""

    start_month: Annotated[PositiveCount, Field(le=MAX_HORIZON)]
    re_evaluation_usd_per_quarter: Quantity = 0.0
    drift_monitoring_usd_per_quarter: Quantity = 0.0
    incremental_data_usd_per_quarter: Quantity = 0.0
    retrains_per_quarter: Quantity = 0.0
    retrain_fraction_of_first_compute: Quantity = 0.0
    migrations_per_year: Quantity = 0.0
    migration_usd: Quantity = 0.0
    quality_loss_points_per_quarter_unmaintained: Quantity


class Engineering(Section):
    """MLOps and engineering labour."""

    engineer_weeks: Quantity = 0.0
    hours_per_week: Quantity
    rate_usd_per_hour: Quantity = 0.0
    other_usd: Quantity = 0.0


class Compliance(Section):
    """Regulatory work, as explicit line items."""

    hipaa: bool = False
    redistributes_weights: bool = False
    gdpr_usd: Quantity = 0.0
    eu_ai_act_usd: Quantity = 0.0
    soc2_usd: Quantity = 0.0
    hipaa_usd: Quantity = 0.0


class Programme(Section):
    """How long the programme takes to build, and when each area spends its money."""

    build_months: int = Field(0, ge=0, le=60)
    spend_profile: SpendProfile | dict[ProgrammeArea, list[int]]

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


class Serving(Section):
    """Self-hosted inference of the fine-tuned model."""

    modelled: bool = True
    gpu: str
    tier: str
    gpus: Count
    hours_per_month: Quantity
    rate_usd_per_gpu_hour: Quantity | None = None
    tokens_per_second: PositiveQuantity
    peak_to_average: PositiveQuantity
    setup_usd: Quantity = 0.0


class ApiAlternative(Section):
    """A frontier API doing the same job: a monthly bill, or tokens × price. A ``model`` is any
    model genai-prices knows (``provider`` when the name is ambiguous), priced at the plan's
    start date for requests of ``input_tokens_per_request`` input tokens (None: the price
    book's typical request). Prices given here win over the model's."""

    usd_per_month: Quantity | None = None
    model: str | None = None
    provider: str | None = None
    input_tokens_per_request: int | None = Field(default=None, ge=1)
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

    staff: Quantity = 0.0
    hours_per_staff_per_month: Quantity = 0.0
    time_saved_fraction: Fraction = 0.0
    loaded_rate_usd_per_hour: Quantity = 0.0


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


SCENARIO_FIXED_KEYS = ("client", "currency", "scenarios")
"""Top-level keys a scenario may not override."""


def _unknown_override_keys(model: type[BaseModel], overrides: dict[str, Any], where: str = "") -> list[str]:
    """Keys of ``overrides`` the schema does not know, each with the closest valid key."""
    problems = []
    for key, value in overrides.items():
        field = model.model_fields.get(key)
        path = f"{where}{key}"
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


class Params(Section):
    """One client's whole plan."""

    client: Name
    currency: Literal["USD"]
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
    scenarios: list[Scenario] = Field(default=[], max_length=MAX_SCENARIOS)

    @model_validator(mode="after")
    def _launch_within_horizon(self) -> Params:
        """The horizon counts from the programme's start, so the build must end before it."""
        if self.programme.build_months >= self.horizon_months:
            raise ValueError(
                f"programme.build_months ({self.programme.build_months}) must be shorter than "
                f"horizon_months ({self.horizon_months}): the horizon counts from the programme's start"
            )
        return self


TOP_LEVEL_KEYS: tuple[str, ...] = tuple(Params.model_fields)
"""The keys a client file (and a notebook's ``parameters`` cell) may set."""
