"""Benchmark: 10,000 Monte Carlo draws of the full cost model, vectorised against a plain
Python loop over the same draws (results checked equal), both timed in one run.

Run: ``.venv/bin/python bench/bench_monte_carlo.py [--file params/clients/example_b.yaml]``

Budgets: issue 9, for the richer physics model, 10,000 draws under 25 ms and one scenario
(a base-case evaluation) under 1 ms; issue 3, at least 50× faster than the loop. The
vectorised time is the median of several runs, drawing included; the loop is timed once (it
takes seconds) and gets its draws for free. Note the load average (``uptime``) with any
figure you report: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.loading import load_params, load_price_book, project_root
from ftcost_helpers.engine.model.lines import AREAS
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.schema import Params
from ftcost_helpers.engine.uncertainty import Simulation, draw_inputs, simulate

BUDGET_SECONDS = 0.025
BUDGET_SCENARIO_SECONDS = 0.001
BUDGET_RATIO = 50.0


def time_vectorised(params, book, draws: int, seed: int, repeats: int) -> tuple[float, float, Simulation]:
    """Median wall time and median CPU time of this process (s) of ``simulate`` over
    ``repeats`` runs, and its result. On a shared machine the CPU time is the figure that
    does not count the other processes' turns on the cores."""
    simulate(params, book, draws=draws, seed=seed)  # warm-up: imports, caches
    times, cpu_times, result = [], [], None
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        result = simulate(params, book, draws=draws, seed=seed)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    return statistics.median(times), statistics.median(cpu_times), result


def time_loop(params, book, draws: int, seed: int) -> tuple[float, dict[str, np.ndarray]]:
    """Wall time (s) of one model run per draw, in a Python loop, and the figures per draw."""
    inputs = draw_inputs(params, book, draws, seed)
    figures = {name: np.empty(draws) for name in ("programme_total", "tco", "break_even_month", *AREAS)}
    start = time.perf_counter()
    for i in range(draws):
        run = evaluate(params, book, lambda value, path, i=i: float(inputs[path][i]))
        figures["programme_total"][i] = run.programme_total
        figures["tco"][i] = run.tco
        figures["break_even_month"][i] = run.break_even_month
        for area in AREAS:
            figures[area][i] = run.area_total(area)
    return time.perf_counter() - start, figures


def same_results(sim: Simulation, loop: dict[str, np.ndarray]) -> list[str]:
    """Names of the figures on which the two runs disagree (none when they agree)."""
    vectorised = {
        "programme_total": sim.programme_total,
        "tco": sim.tco,
        "break_even_month": sim.break_even_month,
        **sim.areas,
    }
    return [
        name
        for name, values in vectorised.items()
        if not np.allclose(values, loop[name], rtol=1e-12, atol=1e-9, equal_nan=True)
    ]


def time_one_scenario(params: Params, book: PriceBook, repeats: int = 200) -> tuple[float, float]:
    """Median wall and CPU seconds of one base-case run of the full model (ranges resolved,
    model run)."""
    samples, cpu_samples = [], []
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        evaluate(params, book)
        samples.append(time.perf_counter() - start)
        cpu_samples.append(time.process_time() - cpu_start)
    return statistics.median(samples), statistics.median(cpu_samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=project_root() / "params" / "clients" / "example_b.yaml")
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=7, help="vectorised runs to take the median of")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a budget is missed")
    args = parser.parse_args(argv)

    load = os.getloadavg()[0]
    book = load_price_book()
    params = load_params(args.file, book)
    seed = params.uncertainty.seed
    vectorised_s, vectorised_cpu_s, sim = time_vectorised(params, book, args.draws, seed, args.repeats)
    loop_s, loop = time_loop(params, book, args.draws, seed)
    mismatched = same_results(sim, loop)
    ratio = loop_s / vectorised_s

    inputs = len(sim.inputs)
    print(f"{args.file.name}: {args.draws:,} draws of the full model, {inputs} range inputs, seed {seed}")
    print(f"  load average (1 min) at the start: {load:.2f}")
    cpu_ms = vectorised_cpu_s * 1000
    print(f"  vectorised (median of {args.repeats}): {vectorised_s * 1000:8.1f} ms (CPU {cpu_ms:.1f} ms)")
    print(f"  Python loop over the same draws:  {loop_s * 1000:8.1f} ms")
    print(f"  ratio: {ratio:,.0f}x faster")
    scenario_s, scenario_cpu_s = time_one_scenario(params, book)
    print(f"  one scenario (base case, median of 200): {scenario_s * 1e6:,.0f} µs (CPU {scenario_cpu_s * 1e6:,.0f} µs)")
    print(f"  results equal: {'yes' if not mismatched else 'NO — ' + ', '.join(mismatched)}")
    p = sim.percentiles()
    print(f"  programme total P10/P50/P90: USD {p['p10']:,.0f} / {p['p50']:,.0f} / {p['p90']:,.0f}")
    within_time, within_ratio = vectorised_s < BUDGET_SECONDS, ratio >= BUDGET_RATIO
    within_scenario = scenario_s < BUDGET_SCENARIO_SECONDS
    print(
        f"  budget: < {BUDGET_SECONDS * 1000:.0f} ms {'met' if within_time else 'MISSED'}; "
        f"one scenario < {BUDGET_SCENARIO_SECONDS * 1000:.0f} ms {'met' if within_scenario else 'MISSED'}; "
        f">= {BUDGET_RATIO:.0f}x {'met' if within_ratio else 'MISSED'}"
    )
    if mismatched:
        return 1
    if args.strict and not (within_time and within_ratio and within_scenario):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
