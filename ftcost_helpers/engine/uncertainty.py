"""Monte Carlo over every range input: P10/P50/P90 and the chance of having broken even.

Every :class:`~ftcost_helpers.engine.quantities.Range` of the client's parameters and of the price
book is drawn at once, and the model runs **once** on arrays of draws (the model's
functions broadcast), never in a Python loop over draws.

Distributions:

* a range with a ``mode`` is **triangular** (low, mode, high);
* a range without one is **uniform** on [low, high]. The file then says only that the value
  lies between two bounds; a uniform claims nothing more, and its mean is the midpoint,
  which is the base case. (PERT would concentrate the draws around a mode nobody gave.)

Counts such as ``training.runs`` are drawn as continuous values: the totals then read as
expected costs, and the percentiles move smoothly with the inputs.

Reproducibility: one ``numpy`` generator seeded with ``seed`` fills a matrix of uniform
numbers, one row per input in the stable order of :func:`~ftcost_helpers.engine.resolve.range_inputs`
(client parameters first, then the price book), and each row is turned into draws by the
inverse of its distribution function. The same file, price book and seed always give the
same draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.model.guards import UNPLACED, FigureOutOfRange
from ftcost_helpers.engine.model.lines import AREAS
from ftcost_helpers.engine.model.run import ModelRun
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import Number, Range
from ftcost_helpers.engine.resolve import Picker, range_inputs
from ftcost_helpers.engine.schema import Params

PRICE_BOOK_PREFIX = "pricebook"
"""Paths of price-book ranges start with this (as :func:`breakdown.evaluate` resolves them)."""

PERCENTILES = {"p10": 10.0, "p50": 50.0, "p90": 90.0}


def inverse_cdf(lows: np.ndarray, highs: np.ndarray, modes: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Draws from uniform numbers in [0, 1): triangular where a mode is given (not nan),
    uniform on [low, high] where it is not. ``lows``, ``highs`` and ``modes`` have one
    entry per input; ``uniforms`` has one row per input. Only the rows with a mode pay for
    the triangular inverse (two square roots per draw)."""
    widths = highs - lows
    draws = uniforms * widths[:, None]
    draws += lows[:, None]  # in place: low + u × width, one array of draws made, not two
    triangular = np.flatnonzero(~np.isnan(modes))
    if triangular.size:
        draws[triangular] = _triangular(lows[triangular], highs[triangular], modes[triangular], uniforms[triangular])
    return draws


def _triangular(lows: np.ndarray, highs: np.ndarray, modes: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """The triangular inverse distribution function, one row per input: below the mode's
    share F(mode) = (mode − low) ÷ (high − low), low + √(u·(high − low)·(mode − low)); above
    it, high − √((1 − u)·(high − low)·(high − mode))."""
    low, high, mode = lows[:, None], highs[:, None], modes[:, None]
    width = high - low
    split = (mode - low) / np.where(width > 0, width, 1.0)
    rising = low + np.sqrt(uniforms * width * (mode - low))
    falling = high - np.sqrt((1.0 - uniforms) * width * (high - mode))
    return np.where(uniforms < split, rising, falling)


def uncertain_inputs(params: Params, book: PriceBook) -> dict[str, Range]:
    """Every range of the plan and of the price book, by path, in a stable order."""
    return {**range_inputs(params), **range_inputs(book, PRICE_BOOK_PREFIX)}


def draw_inputs(params: Params, book: PriceBook, draws: int, seed: int) -> dict[str, np.ndarray]:
    """``draws`` values of every range input, by path (see the module's notes)."""
    inputs = uncertain_inputs(params, book)
    rng = np.random.default_rng(seed)
    uniforms = rng.random((len(inputs), draws))
    ranges = list(inputs.values())
    lows = np.array([r.low for r in ranges], dtype=float)
    highs = np.array([r.high for r in ranges], dtype=float)
    modes = np.array([np.nan if r.mode is None else r.mode for r in ranges], dtype=float)
    return dict(zip(inputs, inverse_cdf(lows, highs, modes, uniforms), strict=True))


def picker_from_draws(draws_by_path: dict[str, np.ndarray]) -> Picker:
    """A picker that replaces each range by its array of draws (base case if not drawn)."""

    def picker(value: Range, path: str) -> np.ndarray | float:
        return draws_by_path.get(path, value.base)

    return picker


def _per_draw(value: Number, draws: int) -> np.ndarray:
    """A model output as one float per draw (a figure no range touched is a float)."""
    return np.broadcast_to(np.asarray(value, dtype=float), (draws,)).copy()


@dataclass(frozen=True)
class Simulation:
    """The outcome of a Monte Carlo run: one value per draw for each figure (USD)."""

    draws: int
    seed: int
    horizon_months: int
    programme_total: np.ndarray
    tco: np.ndarray
    break_even_month: np.ndarray
    """First month with cumulative cash flow ≥ 0; nan when it never pays back."""
    areas: dict[str, np.ndarray]
    cash_flow: np.ndarray
    """Cumulative USD, shape (draws, horizon + 1), month 0 first."""
    running_monthly: np.ndarray
    """USD per month of running the fine-tune in steady state (evaluation, serving and
    maintenance once all have started)."""
    alternative_monthly: np.ndarray
    """USD per month of what the fine-tune replaces."""
    inputs: dict[str, np.ndarray] = field(repr=False)
    """The draws of every range input, by path."""
    compute: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    """The compute area's physics and memory figures, one value per draw (see COMPUTE_DRAWN)."""

    def percentiles(self, values: np.ndarray | None = None) -> dict[str, float]:
        """P10/P50/P90 of the programme total, or of ``values`` (USD)."""
        data = self.programme_total if values is None else np.asarray(values, dtype=float)
        return {name: float(np.percentile(data, q)) for name, q in PERCENTILES.items()}

    def tco_percentiles(self) -> dict[str, float]:
        """P10/P50/P90 of the total cost of ownership over the horizon (USD)."""
        return self.percentiles(self.tco)

    def area_percentiles(self) -> dict[str, dict[str, float]]:
        """P10/P50/P90 of each programme area (USD)."""
        return {area: self.percentiles(values) for area, values in self.areas.items()}

    def cash_flow_band(self) -> dict[str, np.ndarray]:
        """P10/P50/P90 of the cumulative cash flow for each month 0..horizon (USD)."""
        return {name: np.percentile(self.cash_flow, q, axis=0) for name, q in PERCENTILES.items()}

    def break_even_probability(self) -> np.ndarray:
        """P(broken even by month m) for m = 1..horizon (a draw that never pays back
        counts as not broken even)."""
        months = np.arange(1, self.horizon_months + 1)
        paid_back = self.break_even_month[:, None] <= months[None, :]
        return paid_back.mean(axis=0)

    def range_usd(self) -> dict[str, float]:
        """P10/P50/P90 of the programme total rounded to cents, for ``summary.json``."""
        return {name: round(value, 2) for name, value in self.percentiles().items()}


COMPUTE_DRAWN = (
    "tokens_per_run",
    "flops_per_run",
    "physics_hours_per_run",
    "physics_gpu_hours_per_run",
    "memory_per_gpu_gb",
)
"""Compute figures a Simulation keeps per draw."""


def summarise_run(run: ModelRun, draws: int) -> dict[str, np.ndarray]:
    """The figures a Simulation keeps, as arrays of ``draws`` values."""
    horizon_plus_one = np.asarray(run.cash_flow).shape[-1]
    return {
        "programme_total": _per_draw(run.programme_total, draws),
        "tco": _per_draw(run.tco, draws),
        "break_even_month": _per_draw(run.break_even_month, draws),
        "areas": {area: _per_draw(run.area_total(area), draws) for area in AREAS},
        "cash_flow": np.broadcast_to(np.asarray(run.cash_flow, dtype=float), (draws, horizon_plus_one)).copy(),
        "running_monthly": _per_draw(sum(run.ongoing_monthly.values(), start=0.0), draws),
        "alternative_monthly": _per_draw(run.alternative_monthly, draws),
        "compute": {name: _per_draw(getattr(run.compute, name), draws) for name in COMPUTE_DRAWN},
    }


def simulate(
    params: Params,
    book: PriceBook,
    draws: int | None = None,
    seed: int | None = None,
    source: str | Path = UNPLACED,
) -> Simulation:
    """Monte Carlo of the whole model: ``draws`` (default ``params.uncertainty.draws``)
    draws of every range input, seeded by ``seed`` (default ``params.uncertainty.seed``),
    evaluated in one vectorised run. A draw whose figures the model cannot produce raises
    :class:`~ftcost_helpers.engine.model.guards.FigureOutOfRange` naming ``source``."""
    draws = params.uncertainty.draws if draws is None else int(draws)
    seed = params.uncertainty.seed if seed is None else int(seed)
    if draws < 1:
        raise ValueError(f"draws must be at least 1, got {draws}")
    inputs = draw_inputs(params, book, draws, seed)
    try:
        run = evaluate(params, book, picker_from_draws(inputs))
    except FigureOutOfRange as error:
        raise error.in_file(source) from None
    return Simulation(
        draws=draws, seed=seed, horizon_months=params.horizon_months, inputs=inputs, **summarise_run(run, draws)
    )
