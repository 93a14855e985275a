"""Feasibility: whether a plan can run as its client file specifies it, and why not.

A plan *cannot run as specified* when the audit finds one of the hard rules broken that make
the written plan impossible rather than merely mis-costed (:data:`CANNOT_RUN_CODES`):

* the model, its training states and activations do not fit the plan's GPUs (the runs will
  not start: :func:`~ftcost_helpers.engine.audit.model_does_not_fit`, from the fit verdict of
  :func:`ftcost_helpers.engine.fit.plan_fit`; only "does not fit", never "borderline");
* the serving deployment is slower than the peak load it takes over
  (:func:`~ftcost_helpers.engine.audit.serving_below_load`);
* the booked hours would need the GPUs to run faster than the best pre-training runs ever
  have (:func:`~ftcost_helpers.engine.audit.implied_utilisation`): the runs cannot finish in
  the time the plan books.

The audit's other critical findings (an API price read per 1k tokens, serving left out of
the running costs, a parameter count that disagrees with the architecture) say the figures
are wrong, not that the plan cannot be carried out, so they leave it feasible. A plan on a
tier that breaks a hard compliance rule (HIPAA without a BAA) never gets this far: loading
refuses it. Each rule lives in its audit check; this module only reads the findings and words
the reason for a reader, from the base-case run's figures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ftcost_helpers.engine.audit import (
    MODEL_DOES_NOT_FIT,
    SERVING_BELOW_LOAD,
    UTILISATION_IMPLAUSIBLY_HIGH,
    Finding,
)
from ftcost_helpers.engine.breakdown import Breakdown
from ftcost_helpers.engine.fit import plan_fit
from ftcost_helpers.engine.model.run import ModelRun, serving_load
from ftcost_helpers.engine.model.serving_plan import throughput
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import Number
from ftcost_helpers.engine.resolve import pick_base, resolve
from ftcost_helpers.engine.schema import Params

CANNOT_RUN = "cannot run as specified"
"""What every table and the verdict say of a plan that is not feasible."""


@dataclass(frozen=True)
class Feasibility:
    """Whether a plan can run as specified; ``reasons`` says why not, in plain English (empty
    when it can)."""

    feasible: bool
    reasons: tuple[str, ...] = ()

    @property
    def sentence(self) -> str:
        """``cannot run as specified: <reason>; <reason>`` (empty when feasible)."""
        return "" if self.feasible else f"{CANNOT_RUN}: {'; '.join(self.reasons)}"

    def as_dict(self) -> dict[str, Any]:
        return {"feasible": self.feasible, "reasons": list(self.reasons)}


def _f(value: Number) -> float:
    """A base-case figure of the run as a float."""
    return float(np.mean(value))


def _gpus(count: int, label: str) -> str:
    return f"{count} × {label}"


def does_not_fit(params: Params, book: PriceBook, run: ModelRun) -> str:
    """Why the model does not fit its GPUs: memory needed per GPU against the usable memory,
    and the fewest such GPUs that would hold it (GB, base case)."""
    t, fit = params.training, plan_fit(params, book, run)
    label = book.gpus[t.gpu].label
    needed = fit.fewest_gpus
    fewest = f"at least {needed:.0f} would be needed" if np.isfinite(needed) else "no number of them holds it"
    return (
        f"the model does not fit its GPUs (training needs {fit.need_p10_gb:,.1f}–{fit.need_p90_gb:,.1f} GB of "
        f"memory per GPU on {_gpus(t.gpus_per_run, label)}, each holding {fit.capacity_gb:,.1f} GB; {fewest})"
    )


def cannot_serve(params: Params, book: PriceBook, run: ModelRun) -> str:
    """Why the serving cannot carry its load: the peak tokens/s the work needs against what the
    planned deployment serves (base case)."""
    base, base_book = resolve(params, pick_base), resolve(book, pick_base, "pricebook")
    load = serving_load(base, base_book)
    s = base.serving
    peak = f"{_f(load[1]):,.0f} tokens a second at the busiest times" if load is not None else "more than it serves"
    verb = "serves" if s.gpus == 1 else "serve"
    return (
        f"the serving cannot carry its load (the work it takes over needs {peak}; the planned "
        f"{_gpus(s.gpus, book.gpus[s.gpu].label)} {verb} {_f(throughput(base, base_book)):,.0f})"
    )


def hours_too_few(params: Params, book: PriceBook, run: ModelRun) -> str:
    """Why the runs cannot finish in the hours booked: the share of the GPUs' peak they imply
    against the most the audit finds plausible, the best pre-training runs' (base case)."""
    c, ceiling = run.compute, book.implied_utilisation_plausible.high
    return (
        f"the runs cannot finish in the hours booked ({_f(c.booked_gpu_hours_per_run):,.0f} GPU-hours per run "
        f"would mean {_f(c.implied_utilisation):.0%} of the GPUs' peak, beyond the {ceiling:.0%} the best training "
        f"runs reach; each run needs about {_f(c.physics_gpu_hours_per_run):,.0f})"
    )


Reason = Callable[[Params, PriceBook, ModelRun], str]

CANNOT_RUN_CODES: dict[str, Reason] = {
    MODEL_DOES_NOT_FIT: does_not_fit,
    SERVING_BELOW_LOAD: cannot_serve,
    UTILISATION_IMPLAUSIBLY_HIGH: hours_too_few,
}
"""The audit codes that make a plan impossible as written, each with the words of its reason."""


def feasibility(params: Params, book: PriceBook, run: ModelRun, findings: Iterable[Finding | str]) -> Feasibility:
    """Whether ``params`` can run as specified, from the audit's ``findings`` on its base-case
    ``run`` (findings or their codes): not when one of :data:`CANNOT_RUN_CODES` is among them,
    with one reason per such code, in the audit's order."""
    codes = [finding if isinstance(finding, str) else finding.code for finding in findings]
    broken = [code for code in dict.fromkeys(codes) if code in CANNOT_RUN_CODES]
    reasons = tuple(CANNOT_RUN_CODES[code](params, book, run) for code in broken)
    return Feasibility(not reasons, reasons)


def plan_feasibility(breakdown: Breakdown) -> Feasibility:
    """Whether the estimated plan can run as specified (its base case and audit)."""
    return feasibility(breakdown.params, breakdown.book, breakdown.base, breakdown.warnings)
