"""Maintenance per quarter: re-evaluation, drift monitoring, incremental data, re-training
(a fraction of the first compute bill) and base-model migrations."""

from __future__ import annotations

import numpy as np

from ftcost_helpers.engine.quantities import Number

MONTHS_PER_QUARTER = 3.0
QUARTERS_PER_YEAR = 4.0


def retrain_cost_per_quarter(retrains: Number, fraction_of_first_compute: Number, first_compute_usd: Number) -> Number:
    """USD per quarter of re-training: retrains × fraction × the first compute bill."""
    return retrains * fraction_of_first_compute * first_compute_usd


def migration_cost_per_quarter(migrations_per_year: Number, migration_usd: Number) -> Number:
    """USD per quarter of moving to new base models, spread evenly over the year."""
    return migrations_per_year / QUARTERS_PER_YEAR * migration_usd


def maintained_months(months: np.ndarray, start_month: Number, build_months: Number = 0) -> np.ndarray:
    """1.0 for each month (1-based, from the programme's start) under maintenance, else 0.0:
    maintenance runs from ``start_month`` after launch on (the client file's
    ``maintenance.start_month``, month 1 being the first after ``programme.build_months``),
    i.e. from month ``build_months + start_month``."""
    first = np.asarray(build_months) + np.asarray(start_month)
    return (np.asarray(months) >= first[..., None]).astype(float)


def months_maintained_per_quarter(maintained_by_month: np.ndarray) -> np.ndarray:
    """Maintained months in each whole quarter of the horizon (0–3; a last partial quarter is
    left out), from :func:`maintained_months`."""
    months = maintained_by_month.shape[-1]
    whole = months - months % int(MONTHS_PER_QUARTER)
    by_quarter = maintained_by_month[..., :whole].reshape(*maintained_by_month.shape[:-1], -1, int(MONTHS_PER_QUARTER))
    return by_quarter.sum(axis=-1)


def monthly_from_quarterly(quarterly_usd: Number) -> Number:
    """USD per month of a quarterly cost."""
    return quarterly_usd / MONTHS_PER_QUARTER


def quality_lost_unmaintained(points_per_quarter: Number, quarters: np.ndarray) -> np.ndarray:
    """Percentage points of quality lost after each quarter without maintenance."""
    return np.multiply.outer(np.asarray(points_per_quarter, dtype=float), np.asarray(quarters, dtype=float))
