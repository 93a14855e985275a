"""Print docs/accuracy.md's "## The rows" section: the engine on every row of the asserted
table (tests/validation/published_runs.yaml and the expressible rows of
candidate_runs.yaml), predicted against measured, its coverage, and the leave-one-source-out
table (tests/validation/loso.py).

    .venv/bin/python tools/accuracy.py            # print the section
    .venv/bin/python tools/accuracy.py --write    # rewrite it in docs/accuracy.md
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

from ftcost_helpers.engine.loading import load_price_book
from ftcost_helpers.engine.pricebook import PriceBook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from validation.loso import HeldOut, TimedRow, in_sample, leave_one_out, median_absolute, timed_rows  # noqa: E402
from validation.runs import Outcome, outcomes, pair_ratios, unexpressible_rows  # noqa: E402

DOC = ROOT / "docs" / "accuracy.md"
HEADING = "## The rows"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:+.1f} %"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def _short(publication: str) -> str:
    return publication if len(publication) <= 48 else publication[:47] + "…"


def coverage(results: list[Outcome]) -> list[str]:
    """What the table spans: publications, GPU classes, GPUs per run, nodes, methods."""
    publications = sorted({r.publication for r in results})
    classes = sorted({r.gpu_class for r in results})
    gpus = [r.row["training"].get("gpus_per_run", 1) for r in results]
    multi_node = [
        r for r in results if r.row["training"].get("gpus_per_run", 1) > (r.row["training"].get("gpus_per_node") or 8)
    ]
    methods = sorted({r.row["training"]["method"] for r in results})
    moe = [r for r in results if (r.row["model"].get("experts") or 1) > 1]
    offload = [r for r in results if r.row["training"].get("offload", "none") != "none"]
    return [
        f"- {len(results)} rows from {len(publications)} publications; GPU classes: "
        + ", ".join(f"{c} ({sum(r.gpu_class == c for r in results)})" for c in classes)
        + ".",
        f"- {min(gpus)} to {max(gpus)} GPUs per run; {len(results) - len(multi_node)} rows on one node, "
        f"{len(multi_node)} on several; methods: {', '.join(methods)}; {len(moe)} mixture-of-experts rows, "
        f"{len(offload)} with offload to the host.",
        f"- Compared: memory on {sum(r.memory_error is not None for r in results)} rows, time on "
        f"{sum(r.measured_seconds_per_step is not None for r in results)}, fit on "
        f"{sum(r.measured_fits is not None for r in results)}.",
        "- Candidate rows the engine cannot run: "
        + "; ".join(f"{row['id']} ({row['unexpressible']})" for row in unexpressible_rows())
        + ".",
    ]


def summary(results: list[Outcome]) -> list[str]:
    memory = [abs(r.memory_error) for r in results if r.memory_error is not None]
    timed = [r for r in results if r.measured_seconds_per_step is not None]
    judged = [r for r in results if r.measured_fits is not None]
    right = sum(r.predicted_fits == r.measured_fits for r in judged)
    borderline = sum(r.predicted_fits != r.measured_fits and r.predicted_verdict == "borderline" for r in judged)
    lines = [
        f"- Peak memory, {len(memory)} rows: median absolute error {100 * statistics.median(memory):.1f} %, "
        f"worst {100 * max(memory):.1f} %, within ±15 % on {sum(e <= 0.15 for e in memory)} of {len(memory)}.",
        f"- Fit or not, {len(judged)} rows: right on {right}, borderline on {borderline}, wrong on "
        f"{len(judged) - right - borderline}.",
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


def memory_table(results: list[Outcome]) -> list[str]:
    lines = [
        "| Row | Publication | Class | Source figure | Predicted GB | Measured GB | Error | Fits (engine / measured) |",
        "|---|---|---|---|---:|---:|---:|---|",
    ]
    for r in results:
        if r.measured_memory_gb is None and r.measured_fits is None:
            continue
        measured = "—" if r.measured_memory_gb is None else f"{r.measured_memory_gb:.1f}"
        fits = "—" if r.measured_fits is None else f"{r.predicted_verdict} / {'yes' if r.measured_fits else 'no'}"
        figure = str(r.row["source"]["figure"]).replace("|", "/")
        lines.append(
            f"| {r.id} | {_short(r.publication)} | {r.gpu_class} | {figure} | {r.predicted_memory_gb:.1f} | "
            f"{measured} | {_percent(r.memory_error)} | {fits} |"
        )
    return lines


def time_table(results: list[Outcome]) -> list[str]:
    lines = [
        "| Row | Class | GPUs | Measured s/step | Engine P10 | P50 | P90 | P50 error | Inside P10–P90 | P90 ÷ P10 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in results:
        if r.measured_seconds_per_step is None:
            continue
        s = r.seconds_per_step
        lines.append(
            f"| {r.id} | {r.gpu_class} | {r.row['training'].get('gpus_per_run', 1)} | "
            f"{r.measured_seconds_per_step:.3g} | {s['p10']:.3g} | {s['p50']:.3g} | {s['p90']:.3g} | "
            f"{_percent(r.time_error)} | {'yes' if r.time_inside_band else 'no'} | {r.band_width:.2f}× |"
        )
    return lines


def _band(band: tuple[float, float]) -> str:
    return f"{band[0]:.2f}–{band[1]:.2f}"


def loso_table(held: list[HeldOut], full: tuple[tuple[float, float], tuple[float, float]]) -> list[str]:
    every_time = [e for h in held for e in h.time_errors]
    every_memory = [e for h in held for e in h.memory_errors]
    lines = [
        f"Band from every source: below 20B {_band(full[0])}, from 20B {_band(full[1])}.",
        "",
        "| Left out | Band without it, < 20B | ≥ 20B | Time rows | Its median abs. time error | "
        "Memory rows | Its median abs. memory error |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for h in held:
        lines.append(
            f"| {_short(h.publication)} | {_band(h.small_band)} | {_band(h.large_band)} | {len(h.time_errors)} | "
            f"{_share(median_absolute(h.time_errors))} | {len(h.memory_errors)} | "
            f"{_share(median_absolute(h.memory_errors))} |"
        )
    lines += [
        "",
        f"Leave-one-source-out median absolute error: time {_share(median_absolute(every_time))} "
        f"over {len(every_time)} rows, memory {_share(median_absolute(every_memory))} over {len(every_memory)} rows.",
    ]
    return lines


def loso_figures(
    results: list[Outcome], book: PriceBook, timed: list[TimedRow] | None = None
) -> tuple[list[HeldOut], tuple]:
    timed = timed if timed is not None else timed_rows(results, book)
    return leave_one_out(results, book, timed), in_sample(timed, book)


def class_table(results: list[Outcome], timed: list[TimedRow]) -> list[str]:
    """Time by GPU class and GPU: rows, inside P10–P90, median |P50 error| and the median
    utilisation the rows imply (the share of the dense peak at which the engine's base case
    takes the measured time; loso.py)."""
    implied = {row.id: row.implied() for row in timed}
    groups: dict[tuple[str, str], list[Outcome]] = {}
    for r in results:
        if r.measured_seconds_per_step is not None:
            groups.setdefault((r.gpu_class, str(r.row["training"].get("gpu", "—"))), []).append(r)
    lines = [
        "| Class | GPU | Timed rows | Inside P10–P90 | Median abs. P50 error | Median implied utilisation |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for (gpu_class, gpu), rows in sorted(groups.items()):
        lines.append(
            f"| {gpu_class} | {gpu} | {len(rows)} | {sum(bool(r.time_inside_band) for r in rows)} | "
            f"{_share(median_absolute([r.time_error for r in rows]))} | "
            f"{statistics.median(implied[r.id] for r in rows):.2f} |"
        )
    return lines


def section(results: list[Outcome], book: PriceBook) -> str:
    timed = timed_rows(results, book)
    held, full = loso_figures(results, book, timed)
    parts = [
        HEADING,
        "",
        "### Coverage",
        "",
        *coverage(results),
        "",
        "### Summary",
        "",
        *summary(results),
        "",
        "### Leave one source out",
        "",
        *loso_table(held, full),
        "",
        "### Time by GPU class",
        "",
        *class_table(results, timed),
        "",
        "### Peak memory and fit",
        "",
        *memory_table(results),
        "",
        "### Time per optimizer step",
        "",
        *time_table(results),
    ]
    return "\n".join(parts) + "\n"


def main() -> None:
    text = section(outcomes(), load_price_book())
    if "--write" in sys.argv[1:]:
        doc = DOC.read_text(encoding="utf-8")
        DOC.write_text(doc[: doc.index(HEADING)] + text, encoding="utf-8")
    else:
        print(text, end="")


if __name__ == "__main__":
    main()
