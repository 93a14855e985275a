"""Corrections the audit computes and the headline carries: a figure the audit calls wrong
is never a headline (issue 21: "critical findings change the numbers").

Today one correction is costed: serving that cannot carry the peak load of the work it
takes over. The plan's deployment is costed as planned in the line items and the workbook;
the headline adds what carrying the peak costs on top (:mod:`~ftcost_helpers.engine.headline`),
and the document shows "as planned" beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ftcost_helpers.engine.model import roi, serving_plan
from ftcost_helpers.engine.model.run import ModelRun, serving_load
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.resolve import pick_base, resolve
from ftcost_helpers.engine.schema import Params


@dataclass(frozen=True)
class ServingShortfall:
    """A deployment below the peak load, and what carrying it costs (base case)."""

    average_tokens_per_second: float
    peak_tokens_per_second: float
    gpus_planned: int
    gpus_needed: int
    usd_per_month_planned: float
    usd_per_month_needed: float

    @property
    def extra_usd_per_month(self) -> float:
        """USD a month more than planned to carry the peak."""
        return self.usd_per_month_needed - self.usd_per_month_planned


def serving_shortfall(params: Params, book: PriceBook, run: ModelRun) -> ServingShortfall | None:
    """The base case's serving against the peak tokens/s the alternative's volume needs
    (:func:`~ftcost_helpers.engine.model.run.serving_load`); None when it carries the load,
    when serving is not costed (``serving.modelled``) or there are no volumes. The GPUs
    needed scale the deployment's throughput per GPU (:func:`~ftcost_helpers.engine.model.roi.gpus_to_carry`),
    at the run's serving rate. The throughput is the plan's, else the physics bound
    (:func:`~ftcost_helpers.engine.model.serving_plan.throughput`). Per-token shapes
    (serverless, batch) and an endpoint without ``max_replicas`` have no shortfall; an
    endpoint with one is checked at its most replicas."""
    base, base_book = resolve(params, pick_base), resolve(book, pick_base, "pricebook")
    s = base.serving
    if s.shape in serving_plan.PER_TOKEN_SHAPES or (s.shape == "endpoint" and s.max_replicas is None):
        return None  # the provider carries the load, or the endpoint adds the replicas it needs
    load = serving_load(base, base_book)
    replicas = s.max_replicas if s.shape == "endpoint" and s.max_replicas is not None else 1
    gpus = s.gpus * replicas
    throughput = float(serving_plan.throughput(base, base_book)) * replicas
    if load is None or not s.modelled or throughput >= float(load[1]):
        return None
    needed = int(float(roi.gpus_to_carry(load[1], throughput, gpus)))
    rate = float(run.serving.rate_usd_per_gpu_hour)
    return ServingShortfall(
        average_tokens_per_second=float(load[0]),
        peak_tokens_per_second=float(load[1]),
        gpus_planned=int(gpus),
        gpus_needed=needed,
        usd_per_month_planned=float(roi.serving_cost_per_month(gpus, s.hours_per_month, rate)),
        usd_per_month_needed=float(roi.serving_cost_per_month(needed, s.hours_per_month, rate)),
    )


def shortfall_usd_per_month(params: Params, book: PriceBook, run: ModelRun) -> float:
    """USD a month the headline adds to the running cost (0 when serving carries its load)."""
    shortfall = serving_shortfall(params, book, run)
    return 0.0 if shortfall is None else shortfall.extra_usd_per_month
