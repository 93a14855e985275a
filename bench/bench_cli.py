"""Wall time of the commands an analyst runs after every edit, against ``python -c pass``.

Each command runs as a fresh process (what the analyst waits for), ``--repeat`` times; the
median is reported with its ratio to the median of a bare interpreter start in the same run,
so a busy machine shows up in the baseline too. Targets (issue 15): ``validate`` of one
file under 0.3 s and ``estimate`` under 0.5 s on a quiet machine.

    .venv/bin/python bench/bench_cli.py [--repeat 5] [--file params/clients/example_a.yaml]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS_S = {"validate": 0.3, "estimate": 0.5}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_runs(command: list[str], repeat: int) -> tuple[list[float], list[float]]:
    """(wall, CPU) seconds of each of ``repeat`` runs of ``command`` (output discarded).
    CPU time (user + system of the child) moves less than wall time on a shared machine."""
    walls, cpus = [], []
    for _ in range(repeat):
        cpu, start = _children_cpu(), time.perf_counter()
        subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        walls.append(time.perf_counter() - start)
        cpus.append(_children_cpu() - cpu)
    return walls, cpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each command (default 5)")
    parser.add_argument("--file", default="params/clients/example_a.yaml", help="client file to validate and estimate")
    args = parser.parse_args()
    python = sys.executable
    commands = {
        "python -c pass": [python, "-c", "pass"],
        "import ftcost_helpers.cli": [python, "-c", "import ftcost_helpers.cli"],
        "validate": [python, "-m", "ftcost_helpers", "validate", args.file],
        "estimate": [python, "-m", "ftcost_helpers", "estimate", args.file],
    }
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores, median of {args.repeat} runs")
    baseline = None
    for name, command in commands.items():
        walls, cpus = timed_runs(command, args.repeat)
        median, cpu = statistics.median(walls), statistics.median(cpus)
        baseline = baseline or median
        target = TARGETS_S.get(name)
        verdict = "" if target is None else f"  target {target:.1f} s wall: {'met' if median < target else 'NOT met'}"
        print(
            f"{name:26s} wall median {median:6.3f} s (min {min(walls):.3f}, max {max(walls):.3f}), "
            f"× {median / baseline:4.1f} of python -c pass; CPU median {cpu:.3f} s{verdict}"
        )


if __name__ == "__main__":
    main()
