"""The machine-readable summary of an estimate (``summary.json`` and ``estimate --json``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from importlib import metadata
from typing import Any

from ftcost_helpers import __version__
from ftcost_helpers.engine.breakdown import Breakdown
from ftcost_helpers.engine.schema import Params

VERSIONED_PACKAGES = ("numpy", "pandas", "pydantic", "matplotlib", "papermill", "nbconvert")


def params_hash(params: Params) -> str:
    """SHA-256 of the validated parameters (stable across key order and comments)."""
    canonical = json.dumps(params.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def package_versions() -> dict[str, str]:
    """Versions of ftcost and the packages its figures and reports depend on."""
    versions = {"ftcost_helpers": __version__}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _usd(value: float) -> float:
    return round(float(value), 2)


def _probabilities(values: Sequence[float] | None) -> list[float] | None:
    return None if values is None else [round(float(value), 4) for value in values]


def summarise(
    breakdown: Breakdown,
    range_usd: dict[str, float] | None = None,
    break_even_chance: Sequence[float] | None = None,
) -> dict[str, Any]:
    """The report contract's keys. ``range_usd`` holds P10/P50/P90 of the programme
    total (without it the input corners' low/base/high stand in); ``break_even_chance`` the
    Monte Carlo probability of having broken even by month 1..horizon (null without it)."""
    if range_usd is None:
        low, high = breakdown.programme_range
        range_usd = {"p10": _usd(low), "p50": _usd(breakdown.programme_total), "p90": _usd(high)}
    return {
        "client": breakdown.params.client,
        "currency": breakdown.params.currency,
        "programme_total_usd": _usd(breakdown.programme_total),
        "areas_usd": {area: _usd(value) for area, value in breakdown.areas_usd.items()},
        "ongoing_monthly_usd": {name: _usd(value) for name, value in breakdown.ongoing_monthly_usd.items()},
        "break_even_month": breakdown.break_even_month,
        "build_months": breakdown.params.programme.build_months,
        "break_even_chance_by_month": _probabilities(break_even_chance),
        "alternative": breakdown.params.alternative.kind,
        "alternative_source": breakdown.base.alternative_source,
        "tco_usd": _usd(breakdown.tco),
        "horizon_months": breakdown.params.horizon_months,
        "range_usd": range_usd,
        "warnings": [finding.as_dict() for finding in breakdown.warnings],
        "price_book_as_of": breakdown.book.as_of.isoformat(),
        "price_sources": breakdown.book.provenance(),
        "params_hash": params_hash(breakdown.params),
        "versions": package_versions(),
    }
