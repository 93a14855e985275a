"""Print the engine's time per step on the candidate rows that need communication
(tests/validation/candidate_runs.yaml), against what they measured: P10/P50/P90, the P50's
error and whether the measurement is inside the band. Keys the engine does not have yet are
dropped (each row's other needs are listed), so a row is indicative until its needs are met.

    .venv/bin/python tools/candidate_time.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from validation.runs import run_row

from ftcost_helpers.engine.loading import load_price_book
from ftcost_helpers.engine.schema import BaseModelSpec, Training

CANDIDATES = Path(__file__).resolve().parent.parent / "tests" / "validation" / "candidate_runs.yaml"
MODEL_KEYS = frozenset(BaseModelSpec.model_fields)
"""The base_model keys the schema knows (a row's other keys are dropped)."""


def comparable(row: dict, book) -> dict | None:
    """The row as the engine can take it, or None (no time figure, no catalogue GPU)."""
    measured = dict(row.get("measured", {}))
    training = {key: value for key, value in row.get("training", {}).items() if key in Training.model_fields}
    if "gpu_spec" in row or training.get("gpu") not in book.gpus:
        return None
    if not isinstance(training.get("interconnect", {}), dict):
        training.pop("interconnect")
    if "tokens_per_second_per_gpu" in measured and "tokens_per_second" not in measured:
        measured["tokens_per_second"] = measured["tokens_per_second_per_gpu"] * training.get("gpus_per_run", 1)
    measured = {key: value for key, value in measured.items() if key in ("seconds_per_step", "tokens_per_second")}
    if not measured:
        return None
    model = {key: value for key, value in row["model"].items() if key in MODEL_KEYS}
    return {**row, "training": training, "model": model, "measured": measured}


def main() -> None:
    book = load_price_book()
    print("| Row | Measured s/step | P10 | P50 | P90 | P50 error | Inside | Other needs |")
    print("|---|---:|---:|---:|---:|---:|---|---|")
    for row in yaml.safe_load(CANDIDATES.read_text(encoding="utf-8"))["runs"]:
        if "communication" not in row.get("needs", []):
            continue
        usable = comparable(row, book)
        others = ", ".join(sorted(set(row["needs"]) - {"communication", "multi_node"}))
        if usable is None:
            continue
        try:
            outcome = run_row(usable, book)
        except Exception as error:  # a key the engine refuses: named, not hidden
            print(f"| {row['id']} | — | — | — | — | — | {type(error).__name__} | {others} |")
            continue
        s, measured = outcome.seconds_per_step, outcome.measured_seconds_per_step
        inside = "yes" if s["p10"] <= measured <= s["p90"] else "no"
        error = s["p50"] / measured - 1.0
        print(
            f"| {row['id']} | {measured:.3g} | {s['p10']:.3g} | {s['p50']:.3g} | {s['p90']:.3g} | "
            f"{100 * error:+.0f} % | {inside} | {others} |"
        )


if __name__ == "__main__":
    main()
