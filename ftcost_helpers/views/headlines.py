"""What a widget panel writes above its chart: the headline figures of each area, the notes
on what a move did that the figures do not show, and the verdict on a plan that cannot run.
Every figure is the engine's, written as the tables write it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ftcost_helpers.engine.breakdown import Breakdown
from ftcost_helpers.engine.feasibility import plan_feasibility
from ftcost_helpers.engine.fit import plan_fit
from ftcost_helpers.views import tables


def feasibility_lines(breakdown: Breakdown) -> list[str]:
    """A plan that cannot run as written, said as the report says it
    (:func:`~ftcost_helpers.engine.feasibility.plan_feasibility`), and for a model that does
    not fit its GPUs, what would make it fit (:func:`~ftcost_helpers.engine.fit.plan_fit`)."""
    verdict = plan_feasibility(breakdown)
    if verdict.feasible:
        return []
    lines = [verdict.sentence[0].upper() + verdict.sentence[1:] + "."]
    fit = plan_fit(breakdown.params, breakdown.book, breakdown.base)
    if not fit.fits:
        lines.append(f"To make it fit: {'; or '.join(fit.fixes)}. The figures price runs that would not start.")
    return lines


def usd_headline(values: Mapping[str, float]) -> dict[str, str]:
    return {name: tables.usd(value) for name, value in values.items()}


def break_even(breakdown: Breakdown) -> str:
    month = breakdown.break_even_month
    return "none within the horizon" if month is None else f"month {month}"


def programme(breakdown: Breakdown) -> dict[str, str]:
    """The three figures every panel shows beside its own: the one-time programme, the total
    cost of ownership over the horizon and the break-even month."""
    return {
        "Programme total": tables.usd(breakdown.programme_total),
        "TCO over the horizon": tables.usd(breakdown.tco),
        "Break-even": break_even(breakdown),
    }


def number(value: float, decimals: int = 0) -> str:
    return f"{float(value):,.{decimals}f}"


def physics_notes(panel: Any) -> list[str]:
    """What a move did to the physics view (tokens, physics GPU-hours, implied utilisation),
    and whether the booked plan followed: the booked GPU-hours only move with GPUs, hours
    per run and runs."""
    now, plan = panel.breakdown.base.compute, panel.base.base.compute
    if float(now.tokens_per_run) == float(plan.tokens_per_run) and float(now.flops_per_run) == float(
        plan.flops_per_run
    ):
        return []
    sentence = (
        f"Physics view: {number(float(now.tokens_per_run) / 1e6, 1)}M training tokens per run "
        f"(plan {number(float(plan.tokens_per_run) / 1e6, 1)}M), "
        f"{number(now.physics_gpu_hours_per_run, 1)} physics GPU-hours per run "
        f"(plan {number(plan.physics_gpu_hours_per_run, 1)}), "
        f"implied utilisation {tables.percent(now.implied_utilisation, 1)} "
        f"(plan {tables.percent(plan.implied_utilisation, 1)})."
    )
    if float(now.booked_gpu_hours) == float(plan.booked_gpu_hours):
        sentence += (
            f" The booked plan does not follow: it still books {number(now.booked_gpu_hours)} GPU-hours, "
            "so the compute bill is unchanged (move hours per run in the compute panel)."
        )
    return [sentence]


def compute_headline(breakdown: Breakdown) -> dict[str, str]:
    c = breakdown.base.compute
    return (
        usd_headline({"Compute": breakdown.areas_usd["compute"]})
        | {
            "Rate": tables.usd_cents(c.rate_usd_per_gpu_hour) + "/GPU-hour",
            "Booked GPU-hours": booked_hours(breakdown),
            "Implied utilisation": tables.percent(c.implied_utilisation, 1),
            "Fewest GPUs": number(c.fewest_gpus),
            "Memory per GPU": f"{float(c.memory_per_gpu_gb):,.2f} GB",
        }
        | programme(breakdown)
    )


def booked_hours(breakdown: Breakdown) -> str:
    """Every GPU-hour the plan books (training runs, the failed runs' rerun tax and the sweep),
    as the chart's booked bar and the table's compute total count them
    (:func:`~ftcost_helpers.views.tables.gpu_hours_frame`); the training runs' own share after
    it when the other parts book any."""
    frame = tables.gpu_hours_frame(breakdown)
    booked = frame[frame["View"] == "Booked plan"]
    total, runs = float(booked["GPU-hours"].sum()), float(booked["GPU-hours"].iloc[0])
    return number(total) if number(total) == number(runs) else f"{number(total)} ({number(runs)} in training runs)"


def dataset_headline(breakdown: Breakdown) -> dict[str, str]:
    areas = breakdown.areas_usd
    ratio = areas["dataset"] / areas["compute"] if areas["compute"] else float("nan")
    return usd_headline({"Dataset": areas["dataset"]}) | {"Dataset ÷ compute": f"{ratio:,.1f}×"} | programme(breakdown)


def eval_headline(breakdown: Breakdown) -> dict[str, str]:
    return usd_headline(
        {
            "Evaluation, one-time": breakdown.areas_usd["eval"],
            "Per month": breakdown.ongoing_monthly_usd["eval"],
        }
    ) | programme(breakdown)


JUDGED_FACTORS = {
    "runs_during_programme": "judged eval runs",
    "judge_examples_per_run": "examples per run",
    "judges": "judges",
    "judge_price": "price per judge call",
}
"""The four controls whose product is the LLM-as-judge bill (runs × examples × judges × price)."""


def judged_notes(panel: Any) -> list[str]:
    """The judged-evaluation bill is a product: while any factor is 0, moving the others does
    nothing, so say which factors are 0 (the controls are inactive until they are set)."""
    zero = [label for name, label in JUDGED_FACTORS.items() if not panel.controls[name].value]
    if not zero or len(zero) == len(JUDGED_FACTORS):
        active = not zero
        return [] if active else ["Judged evaluation is off (runs, examples, judges and price are all 0)."]
    return [
        "Judged evaluation is inactive: runs × examples × judges × price per call is 0 while "
        + ", ".join(zero)
        + (" is" if len(zero) == 1 else " are")
        + " 0; set "
        + ("it" if len(zero) == 1 else "them")
        + " to price the judge calls."
    ]


def maintenance_headline(breakdown: Breakdown) -> dict[str, str]:
    quarterly = breakdown.base.maintenance_quarterly
    return usd_headline(
        {
            "Maintenance per quarter": sum(float(v) for v in quarterly.values()),
            "Per month once started": breakdown.ongoing_monthly_usd["maintenance"],
            "Migrations per quarter": float(quarterly.get("Base-model migration", 0.0)),
        }
    ) | programme(breakdown)


def roi_headline(breakdown: Breakdown) -> dict[str, str]:
    return (
        usd_headline(
            {
                "Alternative per month": float(breakdown.base.alternative_monthly),
                "Serving per month": breakdown.ongoing_monthly_usd["serving"],
            }
        )
        | {"Serving per 1M tokens": tables.usd_cents(breakdown.base.serving.usd_per_1m_tokens)}
        | programme(breakdown)
    )
