"""The plan audit: the cost mistakes the source documents list, found in a plan.

Each finding has a stable ``code`` (see :data:`AUDIT_CODES`), the area it concerns
(``compute``, ``dataset``, ``eval``, ``maintenance`` or ``roi``: the notebook that shows
it), a message saying what is wrong, by how much, and what fixing it would save, and,
where the fix can be costed, its saving in USD over the horizon: the plan evaluated again
with the fix applied (:func:`~ftcost_helpers.engine.evaluate.evaluate`), its cumulative
cash position at the horizon compared with the plan's (:func:`cash_gain`). A finding also
has a severity (:data:`SEVERITY`); :func:`ranked` orders findings by what is at stake.
Every threshold comes from the price book; the checks read the plan and its base-case run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ftcost_helpers.engine import audit_managed
from ftcost_helpers.engine.corrections import serving_shortfall
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.fit import plan_fit
from ftcost_helpers.engine.model import roi
from ftcost_helpers.engine.model.run import ModelRun, alternative_tokens_million_per_month, api_monthly
from ftcost_helpers.engine.model.training import ARCHITECTURE_TOLERANCE
from ftcost_helpers.engine.money import code
from ftcost_helpers.engine.overrides import scenario_params
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.provenance import uses_default_utilisation
from ftcost_helpers.engine.quantities import Number, Range, base_value
from ftcost_helpers.engine.resolve import pick_base, resolve
from ftcost_helpers.engine.schema import Params, Scenario

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
MANAGED_UNPACKED_BILLING = audit_managed.MANAGED_UNPACKED_BILLING
MANAGED_SERVICE_END_OF_LIFE = audit_managed.MANAGED_SERVICE_END_OF_LIFE

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


# --- compute ---------------------------------------------------------------------------


def rate_outside_price_book(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """A booked training or serving rate outside the price book's range for that GPU and tier."""
    findings = []
    t, s = params.training, params.serving
    if t.rate_usd_per_gpu_hour is not None:
        findings += _rate_check(params, book, run, "training", _gpu_hours(run), "")
    if s.rate_usd_per_gpu_hour is not None and s.modelled:
        findings += _rate_check(params, book, run, "serving", _serving_gpu_hours(params, run), _service_span(params))
    return findings


def _rate_check(params: Params, book: PriceBook, run: ModelRun, section: str, hours: float, span: str) -> list[Finding]:
    """The booked rate of ``section`` (training or serving) against the price book's band;
    the fix costed is booking at the band's midpoint (the plan without its own rate)."""
    plan = getattr(params, section)
    gpu, tier, booked = plan.gpu, plan.tier, base_value(plan.rate_usd_per_gpu_hour)
    band = book.gpu_rates_usd_per_gpu_hour.get(gpu, {}).get(tier)
    if band is None or band.low <= booked <= band.high:  # no listed rate: nothing to compare with
        return []
    direct = (booked - band.base) * hours
    saving = cash_gain(run, _rerun_base(params, book, **{section: {"rate_usd_per_gpu_hour": None}}))
    direction = "above" if booked > band.high else "below"
    return [
        Finding(
            RATE_OUTSIDE_PRICE_BOOK,
            "compute" if section == "training" else "roi",
            f"Booked {section} rate {code()} {booked:,.2f}/GPU-hour for {book.gpus[gpu].label} on {tier} "
            f"is {direction} "
            f"the price book's {code()} {band.low:,.2f}–{band.high:,.2f} ({book.as_of}); at the midpoint the "
            f"{hours:,.0f} GPU-hours{span} would cost {_usd(abs(direct))} {'less' if direct > 0 else 'more'}"
            f"{_with_what_scales(params, direct, saving)}.",
            saving,
        )
    ]


def full_ft_without_tokenizer_change(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """Full fine-tuning where LoRA would do: no tokenizer or vocabulary change.

    The saving quoted is the model's own for the switch: the plan evaluated with method
    ``lora`` by the scenario rules (:func:`~ftcost_helpers.engine.overrides.scenario_params`: same GPU,
    tier, rate and GPU count, hours scaled by the physics FLOPs at the plan's efficiency),
    the same figures a LoRA scenario shows in the scenario table."""
    t = params.training
    if t.method != "full_sft" or t.tokenizer_change:
        return []
    lora_plan = _switched_to_lora(params, book)
    lora = evaluate(lora_plan, book)
    if _f(lora.compute.flops_per_run) <= 0:
        return []  # no tokens to train on: no FLOPs to compare (the physics view does not apply)
    compute_usd, lora_usd = _f(run.area_total("compute")), _f(lora.area_total("compute"))
    flops_ratio = _f(run.compute.flops_per_run) / _f(lora.compute.flops_per_run)
    gpus_full, gpus_lora = float(np.max(run.compute.fewest_gpus)), float(np.max(lora.compute.fewest_gpus))
    tco_saving = cash_gain(run, lora)
    return [
        Finding(
            FULL_FT_WITHOUT_TOKENIZER_CHANGE,
            "compute",
            f"Full fine-tuning of {params.base_model.name} with no tokenizer or vocabulary change. Full "
            f"training needs {flops_ratio:.1f}× LoRA's FLOPs per run: with LoRA, at this plan's own efficiency, "
            f"compute would cost {_usd(lora_usd)} instead of {_usd(compute_usd)}, saving "
            f"{_usd(compute_usd - lora_usd)} ({_usd(tco_saving)} over the {params.horizon_months}-month cost of "
            f"ownership, the re-trains maintenance repeats included). The cost is in GPU-hours, so it holds on "
            f"the plan's {_gpus(t.gpus_per_run)} or on the {_gpus(gpus_lora)} LoRA needs at least (full "
            f"training: {_gpus(gpus_full)}); only the wall-clock time differs. The source ({SEED_MARKET}) claims "
            f"LoRA matches full fine-tuning in {_share_band(book.lora_matches_full_ft_share)} of cases and puts "
            f"full fine-tuning at {_band(book.full_ft_waste_vs_lora)}× LoRA's compute.",
            tco_saving,
        )
    ]


def _switched_to_lora(params: Params, book: PriceBook) -> Params:
    """The plan with method ``lora``, by the scenario rules."""
    return scenario_params(params, book, Scenario(name="LoRA", overrides={"training": {"method": "lora"}}))


def _gpus(count: float) -> str:
    return f"{count:.0f} GPU" if count == 1 else f"{count:.0f} GPUs"


def _share_band(value: Range) -> str:
    return f"{100 * value.low:g}–{100 * value.high:g}%"


def sweep_without_early_stopping(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """A hyper-parameter sweep whose trials all run to the end."""
    t = params.training
    trials = base_value(t.sweep_trials)
    if trials <= 0 or t.sweep_early_stopping:
        return []
    sweep_usd = _f(next(line.value for line in run.lines if line.item.startswith("Hyper-parameter sweep")))
    kept = base_value(t.early_stopped_trial_fraction)
    direct = sweep_usd * (1 - kept)
    saving = cash_gain(run, _rerun_base(params, book, training={"sweep_early_stopping": True}))
    return [
        Finding(
            SWEEP_WITHOUT_EARLY_STOPPING,
            "compute",
            f"The sweep runs {trials:g} trials to the end with no early stopping: {_usd(sweep_usd)}, "
            f"{_band(book.sweep_without_early_stopping_waste)}× what it needs ({SEED_MARKET}). Stopping poor "
            f"trials at {kept:.0%} of their length would cost {_usd(sweep_usd * kept)}, saving "
            f"{_usd(direct)}{_with_what_scales(params, direct, saving)}.",
            saving,
        )
    ]


def on_demand_hyperscaler(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """On-demand hyperscaler GPUs where spot or neocloud would do (no HIPAA constraint)."""
    if params.compliance.hipaa:
        return []
    findings = []
    t, s = params.training, params.serving
    if t.tier == HYPERSCALER_ON_DEMAND:
        findings += _cheaper_tier(params, book, run, "training", _training_rate(run), _gpu_hours(run), "")
    if s.modelled and s.tier == HYPERSCALER_ON_DEMAND and s.gpus > 0:
        rate, hours = _f(run.serving.rate_usd_per_gpu_hour), _serving_gpu_hours(params, run)
        findings += _cheaper_tier(params, book, run, "serving", rate, hours, _service_span(params))
    return findings


def _cheaper_tier(
    params: Params, book: PriceBook, run: ModelRun, section: str, rate: float, hours: float, span: str
) -> list[Finding]:
    """The cheapest rented tier for ``section``'s GPU, and what moving there saves (the plan
    evaluated on that tier at its price-book midpoint, a booked rate dropped as a scenario
    that changes the tier drops it)."""
    gpu = getattr(params, section).gpu
    offers = {
        tier: band.base
        for tier, band in book.gpu_rates_usd_per_gpu_hour.get(gpu, {}).items()
        if tier != HYPERSCALER_ON_DEMAND and tier not in LOCAL_TIERS
    }
    if not offers:
        return []
    tier, cheaper = min(offers.items(), key=lambda item: item[1])
    direct = max(rate - cheaper, 0.0) * hours
    moved = _rerun_base(params, book, **{section: {"tier": tier, "rate_usd_per_gpu_hour": None}})
    saving = cash_gain(run, moved)
    return [
        Finding(
            ON_DEMAND_HYPERSCALER,
            "compute" if section == "training" else "roi",
            f"{section.capitalize()} on hyperscaler on-demand {book.gpus[gpu].label} at {code()} {rate:,.2f}/GPU-hour "
            f"with no HIPAA constraint: the source ({SEED_MARKET}) counts this among the top cost mistakes "
            f"({_band(book.on_demand_hyperscaler_waste)}× compute). On {tier} ({code()} {cheaper:,.2f} midpoint) the "
            f"{hours:,.0f} GPU-hours{span} would cost {_usd(direct)} less{_with_what_scales(params, direct, saving)}.",
            saving,
        )
    ]


def model_does_not_fit(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """The model, its training states and activations do not fit the chosen GPUs: only when
    the fit verdict (:func:`~ftcost_helpers.engine.fit.plan_fit`) is "does not fit", never
    on a borderline one."""
    c, t = run.compute, params.training
    fit = plan_fit(params, book, run)
    if fit.fits:
        return []
    needed = fit.fewest_gpus
    gpu = book.gpus[t.gpu].label
    head = (
        f"{params.base_model.name} with {t.method} needs {fit.allocated_gb:,.1f} GB of live tensors per GPU on "
        f"{t.gpus_per_run} × {gpu} ({_f(c.state_gb):,.1f} GB of weights and optimizer states"
        f"{' sharded' if t.sharding != 'none' else ''}, {float(c.activations_gb):,.1f} GB of activations), "
        f"{fit.need_p10_gb:,.1f}–{fit.need_p90_gb:,.1f} GB of device memory with the CUDA context and the "
        f"allocator's fragmentation (P10–P90), but each holds {fit.capacity_gb:,.1f} GB: the runs will not start."
    )
    if not np.isfinite(needed):
        fix = f" It fits on no number of these GPUs as configured: {', '.join(fit.fixes)}."
        return [Finding(MODEL_DOES_NOT_FIT, "compute", head + fix)]
    extra = _f(run.area_total("compute")) * (needed / t.gpus_per_run - 1.0)
    saving = cash_gain(run, _rerun_base(params, book, training={"gpus_per_run": int(needed)}))
    fix = (
        f" It needs at least {needed:.0f} GPUs per run: at the same hours that adds {_usd(extra)} the plan "
        f"leaves out{_with_what_scales(params, extra, saving)} (or: {', '.join(fit.fixes)})."
    )
    return [Finding(MODEL_DOES_NOT_FIT, "compute", head + fix, saving)]


def implied_utilisation(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """Booked GPU-hours that imply an implausibly low or high utilisation of the GPUs'
    peak, against the physics view (FLOPs of the method and the data)."""
    c, t = run.compute, params.training
    implied = _f(c.implied_utilisation)
    band = book.implied_utilisation_plausible
    if np.isnan(implied) or band.low <= implied <= band.high:
        return []
    booked, physics = _f(c.booked_gpu_hours_per_run), _f(c.physics_gpu_hours_per_run)
    runs, rate = base_value(t.runs), _training_rate(run)
    assumed = _f(c.utilisation)
    gpu = book.gpus[t.gpu].label
    facts = (
        f"{booked:,.0f} GPU-hours per run on {gpu} for {_f(c.tokens_per_run) / 1e6:,.0f}M training tokens imply "
        f"{implied:.1%} of the GPUs' dense BF16 peak, outside the plausible {band.low:.0%}–{band.high:.0%}"
    )
    at_physics = _rerun_base(params, book, training={"hours_per_run": physics / t.gpus_per_run})
    saving = cash_gain(run, at_physics)
    at = _utilisation_words(params, book, assumed)
    if implied < band.low:
        idle = (booked - physics) * runs * rate
        return [
            Finding(
                UTILISATION_IMPLAUSIBLY_LOW,
                "compute",
                f"{facts}. At {at} the physics view needs {physics:,.1f} GPU-hours "
                f"per run: either the runs process more tokens than the plan states (pairs, tokens per pair, "
                f"epochs), or about {_usd(idle)} of booked GPU time over {runs:g} runs would sit idle"
                f"{_with_what_scales(params, idle, saving, RERUNS_INCLUDED)}.",
                saving,
            )
        ]
    short = (physics - booked) * runs * rate
    return [
        Finding(
            UTILISATION_IMPLAUSIBLY_HIGH,
            "compute",
            f"{facts}: faster than the best pre-training runs ({book.pre_training_mfu.low:.0%}–"
            f"{book.pre_training_mfu.high:.0%} of peak). At {at} each run needs {physics:,.1f} GPU-hours: the "
            "compute budget is short by "
            f"about {_usd(short)} over {runs:g} runs{_with_what_scales(params, short, saving, RERUNS_INCLUDED)}.",
            saving,
        )
    ]


def _utilisation_words(params: Params, book: PriceBook, assumed: float) -> str:
    """Whose utilisation the physics view assumes: the plan's own, or, where the plan gives
    none (:func:`~ftcost_helpers.engine.provenance.uses_default_utilisation`), the price
    book's default for the method and model size."""
    if uses_default_utilisation(params, book):
        return f"the default's {assumed:.0%} utilisation (the price book's for this method and model size)"
    return f"the plan's {assumed:.0%} utilisation"


# --- programme budget --------------------------------------------------------------------


def _beyond(excess: float, tolerance: float) -> bool:
    """A share more than ``tolerance`` outside its band (``excess``: how far outside). Rounded
    to 1e-9, so that a share exactly on the edge is not flagged by float error (0.7 + 0.1 is
    0.7999999999999999, below a share of 0.8)."""
    return round(excess, 9) > tolerance


def budget_split(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """A budget split far from the source's guidance: dataset, eval and labelling 60–70%,
    compute 5–15%. Compute *below* its band is not flagged: cheap compute is the point of
    LoRA, and the source's own worked examples spend 1–5% on it."""
    total = _f(run.programme_total)
    if total <= 0:
        return []
    data = _f(run.area_total("dataset")) + _f(run.area_total("eval"))
    compute_usd = _f(run.area_total("compute"))
    guide, tolerance = book.budget_split_guidance, book.budget_split_tolerance_share
    data_band, compute_band = guide["data_eval_labelling_share"], guide["compute_share"]
    findings = []
    share = data / total
    if _beyond(data_band.low - share, tolerance):
        move = data_band.low * total - data
        findings.append(
            Finding(
                BUDGET_SPLIT_DATA,
                "dataset",
                f"Dataset, eval and labelling take {share:.1%} of the programme ({_usd(data)} of {_usd(total)}); "
                f"the source's guidance is {data_band.low:.0%}–{data_band.high:.0%}, and teams below it ship "
                f"models that miss. Reaching {data_band.low:.0%} means moving {_usd(move)} from engineering and "
                f"compute into data.",
            )
        )
    elif _beyond(share - data_band.high, tolerance):
        findings.append(
            Finding(
                BUDGET_SPLIT_DATA,
                "dataset",
                f"Dataset, eval and labelling take {share:.1%} of the programme ({_usd(data)} of {_usd(total)}), "
                f"above the source's {data_band.low:.0%}–{data_band.high:.0%}: check that MLOps and compute are "
                f"budgeted; at {data_band.high:.0%} the data budget would be {_usd(data - data_band.high * total)} "
                f"smaller.",
            )
        )
    compute_share = compute_usd / total
    if _beyond(compute_share - compute_band.high, tolerance):
        findings.append(
            Finding(
                BUDGET_SPLIT_COMPUTE,
                "compute",
                f"Compute takes {compute_share:.1%} of the programme ({_usd(compute_usd)} of {_usd(total)}); the "
                f"source's guidance is {compute_band.low:.0%}–{compute_band.high:.0%}. Bringing it to "
                f"{compute_band.high:.0%} frees {_usd(compute_usd - compute_band.high * total)} for data and eval.",
            )
        )
    return findings


def dataset_under_compute(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """A dataset budget under 3× the compute budget."""
    dataset_usd, compute_usd = _f(run.area_total("dataset")), _f(run.area_total("compute"))
    ratio = book.dataset_to_compute_ratio
    if compute_usd <= 0 or dataset_usd >= ratio.low * compute_usd:
        return []
    return [
        Finding(
            DATASET_UNDER_3X_COMPUTE,
            "dataset",
            f"The dataset budget ({_usd(dataset_usd)}) is {dataset_usd / compute_usd:.1f}× compute "
            f"({_usd(compute_usd)}); the source's guidance is {_band(ratio)}×. Either compute is oversized — at "
            f"{ratio.low:g}× the dataset it would be {_usd(dataset_usd / ratio.low)}, saving "
            f"{_usd(compute_usd - dataset_usd / ratio.low)} — or the data is under-funded by "
            f"{_usd(ratio.low * compute_usd - dataset_usd)}.",
        )
    ]


# --- evaluation --------------------------------------------------------------------------


def missing_eval_practices(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """No eval harness, no frozen test set, no contamination check."""
    e = params.evaluation
    retrain = _f(run.area_total("compute"))
    harness_usd = _usd_range(book.eval_setup_usd.low, book.eval_setup_usd.high)
    frozen = book.frozen_test_set_examples
    findings = []
    if not e.harness:
        findings.append(
            Finding(
                NO_EVAL_HARNESS,
                "eval",
                f"No eval harness: ship and pray, then re-train from scratch when the model underperforms "
                f"({SEED_MARKET}). A harness costs {harness_usd} (price book); one avoided "
                f"re-train saves the {_usd(retrain)} of compute and the data rework behind it.",
            )
        )
    if not e.frozen_test_set:
        findings.append(
            Finding(
                NO_FROZEN_TEST_SET,
                "eval",
                f"No frozen test set: eval scores drift as the test set drifts, so a worse model can look better. "
                f"Freeze {frozen.low:,.0f}–{frozen.high:,.0f} examples, never trained on, versioned and hashed "
                f"in CI; a re-train decided on a drifting score wastes {_usd(retrain)} of compute.",
            )
        )
    if not e.contamination_check:
        decontamination = book.dataset_activities_usd["decontamination"]
        findings.append(
            Finding(
                NO_CONTAMINATION_CHECK,
                "eval",
                f"No contamination check against public benchmarks and the held-out set: inflated eval scores, "
                f"real-world failure ({SEED_MARKET}). The check (n-gram overlap, MinHash near-duplicates) costs "
                f"{_usd_range(decontamination.low, decontamination.high)} against a {_usd(retrain)} re-train when "
                f"a launch fails.",
            )
        )
    return findings


# --- inference, ROI and maintenance ------------------------------------------------------


def no_inference_cost_model(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """Serving left out of the running costs."""
    s = params.serving
    if s.modelled:
        return []
    monthly = _f(run.serving.usd_per_month)
    with_serving = _rerun_base(params, book, serving={"modelled": True})
    shift = ""
    if params.alternative.kind != "none":
        before, after = _f(run.break_even_month), _f(with_serving.break_even_month)
        shift = (
            f"; break-even moves from {_month_text(before)} to {_month_text(after)}"
            if _month_text(before) != _month_text(after)
            else f"; break-even stays at {_month_text(before)}"
        )
    return [
        Finding(
            NO_INFERENCE_COST_MODEL,
            "roi",
            f'No inference cost model: serving is left out of the running costs ("we fine-tuned a 70B and now '
            f"serving costs 4x the API we replaced\", {SEED_MARKET}). The serving section's {s.gpus} × "
            f"{book.gpus[s.gpu].label} on {s.tier} would add {_usd(monthly)}/month, "
            f"{_usd(monthly * _months_in_service(params))}{_service_span(params)}{shift}.",
            cash_gain(run, with_serving),
        )
    ]


def serving_below_load(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """A deployment whose throughput is below the peak tokens/s the alternative's volume needs
    (:func:`~ftcost_helpers.engine.model.run.serving_load`), with the GPUs that would carry it."""
    shortfall = serving_shortfall(params, book, run)
    if shortfall is None:
        return []
    base = resolve(params, pick_base)
    s = base.serving
    average, peak = shortfall.average_tokens_per_second, shortfall.peak_tokens_per_second
    needed, monthly, extra = shortfall.gpus_needed, shortfall.usd_per_month_needed, shortfall.extra_usd_per_month
    speed = _f(run.serving.tokens_per_second)
    per_gpu = speed / max(s.gpus, 1)
    carried = _rerun_base(
        params,
        book,
        serving={
            "gpus": needed,
            "tokens_per_second": per_gpu * needed,
            "shape": "dedicated" if s.shape == "endpoint" else s.shape,
        },
    )
    gpu = book.gpus[s.gpu].label
    shift = _break_even_shift(_f(run.break_even_month), _f(carried.break_even_month))
    tokens = _f(alternative_tokens_million_per_month(base))
    verb = "serves" if s.gpus == 1 else "serve"
    deployment = f"{s.gpus} × {gpu} {verb} {speed:,.0f} tokens/s"
    carrying = (
        f"{needed} × {gpu} on {s.tier} would carry the peak: {_usd(monthly)}/month, {_usd(extra)} more than planned"
    )
    return [
        Finding(
            SERVING_BELOW_LOAD,
            "roi",
            f"Serving cannot carry the load it replaces: {tokens:,.0f}M tokens a month over "
            f"{_f(s.hours_per_month):,.0f} serving hours is {average:,.0f} tokens/s on average and {peak:,.0f} at "
            f"peak (× {_f(s.peak_to_average):g} serving.peak_to_average), while the deployment's {deployment}. "
            f"{carrying}; {shift}.",
            cash_gain(run, carried),
            client_message=(
                f"The planned serving cannot carry the work it takes over: {tokens:,.0f}M tokens a month means "
                f"{average:,.0f} tokens a second on average and {peak:,.0f} at the busiest times, while the planned "
                f"{deployment}. {carrying}; {shift}."
            ),
        )
    ]


def _break_even_shift(before: float, after: float) -> str:
    """How a fix moves the break-even month (NaN: none within the horizon)."""
    if np.isnan(before) and np.isnan(after):
        return "there is still no break-even within the horizon"
    if before == after:
        return f"break-even stays {_month_text(before)}"
    return f"break-even moves from {_month_text(before)} to {_month_text(after)}"


def api_price_per_1k_looks_per_1m(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """API prices given per 1k tokens whose per-1M equivalent no frontier API charges
    (one finding for the plan, naming each such price)."""
    if params.alternative.kind != "api":
        return []
    api = params.alternative.api
    limit = book.api_price_per_1m_plausible_max_usd
    suspicious: dict[str, float] = {}
    for side in ("input", "output"):
        per_1k = getattr(api, f"{side}_price_usd_per_1k_tokens")
        if per_1k is None or getattr(api, f"{side}_price_usd_per_1m_tokens") is not None:
            continue
        if _f(roi.per_1m_from_per_1k(base_value(per_1k))) > limit:
            suspicious[side] = base_value(per_1k)
    return [_per_1k_finding(params, book, run, suspicious)] if suspicious else []


def _read_per_1m(params: Params, prices: dict[str, float]) -> Params:
    """The plan with each of ``prices`` (by side) moved from the per-1k to the per-1M key."""
    update: dict[str, float | None] = {}
    for side, price in prices.items():
        update |= {f"{side}_price_usd_per_1m_tokens": price, f"{side}_price_usd_per_1k_tokens": None}
    api = params.alternative.api.model_copy(update=update)
    return params.model_copy(update={"alternative": params.alternative.model_copy(update={"api": api})})


def _per_1k_finding(params: Params, book: PriceBook, run: ModelRun, prices: dict[str, float]) -> Finding:
    limit = book.api_price_per_1m_plausible_max_usd
    per_1m = {side: _f(roi.per_1m_from_per_1k(price)) for side, price in prices.items()}
    named = "; ".join(
        f"alternative.api.{side}_price_usd_per_1k_tokens = {price:g} means {code()} {per_1m[side]:,.0f} per 1M tokens "
        f"({per_1m[side] / limit:,.0f}× the most a frontier API plausibly charges)"
        for side, price in prices.items()
    )
    saving = None
    if params.alternative.api.usd_per_month is not None:
        effect = "They do not enter the totals (the monthly API bill is given), but check where they came from."
        for_client = "They do not change the totals (the monthly API bill is given), but their quote should be checked."
    else:
        saving = cash_gain(run, evaluate(_read_per_1m(params, prices), book))
        now = _f(run.alternative_monthly)
        corrected = resolve(_read_per_1m(params, prices), pick_base)
        fixed = base_value(api_monthly(corrected, resolve(book, pick_base, "pricebook")))
        bills = f"{_usd(fixed)}/month, not {_usd(now)}: the plan's saving is overstated by {_usd(now - fixed)}/month."
        effect = f"Read per 1M, the API alternative costs {bills}"
        for_client = f"Read as prices per million tokens, the API costs {bills}"
    worst = max(per_1m.values())
    return Finding(
        API_PRICE_PER_1K_LOOKS_PER_1M,
        "roi",
        f"{named}. No frontier API charges above {code()} {book.api_price_per_1m_plausible_max_usd:,.0f} per 1M; these "
        f'look like per-1M figures (the source\'s "USD 0.60–15.00 per 1k" is one). {effect}',
        saving,
        client_message=(
            f"The API prices the fine-tune is compared with look like prices per million tokens written as prices "
            f"per thousand: read as given, the API would charge up to {code()} {worst:,.0f} per million tokens, "
            f"{worst / limit:,.0f}× the most any frontier API charges. {for_client}"
        ),
    )


def base_model_end_of_life(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """A base model retired before the horizon ends."""
    end = params.base_model.end_of_life
    if end is None:
        return []
    start = params.start_date
    month = (end.year - start.year) * 12 + (end.month - start.month) + 1
    if month > params.horizon_months:
        return []
    when = "before the plan starts" if end < start else f"in month {month} of {params.horizon_months}"
    retrain = _f(run.area_total("compute"))
    own = base_value(params.maintenance.migration_usd)
    if own > 0:  # the plan's own cost of a migration, not the price book's
        migration, total = f"{_usd(own)}, the plan's own cost of one migration", _usd(own + retrain)
    else:
        band = book.base_model_migration_usd
        migration, total = (
            f"{_usd_range(band.low, band.high)}, price book",
            _usd_range(band.low + retrain, band.high + retrain),
        )
    return [
        Finding(
            BASE_MODEL_END_OF_LIFE,
            "maintenance",
            f"{params.base_model.name} reaches end of life on {end.isoformat()}, {when}: a forced re-train and "
            f"migration ({migration}) plus {_usd(retrain)} of compute. A base model supported past the horizon "
            f"saves that ({total}).",
        )
    ]


def maintenance_outside_source_range(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """Quarterly upkeep outside the source's USD-per-quarter range. The source's headline
    leaves base-model migrations out, so they are left out of the comparison too."""
    items = {item: _f(value) for item, value in run.maintenance_quarterly.items()}
    migrations = items.pop(MIGRATION_ITEM, 0.0)
    upkeep, guide = sum(items.values()), book.maintenance_usd_per_quarter
    if guide.low <= upkeep <= guide.high:
        return []
    above = upkeep > guide.high
    gap = upkeep - guide.high if above else guide.low - upkeep
    largest = max(items, key=items.__getitem__)
    return [
        Finding(
            MAINTENANCE_OUTSIDE_SOURCE_RANGE,
            "maintenance",
            f"Maintenance without base-model migrations costs {_usd(upkeep)} a quarter, "
            f"{_usd(gap)} {'above' if above else 'below'} the source's {_usd_range(guide.low, guide.high)} "
            f"({SEED_MARKET}, a range that leaves migrations out; they add {_usd(migrations)} a quarter here). "
            + (
                f"The largest item is {largest.lower()} ({_usd(items[largest])}): check it against the source's."
                if above
                else "Check that re-evaluation, drift monitoring, fresh data and re-training are all budgeted."
            ),
        )
    ]


def price_book_stale(book: PriceBook, today: dt.date, params: Params | None = None) -> list[Finding]:
    """The GPU rates the plan reads (every rate without a plan) are older than the price
    book's stated shelf life. API prices come from genai-prices and are not aged here."""
    used = _rates_read(params) if params is not None else None
    origins = {
        book.rate_origin(gpu, tier)
        for gpu, by_tier in book.gpu_rates_usd_per_gpu_hour.items()
        for tier in by_tier
        if used is None or (gpu, tier) in used
    }
    if not origins:  # the plan gives every rate itself
        return []
    oldest = min(origins, key=lambda origin: origin.as_of)
    age = (today - oldest.as_of).days / 30.44
    if age <= book.price_book_max_age_months:
        return []
    return [
        Finding(
            PRICE_BOOK_STALE,
            "compute",
            f"The GPU rates are dated {oldest.as_of} ({oldest.file}), {age:.1f} months before {today} "
            f"(limit: {book.price_book_max_age_months} months); GPU prices move fast. Bring them up to date with "
            f"a dated rates overlay (--rates FILE: as_of, source and gpu_rates_usd_per_gpu_hour in the price "
            f"book's shape) or a new dated price book (--price-book FILE). API prices are genai-prices' own.",
            client_message=(
                f"The GPU prices behind the compute and serving figures were collected on {oldest.as_of}, "
                f"{age:.0f} months before this estimate, and GPU prices move fast: have the estimate refreshed "
                "with current quotes before committing to a budget."
            ),
        )
    ]


def _rates_read(params: Params) -> set[tuple[str, str]]:
    """(GPU, tier) of each price-book rate the plan reads (a rate the client gives is its own)."""
    used = set()
    if params.training.rate_usd_per_gpu_hour is None:
        used.add((params.training.gpu, params.training.tier))
    if params.serving.modelled and params.serving.rate_usd_per_gpu_hour is None:
        used.add((params.serving.gpu, params.serving.tier))
    return used


def architecture_mismatch(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """The parameter count and the architecture disagree by more than the tolerance: one of
    them is wrong, and memory (from the count) and activations (from the shape) then describe
    different models."""
    c, m = run.compute, params.base_model
    mismatch = c.architecture_mismatch
    if mismatch <= ARCHITECTURE_TOLERANCE:
        return []
    counted = _f(c.architecture_parameters) / 1e9
    return [
        Finding(
            ARCHITECTURE_MISMATCH,
            "compute",
            f"{m.name}: parameters_billion is {base_value(m.parameters_billion):g}, but its architecture "
            f"({m.layers} layers, hidden {m.hidden_size}, {m.kv_heads or m.attention_heads} KV heads, MLP "
            f"{m.intermediate_size or 'derived'}, vocabulary {m.vocab_size:,}) counts "
            f"{counted:,.2f}B, {mismatch:.0%} apart: check both against the model's config.json.",
            client_message=(
                f"The model's stated size ({base_value(m.parameters_billion):g} billion parameters) and the size its "
                f"published architecture gives ({counted:,.2f} billion) are {mismatch:.0%} apart, so the memory and "
                "compute figures may describe different models: the model's specification should be checked "
                "before the GPUs are chosen."
            ),
        )
    ]


def fx_rate_stale(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """The exchange rate converting the price book into the plan's currency (issue 24,
    :func:`~ftcost_helpers.engine.fx.rate_at`) is older, at the plan's start date, than the
    price book's stated shelf life."""
    from ftcost_helpers.engine.fx import NoFxRate, rate_at

    try:  # the rate a converted book was made at, else the one it would be converted at
        fx = book.fx if book.fx is not None else rate_at(book, params.currency, params.start_date)
    except NoFxRate:
        return []
    if not fx.converted or fx.date is None:
        return []
    age = (params.start_date - fx.date).days / 30.44
    if age <= book.price_book_max_age_months:
        return []
    return [
        Finding(
            FX_RATE_STALE,
            "roi",
            f"The {fx.base}→{fx.currency} rate ({fx.per_usd:.4f}, {fx.source}) is dated {fx.date}, "
            f"{age:.1f} months before the plan's start {params.start_date} (limit: {book.price_book_max_age_months} "
            f"months). Add a current table to fx_rates with a rates overlay (--rates FILE).",
            client_message=(
                f"The price-book prices were converted into {fx.currency} at an exchange rate of {fx.date}, "
                f"{age:.0f} months before the plan starts: have the estimate refreshed at a current rate."
            ),
        )
    ]


Check = Callable[[Params, PriceBook, ModelRun], list[Finding]]


def managed_unpacked_billing(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """A managed service billing an unpacked dataset at its maximum length (:mod:`audit_managed`)."""
    return [Finding(**vars(found)) for found in audit_managed.managed_unpacked_billing(params, book, run)]


def managed_service_end_of_life(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """A managed service that stops before the horizon ends (:mod:`audit_managed`)."""
    return [Finding(**vars(found)) for found in audit_managed.managed_service_end_of_life(params, book, run)]


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
