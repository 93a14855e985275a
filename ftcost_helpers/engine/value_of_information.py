"""What is worth measuring before signing: the expected value of partial perfect information.

The decision is taken on expected value: fine-tune when the plan's expected net value over the
horizon (:mod:`~ftcost_helpers.engine.sensitivity`'s quantity, the cumulative cash at the last
month) is above zero, keep the alternative otherwise (value 0). With *V* the options' values
per draw (shape draws × options) and *X* a group of uncertain inputs:

* EVPI = E[maxⱼ Vⱼ] − maxⱼ E[Vⱼ]: what knowing *every* input before deciding would be worth;
* EVPPI(*X*) = E_X[maxⱼ E[Vⱼ | X]] − maxⱼ E[Vⱼ]: what knowing *X* alone would be worth — the
  most a pilot or study that pins *X* down can be worth to the decision.

E[Vⱼ | X] is estimated from the Monte Carlo draws already made, by least-squares regression of
Vⱼ on the group's inputs with their squares (the regression estimator of Strong, Oakley &
Brennan 2014, *Medical Decision Making* 34(3):311–326, with a quadratic in place of their GAM;
one input alone is fitted the same way). The estimate is clipped to [0, EVPI], where the exact
value always lies. ``tests/test_value_of_information.py`` checks it on a case with a closed
form: *V* = *X₁* + *X₂* with normal inputs, where EVPPI(*X₁*) = *s·φ(m/s)* + *m·Φ(m/s)* − max(*m*, 0),
*m* = E[V], *s* = sd(*X₁*).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ftcost_helpers.engine.comparison import Comparison, compare
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.scenarios import BASE_PLAN_NAME
from ftcost_helpers.engine.schema import Params
from ftcost_helpers.engine.uncertainty import Simulation

GROUPS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (
        "GPU throughput (utilisation, communication, memory)",
        (
            "pricebook.utilisation_defaults.",
            "pricebook.training_physics.",
            "pricebook.pre_training_mfu",
            "training.utilisation",
        ),
        "a pilot run of the plan's configuration, read back by calibrate",
    ),
    (
        "GPU prices",
        ("pricebook.gpu_rates_usd_per_gpu_hour.", "training.rate_usd_per_gpu_hour"),
        "quotes from GPU providers",
    ),
    (
        "Runs, reruns and sweeps",
        (
            "training.runs",
            "training.failed_run",
            "training.sweep",
            "training.early_stopped",
            "pricebook.sweep_",
            "pricebook.full_ft_waste",
            "pricebook.on_demand_hyperscaler_waste",
            "training.hours_per_run",
        ),
        "the team's record of reruns on earlier projects",
    ),
    (
        "Dataset",
        ("dataset.", "pricebook.dataset_", "pricebook.annotation", "pricebook.double_label", "pricebook.replay_set"),
        "a labelled sample, timed",
    ),
    (
        "Evaluation",
        ("evaluation.", "pricebook.eval_", "pricebook.frozen_test_set"),
        "an evaluation harness scoped with its owner",
    ),
    ("Engineering", ("engineering.",), "a work breakdown with the engineers"),
    (
        "Maintenance",
        (
            "maintenance.",
            "pricebook.maintenance",
            "pricebook.base_model_migration",
            "pricebook.retrain",
            "pricebook.quality_loss",
        ),
        "the upkeep record of a model in service",
    ),
    ("Serving", ("serving.", "pricebook.serving_reference."), "a load test of the served model"),
    ("What the fine-tune replaces", ("alternative.",), "the current bill or staff time, measured for a month"),
)
"""Input groups by path prefix: (name, prefixes, the measurement that pins the group down).
An input no prefix names falls in "Other inputs"."""

OTHER = "Other inputs"


def group_of(path: str) -> str:
    """The group an input path belongs to (the first whose prefix it starts with)."""
    return next((name for name, prefixes, _ in GROUPS if path.startswith(prefixes)), OTHER)


def measurement_for(group: str) -> str:
    """The measurement that pins a group down, in words ("" for the others)."""
    return next((study for name, _, study in GROUPS if name == group), "")


def evpi(values: np.ndarray) -> float:
    """E[maxⱼ Vⱼ] − maxⱼ E[Vⱼ] for option values of shape (draws, options), USD."""
    values = np.asarray(values, dtype=float)
    return float(values.max(axis=1).mean() - values.mean(axis=0).max())


def _design(inputs: np.ndarray) -> np.ndarray:
    """[1, x, x²] per input, each input centred and scaled (conditioning), as columns."""
    x = np.asarray(inputs, dtype=float)
    spread = x.std(axis=0)
    varying = spread > 0
    z = (x[:, varying] - x[:, varying].mean(axis=0)) / spread[varying]
    return np.column_stack([np.ones(x.shape[0]), z, z * z])


def conditional_means(values: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """E[Vⱼ | X] per draw (draws × options), by least squares on :func:`_design` (the normal
    equations, solved in the least-squares sense so that collinear columns do no harm)."""
    design = _design(inputs)
    gram, moments = design.T @ design, design.T @ np.asarray(values, dtype=float)
    coefficients, *_ = np.linalg.lstsq(gram, moments, rcond=None)
    return design @ coefficients


def evppi(values: np.ndarray, inputs: np.ndarray) -> float:
    """EVPPI of the inputs (draws × inputs) for option values (draws × options), USD,
    clipped to [0, EVPI]."""
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    return _evppi(values, inputs, max(evpi(values), 0.0), float(values.mean(axis=0).max()))


def _evppi(values: np.ndarray, inputs: np.ndarray, ceiling: float, best_mean: float) -> float:
    """:func:`evppi` given what every group shares: the values (draws × options), the
    ceiling (EVPI, at least 0) and maxⱼ E[Vⱼ] (``best_mean``), each worked out once."""
    if ceiling == 0.0:  # no draw changes the choice: knowing anything is worth nothing
        return 0.0
    fitted = conditional_means(values, np.asarray(inputs, dtype=float).reshape(values.shape[0], -1))
    estimate = float(fitted.max(axis=1).mean() - best_mean)
    return min(max(estimate, 0.0), ceiling)


@dataclass(frozen=True)
class Worth:
    """What knowing one group of inputs before deciding would be worth (USD)."""

    group: str
    inputs: tuple[str, ...]
    worth_usd: float
    measurement: str

    def as_dict(self) -> dict[str, object]:
        return {
            "group": self.group,
            "inputs": list(self.inputs),
            "worth_usd": round(self.worth_usd, 2),
            "measurement": self.measurement,
        }


def fine_tune_or_not(net_value: np.ndarray) -> np.ndarray:
    """The two options of the go/no-go decision per draw: fine-tune (its net value over the
    horizon) and keep the alternative (0)."""
    net_value = np.asarray(net_value, dtype=float)
    return np.column_stack([net_value, np.zeros_like(net_value)])


def with_keeping_the_alternative(option_values: np.ndarray) -> np.ndarray:
    """The options' net values per draw (draws × options) with "keep the alternative" (0) beside them."""
    option_values = np.asarray(option_values, dtype=float).reshape(len(option_values), -1)
    return np.column_stack([option_values, np.zeros(option_values.shape[0])])


def worth_of_measuring(values: np.ndarray, inputs: Mapping[str, np.ndarray]) -> list[Worth]:
    """EVPPI of every group of the drawn inputs, largest first (groups whose inputs do not vary
    are left out)."""
    grouped: dict[str, list[str]] = {}
    for path, draws in inputs.items():
        if np.ptp(np.asarray(draws, dtype=float)) > 0:
            grouped.setdefault(group_of(path), []).append(path)
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    ceiling, best_mean = max(evpi(values), 0.0), float(values.mean(axis=0).max())  # the same for every group
    worths = [
        Worth(
            group,
            tuple(paths),
            _evppi(values, np.column_stack([inputs[p] for p in paths]), ceiling, best_mean),
            measurement_for(group),
        )
        for group, paths in grouped.items()
    ]
    return sorted(worths, key=lambda worth: (-worth.worth_usd, worth.group))


def value_of_information(
    values: np.ndarray, options: Sequence[str], inputs: Mapping[str, np.ndarray], decision: str
) -> dict[str, object]:
    """``summary.json``'s ``value_of_information``: the decision and its options, each option's
    expected value, what perfect information on everything would be worth (EVPI), and each
    group's worth (EVPPI), largest first. ``values``: draws × options, USD."""
    values = np.asarray(values, dtype=float)
    means = values.mean(axis=0)
    return {
        "decision": decision,
        "options": [
            {"name": name, "expected_value_usd": round(float(mean), 2)}
            for name, mean in zip(options, means, strict=True)
        ],
        "chosen_on_expected_value": options[int(np.argmax(means))],
        "evpi_usd": round(max(evpi(values), 0.0), 2),
        "groups": [worth.as_dict() for worth in worth_of_measuring(values, inputs)],
    }


def _scenario_values(
    params: Params, comparison: Comparison
) -> tuple[list[str], list[np.ndarray], dict[str, np.ndarray]]:
    """Each scenario that can run, drawn on the same random streams as the plan (the rule of
    :mod:`~ftcost_helpers.engine.comparison`: the plan's own draws are its simulation's).
    Returns names, value per draw (net value, or −TCO without an alternative) and every input
    drawn: the plan's, then each runnable scenario's paths the plan lacks."""
    assert comparison.tco is not None and comparison.final_cash is not None
    inputs = dict(comparison.inputs[0])
    names, values = [], []
    for index, result in enumerate(comparison.results[1:], start=1):
        if not result.feasibility.feasible:
            continue
        names.append(result.name)
        values.append(_option_value(params, comparison.final_cash[index], comparison.tco[index]))
        inputs.update({path: draws for path, draws in comparison.inputs[index].items() if path not in inputs})
    return names, values, inputs


def _option_value(params: Params, final_cash: np.ndarray, tco: np.ndarray) -> np.ndarray:
    """An option's value per draw: its net value over the horizon (the cumulative cash at
    the last month, ``final_cash``) with an alternative, else minus its cost of ownership."""
    if params.alternative.kind != "none":
        return np.asarray(final_cash, dtype=float)
    return -np.asarray(tco, dtype=float)


def plan_value_of_information(
    params: Params,
    book: PriceBook,
    simulation: Simulation,
    source: str | Path = "<parameters>",
    comparison: Comparison | None = None,
) -> dict[str, object] | None:
    """The plan's decision — the plan as filed, each scenario that can run and, with an
    alternative, keeping it — and what each group of inputs would be worth to know first.
    None when there is nothing to choose (one plan and no alternative). ``comparison``: the
    plan and its scenarios drawn on ``simulation``'s streams when the caller has it
    (:func:`~ftcost_helpers.engine.comparison.compare`; else worked out here)."""
    if comparison is None or not comparison.drawn:
        comparison = compare(params, book, simulation, source)
    names, values, inputs = _scenario_values(params, comparison)
    options = [BASE_PLAN_NAME, *names]
    assert comparison.tco is not None and comparison.final_cash is not None
    columns = [_option_value(params, comparison.final_cash[0], comparison.tco[0]), *values]
    if params.alternative.kind != "none":
        options.append("Keep the alternative")
        columns.append(np.zeros(simulation.draws))
        decision = "which plan, or keeping the alternative, on expected net value over the horizon"
    elif len(columns) < 2:
        return None
    else:
        decision = "which plan, on expected cost of ownership over the horizon"
    return value_of_information(np.column_stack(columns), options, inputs, decision)
