"""Audit checks of managed fine-tuning (issue 24): an unpacked dataset billed at its
maximum length, and a service that stops before the horizon ends. Each returns its
:class:`~ftcost_helpers.engine.audit_findings.Finding` objects (codes, titles and severities
there)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from ftcost_helpers.engine.audit_findings import MANAGED_SERVICE_END_OF_LIFE, MANAGED_UNPACKED_BILLING, Finding
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.model import managed
from ftcost_helpers.engine.model.run import ModelRun
from ftcost_helpers.engine.money import usd
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import base_value
from ftcost_helpers.engine.schema import Params


def _last(cash_flow: np.ndarray) -> float:
    return float(np.mean(np.asarray(cash_flow)[..., -1]))


def managed_unpacked_billing(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """A managed plan whose service bills an unpacked dataset at examples × the maximum
    length, with packing off: the padding it pays for, and what packing saves."""
    t = params.training
    if t.provider != "managed" or t.managed is None or t.packing:
        return []
    service = book.managed_services[t.managed.service]
    if not service.bills_unpacked_at_max_length:
        return []
    pairs, per_pair, epochs = base_value(params.dataset.pairs), base_value(t.tokens_per_pair), base_value(t.epochs)
    jobs = base_value(t.runs) + base_value(t.failed_runs) * t.failed_run_completed_fraction
    waste = float(managed.unpacked_waste_tokens(pairs, per_pair, t.sequence_length, epochs, jobs))
    if waste <= 0:
        return []
    packed = params.model_copy(update={"training": t.model_copy(update={"packing": True})})
    saving = _last(evaluate(packed, book).cash_flow) - _last(run.cash_flow)
    share = 1.0 - per_pair / t.sequence_length
    return [
        Finding(
            MANAGED_UNPACKED_BILLING,
            "compute",
            f"{service.label} bills an unpacked dataset at examples × the maximum length ({service.source}): "
            f"{pairs:,.0f} pairs × {t.sequence_length:,} tokens where they hold {per_pair:,.0f}, so {share:.0%} of "
            f"the billed tokens ({waste / 1e6:,.0f}M over {jobs:g} jobs) are padding. Turning packing on "
            f"(training.packing: true) saves {usd(saving)}.",
            saving,
            client_message=(
                f"The fine-tuning service bills each unpacked example at the maximum length: {share:.0%} of what "
                f"it bills is padding. Packing the examples saves {usd(saving)}."
            ),
        )
    ]


def _month_of(day: dt.date, start: dt.date) -> int:
    """The month of the plan (1 = the start's month) a day falls in."""
    return (day.year - start.year) * 12 + (day.month - start.month) + 1


def managed_service_end_of_life(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """A managed service (training, or the hosting of the model) that stops before the
    horizon ends, by its vendor's stated date: a forced move to another service."""
    found: list[Finding] = []
    t, s = params.training, params.serving
    named: list[tuple[str, dt.date | None, str]] = []
    if t.provider == "managed" and t.managed is not None:
        service = book.managed_services[t.managed.service]
        named.append((service.label, t.managed.end_of_life or service.end_of_life, "trains the model"))
    if s.service is not None and s.service in book.managed_services:
        service = book.managed_services[s.service]
        named.append((service.label, service.end_of_life, "hosts the model"))
    for label, end, role in named:
        if end is None:
            continue
        month = _month_of(end, params.start_date)
        if month > params.horizon_months:
            continue
        when = "before the plan starts" if end < params.start_date else f"in month {month} of {params.horizon_months}"
        retrain = float(base_value(run.area_total("compute")))
        found.append(
            Finding(
                MANAGED_SERVICE_END_OF_LIFE,
                "maintenance",
                f"{label}, which {role}, stops on {end.isoformat()}, {when}: moving to another service means "
                f"re-training ({usd(retrain)} of compute at this plan's prices) and migrating the deployment.",
            )
        )
    return found
