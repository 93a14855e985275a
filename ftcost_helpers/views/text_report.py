"""A plain-text rendering of a Breakdown for the terminal, fitted to its width.

Lines never exceed the width (``COLUMNS``, else the terminal's, else 100 characters; at
least 60): the amounts keep fixed columns, a line item's name and source wrap onto further
lines, and sentences wrap between words, so no number is ever split.
"""

from __future__ import annotations

import datetime as dt
import shutil
import textwrap

import numpy as np

from ftcost_helpers.engine.breakdown import Breakdown
from ftcost_helpers.engine.buy_rent import buy_vs_rent_sentence, commitment_sentence, plan_buy_vs_rent, plan_commitment
from ftcost_helpers.engine.catalogue import GpuCatalogue, ModelEntry
from ftcost_helpers.engine.fit import plan_fit
from ftcost_helpers.engine.fx import plan_rate
from ftcost_helpers.engine.headline import BASIS_NAMES, Headline
from ftcost_helpers.engine.model.lines import AREAS
from ftcost_helpers.engine.model.training import MEMORY_LABELS, peak_phase_terms
from ftcost_helpers.engine.money import amounts_in, code, usd
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import Range
from ftcost_helpers.engine.requote import Requote

__all__ = [
    "breakdown_text",
    "gpus_text",
    "headline_text",
    "models_text",
    "monte_carlo_text",
    "price_book_text",
    "terminal_width",
    "usd",
]

NARROWEST, WIDEST, DEFAULT = 60, 160, 100
AMOUNT = 11
"""Characters of each amount column (``USD 999,999,999`` fits without the prefix)."""


def terminal_width() -> int:
    """The width to print at: ``COLUMNS`` or the terminal's, within 60..160 characters."""
    return max(NARROWEST, min(WIDEST, shutil.get_terminal_size((DEFAULT, 24)).columns))


def memory_lines(breakdown: Breakdown) -> list[str]:
    """Memory per GPU at its peak, term by term, and whether the run fits."""
    c = breakdown.base.compute
    fit = plan_fit(breakdown.params, breakdown.book, breakdown.base)
    peak = peak_phase_terms({name: float(value) for name, value in c.memory_breakdown_gb.items()})
    fewest = fit.fewest_gpus
    needs = f"fewest GPUs {fewest:.0f}" if fewest < float("inf") else "fits on no number of these GPUs"
    out = [
        f"Memory per GPU: {float(c.memory_per_gpu_gb):,.1f} GB ({fit.allocated_gb:,.1f} GB of tensors, "
        f"{fit.reserved_gb:,.1f} GB reserved) of {fit.capacity_gb:,.1f} GB; needs {fit.need_p10_gb:,.1f}–"
        f"{fit.need_p90_gb:,.1f} GB (P10–P90) ({fit.verdict}{' by paging' if fit.by_paging else ''}; {needs})"
    ]
    out.extend(f"  {MEMORY_LABELS[name]:<32} {value:>8,.2f} GB" for name, value in peak.items() if value > 0)
    return out


def work_lines(breakdown: Breakdown) -> list[str]:
    """What a DPO or RL plan's work comes to against SFT on the same data, and an RL plan's
    rollouts (none for other methods)."""
    t, c = breakdown.params.training, breakdown.base.compute
    ratio = float(np.max(c.compute_vs_sft))
    if t.method == "dpo":
        reference = "no reference" if t.dpo.loss in {"orpo", "simpo"} else f"reference: {t.dpo.reference}"
        return [f"Work: {t.dpo.loss.upper()} ({reference}) takes {ratio:.2f}× the GPU-hours of SFT on the same data."]
    if t.method != "rl" or t.rl is None:
        return []
    rollout, physics = float(np.max(c.rollout_gpu_hours_per_run)), float(np.max(c.physics_gpu_hours_per_run))
    share = rollout / physics if physics > 0 else 0.0
    return [
        f"Work: {t.rl.algorithm.upper()} generates {float(np.max(c.rl_samples_per_run)):,.0f} samples per run; "
        f"rollouts take {rollout:,.1f} of {physics:,.1f} physics GPU-hours per run ({share:.0%}); "
        f"{ratio:.2f}× the GPU-hours of SFT on the generated samples."
    ]


def _wrap(text: str, width: int, indent: str = "", later: str | None = None) -> list[str]:
    """``text`` wrapped between words (never inside a word, a number or at a hyphen)."""
    return textwrap.wrap(
        text,
        width,
        initial_indent=indent,
        subsequent_indent=indent if later is None else later,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [indent]


def _amounts(*values: float) -> str:
    return "".join(f"{value:>{AMOUNT},.0f}" for value in values)


def breakdown_text(breakdown: Breakdown, width: int | None = None) -> str:
    """The line items by area (low, base, high), totals, running costs, the alternative,
    break-even and warnings, in lines of at most ``width`` characters."""
    width = width or terminal_width()
    name_width = width - 3 * AMOUNT
    p = breakdown.params
    out = [*_wrap(p.client, width), *_wrap(f"price book: {breakdown.book.provenance()}", width, "", "  ")]
    out += [*_wrap(plan_rate(breakdown.book, p.currency).sentence(), width, "", "  "), ""]
    out.append(f"{f'Line item ({code()})':<{name_width}}{'low':>{AMOUNT}}{'base':>{AMOUNT}}{'high':>{AMOUNT}}")
    for area in AREAS:
        items = [i for i in breakdown.line_items if i.area == area and i.high > 0]
        if not items:
            continue
        out.append(f"[{area}]")
        for i in items:
            names = _wrap(i.item, name_width - 1, "  ", "    ")
            out.append(f"{names[0]:<{name_width}}{_amounts(i.low, i.base, i.high)}")
            out.extend(names[1:])
            out.extend(_wrap(f"source: {i.source}", width, "    ", "      "))
    low, high = breakdown.programme_range
    out.append(f"{'Programme total':<{name_width}}{_amounts(low, breakdown.programme_total, high)}")
    out.append("")
    for name, value in breakdown.ongoing_monthly_usd.items():
        out.append(f"Ongoing {name:<12} {usd(value)}/month (base case)")
    out.append("")
    owned = plan_buy_vs_rent(breakdown)
    if owned is not None:  # issue 24: buy or rent?
        out.extend(_wrap(buy_vs_rent_sentence(owned), width, "", "    "))
        out.append("")
    committed = plan_commitment(breakdown)
    if committed is not None:  # issue 24: a committed-use serving term
        out.extend(_wrap(commitment_sentence(committed), width, "", "    "))
        out.append("")
    for memory_line in [*memory_lines(breakdown), *work_lines(breakdown)]:
        out.extend(_wrap(memory_line, width, "", "    "))
    if breakdown.warnings:
        out.append("")
        out.append("Warnings:")
        for w in breakdown.warnings:
            out.extend(_wrap(f"{w.title} ({w.severity}; {w.code}): {w.message}", width, "  ", "    "))
    return "\n".join(out)


def headline_text(headline: Headline, kind: str, width: int | None = None) -> str:
    """The headline figures on their basis (:func:`~ftcost_helpers.engine.headline.plan_headline`),
    in the order page 1 of the client document gives them, with dates."""
    width = width or terminal_width()
    h = headline
    out = [f"Headline, on the {BASIS_NAMES[h.basis]}:"]
    contingency = f" (base case {usd(h.base_case_programme_usd)} + contingency {usd(h.contingency_usd)})"
    out.append(f"  Programme cost {usd(h.programme_usd)}" + (contingency if h.basis != "base_case" else ""))
    launch = h.date_of_month_start(h.launch_month)
    out.append(f"  Launch: month {h.launch_month}, {launch:%B %Y}" if launch else "")
    out.append(f"  Running cost {usd(h.running_usd_per_month)}/month once maintenance has started")
    if h.maintenance_from_month is not None:
        day = h.date_of_month_start(h.maintenance_from_month)
        out.append(f"  Maintenance from month {h.maintenance_from_month}, {day:%B %Y}")
    if h.serving_shortfall_usd_per_month > 0:
        out.append(f"  (includes {usd(h.serving_shortfall_usd_per_month)}/month to serve the peak load as needed)")
    if h.alternative_usd_per_month is None:
        out.append("  Break-even: none (no alternative to save against; the fine-tune is the product)")
    else:
        out.append(f"  Alternative ({kind}) {usd(h.alternative_usd_per_month)}/month")
        out.append(f"  Net saving {usd(h.net_saving_usd_per_month or 0.0)}/month")
        month = h.break_even_month
        if month is None:
            out.append(f"  Break-even: none within {h.horizon_months} months")
        else:
            chance = h.chance_by(month)
            by_then = f"; {chance:.0%} chance of having paid back by then" if chance is not None else ""
            out.append(f"  Break-even: month {month}, end of {h.date_of_month_end(month):%B %Y}{by_then}")
    out.append(f"  Cost of ownership over {h.horizon_months} months: {usd(h.tco_usd)}")
    d = h.discounted
    if d.discount_rate is not None and d.npv_usd is not None:  # issue 24: discounting beside the plain sums
        payback = f"month {d.discounted_payback_month}" if d.discounted_payback_month else "none within the horizon"
        out.append(f"  Discounted at {d.discount_rate:.1%} a year: NPV {usd(d.npv_usd)}, payback {payback}")
        if d.irr_annual is not None:
            out.append(f"  Internal rate of return: {d.irr_annual:.1%} a year")
    out.append("  (months count from the programme's start: month 1 is its first month)")
    return "\n".join(line for text in out if text for line in _wrap(text, width, "", "    "))


def monte_carlo_text(draws: int, seed: int, p10: float, p50: float, p90: float, width: int | None = None) -> str:
    """The Monte Carlo line: draws, seed and P10/P50/P90 of the programme total, wrapped."""
    text = f"Monte Carlo ({draws:,} draws, seed {seed}): programme total P10 {usd(p10)}, P50 {usd(p50)}, P90 {usd(p90)}"
    return "\n".join(_wrap(text, width or terminal_width(), "", "  "))


def _amount(value: object) -> str:
    if isinstance(value, Range):
        return f"{value.low:,.2f}–{value.high:,.2f}"
    return f"{value:,.2f}" if isinstance(value, float) else str(value)


def price_book_text(book: PriceBook, today: dt.date) -> str:
    """Every price-book entry with its as-of date and source (``python -m ftcost_helpers pricebook``)."""
    out = [f"Price book: {book.provenance()}", ""]
    out.append(f"GPU rates, {code()} per GPU-hour (low–high):")
    for gpu, by_tier in book.gpu_rates_usd_per_gpu_hour.items():
        for tier, rate in by_tier.items():
            origin = book.rate_origin(gpu, tier)
            age = (today - origin.as_of).days / 30.44
            out.append(
                f"  {gpu:<14} {tier:<24} {_amount(rate):>13}  as of {origin.as_of.isoformat()} "
                f"({age:.0f} months old; {origin.file}: {origin.source})"
            )
    out.append("")
    out.append("GPU specs (memory GB, dense BF16 TFLOPS; vendor datasheets):")
    for gpu, spec in book.gpus.items():
        out.append(f"  {gpu:<14} {spec.label:<28} {spec.memory_gb:>6g} GB {spec.bf16_tflops:>7g} TFLOPS")
    out.append("")
    main = book.origins[0] if book.origins else None
    dated = f"as of {book.as_of.isoformat()} ({main.describe() if main else book.source_note()})"
    out.append(f"Other entries, {dated}:")
    skip = {"as_of", "currency", "sources", "gpu_rates_usd_per_gpu_hour", "gpus", "methods"}
    for key in type(book).model_fields:
        if key in skip:
            continue
        value = getattr(book, key)
        if isinstance(value, dict):
            for name, item in value.items():
                out.append(f"  {key}.{name}: {_amount(item)}")
        else:
            out.append(f"  {key}: {_amount(value)}")
    out.append("")
    out.append(
        "API prices: genai-prices (the pinned package's bundled snapshot), priced at each plan's start date; "
        "not dated by this price book."
    )
    return "\n".join(out)


def models_text(models: dict[str, ModelEntry], as_of: dt.date) -> str:
    """The model catalogue as a table: name, total/active parameters, context, licence."""
    if not models:
        return "no model in params/models.yaml matches (try fewer words)"
    width = max(len(name) for name in models) + 2
    out = [f"{'model':<{width}}{'total B':>9}{'active B':>10}{'context':>11}  {'licence':<14}released"]
    for name, m in models.items():
        active = f"{m.active_parameters_billion:g}" if m.active_parameters_billion else "dense"
        out.append(
            f"{name:<{width}}{m.parameters_billion:>9g}{active:>10}{m.context_length:>11,}  {m.licence:<14}"
            f"{m.released.isoformat()}" + (f"  end of life {m.end_of_life.isoformat()}" if m.end_of_life else "")
        )
    out.append(f"\n{len(models)} model(s); catalogue as of {as_of.isoformat()}, sources in params/models.yaml")
    return "\n".join(out)


def gpus_text(catalogue: GpuCatalogue, book: PriceBook) -> str:
    """The GPU catalogue as a table: memory, bandwidth, dense peaks, priced tiers, datasheet."""
    out = [f"{'gpu':<11}{'label':<24}{'memory GB':>10}{'GB/s':>7}{'BF16 TF':>9}{'FP8 TF':>8}  priced tiers"]
    for key, g in catalogue.gpus.items():
        tiers = ", ".join(book.gpu_rates_usd_per_gpu_hour.get(key, {})) or "none: give your rate_usd_per_gpu_hour"
        fp8 = f"{g.fp8_tflops:g}" if g.fp8_tflops else "—"
        out.append(
            f"{key:<11}{g.label:<24}{g.memory_gb:>10g}{g.memory_bandwidth_gbps:>7g}{g.bf16_tflops:>9g}{fp8:>8}  {tiers}"
        )
    out.append("")
    out.extend(f"  {key}: {g.datasheet}" for key, g in catalogue.gpus.items())
    out.append(f"\n{len(catalogue.gpus)} GPU(s); catalogue as of {catalogue.as_of.isoformat()} (params/gpus.yaml)")
    return "\n".join(out)


REQUOTE_WORDS = {
    "prices": "Prices (price book, rates overlay)",
    "plan": "Plan (keys the client changed)",
    "calibration": "Calibration (a pilot's measurement)",
    "model": "Model (ftcost's arithmetic)",
    "interaction": "Interaction (the causes together)",
}
"""How the terminal names each cause of a re-quote's change."""


def _value(value: object) -> str:
    """A client-file value as the file would say it: a range as ``6–12 (mode 8)``, none as "absent"."""
    if value is None:
        return "absent"
    if isinstance(value, dict) and "low" in value:
        mode = f" (mode {value['mode']:g})" if value.get("mode") is not None else ""
        return f"{value['low']:g}–{value['high']:g}{mode}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def requote_text(result: Requote, shown_keys: int = 12) -> str:
    """A re-quote in the terminal: old and new programme cost and cost of ownership, the change
    and its attribution (each cause alone from the old quote), and the keys that changed; every
    amount in the new plan's currency."""
    with amounts_in(result.new.params.currency):
        return _requote_text(result, shown_keys)


def _requote_text(result: Requote, shown_keys: int) -> str:
    old, new, change = result.old.figures(), result.new.figures(), result.change
    out = [f"Re-quote, on the {BASIS_NAMES[result.basis]}:"]
    out.append(f"  {'':38}{'Programme':>16}{'Cost of ownership':>20}")
    out.append(f"  {'Old quote':38}{usd(old['programme']):>16}{usd(old['tco']):>20}")
    out.append(f"  {'New quote':38}{usd(new['programme']):>16}{usd(new['tco']):>20}")
    out.append(f"  {'Change':38}{usd(change['programme']):>16}{usd(change['tco']):>20}")
    for cause, words in REQUOTE_WORDS.items():
        part = result.attribution[cause]
        out.append(f"    {words:36}{usd(part['programme']):>16}{usd(part['tco']):>20}")
    out.append("  (each cause alone from the old quote: prices, plan, calibration; the interaction is the rest)")
    if result.changed:
        out.append(f"Keys changed ({len(result.changed)}):")
        out += [f"  {key}: {_value(before)} → {_value(after)}" for key, before, after in result.changed[:shown_keys]]
        if len(result.changed) > shown_keys:
            out.append(f"  … and {len(result.changed) - shown_keys} more")
    return "\n".join(out)
