"""The plan-wide blocks of a client file: ``uncertainty``, ``finance``, ``storage``,
``report`` and the ``calibration`` a pilot run writes.

Re-exported by :mod:`ftcost_helpers.engine.schema`, where client code imports them from.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ftcost_helpers.engine.ceilings import MAX_HOURS_PER_MILLION_TOKENS  # each key's own ceiling: see that module
from ftcost_helpers.engine.quantities import (
    CalendarDate,
    Count,
    FiniteAmount,
    Name,
    PositiveCount,
    PositiveFraction,
    PositiveQuantity,
    Quantity,
    Text,
    at_most,
)
from ftcost_helpers.engine.schema_base import (
    MAX_DRAWS,
    Method,
    Section,
)


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
