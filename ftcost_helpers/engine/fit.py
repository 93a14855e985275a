"""Whether a plan's training fits its GPUs: one verdict, "fits", "borderline" or "does not
fit", with the spread it rests on and what would make it fit. The audit
(MODEL_DOES_NOT_FIT), the feasibility module, the summary (``compute.fit``) and the views
all read :func:`plan_fit`.

The need is the device memory the run takes at its peak: the CUDA context plus the caching
allocator's reserve for the live tensors that cannot page out (``allocator.device_need_gb``).
Its P90 comes from the price book's ranges for the context and for the allocator's
fragmentation (the ranges the Monte Carlo samples), taken together on a fixed grid of their
quantiles. Its P10 takes the context's P10 with the fragmentation at its range's low end:
fragmentation is what the reserve holds beyond the live tensors while memory is plentiful
(the sources measured it so), and when an allocation fails PyTorch frees its unused cached
blocks and retries before it raises out of memory, so a run short of memory is not sure to
lose it. "Does not fit" then means the live tensors and the context alone exceed the GPU in
nine cases out of ten: a run that may well run is never called one that will not. The
verdict is the same on every run of a plan and costs no draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ftcost_helpers.engine.model import allocator
from ftcost_helpers.engine.model.run import ModelRun
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import Number, Range
from ftcost_helpers.engine.schema import Params
from ftcost_helpers.engine.uncertainty import inverse_cdf

GRID = 41
"""Quantiles per range on the grid the need's P10 and P90 are read from (41 × 41 points)."""

FIT_PERCENTILES = (10.0, 90.0)


@dataclass(frozen=True)
class Fit:
    """The fit verdict of a plan (GB per GPU, base case)."""

    verdict: str
    """``fits``, ``borderline`` or ``does not fit`` (:data:`allocator.VERDICTS`)."""
    capacity_gb: float
    usable_gb: float
    """Live tensors the allocator can hold at the base case (capacity less context and fragmentation)."""
    allocated_gb: float
    reserved_gb: float
    paged_gb: float
    need_p10_gb: float
    need_p90_gb: float
    fewest_gpus: float
    """The fewest GPUs on which the run fits at the base case (inf when none do)."""
    fixes: tuple[str, ...] = ()
    """What would cut the memory the run needs, given what the plan already does."""

    @property
    def fits(self) -> bool:
        """True unless the verdict is ``does not fit`` (a borderline run may well run)."""
        return self.verdict != allocator.DOES_NOT_FIT

    @property
    def by_paging(self) -> bool:
        """Whether the run fits only because paged optimizer states move to the host."""
        return self.paged_gb > 0 and self.allocated_gb > self.usable_gb

    def as_dict(self) -> dict[str, object]:
        """The verdict and its figures as plain values (GB rounded to the MB)."""
        figures = {
            name: round(float(getattr(self, name)), 3)
            for name in ("capacity_gb", "usable_gb", "allocated_gb", "reserved_gb", "paged_gb")
        }
        need = {"p10": round(self.need_p10_gb, 3), "p90": round(self.need_p90_gb, 3)}
        return {"verdict": self.verdict, **figures, "need_gb": need, "fixes": list(self.fixes)}


def quantile_grid(value: Range | Number, points: int = GRID) -> np.ndarray:
    """``points`` quantiles of a range, evenly spaced from its low end (0) to its high end (1)
    through its inverse CDF, as the Monte Carlo draws it; a number stands for itself. With
    41 points the 10th and 90th percentiles of one range fall on its own P10 and P90."""
    if not isinstance(value, Range):
        return np.full(points, float(np.max(value)))
    uniforms = np.linspace(0.0, 1.0, points)
    mode = np.nan if value.mode is None else value.mode
    return inverse_cdf(np.array([value.low]), np.array([value.high]), np.array([mode]), uniforms[None, :])[0]


def need_percentiles(
    allocated: float, context: Range | Number, fragmentation: Range | Number, headroom: float = 0.0
) -> tuple[float, float]:
    """P10 and P90 of the device memory needed (GB) for ``allocated`` GB of live tensors: the
    P90 over the context's and the fragmentation's ranges taken independently, the P10 over the
    context's with the fragmentation at its low end (the allocator's retry; see the module)."""
    contexts = quantile_grid(context)[:, None]
    shares = quantile_grid(fragmentation)
    need = allocator.device_need_gb(allocated, contexts, shares[None, :], headroom)
    least = allocator.device_need_gb(allocated, contexts[:, 0], shares[0], headroom)
    return float(np.percentile(least, FIT_PERCENTILES[0])), float(np.percentile(need, FIT_PERCENTILES[1]))


def plan_fit(params: Params, book: PriceBook, run: ModelRun) -> Fit:
    """The fit verdict of ``params`` on its GPUs from its base-case ``run`` and the price
    book's ranges (``book`` as loaded, its ranges unresolved)."""
    c, physics = run.compute, book.training_physics
    headroom = float(np.max(params.training.memory_headroom_fraction))
    allocated, paged = _base(c.allocated_gb), _base(c.paged_gb)
    capacity = _base(c.capacity_gb_per_gpu)
    low, high = need_percentiles(
        allocated - paged, physics.framework_overhead_gb, physics.allocator_fragmentation_share, headroom
    )
    return Fit(
        verdict=allocator.verdict(low, high, capacity),
        capacity_gb=capacity,
        usable_gb=_base(c.usable_gb_per_gpu),
        allocated_gb=allocated,
        reserved_gb=_base(c.reserved_gb),
        paged_gb=paged,
        need_p10_gb=low,
        need_p90_gb=high,
        fewest_gpus=float(np.max(c.fewest_gpus)),
        fixes=memory_fixes(params),
    )


def memory_fixes(params: Params) -> tuple[str, ...]:
    """What would cut the memory a run needs, given what the plan already does: shard, a
    4-bit base, checkpointing, a shorter micro-batch, optimizer states paged or offloaded to
    the host, a mixture's experts split over GPUs, a GPU with more memory."""
    t = params.training
    fixes = (
        "shard the states across GPUs (FSDP/ZeRO-3)" if t.sharding == "none" else "",
        "use QLoRA's 4-bit base" if t.method != "qlora" else "",
        "enable gradient checkpointing" if t.activation_checkpointing == "none" else "",
        "shorten the micro-batch or sequence" if t.micro_batch_size * t.sequence_length > 1024 else "",
        "page the optimizer states to the host (paged AdamW) or offload them (ZeRO-Offload)"
        if t.offload == "none" and not t.optimizer.startswith("paged_")
        else "",
        "split the experts across GPUs (expert parallelism)"
        if (params.base_model.experts or 1) > 1 and t.expert_parallel == 1
        else "",
        "choose a GPU with more memory",
    )
    return tuple(fix for fix in fixes if fix)


def _base(value: Number) -> float:
    """A base-case figure as a float (the largest, when a run carries several)."""
    return float(np.max(value))
