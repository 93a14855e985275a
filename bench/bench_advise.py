"""Benchmark: ``advise``'s search against one base-case evaluation of the same plan, timed in
one run (the ratio says how many plan evaluations the whole search costs).

Run: ``.venv/bin/python bench/bench_advise.py [--file params/clients/example_b.yaml]``

Budget (issue 25): a search of thousands of configurations in seconds. The search's time
counts the physics of every configuration (one base-case model run per machine set-up, shared
by the tiers), the cost of every configuration × draw as one array, the quantiles and the
Pareto set; the plan's own Monte Carlo run is made before the clock starts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from ftcost_helpers.engine.advise import Constraints, advise
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.loading import load_price_book, project_root
from ftcost_helpers.engine.overrides import load_plan
from ftcost_helpers.engine.uncertainty import simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=project_root() / "params" / "clients" / "example_b.yaml")
    args = parser.parse_args()
    book = load_price_book()
    params = load_plan(args.file, book)
    simulation = simulate(params, book)
    evaluate(params, book)  # warm-up
    one = statistics.median(_timed(lambda: evaluate(params, book)) for _ in range(20))
    started = time.perf_counter()
    advice = advise(params, book, simulation, Constraints())
    search = time.perf_counter() - started
    print(f"load average {os.getloadavg()[0]:.1f}")
    print(f"one base-case evaluation: {one * 1000:.2f} ms")
    print(f"advise: {advice.searched:,} configurations in {search:.2f} s ({advice.searched / search:,.0f} a second)")
    print(f"the search costs {search / one:,.0f} plan evaluations")


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
