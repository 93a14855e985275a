"""A plain-text rendering of a Breakdown for the terminal."""

from __future__ import annotations

from ftcost_helpers.engine.breakdown import Breakdown
from ftcost_helpers.engine.model.lines import AREAS


def usd(value: float) -> str:
    """USD with thousands separators and no cents: ``USD 88,550``."""
    return f"USD {value:,.0f}"


def breakdown_text(breakdown: Breakdown) -> str:
    """The line items by area, totals, running costs, break-even and warnings."""
    width = 56
    out = [breakdown.params.client, f"price book {breakdown.book.as_of}", ""]
    out.append(f"{'Line item':<{width}} {'low':>12} {'base':>12} {'high':>12}  source")
    for area in AREAS:
        items = [i for i in breakdown.line_items if i.area == area and i.high > 0]
        if not items:
            continue
        out.append(f"[{area}]")
        for i in items:
            out.append(f"  {i.item:<{width - 2}} {i.low:>12,.0f} {i.base:>12,.0f} {i.high:>12,.0f}  {i.source}")
    low, high = breakdown.programme_range
    out.append(f"{'Programme total':<{width}} {low:>12,.0f} {breakdown.programme_total:>12,.0f} {high:>12,.0f}")
    out.append("")
    for name, value in breakdown.ongoing_monthly_usd.items():
        out.append(f"Ongoing {name:<12} {usd(value)}/month")
    month = breakdown.break_even_month
    if breakdown.params.alternative.kind == "none":
        out.append("Break-even month: none (no alternative to save against; the fine-tune is the product)")
    else:
        out.append(f"Break-even month: {month if month is not None else 'none within the horizon'}")
    out.append(f"TCO over {breakdown.params.horizon_months} months: {usd(breakdown.tco)}")
    if breakdown.warnings:
        out.append("")
        out.append("Warnings:")
        out.extend(f"  [{w.code}] {w.message}" for w in breakdown.warnings)
    return "\n".join(out)
