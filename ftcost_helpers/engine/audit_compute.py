"""The audit's checks of compute (area ``compute``, and serving's GPUs where a rule checks
both): booked rates against the price book, full fine-tuning where LoRA would do, a sweep
without early stopping, hyperscaler on-demand GPUs, a model that does not fit, a utilisation
the physics does not support, and a parameter count its architecture contradicts."""

from __future__ import annotations

import numpy as np

from ftcost_helpers.engine.audit_findings import (
    ARCHITECTURE_MISMATCH,
    FULL_FT_WITHOUT_TOKENIZER_CHANGE,
    HYPERSCALER_ON_DEMAND,
    LOCAL_TIERS,
    MODEL_DOES_NOT_FIT,
    ON_DEMAND_HYPERSCALER,
    RATE_OUTSIDE_PRICE_BOOK,
    RERUNS_INCLUDED,
    SEED_MARKET,
    SWEEP_WITHOUT_EARLY_STOPPING,
    UTILISATION_IMPLAUSIBLY_HIGH,
    UTILISATION_IMPLAUSIBLY_LOW,
    Finding,
    _band,
    _f,
    _gpu_hours,
    _rerun_base,
    _service_span,
    _serving_gpu_hours,
    _training_rate,
    _usd,
    _with_what_scales,
    cash_gain,
)
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.fit import plan_fit
from ftcost_helpers.engine.model.run import ModelRun
from ftcost_helpers.engine.model.training import ARCHITECTURE_TOLERANCE
from ftcost_helpers.engine.money import code
from ftcost_helpers.engine.overrides import scenario_params
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.provenance import uses_default_utilisation
from ftcost_helpers.engine.quantities import Range, base_value
from ftcost_helpers.engine.schema import Params, Scenario


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
