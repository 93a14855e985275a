"""Print docs/accuracy.md's table: the engine on every published run of
tests/validation/published_runs.yaml, predicted against measured.

    .venv/bin/python tools/accuracy.py > /tmp/table.md
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from validation.runs import Outcome, outcomes, pair_ratios


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:+.1f} %"


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def memory_table(results: list[Outcome]) -> list[str]:
    lines = [
        "| Row | Source figure | Predicted GB | Measured GB | Error | Fits (engine / measured) |",
        "|---|---|---:|---:|---:|---|",
    ]
    for r in results:
        if r.measured_memory_gb is None and r.measured_fits is None:
            continue
        measured = "—" if r.measured_memory_gb is None else f"{r.measured_memory_gb:.1f}"
        fits = (
            "—"
            if r.measured_fits is None
            else f"{'yes' if r.predicted_fits else 'no'} / {'yes' if r.measured_fits else 'no'}"
        )
        lines.append(
            f"| {r.id} | {r.row['source']['figure']} | {r.predicted_memory_gb:.1f} | {measured} | "
            f"{_percent(r.memory_error)} | {fits} |"
        )
    return lines


def time_table(results: list[Outcome]) -> list[str]:
    lines = [
        "| Row | Measured s/step | Engine P10 | P50 | P90 | P50 error | Inside P10–P90 | P90 ÷ P10 |",
        "|---|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in results:
        if r.measured_seconds_per_step is None:
            continue
        s = r.seconds_per_step
        lines.append(
            f"| {r.id} | {r.measured_seconds_per_step:.2f} | {s['p10']:.2f} | {s['p50']:.2f} | {s['p90']:.2f} | "
            f"{_percent(r.time_error)} | {'yes' if r.time_inside_band else 'no'} | {r.band_width:.2f}× |"
        )
    return lines


def summary(results: list[Outcome]) -> list[str]:
    memory = [abs(r.memory_error) for r in results if r.memory_error is not None]
    timed = [r for r in results if r.measured_seconds_per_step is not None]
    judged = [r for r in results if r.measured_fits is not None]
    lines = [
        f"- Peak memory, {len(memory)} rows: median absolute error {100 * statistics.median(memory):.1f} %, "
        f"worst {100 * max(memory):.1f} %, within ±15 % on {sum(e <= 0.15 for e in memory)} of {len(memory)}.",
        f"- Fit or not, {len(judged)} rows: right on {sum(r.predicted_fits == r.measured_fits for r in judged)}.",
        f"- Time, {len(timed)} rows: measured inside the engine's P10–P90 on "
        f"{sum(bool(r.time_inside_band) for r in timed)}; median absolute P50 error "
        f"{100 * statistics.median(abs(r.time_error) for r in timed):.1f} %, worst "
        f"{100 * max(abs(r.time_error) for r in timed):.1f} %; widest band {max(r.band_width for r in timed):.2f}×.",
    ]
    for name, predicted, measured in pair_ratios(results):
        lines.append(
            f"- LoRA ÷ full time ({name}): engine {predicted:.3f}, measured {measured:.3f} "
            f"({_percent(predicted / measured - 1.0)})."
        )
    return lines


def main() -> None:
    results = outcomes()
    print("\n".join(["### Summary", "", *summary(results), "", "### Peak memory and fit", ""]))
    print("\n".join(memory_table(results)))
    print("\n".join(["", "### Time per optimizer step", ""]))
    print("\n".join(time_table(results)))


if __name__ == "__main__":
    main()
