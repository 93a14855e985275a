"""The fewest GPUs on which a training plan fits: the plan's tensor, pipeline and context
degrees kept, the data-parallel replicas (and, for a mixture of experts, the expert-parallel
degree) searched, against the memory breakdown of :mod:`training_memory`."""

from __future__ import annotations

import numpy as np

from ftcost_helpers.engine.model import memory
from ftcost_helpers.engine.model.training_memory import MEMORY_TERMS, memory_breakdown
from ftcost_helpers.engine.model.training_shape import Shape
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import Number
from ftcost_helpers.engine.schema import Params


def fewest_gpus(p: Params, book: PriceBook, shape: Shape, trained: Number, usable: Number) -> Number:
    """The fewest GPUs on which the run fits, keeping the plan's tensor, pipeline and
    context degrees: their product × the fewest data-parallel replicas (inf when none do).
    A mixture of experts may also split its experts differently: every expert-parallel degree
    from 1 to the experts in powers of two (and the plan's own) is tried, each needing at
    least as many GPUs as EP ranks, and the fewest GPUs over them is the answer."""
    t = p.training
    best = _fewest_replicas(p, book, shape, trained, usable)
    if t.expert_parallel > 1:
        best = np.maximum(best, np.ceil(t.expert_parallel / t.model_parallel))
    for ep in expert_parallel_candidates(shape.experts, t.expert_parallel):
        split = p.model_copy(update={"training": t.model_copy(update={"expert_parallel": ep})})
        replicas = np.maximum(_fewest_replicas(split, book, shape, trained, usable), np.ceil(ep / t.model_parallel))
        best = np.minimum(best, replicas)
    return (best * t.model_parallel)[()]


def expert_parallel_candidates(experts: int, planned: int) -> tuple[int, ...]:
    """Expert-parallel degrees the fewest-GPUs search tries besides the plan's: powers of two
    up to the experts (none for a dense model)."""
    if experts <= 1:
        return ()
    return tuple(ep for ep in (2**k for k in range(int(np.log2(experts)) + 1)) if ep != planned)


def _fewest_replicas(p: Params, book: PriceBook, shape: Shape, trained: Number, usable: Number) -> Number:
    """The fewest data-parallel replicas on which the plan fits (inf when none do): the
    memory that shards falls as 1/d, the rest stays (:func:`memory.fewest_data_parallel`),
    in both phases of the peak."""
    t = p.training
    one = memory_breakdown(p, book, shape, trained, t.model_parallel)
    many = memory_breakdown(p, book, shape, trained, 1e30 * t.model_parallel)
    fixed_fb = sum(many[name] for name in MEMORY_TERMS if name != "step_buffer")
    fixed_step = many["weights"] + many["gradients"] + many["optimizer_states"] + many["step_buffer"] + many["overhead"]
    sharded_fb = sum(one[name] - many[name] for name in ("weights", "gradients", "optimizer_states"))
    sharded_step = sharded_fb + one["step_buffer"] - many["step_buffer"]
    shards = t.sharding != "none"
    replicas = np.maximum(
        memory.fewest_data_parallel(fixed_fb, sharded_fb, usable, shards),
        memory.fewest_data_parallel(fixed_step, sharded_step, usable, shards),
    )
    if "rollout" in many:  # RL's rollout phase: the states and the engine (its batch as the plan spreads it)
        fixed_rollout = many["weights"] + many["gradients"] + many["optimizer_states"] + many["rollout"]
        rollout = memory.fewest_data_parallel(fixed_rollout + many["overhead"], sharded_fb, usable, shards)
        replicas = np.maximum(replicas, rollout)
    return replicas
