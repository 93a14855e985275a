"""Buy or rent? Owned hardware against the rented GPU-hours of the plan (issue 24, money).

Owning ``n`` GPUs for a horizon of ``H`` months costs (each formula per GPU-hour or per
month, as a finance text costs a fixed asset; straight-line depreciation to the resale value,
e.g. IAS 16 §62 or IRS Publication 946):

* depreciation: ``n × purchase × (1 − resale) × min(H / (12 × years), 1)`` — the purchase
  less what it resells for, written off evenly over its life, for the months of the horizon;
* energy: ``GPU-hours × kW per GPU × PUE × price per kWh`` — the GPUs' draw, and the
  facility's overhead on it (PUE = total facility power ÷ IT power);
* colocation: ``USD per month × H``.

Renting the same GPU-hours costs ``GPU-hours × rate``. Owning wins when its total is lower;
it breaks even at ``fixed ÷ (rate − energy per GPU-hour)`` GPU-hours a month, where ``fixed``
is the depreciation and colocation of one month (none when the rent does not even cover
the energy). Every function works on floats and arrays alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import Number, base_value
from ftcost_helpers.engine.schema import Params

MONTHS_PER_YEAR = 12


def depreciation_per_month(gpus: Number, purchase_per_gpu: Number, resale_fraction: Number, years: Number) -> Number:
    """USD a month of straight-line depreciation to the resale value over ``years``."""
    return gpus * purchase_per_gpu * (1.0 - resale_fraction) / (MONTHS_PER_YEAR * years)


def depreciation_over(
    months: Number, gpus: Number, purchase_per_gpu: Number, resale_fraction: Number, years: Number
) -> Number:
    """USD of depreciation over ``months`` (no more than the whole write-down once the life
    has run out)."""
    life_share = np.minimum(np.asarray(months, dtype=float) / (MONTHS_PER_YEAR * np.asarray(years, dtype=float)), 1.0)
    return (gpus * purchase_per_gpu * (1.0 - resale_fraction) * life_share)[()]


def energy_per_gpu_hour(power_kw_per_gpu: Number, pue: Number, kwh_price: Number) -> Number:
    """USD of electricity per GPU-hour: kW × PUE × USD per kWh."""
    return power_kw_per_gpu * pue * kwh_price


def break_even_gpu_hours_per_month(fixed_per_month: Number, rate: Number, energy_per_hour: Number) -> Number:
    """GPU-hours a month at which owning costs what renting does; nan where the rent per
    GPU-hour does not exceed the energy of one (owning never catches up)."""
    margin = np.asarray(rate, dtype=float) - np.asarray(energy_per_hour, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            margin > 0, np.asarray(fixed_per_month, dtype=float) / np.where(margin > 0, margin, 1.0), np.nan
        )[()]


@dataclass(frozen=True)
class BuyVsRent:
    """Owning the training GPUs against renting the plan's GPU-hours, over the horizon."""

    gpus: float
    gpu_hours: float
    horizon_months: int
    rent_rate_usd_per_gpu_hour: float
    rented_usd: float
    depreciation_usd: float
    energy_usd: float
    colocation_usd: float
    purchase_usd: float
    break_even_gpu_hours_per_month: float | None

    @property
    def owned_usd(self) -> float:
        """What owning costs over the horizon: depreciation + energy + colocation."""
        return self.depreciation_usd + self.energy_usd + self.colocation_usd

    @property
    def cheaper(self) -> str:
        """``buy`` or ``rent`` (rent on a tie: no capital tied up)."""
        return "buy" if self.owned_usd < self.rented_usd else "rent"

    @property
    def owned_usd_per_gpu_hour(self) -> float | None:
        """Owning's cost per GPU-hour the plan uses (None without GPU-hours)."""
        return self.owned_usd / self.gpu_hours if self.gpu_hours > 0 else None

    def as_dict(self) -> dict[str, Any]:
        """``summary.json``'s ``ownership`` object (amounts to the cent)."""

        def cents(value: float | None) -> float | None:
            return None if value is None else round(float(value), 2)

        return {
            "gpus": self.gpus,
            "gpu_hours": round(self.gpu_hours, 2),
            "horizon_months": self.horizon_months,
            "purchase_usd": cents(self.purchase_usd),
            "rented_usd": cents(self.rented_usd),
            "owned_usd": cents(self.owned_usd),
            "depreciation_usd": cents(self.depreciation_usd),
            "energy_usd": cents(self.energy_usd),
            "colocation_usd": cents(self.colocation_usd),
            "owned_usd_per_gpu_hour": cents(self.owned_usd_per_gpu_hour),
            "rent_rate_usd_per_gpu_hour": cents(self.rent_rate_usd_per_gpu_hour),
            "break_even_gpu_hours_per_month": cents(self.break_even_gpu_hours_per_month),
            "cheaper": self.cheaper,
        }


def buy_vs_rent(
    *,
    gpus: float,
    gpu_hours: float,
    horizon_months: int,
    rate: float,
    purchase_per_gpu: float,
    years: float,
    resale_fraction: float,
    power_kw_per_gpu: float,
    pue: float,
    kwh_price: float,
    colocation_per_month: float,
) -> BuyVsRent:
    """The comparison on resolved (base-case) figures; see the module's formulas."""
    energy_hour = energy_per_gpu_hour(power_kw_per_gpu, pue, kwh_price)
    fixed = depreciation_per_month(gpus, purchase_per_gpu, resale_fraction, years) + colocation_per_month
    break_even = float(break_even_gpu_hours_per_month(fixed, rate, energy_hour))
    return BuyVsRent(
        gpus=float(gpus),
        gpu_hours=float(gpu_hours),
        horizon_months=int(horizon_months),
        rent_rate_usd_per_gpu_hour=float(rate),
        rented_usd=float(gpu_hours * rate),
        depreciation_usd=float(depreciation_over(horizon_months, gpus, purchase_per_gpu, resale_fraction, years)),
        energy_usd=float(gpu_hours * energy_hour),
        colocation_usd=float(colocation_per_month * horizon_months),
        purchase_usd=float(gpus * purchase_per_gpu),
        break_even_gpu_hours_per_month=None if np.isnan(break_even) else break_even,
    )


PER_GPU_KEYS = ("purchase_usd_per_gpu", "power_kw_per_gpu")
SHARED_KEYS = ("years", "pue", "kwh_price_usd", "resale_fraction", "colocation_usd_per_month")


def ownership_inputs(params: Params, book: PriceBook) -> dict[str, float]:
    """Each ownership figure at its base case: the client's, else the price book's default
    (by GPU for the purchase price and the power); KeyError naming the key that has neither."""
    own = params.training.ownership
    defaults = book.ownership_defaults
    by_gpu = defaults.by_gpu.get(params.training.gpu) if defaults is not None else None
    values: dict[str, float] = {}
    for key in (*PER_GPU_KEYS, *SHARED_KEYS):
        given = getattr(own, key) if own is not None else None
        if given is None:
            source = by_gpu if key in PER_GPU_KEYS else defaults
            given = getattr(source, key, None) if source is not None else None
        if given is None:
            raise KeyError(key)
        values[key] = base_value(given)
    return values


def ownership_problems(params: Params, book: PriceBook) -> list[tuple[str, str]]:
    """(key, problem) for an ownership figure that neither the file nor the price book gives."""
    if params.training.ownership is None:
        return []
    try:
        ownership_inputs(params, book)
    except KeyError as missing:
        key = missing.args[0]
        where = f" for {params.training.gpu}" if key in PER_GPU_KEYS else ""
        return [(f"training.ownership.{key}", f"the price book has no default{where}: give it")]
    return []


def owned_figures(params: Params, book: PriceBook) -> dict[str, Number]:
    """Each ownership figure as the run sees it (a float or one value per draw): the
    client's, else the price book's default (validated at load: :func:`ownership_problems`)."""
    own = params.training.ownership
    defaults = book.ownership_defaults
    by_gpu = defaults.by_gpu.get(params.training.gpu) if defaults is not None else None
    values: dict[str, Number] = {}
    for key in (*PER_GPU_KEYS, *SHARED_KEYS):
        given = getattr(own, key) if own is not None else None
        if given is None:
            given = getattr(by_gpu if key in PER_GPU_KEYS else defaults, key)
        values[key] = given
    return values


def owned_compute_lines(
    params: Params, book: PriceBook, gpu_hours: tuple[Number, Number, Number]
) -> tuple[list[Number], Number]:
    """The three compute lines (runs, failed runs, sweep) of a plan that trains on GPUs it
    buys (``training.ownership.costed``): each line's GPU-hours × energy per GPU-hour, the
    runs' line carrying the GPUs' depreciation over the horizon and the colocation; and the
    energy alone, the first compute bill that re-training is a share of (the GPUs are paid
    for already)."""
    v = owned_figures(params, book)
    own = params.training.ownership
    gpus = (own.gpus if own is not None and own.gpus else None) or params.training.gpus_per_run
    horizon = params.horizon_months
    energy = energy_per_gpu_hour(v["power_kw_per_gpu"], v["pue"], v["kwh_price_usd"])
    fixed = owned_fixed_cost(gpus, horizon, v)
    runs, failed, sweep = (hours * energy for hours in gpu_hours)
    return [runs + fixed, failed, sweep], runs + failed + sweep


def owned_fixed_cost(gpus: Number, horizon_months: int, v: dict[str, Number]) -> Number:
    """Depreciation over the horizon and colocation of the GPUs bought."""
    depreciation = depreciation_over(horizon_months, gpus, v["purchase_usd_per_gpu"], v["resale_fraction"], v["years"])
    return depreciation + v["colocation_usd_per_month"] * horizon_months
