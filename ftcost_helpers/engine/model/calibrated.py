"""A plan's ``calibration`` block applied to the run (issue 23): the pilot-implied hours and
utilisation in place of the booked hours and the assumed utilisation, and the memory
estimate scaled by the measured/estimated ratio.

The block applies only while the plan's training keeps the configuration it was made for
(:class:`~ftcost_helpers.engine.schema.CalibratedFor`): a changed GPU, GPU count, sequence
length, micro-batch or method makes the transfer rule that widened its range out of date,
so such a plan (or scenario) is costed uncalibrated and :func:`calibration_mismatch` says why.
Pure: works on resolved plans (floats or arrays of draws) and on unresolved ones alike.
"""

from __future__ import annotations

from ftcost_helpers.engine.model import compute
from ftcost_helpers.engine.quantities import Number, Range, base_value, times
from ftcost_helpers.engine.schema import Params

MILLION = 1e6

MATCHED_KEYS = ("gpu", "gpus_per_run", "sequence_length", "micro_batch_size", "method")
"""``training`` keys a calibration was made for (:class:`CalibratedFor`'s fields)."""


def calibration_mismatch(p: Params) -> str | None:
    """Why the plan's calibration does not apply (None when it does, or there is none):
    the first training key that differs from the one it was made for."""
    c = p.calibration
    if c is None:
        return None
    for key in MATCHED_KEYS:
        made_for, now = getattr(c.calibrated_for, key), getattr(p.training, key)
        if made_for != now:
            return f"made for training.{key} {made_for}, the plan has {now}: run calibrate again"
    return None


def is_calibrated(p: Params) -> bool:
    """Whether the plan carries a calibration that applies to its training."""
    return p.calibration is not None and calibration_mismatch(p) is None


def calibrated_hours_per_run(p: Params) -> Number:
    """Wall-clock hours of one run from the pilot: hours per million tokens × the run's
    tokens (pairs × tokens per pair × epochs) ÷ 10⁶."""
    t = p.training
    tokens = compute.training_tokens(p.dataset.pairs, t.tokens_per_pair, t.epochs)
    return p.calibration.hours_per_million_tokens * tokens / MILLION


def with_calibration(p: Params) -> Params:
    """``p`` with a calibration that applies moved into its training (hours per run and
    utilisation); ``p`` itself otherwise."""
    if not is_calibrated(p):
        return p
    training = p.training.model_copy(
        update={"hours_per_run": calibrated_hours_per_run(p), "utilisation": p.calibration.utilisation}
    )
    return p.model_copy(update={"training": training})


def memory_ratio(p: Params) -> float:
    """Measured ÷ estimated peak memory of the pilot, when the calibration applies; else 1."""
    return p.calibration.memory_ratio if is_calibrated(p) else 1.0


def calibrated_hours_range(p: Params) -> Range:
    """The pilot-implied hours per run as a range over the calibration's band, at the run's
    base-case tokens (what a table of inputs shows beside the booked hours it replaces)."""
    t, c = p.training, p.calibration
    tokens = base_value(p.dataset.pairs) * base_value(t.tokens_per_pair) * base_value(t.epochs) / MILLION
    hours = times(c.hours_per_million_tokens, tokens)
    return hours if isinstance(hours, Range) else Range.model_construct(low=hours, high=hours, mode=None)
