"""Control → headline time of the widget panels, in-process (no browser, no kernel messages).

    PYTHONPATH=$PWD .venv/bin/python bench/bench_panels.py [--client a] [--presses 40] [--random 120]

For each notebook's panel on the client file: ``--presses`` steps of one slider (up its range
and back, every step changing the chart), then ``--random`` moves of random controls to random
values (seeded, so runs compare); each the time from setting the widget's value to the panel's
headline showing the new plan (the estimate, the table, the chart's PNG and the headline's
HTML: what the kernel does before it sends the new values to the page). Prints median, p95
and max in milliseconds per panel. The browser adds the messages and the image decode
(``bench/bench_dashboard.py`` measures that end to end).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from typing import Any

from ftcost_helpers.engine.loading import load_params, load_price_book, project_root
from ftcost_helpers.views import widgets

SLIDERS = {
    "compute": "runs",
    "dataset": "annotation_hours",
    "eval": "horizon_months",
    "maintenance": "start_month",
    "roi": "serving_gpus",
}
"""A slider per panel whose every step changes a headline figure (as bench_dashboard's)."""


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


CPU: list[float] = []
"""The process's CPU seconds of every timed move (on a shared machine, wall time also counts
the other processes' turns; CPU time does not)."""


def timed(panel: Any, widget: Any, value: Any) -> float | None:
    """Seconds from setting ``widget`` to the headline's new HTML (None when nothing moved)."""
    if widget.value == value:
        return None
    start, cpu = time.perf_counter(), time.process_time()
    widget.value = value
    seconds = time.perf_counter() - start
    CPU.append(time.process_time() - cpu)
    assert panel.status.value  # the headline was written within the timed call
    return seconds


def slider_walk(panel: Any, name: str, presses: int) -> list[float]:
    widget = panel.controls[name]
    step, value = widget.step, widget.value
    times = []
    direction = 1
    for _ in range(presses):
        following = value + direction * step
        if not widget.min <= following <= widget.max:
            direction = -direction
            following = value + direction * step
        seconds = timed(panel, widget, following)
        value = widget.value
        if seconds is not None:
            times.append(seconds)
    return times


def random_value(widget: Any, rng: random.Random) -> Any:
    if hasattr(widget, "options"):
        return rng.choice([value for _, value in widget.options])
    if isinstance(widget.value, bool):
        return not widget.value
    if hasattr(widget, "min"):
        steps = round((widget.max - widget.min) / widget.step)
        return min(widget.max, widget.min + rng.randint(0, steps) * widget.step)
    return round(rng.uniform(0, 3) * (widget.value or 10_000), 2)


def random_walk(panel: Any, moves: int, rng: random.Random) -> list[float]:
    times = []
    names = sorted(panel.controls)
    for _ in range(moves):
        widget = panel.controls[rng.choice(names)]
        if widget.disabled:
            continue
        seconds = timed(panel, widget, random_value(widget, rng))
        if seconds is not None:
            times.append(seconds)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--client", default="a", help="example_<client>.yaml (default a)")
    parser.add_argument("--presses", type=int, default=40)
    parser.add_argument("--random", type=int, default=120)
    parser.add_argument("--seed", type=int, default=26)
    args = parser.parse_args()
    book = load_price_book()
    params = load_params(project_root() / "params" / "clients" / f"example_{args.client}.yaml", book)
    rng = random.Random(args.seed)
    print(f"example {args.client}: control → headline, ms (in-process)")
    columns = f"{'median':>7} {'p95':>7} {'max':>7}"
    print(f"{'panel':<12} {'walk':>5} {columns}   {'random':>6} {columns}")
    every: list[float] = []
    for area, build in widgets.PANELS.items():
        panel = build(params, book)
        walk = slider_walk(panel, SLIDERS[area], args.presses)
        panel.reset()
        moves = random_walk(panel, args.random, rng)
        every += walk + moves
        row = [area, str(len(walk))]
        for times in (walk, moves):
            ms = [1000 * t for t in times] or [float("nan")]
            row += [f"{statistics.median(ms):7.1f}", f"{p95(ms):7.1f}", f"{max(ms):7.1f}"]
            if times is walk:
                row.append(f"  {len(moves):>6}")
        print(f"{row[0]:<12} {row[1]:>5} " + " ".join(row[2:]))
    ms = [1000 * t for t in every]
    print(f"all moves: {len(ms)}, median {statistics.median(ms):.1f} ms, p95 {p95(ms):.1f} ms, max {max(ms):.1f} ms")
    cpu = [1000 * t for t in CPU]
    print(f"CPU time: median {statistics.median(cpu):.1f} ms, p95 {p95(cpu):.1f} ms, max {max(cpu):.1f} ms")
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
