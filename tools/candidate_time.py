"""Print the engine's time per step on the candidate rows (tests/validation/candidate_runs.yaml,
normalised by tests/validation/candidates.py) against what they measured: P10/P50/P90, the
P50's error, whether the measurement is inside the band, and the needs each row was written
with. The same rows are in docs/accuracy.md's tables (tools/accuracy.py); this prints them
alone, with their needs, to see which missing feature a miss follows.

    .venv/bin/python tools/candidate_time.py
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

from ftcost_helpers.engine.loading import load_price_book

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from validation.candidates import load_candidates
from validation.runs import run_row


def main() -> None:
    book = load_price_book()
    print("| Row | Class | Measured s/step | P10 | P50 | P90 | P50 error | Inside | Needs |")
    print("|---|---|---:|---:|---:|---:|---:|---|---|")
    errors, inside = [], 0
    for row in load_candidates():
        if "unexpressible" in row or "seconds_per_step" not in row["measured"]:
            continue
        outcome = run_row(row, book)
        s, measured = outcome.seconds_per_step, outcome.measured_seconds_per_step
        error = s["p50"] / measured - 1.0
        errors.append(abs(error))
        inside += bool(outcome.time_inside_band)
        print(
            f"| {row['id']} | {outcome.gpu_class} | {measured:.3g} | {s['p10']:.3g} | {s['p50']:.3g} | "
            f"{s['p90']:.3g} | "
            f"{100 * error:+.0f} % | {'yes' if outcome.time_inside_band else 'no'} | {', '.join(row['needs'])} |"
        )
    print(
        f"\n{len(errors)} rows timed, {inside} inside P10–P90, "
        f"median |P50 error| {100 * statistics.median(errors):.1f} %"
    )


if __name__ == "__main__":
    main()
