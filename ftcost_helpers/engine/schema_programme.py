"""The programme blocks of a client file: ``dataset``, ``evaluation``, ``maintenance``,
``engineering``, ``compliance``, ``programme`` (its stage gates) and ``serving``.

Re-exported by :mod:`ftcost_helpers.engine.schema`, where client code imports them from.
"""

from __future__ import annotations

import itertools
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    Field,
    field_validator,
    model_validator,
)

from ftcost_helpers.engine.ceilings import (  # each key's own ceiling: see that module
    MAX_ENGINEER_WEEKS,
    MAX_HOURLY_RATE,
    MAX_HOURS_PER_WEEK,
    MAX_MIGRATIONS_PER_YEAR,
    MAX_MINUTES_PER_PAIR,
    MAX_RETRAIN_FRACTION,
    MAX_RETRAINS_PER_QUARTER,
)
from ftcost_helpers.engine.quantities import (
    Count,
    FiniteAmount,
    Fraction,
    Name,
    PositiveCount,
    PositiveQuantity,
    Quantity,
    Range,
    Share,
    at_most,
    low_high,
)
from ftcost_helpers.engine.schema_base import (
    MAX_HORIZON,
    Flag,
    ProgrammeArea,
    Section,
    SpendProfile,
)


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
