"""The machine-readable summary of an estimate (``summary.json`` and ``estimate --json``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from ftcost_helpers import __version__
from ftcost_helpers.engine.breakdown import Breakdown
from ftcost_helpers.engine.buy_rent import plan_buy_vs_rent, plan_commitment
from ftcost_helpers.engine.calibration import calibration_summary
from ftcost_helpers.engine.comparison import Comparison, plan_comparison
from ftcost_helpers.engine.feasibility import plan_feasibility
from ftcost_helpers.engine.fit import plan_fit
from ftcost_helpers.engine.fx import plan_rate
from ftcost_helpers.engine.gates import plan_staged_outcome
from ftcost_helpers.engine.headline import DEFAULT_BASIS, Headline, plan_headline
from ftcost_helpers.engine.model.guards import UNPLACED
from ftcost_helpers.engine.model.roi import decision_rule
from ftcost_helpers.engine.money import amounts_in, usd
from ftcost_helpers.engine.schema import Params
from ftcost_helpers.engine.uncertainty import Simulation
from ftcost_helpers.engine.value_of_information import plan_value_of_information

VERSIONED_PACKAGES = ("numpy", "pandas", "pydantic", "matplotlib", "papermill", "nbconvert")


def params_hash(params: Params) -> str:
    """SHA-256 of the validated parameters (stable across key order and comments)."""
    canonical = json.dumps(params.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def package_versions(names: Sequence[str] = VERSIONED_PACKAGES) -> dict[str, str]:
    """Versions of ftcost and of ``names`` (default: the packages its figures and reports
    depend on); a package that is not installed is left out."""
    versions = {"ftcost_helpers": __version__}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _usd(value: float) -> float:
    return round(float(value), 2)


def _probabilities(values: Sequence[float] | None) -> list[float] | None:
    return None if values is None else [round(float(value), 4) for value in values]


ALTERNATIVE_NAMES = {"api": "frontier-API bill", "labour": "staff time", "rag": "RAG set-up"}
"""How sentences name what the fine-tune replaces (``alternative.kind``)."""


def monthly_running(breakdown: Breakdown) -> float:
    """USD per month of running the fine-tune once maintenance has started (steady state)."""
    return float(sum(breakdown.ongoing_monthly_usd.values()))


def net_saving_per_month(breakdown: Breakdown) -> float | None:
    """USD per month the fine-tune saves in steady state: the alternative's monthly cost
    minus the running cost (None when there is no alternative)."""
    if breakdown.params.alternative.kind == "none":
        return None
    return float(breakdown.base.alternative_monthly) - monthly_running(breakdown)


def verdict(breakdown: Breakdown, headline: Headline) -> dict[str, str]:
    """The decision in one sentence, on the headline's basis, with a stable code:

    * ``cannot_run_as_specified`` — the plan cannot run as written (it does not fit its GPUs,
      cannot serve its load, ...: :mod:`~ftcost_helpers.engine.feasibility`); its figures cost
      a plan that would not happen, so no other verdict is given;
    * ``no_alternative`` — the fine-tune replaces nothing; it is judged on its cost;
    * ``costs_more_to_run`` — running it costs at least what the alternative does;
    * ``does_not_pay_back`` — it saves each month but not the programme within the horizon;
    * ``pays_back`` — it pays the programme back within the horizon.

    An API alternative adds the source's rule of thumb by monthly API spend
    (:func:`~ftcost_helpers.engine.model.roi.decision_rule`, thresholds from the price book)."""
    p, horizon = breakdown.params, headline.horizon_months
    kind = p.alternative.kind
    feasible = plan_feasibility(breakdown)
    if not feasible.feasible:
        return {
            "code": "cannot_run_as_specified",
            "sentence": f"The plan cannot run as specified: {'; '.join(feasible.reasons)}. Its figures cost a plan "
            "that would not happen as written: change it before deciding.",
        }
    if kind == "none" or headline.alternative_usd_per_month is None:
        return {
            "code": "no_alternative",
            "sentence": f"There is nothing for the fine-tune to replace, so it cannot pay back: decide on its cost, "
            f"{usd(headline.tco_usd)} over {horizon} months.",
        }
    alternative = headline.alternative_usd_per_month
    net = headline.net_saving_usd_per_month or 0.0
    against = f"the {usd(alternative)}/month {ALTERNATIVE_NAMES.get(kind, 'alternative')} it replaces"
    if kind == "labour" and not p.alternative.labour.realised:
        against = f"the {usd(alternative)}/month of staff time it saves (valued at its loaded cost, not cash)"
    rule = ""
    if kind == "api":
        thresholds = breakdown.book.decision_rule_api_usd_per_month
        rule = (
            f" The source's rule of thumb by API spend: "
            f"{decision_rule(alternative, thresholds['do_not_fine_tune_below'], thresholds['almost_always_above'])}."
        )
    month = headline.break_even_month
    if net <= 0:
        code, sentence = "costs_more_to_run", f"Do not fine-tune: running it costs more each month than {against}."
    elif month is None:
        code = "does_not_pay_back"
        sentence = (
            f"Not on cost within {horizon} months: it saves {usd(net)} a month against {against}, "
            f"but does not pay the programme back by month {horizon}."
        )
    else:
        chance = headline.chance_by(month)
        by_then = f" ({chance:.0%} chance of having paid back by then)" if chance is not None else ""
        code = "pays_back"
        sentence = (
            f"Fine-tune: it pays back in month {month}{by_then} and then saves {usd(net)} a month against {against}."
        )
    return {"code": code, "sentence": sentence + rule}


def percentile_of(base: float, draws: Sequence[float] | np.ndarray) -> float:
    """The share of ``draws`` at or below ``base``, in percent (where the base case sits
    among the Monte Carlo outcomes)."""
    values = np.asarray(draws, dtype=float)
    return float(np.mean(values <= base) * 100.0) if values.size else 50.0


def _spread(base: float, values: np.ndarray, keys: Sequence[str], digits: int) -> dict[str, float]:
    """{base, p10, p50, p90} (or the ``keys`` asked for) of a figure, rounded to ``digits``
    significant figures."""
    out = {"base": base}
    for key in keys:
        out[key] = float(np.percentile(values, PERCENTILE_OF[key]))
    return {key: _significant(value, digits) for key, value in out.items()}


PERCENTILE_OF = {"p10": 10.0, "p50": 50.0, "p90": 90.0}


def _significant(value: float, digits: int) -> float:
    """``value`` rounded to ``digits`` significant figures (a float, finite)."""
    return float(f"{float(value):.{digits}g}")


def compute_summary(breakdown: Breakdown, draws: Mapping[str, np.ndarray] | None = None) -> dict[str, Any]:
    """The compute object: tokens, FLOPs and physics hours per run with their spread, the
    utilisation the booked plan implies, memory per GPU with its breakdown, fit and the
    fewest GPUs. ``draws`` holds the Monte Carlo values per draw (uncertainty.COMPUTE_DRAWN);
    without them the input corners stand in for the spread."""
    facts, corners = breakdown.base.compute, breakdown.corners.compute

    def spread(name: str, keys: Sequence[str] = ("p10", "p50", "p90"), digits: int = 6) -> dict[str, float]:
        values = draws[name] if draws is not None and name in draws else np.asarray(getattr(corners, name))
        return _spread(float(np.max(getattr(facts, name))), np.asarray(values, dtype=float), keys, digits)

    fit = plan_fit(breakdown.params, breakdown.book, breakdown.base)
    implied = float(np.max(facts.implied_utilisation))
    fewest = float(np.max(facts.fewest_gpus))
    memory = spread("memory_per_gpu_gb", ("p10", "p90"), 4)
    memory["breakdown"] = {name: round(float(np.max(value)), 3) for name, value in facts.memory_breakdown_gb.items()}
    return {
        "tokens_per_run": spread("tokens_per_run"),
        "flops_per_run": spread("flops_per_run"),
        "physics_hours_per_run": spread("physics_hours_per_run", digits=4),
        "physics_gpu_hours_per_run": spread("physics_gpu_hours_per_run", digits=4),
        "implied_utilisation": None if np.isnan(implied) else round(implied, 4),
        "memory_per_gpu_gb": memory,
        "usable_memory_per_gpu_gb": round(float(facts.usable_gb_per_gpu), 3),
        "fits": fit.fits,
        "fit": fit.verdict,
        "fit_detail": fit.as_dict(),
        "fewest_gpus": int(fewest) if np.isfinite(fewest) else None,
        "time_split_gpu_hours_per_run": {
            name: round(float(np.max(value)), 4) for name, value in facts.time_split_gpu_hours_per_run.items()
        },
        "compute_vs_sft": round(float(np.max(facts.compute_vs_sft)), 4),
        "rollout_gpu_hours_per_run": _significant(float(np.max(facts.rollout_gpu_hours_per_run)), 4),
        "rl_samples_per_run": round(float(np.max(facts.rl_samples_per_run)), 1),
    } | _rl_summary(breakdown)


def _rl_summary(breakdown: Breakdown) -> dict[str, Any]:
    """An RL plan's rollout and grader lines (USD, base case) as ``{"rl": {...}}``; nothing
    for other methods."""
    t = breakdown.params.training
    if t.method != "rl" or t.rl is None:
        return {}
    lines = [line for line in breakdown.base.lines if line.area == "compute"]

    def usd(prefix: str) -> float:
        return round(float(sum(float(np.max(line.value)) for line in lines if line.item.startswith(prefix))), 2)

    return {
        "rl": {
            "algorithm": t.rl.algorithm,
            "colocated_inference": t.rl.colocated_inference,
            "rollout_usd": usd("RL rollouts"),
            "grader_usd": usd("RL grader tokens"),
        }
    }


def scenarios_summary(
    breakdown: Breakdown, simulation: Simulation | None = None, comparison: Comparison | None = None
) -> list[dict[str, Any]]:
    """The plan as filed and each scenario: base-case programme and cost of ownership, whether
    it can run, and with ``simulation`` its P10/P50/P90 cost of ownership and the share of
    draws in which it is the cheapest that can run, every plan drawn on the same random
    streams (:mod:`~ftcost_helpers.engine.comparison`); ``probability_cheapest`` is None
    without a simulation. ``comparison``: the plans compared (and drawn) when the caller has
    them, else worked out here (:func:`~ftcost_helpers.engine.comparison.plan_comparison`);
    a plan whose scenarios cannot be merged over it lists none."""
    if comparison is None:
        comparison = plan_comparison(breakdown.params, breakdown.book, simulation)
    if comparison is None:
        return []
    odds = comparison.odds() if simulation is not None else None
    rows = []
    for index, result in enumerate(comparison.results):
        row: dict[str, Any] = {
            "name": result.name,
            "programme_total_usd": _usd(result.programme_total_usd),
            "tco_usd": _usd(result.tco_usd),
            "can_run": result.feasibility.feasible,
            "probability_cheapest": None,
        }
        if odds is not None:
            stated = odds[index].as_dict()
            row |= {"probability_cheapest": stated["probability_cheapest"], "tco_range_usd": stated["tco_usd"]}
        rows.append(row)
    return rows


def summarise(
    breakdown: Breakdown,
    simulation: Simulation | None = None,
    basis: str = DEFAULT_BASIS,
    compute_draws: bool = False,
    headline: Headline | None = None,
    comparison: Comparison | None = None,
    source: str | Path = UNPLACED,
) -> dict[str, Any]:
    """The report contract's keys, every amount in the plan's currency (``currency``; ``fx``
    gives the rate the price book was converted at, its date and source): :func:`_summarise`.
    ``source``: the plan's file, named by a scenario's figures the model cannot produce."""
    with amounts_in(breakdown.params.currency):
        return _summarise(breakdown, simulation, basis, compute_draws, headline, comparison, source)


def _summarise(
    breakdown: Breakdown,
    simulation: Simulation | None = None,
    basis: str = DEFAULT_BASIS,
    compute_draws: bool = False,
    headline: Headline | None = None,
    comparison: Comparison | None = None,
    source: str | Path = UNPLACED,
) -> dict[str, Any]:
    """The report contract's keys. ``headline`` holds every headline figure on ``basis``
    (:func:`~ftcost_helpers.engine.headline.plan_headline`: the one function every output
    reads); the other money keys are the base case's line items, labelled as such.
    ``simulation`` (the seeded Monte Carlo run) gives ``range_usd`` (P10/P50/P90 of the
    programme), the chance of having paid back by each month and where the base case sits
    among the draws; without it the input corners' low/base/high stand in, there are no
    chances and only the ``base_case`` basis can be stated. ``compute_draws``: take the
    ``compute`` object's spread from the simulation's draws rather than the input corners.
    ``headline``: the plan's headline when the caller has it already (else computed here).
    ``scenarios``: the plan and each scenario with the probability of being the cheapest
    (:func:`scenarios_summary`). ``comparison``: the plan and its scenarios compared, drawn on
    ``simulation``'s streams (:func:`~ftcost_helpers.engine.comparison.plan_comparison`) when
    the caller has it; else worked out here, once, for both the scenarios and the value of
    information."""
    if simulation is None:
        low, high = breakdown.programme_range
        range_usd = {"p10": _usd(low), "p50": _usd(breakdown.programme_total), "p90": _usd(high)}
        basis, base_case_percentile = "base_case", None
    else:
        range_usd = simulation.range_usd()
        base_case_percentile = percentile_of(breakdown.programme_total, simulation.programme_total)
    if headline is None:
        headline = plan_headline(breakdown, simulation, basis)
    if comparison is None or (simulation is not None and not comparison.drawn):
        comparison = plan_comparison(breakdown.params, breakdown.book, simulation, source)
    stated = headline.as_dict()
    chance = list(headline.chance_by_month) or None
    staged = plan_staged_outcome(breakdown.params, headline, simulation)
    return {
        "headline": stated,
        "client": breakdown.params.client,
        "currency": breakdown.params.currency,
        "fx": plan_rate(breakdown.book, breakdown.params.currency).as_dict(),
        "programme_total_usd": _usd(breakdown.programme_total),
        "areas_usd": {area: _usd(value) for area, value in breakdown.areas_usd.items()},
        "ongoing_monthly_usd": {name: _usd(value) for name, value in breakdown.ongoing_monthly_usd.items()},
        "break_even_month": stated["break_even_month"],
        "build_months": breakdown.params.programme.build_months,
        "break_even_chance_by_month": _probabilities(chance),
        "alternative": breakdown.params.alternative.kind,
        "alternative_source": breakdown.base.alternative_source,
        "alternative_usd_per_month": stated["alternative_usd_per_month"],
        "running_usd_per_month": stated["running_usd_per_month"],
        "net_saving_usd_per_month": stated["net_saving_usd_per_month"],
        "verdict": verdict(breakdown, headline),
        "feasibility": plan_feasibility(breakdown).as_dict(),
        "stages": None if staged is None else staged.as_dict(),
        "value_of_information": None
        if simulation is None
        else plan_value_of_information(breakdown.params, breakdown.book, simulation, source, comparison),
        "base_case_percentile": None if base_case_percentile is None else round(float(base_case_percentile), 1),
        "tco_usd": stated["tco_usd"],
        "finance": headline.discounted.as_dict(),
        "commitment": plan_commitment(breakdown),
        "ownership": None if (owned := plan_buy_vs_rent(breakdown)) is None else owned.as_dict(),
        "horizon_months": breakdown.params.horizon_months,
        "range_usd": range_usd,
        "compute": compute_summary(breakdown, simulation.compute if simulation and compute_draws else None),
        "warnings": [finding.as_dict() for finding in breakdown.warnings],
        "scenarios": [] if comparison is None else scenarios_summary(breakdown, simulation, comparison),
        "price_book_as_of": breakdown.book.as_of.isoformat(),
        "price_sources": breakdown.book.provenance(),
        "params_hash": params_hash(breakdown.params),
        "versions": package_versions(),
        "calibration": calibration_summary(breakdown),  # issue 23: None without a calibration block
    }
