"""The plan audit: the cost mistakes the source documents list, found in a plan.

Each finding has a stable ``code`` (see :data:`AUDIT_CODES`), the area it concerns
(``compute``, ``dataset``, ``eval``, ``maintenance`` or ``roi``: the notebook that shows
it), a message saying what is wrong, by how much, and what fixing it would save, and,
where the fix can be costed, its saving in USD over the horizon: the plan evaluated again
with the fix applied (:func:`~ftcost_helpers.engine.evaluate.evaluate`), its cumulative
cash position at the horizon compared with the plan's (:func:`cash_gain`). A finding also
has a severity (:data:`SEVERITY`); :func:`ranked` orders findings by what is at stake.
Every threshold comes from the price book; the checks read the plan and its base-case run.

Here: which checks run, in what order, and which apply to the plan (:func:`audit`). What a
finding is, its codes, severities and titles: :mod:`.audit_findings`; the checks by area:
:mod:`.audit_compute`, :mod:`.audit_programme` (budget and evaluation), :mod:`.audit_running`
(serving, the API alternative, maintenance), :mod:`.audit_dates` (stale prices and rates),
:mod:`.audit_managed` (managed fine-tuning). Every name is also importable from here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from ftcost_helpers.engine.audit_compute import (
    architecture_mismatch,
    full_ft_without_tokenizer_change,
    implied_utilisation,
    model_does_not_fit,
    on_demand_hyperscaler,
    rate_outside_price_book,
    sweep_without_early_stopping,
)
from ftcost_helpers.engine.audit_dates import fx_rate_stale, price_book_stale
from ftcost_helpers.engine.audit_findings import (
    API_PRICE_PER_1K_LOOKS_PER_1M,
    ARCHITECTURE_MISMATCH,
    AUDIT_CODES,
    BASE_MODEL_END_OF_LIFE,
    BUDGET_SPLIT_COMPUTE,
    BUDGET_SPLIT_DATA,
    DATASET_UNDER_3X_COMPUTE,
    FULL_FT_WITHOUT_TOKENIZER_CHANGE,
    FX_RATE_STALE,
    HYPERSCALER_ON_DEMAND,
    LOCAL_TIERS,
    MAINTENANCE_OUTSIDE_SOURCE_RANGE,
    MANAGED_SERVICE_END_OF_LIFE,
    MANAGED_UNPACKED_BILLING,
    MIGRATION_ITEM,
    MODEL_DOES_NOT_FIT,
    NO_CONTAMINATION_CHECK,
    NO_EVAL_HARNESS,
    NO_FROZEN_TEST_SET,
    NO_INFERENCE_COST_MODEL,
    ON_DEMAND_HYPERSCALER,
    PER_SECTION_CODES,
    PRICE_BOOK_STALE,
    RATE_OUTSIDE_PRICE_BOOK,
    RERUNS_INCLUDED,
    RETRAINS_INCLUDED,
    SEED_MARKET,
    SERVING_BELOW_LOAD,
    SEVERITY,
    SEVERITY_ORDER,
    STAKE_BANDS,
    SWEEP_WITHOUT_EARLY_STOPPING,
    TITLES,
    UTILISATION_IMPLAUSIBLY_HIGH,
    UTILISATION_IMPLAUSIBLY_LOW,
    Finding,
    _f,
    cash_gain,
    generic_title,
    ranked,
    severity_at_stake,
)
from ftcost_helpers.engine.audit_managed import managed_service_end_of_life, managed_unpacked_billing
from ftcost_helpers.engine.audit_programme import budget_split, dataset_under_compute, missing_eval_practices
from ftcost_helpers.engine.audit_running import (
    _break_even_shift,
    api_price_per_1k_looks_per_1m,
    base_model_end_of_life,
    maintenance_outside_source_range,
    no_inference_cost_model,
    serving_below_load,
)
from ftcost_helpers.engine.model.run import ModelRun
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.schema import Params

__all__ = [
    "API_PRICE_PER_1K_LOOKS_PER_1M",
    "ARCHITECTURE_MISMATCH",
    "AUDIT_CODES",
    "BASE_MODEL_END_OF_LIFE",
    "BOOKED_GPU_CODES",
    "BUDGET_SPLIT_COMPUTE",
    "BUDGET_SPLIT_DATA",
    "CHECKS",
    "DATASET_UNDER_3X_COMPUTE",
    "FULL_FT_WITHOUT_TOKENIZER_CHANGE",
    "FX_RATE_STALE",
    "HYPERSCALER_ON_DEMAND",
    "LOCAL_TIERS",
    "MAINTENANCE_OUTSIDE_SOURCE_RANGE",
    "MANAGED_SERVICE_END_OF_LIFE",
    "MANAGED_UNPACKED_BILLING",
    "MIGRATION_ITEM",
    "MODEL_DOES_NOT_FIT",
    "NO_CONTAMINATION_CHECK",
    "NO_EVAL_HARNESS",
    "NO_FROZEN_TEST_SET",
    "NO_INFERENCE_COST_MODEL",
    "ON_DEMAND_HYPERSCALER",
    "PER_SECTION_CODES",
    "PRICE_BOOK_STALE",
    "RATE_OUTSIDE_PRICE_BOOK",
    "RERUNS_INCLUDED",
    "RETRAINS_INCLUDED",
    "SEED_MARKET",
    "SERVING_BELOW_LOAD",
    "SEVERITY",
    "SEVERITY_ORDER",
    "STAKE_BANDS",
    "SWEEP_WITHOUT_EARLY_STOPPING",
    "TITLES",
    "UTILISATION_IMPLAUSIBLY_HIGH",
    "UTILISATION_IMPLAUSIBLY_LOW",
    "Check",
    "Finding",
    "_break_even_shift",
    "api_price_per_1k_looks_per_1m",
    "architecture_mismatch",
    "audit",
    "base_model_end_of_life",
    "budget_split",
    "cash_gain",
    "dataset_under_compute",
    "full_ft_without_tokenizer_change",
    "fx_rate_stale",
    "generic_title",
    "implied_utilisation",
    "maintenance_outside_source_range",
    "managed_service_end_of_life",
    "managed_unpacked_billing",
    "missing_eval_practices",
    "model_does_not_fit",
    "no_inference_cost_model",
    "on_demand_hyperscaler",
    "price_book_stale",
    "ranked",
    "rate_outside_price_book",
    "serving_below_load",
    "severity_at_stake",
    "sweep_without_early_stopping",
]
"""The names other modules import from the audit, wherever they are defined."""

Check = Callable[[Params, PriceBook, ModelRun], list[Finding]]


CHECKS: tuple[Check, ...] = (
    rate_outside_price_book,
    api_price_per_1k_looks_per_1m,
    budget_split,
    dataset_under_compute,
    full_ft_without_tokenizer_change,
    sweep_without_early_stopping,
    on_demand_hyperscaler,
    missing_eval_practices,
    no_inference_cost_model,
    serving_below_load,
    base_model_end_of_life,
    maintenance_outside_source_range,
    model_does_not_fit,
    implied_utilisation,
    architecture_mismatch,
    managed_unpacked_billing,
    managed_service_end_of_life,
    fx_rate_stale,
)
"""Checks that look at the plan and its base-case run."""


BOOKED_GPU_CODES = frozenset(
    {
        RATE_OUTSIDE_PRICE_BOOK,
        ON_DEMAND_HYPERSCALER,
        UTILISATION_IMPLAUSIBLY_LOW,
        UTILISATION_IMPLAUSIBLY_HIGH,
        MODEL_DOES_NOT_FIT,
    }
)
"""Rules about booked GPUs: they do not apply to training a managed service runs (area
``compute``), nor to serving billed per token (area ``roi``)."""


def _applies(finding: Finding, params: Params) -> bool:
    """Whether a finding concerns what the plan books: GPU rules are dropped for a managed
    service's training and for per-token serving (serverless, batch)."""
    if finding.code not in BOOKED_GPU_CODES:
        return True
    if finding.area == "compute":
        return params.training.provider != "managed"
    return params.serving.shape not in ("serverless", "batch")


def audit(params: Params, book: PriceBook, run: ModelRun, today: dt.date | None = None) -> list[Finding]:
    """Every finding for a plan; ``today`` (if given) also checks the price book's age."""
    findings = [finding for check in CHECKS for finding in check(params, book, run) if _applies(finding, params)]
    if today is not None:
        findings += price_book_stale(book, today, params)
    tco = _f(run.tco)
    return [dataclasses.replace(finding, tco_usd=tco) for finding in findings]
