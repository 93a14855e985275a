"""Scenario plans: a scenario's overrides merged over the plan and validated.

A client file's ``scenarios:`` list gives each alternative a ``name``, an optional
``description`` and ``overrides``: keys of the same schema, merged over the plan (nested
sections merge, everything else replaces) and validated by the same rules, e.g.::

    scenarios:
      - name: QLoRA on a local 24 GB card
        overrides:
          training: {method: qlora, gpu: rtx_4090, tier: local_owned, gpus_per_run: 1}
      - name: Against a RAG set-up
        overrides:
          alternative: {kind: rag, rag: {usd_per_month: 9000}}

Three rules keep a scenario honest when it changes the model, the hardware or the method:

* **Another model brings its own architecture.** A scenario whose ``base_model`` names
  another model (a catalogue id, or a ``config_json``) is costed with that model's layers,
  widths and parameter count, never with the plan's under the new name; keys the scenario
  gives win, as in a client file. A name the catalogue lacks, with no config.json and no
  architecture keys, is refused.

* **A booked rate belongs to its GPU and tier.** When a scenario changes the training (or
  serving) GPU or tier and gives no rate of its own, the plan's booked rate is dropped and
  the price book's range for the new GPU and tier applies.
* **Hours follow the physics.** When a scenario gives no ``training.hours_per_run``, the
  plan's hours per run are scaled by the physics view: the GPU-hours a run needs (FLOPs of
  the method ÷ the GPU's peak, at the plan's utilisation) relative to the plan's, divided
  over the scenario's GPUs. The scenario thus keeps the plan's own efficiency (its implied
  utilisation). A change that does not touch the physics leaves the hours as they were.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ftcost_helpers.engine.catalogue import find_model
from ftcost_helpers.engine.loading import (
    ParamsError,
    deep_merge,
    load_models,
    load_params,
    load_price_book,
    validate_params,
)
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import times
from ftcost_helpers.engine.schema import Params, Scenario, legacy_key_clashes, legacy_key_notices

if TYPE_CHECKING:
    from ftcost_helpers.engine.model.run import ModelRun

HARDWARE_KEYS = ("gpu", "tier")


def _changed_hardware(plan_section: dict[str, Any], override: dict[str, Any]) -> bool:
    return any(key in override and override[key] != plan_section.get(key) for key in HARDWARE_KEYS)


def _drop_stale_rates(plan: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """The plan's mapping with a booked rate removed where the scenario changes that
    section's GPU or tier without giving a rate of its own."""
    plan = dict(plan)
    for section in ("training", "serving"):
        override = overrides.get(section)
        if not isinstance(override, dict) or "rate_usd_per_gpu_hour" in override:
            continue
        if _changed_hardware(plan[section], override):
            plan[section] = {**plan[section], "rate_usd_per_gpu_hour": None}
    return plan


def names_another_model(plan_model: Mapping[str, Any], override: Any) -> bool:
    """Whether a scenario's ``base_model`` override switches to another model: it gives a
    ``config_json``, or a ``name`` that is not the plan's model (by catalogue id or, for a
    model the catalogue lacks, by name in any case)."""
    if not isinstance(override, Mapping):
        return False
    if "config_json" in override:
        return True
    name, plan_name = override.get("name"), str(plan_model.get("name", ""))
    if not isinstance(name, str):
        return False
    catalogue = load_models()
    found, plan_found = find_model(name, catalogue), find_model(plan_name, catalogue)
    if found is not None or plan_found is not None:
        return found is None or plan_found is None or found[0] != plan_found[0]
    return name.strip().casefold() != plan_name.strip().casefold()


def _without_replaced_model(plan: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The plan's mapping, its ``base_model`` emptied when the scenario names another model:
    that model's architecture then comes from the scenario's keys, its config.json and the
    catalogue (a name with neither is refused), never from the plan's model."""
    if not names_another_model(plan["base_model"], overrides.get("base_model")):
        return plan
    return {**plan, "base_model": {}}


def _physics_gpu_hours(run: ModelRun) -> float:
    import numpy as np

    return float(np.mean(run.compute.physics_gpu_hours_per_run))


def hours_factor(plan: Params, plan_run: ModelRun, scenario: Params, scenario_run: ModelRun) -> float:
    """How much longer a scenario's run takes than the plan's at the plan's efficiency:
    physics GPU-hours per run (scenario ÷ plan) × GPUs per run (plan ÷ scenario)."""
    plan_hours = _physics_gpu_hours(plan_run)
    if not plan_hours > 0:
        return 1.0
    physics = _physics_gpu_hours(scenario_run) / plan_hours
    return physics * plan.training.gpus_per_run / scenario.training.gpus_per_run


def validated_scenario(
    params: Params, book: PriceBook, scenario: Scenario, index: int = 0, source: str | Path = "<parameters>"
) -> Params:
    """One scenario merged over the plan and validated, before its hours are scaled; errors
    name the scenario (``scenarios.N (name): key``)."""
    where = f"scenarios.{index} ({scenario.name})"
    clashes = legacy_key_clashes(scenario.overrides.get("training"))
    if clashes:
        raise ParamsError.several(source, [(f"{where}: {key}", problem) for key, problem in clashes])
    params = params.model_copy(update={"scenarios": []})  # linear: the base plan without its scenarios
    plan = _without_replaced_model(params.model_dump(exclude={"scenarios"}), scenario.overrides)
    merged = deep_merge(_drop_stale_rates(plan, scenario.overrides), scenario.overrides)
    try:
        candidate = validate_params(merged, source, book)
    except ParamsError as error:
        raise ParamsError.several(source, [(f"{where}: {key}", problem) for key, problem in error.problems]) from None
    notices = [*candidate.notices, *legacy_key_notices(scenario.overrides.get("training"))]
    return candidate.with_notices([(f"{where}: {key}", note) for key, note in notices], replace=True)


def plan_run_for_hours(params: Params, book: PriceBook) -> ModelRun:
    """The plan's base-case run that :func:`hours_factor` scales every scenario's hours
    against (the plan without its scenarios): the same for each scenario, so a caller
    comparing several works it out once and hands it to :func:`scenario_params`."""
    from ftcost_helpers.engine.evaluate import evaluate  # the model is loaded only to run a plan

    return evaluate(params.model_copy(update={"scenarios": []}), book)


def scenario_params(
    params: Params,
    book: PriceBook,
    scenario: Scenario,
    index: int = 0,
    source: str | Path = "<parameters>",
    plan_run: ModelRun | None = None,
) -> Params:
    """The validated plan of one scenario (see the module's rules on rates and hours).
    ``plan_run``: :func:`plan_run_for_hours` of ``params`` when the caller has it."""
    from ftcost_helpers.engine.evaluate import evaluate  # the model is loaded only to run a plan

    candidate = validated_scenario(params, book, scenario, index, source)
    training_override = scenario.overrides.get("training", {})
    if isinstance(training_override, dict) and "hours_per_run" in training_override:
        return candidate
    plan = params.model_copy(update={"scenarios": []})
    if plan_run is None:
        plan_run = plan_run_for_hours(params, book)
    factor = hours_factor(plan, plan_run, candidate, evaluate(candidate, book))
    if factor == 1.0 or not math.isfinite(factor):
        return candidate
    hours = times(candidate.training.hours_per_run, factor)
    return candidate.model_copy(update={"training": candidate.training.model_copy(update={"hours_per_run": hours})})


def load_plan(path: str | Path, book: PriceBook | None = None) -> Params:
    """The client file's plan (:func:`~ftcost_helpers.engine.loading.load_params`), with every
    scenario merged over it and validated too, so a bad scenario is caught before anything runs."""
    book = book or load_price_book()
    params = load_params(path, book)
    for index, scenario in enumerate(params.scenarios):
        params.with_notices(validated_scenario(params, book, scenario, index, path).notices)
    return params
