"""What an audit finding is (:mod:`~ftcost_helpers.engine.audit`): the codes, each one's
severity and plain-words title, :class:`Finding` and its ranking by what is at stake, and
the figures and phrases the checks share (the saving of a fix as :func:`cash_gain`, the
plan's GPU-hours and months in service, amounts in the plan's currency)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.model import roi
from ftcost_helpers.engine.model.run import ModelRun
from ftcost_helpers.engine.money import code
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import Number, Range
from ftcost_helpers.engine.schema import Params

RATE_OUTSIDE_PRICE_BOOK = "RATE_OUTSIDE_PRICE_BOOK"
API_PRICE_PER_1K_LOOKS_PER_1M = "API_PRICE_PER_1K_LOOKS_PER_1M"
BUDGET_SPLIT_DATA = "BUDGET_SPLIT_DATA"
BUDGET_SPLIT_COMPUTE = "BUDGET_SPLIT_COMPUTE"
DATASET_UNDER_3X_COMPUTE = "DATASET_UNDER_3X_COMPUTE"
FULL_FT_WITHOUT_TOKENIZER_CHANGE = "FULL_FT_WITHOUT_TOKENIZER_CHANGE"
SWEEP_WITHOUT_EARLY_STOPPING = "SWEEP_WITHOUT_EARLY_STOPPING"
ON_DEMAND_HYPERSCALER = "ON_DEMAND_HYPERSCALER"
NO_EVAL_HARNESS = "NO_EVAL_HARNESS"
NO_FROZEN_TEST_SET = "NO_FROZEN_TEST_SET"
NO_CONTAMINATION_CHECK = "NO_CONTAMINATION_CHECK"
NO_INFERENCE_COST_MODEL = "NO_INFERENCE_COST_MODEL"
BASE_MODEL_END_OF_LIFE = "BASE_MODEL_END_OF_LIFE"
MODEL_DOES_NOT_FIT = "MODEL_DOES_NOT_FIT"
UTILISATION_IMPLAUSIBLY_LOW = "UTILISATION_IMPLAUSIBLY_LOW"
UTILISATION_IMPLAUSIBLY_HIGH = "UTILISATION_IMPLAUSIBLY_HIGH"
PRICE_BOOK_STALE = "PRICE_BOOK_STALE"
FX_RATE_STALE = "FX_RATE_STALE"
ARCHITECTURE_MISMATCH = "ARCHITECTURE_MISMATCH"
MAINTENANCE_OUTSIDE_SOURCE_RANGE = "MAINTENANCE_OUTSIDE_SOURCE_RANGE"
SERVING_BELOW_LOAD = "SERVING_BELOW_LOAD"
MANAGED_UNPACKED_BILLING = "MANAGED_UNPACKED_BILLING"
MANAGED_SERVICE_END_OF_LIFE = "MANAGED_SERVICE_END_OF_LIFE"

AUDIT_CODES: tuple[str, ...] = (
    RATE_OUTSIDE_PRICE_BOOK,
    API_PRICE_PER_1K_LOOKS_PER_1M,
    BUDGET_SPLIT_DATA,
    BUDGET_SPLIT_COMPUTE,
    DATASET_UNDER_3X_COMPUTE,
    FULL_FT_WITHOUT_TOKENIZER_CHANGE,
    SWEEP_WITHOUT_EARLY_STOPPING,
    ON_DEMAND_HYPERSCALER,
    NO_EVAL_HARNESS,
    NO_FROZEN_TEST_SET,
    NO_CONTAMINATION_CHECK,
    NO_INFERENCE_COST_MODEL,
    SERVING_BELOW_LOAD,
    BASE_MODEL_END_OF_LIFE,
    MAINTENANCE_OUTSIDE_SOURCE_RANGE,
    MODEL_DOES_NOT_FIT,
    UTILISATION_IMPLAUSIBLY_LOW,
    UTILISATION_IMPLAUSIBLY_HIGH,
    ARCHITECTURE_MISMATCH,
    MANAGED_UNPACKED_BILLING,
    MANAGED_SERVICE_END_OF_LIFE,
    PRICE_BOOK_STALE,
    FX_RATE_STALE,
)

"""Every code the audit can raise, in the order the checks run."""

HYPERSCALER_ON_DEMAND = "hyperscaler_on_demand"
LOCAL_TIERS = ("local_owned",)
SEED_MARKET = "001_6c04196dc11ea2b6.txt"
MIGRATION_ITEM = "Base-model migration"
"""The maintenance item the source's quarterly headline leaves out."""


SEVERITY: dict[str, str] = {
    **dict.fromkeys(
        (
            MODEL_DOES_NOT_FIT,
            SERVING_BELOW_LOAD,
            API_PRICE_PER_1K_LOOKS_PER_1M,
            NO_INFERENCE_COST_MODEL,
            UTILISATION_IMPLAUSIBLY_HIGH,
            ARCHITECTURE_MISMATCH,
        ),
        "critical",
    ),
    **dict.fromkeys(
        (
            FULL_FT_WITHOUT_TOKENIZER_CHANGE,
            SWEEP_WITHOUT_EARLY_STOPPING,
            ON_DEMAND_HYPERSCALER,
            RATE_OUTSIDE_PRICE_BOOK,
            UTILISATION_IMPLAUSIBLY_LOW,
            BASE_MODEL_END_OF_LIFE,
            MANAGED_UNPACKED_BILLING,
            MANAGED_SERVICE_END_OF_LIFE,
        ),
        "high",
    ),
    **dict.fromkeys(
        (NO_EVAL_HARNESS, NO_FROZEN_TEST_SET, NO_CONTAMINATION_CHECK, BUDGET_SPLIT_DATA, DATASET_UNDER_3X_COMPUTE),
        "medium",
    ),
    **dict.fromkeys((BUDGET_SPLIT_COMPUTE, MAINTENANCE_OUTSIDE_SOURCE_RANGE, PRICE_BOOK_STALE, FX_RATE_STALE), "low"),
}
"""How much each code matters when no saving ranks it: ``critical``, the plan's figures are
wrong or it cannot run as written; ``high``, money spent for nothing or a forced cost
ahead; ``medium``, a practice whose absence risks a re-train; ``low``, a figure to check."""

SEVERITY_ORDER: tuple[str, ...] = ("critical", "high", "medium", "low")

TITLES: dict[str, str] = {
    RATE_OUTSIDE_PRICE_BOOK: "Booked {section} GPU rate outside the market range",
    API_PRICE_PER_1K_LOOKS_PER_1M: "API prices that look like prices per million tokens, not per thousand",
    BUDGET_SPLIT_DATA: "Data and evaluation share of the budget outside the usual range",
    BUDGET_SPLIT_COMPUTE: "Compute share of the budget above the usual range",
    DATASET_UNDER_3X_COMPUTE: "Data budget small beside the compute budget",
    FULL_FT_WITHOUT_TOKENIZER_CHANGE: "Full fine-tuning where a cheaper adapter (LoRA) would do",
    SWEEP_WITHOUT_EARLY_STOPPING: "Tuning trials run to the end instead of stopped early",
    ON_DEMAND_HYPERSCALER: "Big-cloud on-demand prices for {section} GPUs where cheaper ones would do",
    NO_EVAL_HARNESS: "No automated evaluation",
    NO_FROZEN_TEST_SET: "No fixed test set",
    NO_CONTAMINATION_CHECK: "No check that test questions leaked into the training data",
    NO_INFERENCE_COST_MODEL: "Running the model in production left out of the costs",
    SERVING_BELOW_LOAD: "Too few serving GPUs for the busiest hours",
    BASE_MODEL_END_OF_LIFE: "Base model retired before the horizon ends",
    MAINTENANCE_OUTSIDE_SOURCE_RANGE: "Upkeep cost outside the usual range",
    MODEL_DOES_NOT_FIT: "Model too large for the chosen GPUs",
    UTILISATION_IMPLAUSIBLY_LOW: "More GPU time booked than the work needs",
    UTILISATION_IMPLAUSIBLY_HIGH: "Less GPU time booked than the work needs",
    ARCHITECTURE_MISMATCH: "Model size and architecture disagree",
    PRICE_BOOK_STALE: "GPU prices out of date",
    MANAGED_UNPACKED_BILLING: "Fine-tuning service billing padding on unpacked examples",
    MANAGED_SERVICE_END_OF_LIFE: "Fine-tuning service stops before the horizon ends",
    FX_RATE_STALE: "Exchange rate out of date",
}
"""Each code's title in plain words, for a decision-maker (the code is for the analyst);
``{section}`` is ``training`` or ``serving`` for a rule that checks both (:attr:`Finding.title`)."""


def generic_title(code: str) -> str:
    """A code's title without naming training or serving."""
    return TITLES[code].replace("{section} ", "")


PER_SECTION_CODES = frozenset({RATE_OUTSIDE_PRICE_BOOK, ON_DEMAND_HYPERSCALER})
"""Rules checked for training (area ``compute``) and for serving (area ``roi``) alike."""

STAKE_BANDS: tuple[tuple[float, str], ...] = ((0.10, "high"), (0.02, "medium"))
"""A finding's severity by the dollars at stake as a share of the plan's cost of ownership:
``high`` from 10%, ``medium`` from 2%, ``low`` below (assumption: a tenth of the budget is
what a sponsor re-approves, a fiftieth what a contingency line absorbs)."""


def severity_at_stake(code: str, at_stake_usd: float | None, tco_usd: float | None) -> str:
    """How much a finding matters: a ``critical`` rule (the plan cannot run as written, or its
    figures are wrong) stays critical; any other finding with a dollar figure is banded by
    that figure's size (either sign) against the cost of ownership (:data:`STAKE_BANDS`);
    one without a dollar figure, or without a cost of ownership to weigh it against, keeps
    its rule's severity (:data:`SEVERITY`)."""
    rule = SEVERITY[code]
    if rule == "critical" or at_stake_usd is None or tco_usd is None or tco_usd <= 0:
        return rule
    share = abs(at_stake_usd) / tco_usd
    return next((band for floor, band in STAKE_BANDS if share >= floor), "low")


@dataclass(frozen=True)
class Finding:
    """One warning of the audit."""

    code: str
    area: str
    message: str
    saving_usd: float | None = None
    """USD over the horizon that following the advice saves (:func:`cash_gain`: the plan's
    cumulative cash position at the horizon with the fix applied, minus without it; for a fix
    that leaves the alternative alone, the fall in the cost of ownership). Negative when the
    fix costs what the plan leaves out or corrects an overstated saving; None when no fix
    can be costed (a practice, a reallocation, a figure to check)."""
    client_message: str | None = None
    """The message in a decision-maker's words where ``message`` speaks to the analyst
    (None: ``message`` serves both)."""
    tco_usd: float | None = None
    """The plan's cost of ownership over the horizon (USD, base case) that the saving is
    weighed against for :attr:`severity`; set by :func:`audit` (None: the rule's severity)."""

    @property
    def title(self) -> str:
        """The finding's title in plain words (:data:`TITLES`), naming training or serving
        for a rule that checks both (so two findings never share a title)."""
        section = "training" if self.area == "compute" else "serving"
        return TITLES[self.code].replace("{section}", section) if self.code in PER_SECTION_CODES else TITLES[self.code]

    @property
    def severity(self) -> str:
        """``critical``, ``high``, ``medium`` or ``low``: by the dollars at stake against the
        cost of ownership where the finding has them (:func:`severity_at_stake`)."""
        return severity_at_stake(self.code, self.saving_usd, self.tco_usd)

    @property
    def for_client(self) -> str:
        """The message a client document prints."""
        return self.client_message or self.message

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title,
            "area": self.area,
            "severity": self.severity,
            "message": self.message,
            "client_message": self.client_message,
            "saving_usd": None if self.saving_usd is None else round(float(self.saving_usd), 2),
        }


def ranked(findings: Iterable[Finding]) -> list[Finding]:
    """The findings most important first: those with a saving by the USD at stake (its size,
    either sign: a plan short by USD 50,000 matters as much as a USD 50,000 waste), then
    those without one by severity; ties keep the audit's order."""

    def importance(finding: Finding) -> tuple[bool, float, int]:
        at_stake = -abs(finding.saving_usd) if finding.saving_usd is not None else 0.0
        return finding.saving_usd is None, at_stake, SEVERITY_ORDER.index(finding.severity)

    return sorted(findings, key=importance)


def cash_gain(run: ModelRun, fixed: ModelRun) -> float:
    """USD by which ``fixed`` (the plan with a fix applied) ends the horizon better off than
    ``run``: the difference of their cumulative cash positions in the last month
    (:func:`~ftcost_helpers.engine.model.roi.cumulative_cash_flow`)."""
    return _f(fixed.cash_flow[..., -1]) - _f(run.cash_flow[..., -1])


def _usd(value: float) -> str:
    return f"{code()} {value:,.0f}"


def _usd_range(low: float, high: float) -> str:
    return f"{code()} {low:,.0f}–{high:,.0f}"


def _f(value: Number) -> float:
    """A base-case figure of the run as a float."""
    return float(np.mean(value))


def _band(value: Range) -> str:
    return f"{value.low:g}–{value.high:g}"


def _gpu_hours(run: ModelRun) -> float:
    """GPU-hours the plan books, reruns and sweep included."""
    return _f(run.compute.booked_gpu_hours) + _f(run.compute.rerun_gpu_hours)


def _training_rate(run: ModelRun) -> float:
    return _f(run.compute.rate_usd_per_gpu_hour)


def _months_in_service(params: Params) -> int:
    """Months of the horizon after launch, the only months serving runs (the engine's rule,
    :func:`~ftcost_helpers.engine.model.roi.operating_months`)."""
    return int(roi.operating_months(params.programme.build_months, params.horizon_months).sum())


def _service_span(params: Params) -> str:
    """`` over 24 months``, or with a build period `` over the 21 months after launch``."""
    if params.programme.build_months == 0:
        return f" over {params.horizon_months} months"
    return f" over the {_months_in_service(params)} months after launch"


def _serving_gpu_hours(params: Params, run: ModelRun) -> float:
    """Serving GPU-hours over the months after launch, from the run's serving facts."""
    return _f(run.serving.gpu_hours_per_month) * _months_in_service(params)


RETRAINS_INCLUDED = "the re-trains maintenance repeats included"
RERUNS_INCLUDED = "with the failed runs, sweep and re-trains that scale with the runs"


def _with_what_scales(params: Params, direct: float, saving: float, what: str = RETRAINS_INCLUDED) -> str:
    """A clause giving the horizon's figure where it differs from the one a message quotes
    (compute repeats in the re-trains that maintenance budgets as a share of it)."""
    if round(abs(direct)) == round(abs(saving)):
        return ""
    return f" ({_usd(abs(saving))} over the {params.horizon_months}-month cost of ownership, {what})"


def _rerun_base(params: Params, book: PriceBook, **changes) -> ModelRun:
    """The base-case run of the plan with ``changes`` ({section: {key: value}}) applied."""
    updates = {section: getattr(params, section).model_copy(update=values) for section, values in changes.items()}
    return evaluate(params.model_copy(update=updates), book)


def _month_text(month: float) -> str:
    return "never within the horizon" if np.isnan(month) else f"month {int(month)}"
