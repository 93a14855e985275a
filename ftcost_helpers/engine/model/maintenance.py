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


def monthly_from_quarterly(quarterly_usd: Number) -> Number:
    """USD per month of a quarterly cost."""
    return quarterly_usd / MONTHS_PER_QUARTER


def quality_lost_unmaintained(points_per_quarter: Number, quarters: np.ndarray) -> np.ndarray:
    """Percentage points of quality lost after each quarter without maintenance."""
    return np.multiply.outer(np.asarray(points_per_quarter, dtype=float), np.asarray(quarters, dtype=float))
