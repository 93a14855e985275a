"""The figures of a model run are finite and printable, or the plan is refused in one line.

The schema bounds each input (:data:`~ftcost_helpers.engine.quantities.MAX_AMOUNT`), but the
model multiplies and divides them: a bandwidth of 1e-300 GB/s, a padding efficiency of 1e-300
or a scenario whose hours the physics view scales up by a billion give figures no report can
print (infinite, or past the 28 digits the faces round money to). The model's run checks
every amount and time it produces here and raises :class:`FigureOutOfRange`, a
:class:`~ftcost_helpers.engine.loading.ParamsError`, so the command line, the report runner and
the widgets show it as they show any bad input: ``file: key: problem``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ftcost_helpers.engine.loading import ParamsError
from ftcost_helpers.engine.money import code
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import MAX_AMOUNT, Number
from ftcost_helpers.engine.schema import Params

MAX_FIGURE = 1_000 * MAX_AMOUNT
"""The largest amount (USD) or time (GPU-hours) a run may produce: a thousand times the
largest number a file may give (1e15). Every real programme is many orders of magnitude
below it; past it an input is far off, and past about 1e26 the faces can no longer round
a figure to the cent."""

UNPLACED = "<parameters>"
"""The file named by a refusal raised where the plan's file is not known."""

SECTION_OF_AREA = {
    "compute": "training",
    "dataset": "dataset",
    "eval": "evaluation",
    "engineering": "engineering",
    "compliance": "compliance",
    "serving": "serving",
    "maintenance": "maintenance",
}
"""The client-file section whose inputs set each area's figures."""

HINTS = {
    "training": "GPUs, hours per run (a scenario's follow the physics view), runs or the rate are far too large",
    "serving": "GPUs, hours or the rate are far too large, or tokens_per_second is near zero",
}
"""What to check when a section's amount is out of range (else a general line)."""


class FigureOutOfRange(ParamsError):
    """A plan the schema accepts whose figures the model cannot produce: an amount or a time
    that is not finite or exceeds :data:`MAX_FIGURE`. ``key`` is the section of the client
    file whose inputs set the figure; ``problem`` says which figure, how large, and what to check."""

    def in_file(self, file: str | Path, where: str = "") -> FigureOutOfRange:
        """The same refusal naming ``file`` (and ``where`` before the key, e.g. a scenario)."""
        return FigureOutOfRange(file, f"{where}: {self.key}" if where else self.key, self.problem)


def out_of_range(value: Number) -> bool:
    """Whether any value (any draw) is not finite or exceeds :data:`MAX_FIGURE` in size."""
    if isinstance(value, float | int):  # the point estimate: no array to build
        return not math.isfinite(value) or abs(value) > MAX_FIGURE
    values = np.asarray(value, dtype=float)
    with np.errstate(invalid="ignore"):
        return bool(np.any(~np.isfinite(values)) or np.any(np.abs(values) > MAX_FIGURE))


def shown(value: Number) -> str:
    """The offending size for a message: the largest draw, or 'not a number'."""
    values = np.asarray(value, dtype=float)
    if np.any(np.isnan(values)):
        return "not a number"
    return f"{float(np.max(np.abs(values))):.3g}"


def _physics_suspects(p: Params, book: PriceBook, tokens: Number, utilisation: Number) -> str:
    """The inputs that set the physics view's time, with their values: the tokens it
    multiplies, the shares and speeds it divides by."""
    t, gpu = p.training, book.gpus[p.training.gpu]
    bandwidth = "not given" if gpu.memory_bandwidth_gbps is None else f"{gpu.memory_bandwidth_gbps:g} GB/s"
    return (
        f"{shown(tokens)} tokens a run; utilisation {shown(utilisation)}, padding_efficiency "
        f"{shown(t.padding_efficiency)}, the GPU's bf16_tflops {gpu.bf16_tflops:g} and "
        f"memory_bandwidth_gbps {bandwidth}"
    )


def check_physics(p: Params, book: PriceBook, physics_gpu_hours: Number, tokens: Number, utilisation: Number) -> None:
    """Raise :class:`FigureOutOfRange` when the GPU-hours the physics view gives a run are
    not finite or exceed :data:`MAX_FIGURE` (what a near-zero divisor breaks first)."""
    if out_of_range(physics_gpu_hours):
        raise FigureOutOfRange(
            UNPLACED,
            "training",
            f"the physics view's GPU-hours a run overflow ({shown(physics_gpu_hours)}), past the {MAX_FIGURE:.0e} "
            "the model can cost: the tokens are far too many or a share or speed that divides them is near zero "
            f"({_physics_suspects(p, book, tokens, utilisation)})",
        )


def check_implied_utilisation(p: Params, implied: Number) -> None:
    """Raise :class:`FigureOutOfRange` when the utilisation the booked hours imply is
    infinite: GPU-hours so few (a run of 5e-324 hours) that the run's FLOPs overflow against
    them. NaN is no refusal: it says no hours are booked, and the views show no figure."""
    if np.any(np.isinf(np.asarray(implied, dtype=float))):
        t = p.training
        raise FigureOutOfRange(
            UNPLACED,
            "training.hours_per_run",
            f"{t.gpus_per_run} GPUs × {shown(t.hours_per_run)} hours a run are too few to set the run's FLOPs "
            "against: the utilisation they imply is infinite; give the hours a run takes",
        )


def check_amounts(amounts: Iterable[tuple[str, str, Number]]) -> None:
    """Raise :class:`FigureOutOfRange` for the first of ``amounts`` (section of the client
    file, figure, USD) that is not finite or exceeds :data:`MAX_FIGURE`."""
    for section, figure, value in amounts:
        if out_of_range(value):
            raise FigureOutOfRange(
                UNPLACED,
                section,
                f"{figure} comes to {code()} {shown(value)}, past the {code()} {MAX_FIGURE:.0e} the model can cost: "
                f"{HINTS.get(section, 'an amount, a count or a rate of this section is far too large')}",
            )


def check_serving_load(
    p: Params, tokens_million_per_month: Number, peak_tokens_per_second: Number, gpus_to_carry: Number
) -> None:
    """Raise :class:`FigureOutOfRange` when no deployment could carry the alternative's
    volume: its peak load (tokens/s) or the GPUs that would carry it (at the deployment's
    throughput per GPU) are not finite or exceed :data:`MAX_FIGURE`, i.e. the volume comes
    over no (or next to no) serving hours, or the throughput is next to nothing."""
    s = p.serving
    if out_of_range(peak_tokens_per_second):
        raise FigureOutOfRange(
            UNPLACED,
            "serving.hours_per_month",
            f"{shown(s.hours_per_month)} serving hours a month cannot carry the alternative's "
            f"{shown(tokens_million_per_month)}M tokens a month ({shown(peak_tokens_per_second)} tokens/s at peak): "
            "give the hours the deployment serves",
        )
    if out_of_range(gpus_to_carry):
        raise FigureOutOfRange(
            UNPLACED,
            "serving.tokens_per_second",
            f"{'the physics throughput' if s.tokens_per_second is None else shown(s.tokens_per_second)} tokens/s "
            f"on {s.gpus} GPU(s) would need {shown(gpus_to_carry)} GPUs to "
            f"carry the peak of {shown(peak_tokens_per_second)} tokens/s: give the deployment's throughput",
        )
