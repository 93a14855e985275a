"""Benchmark: batch reports against a serial loop over the papermill command line.

Generates client files (variations of the three worked examples) in a temporary folder,
then times, in one run:

* **report** — ``python -m ftcost_helpers report FILES --out DIR --jobs N``: long-lived
  worker processes (one kernel each) share out every client's tasks — its rendering (the
  HTML, the Excel workbook and summary.json) and each of its notebooks, run with papermill's
  Python API;
* **serial CLI** — one ``papermill`` command per notebook and client, one after the other
  (notebooks only: no HTML, no workbook);
* **floor** — one empty notebook through the papermill command line and through the Python
  API in a warm process (kernel start-up and papermill's bookkeeping, nothing else);
* **unchanged** — the same report command again over the same folder: every client's
  fingerprint matches, so every client is skipped;
* **one changed** — the same again after one client file was edited: that client alone is
  redone, its tasks shared among the workers as in the full run;
* the package's own import time (``python -X importtime -c "import ftcost_helpers.cli"``).

Usage: ``python bench/bench_reports.py [--clients 20] [--jobs N]``. Budgets: the report
command at least 4× faster than the serial loop on a 2-core machine (issue 5); the unchanged
batch at least 20× faster than the full run, one changed client of twenty at most 1/10 of the
full run's time (issue 14).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import yaml

from ftcost_helpers.engine.loading import project_root
from ftcost_helpers.report.runner import default_jobs, default_notebooks

ROOT = project_root()
PYTHON = sys.executable
PAPERMILL = str(Path(sys.executable).with_name("papermill"))
KERNEL = "python3"
BUDGET = 4.0
UNCHANGED_BUDGET = 20.0
ONE_CHANGED_BUDGET = 0.1


def client_variations(folder: Path, count: int) -> list[Path]:
    """``count`` client files: the examples in turn, each under its own name, with its own
    Monte Carlo seed, horizon and dataset size (so every client's figures differ)."""
    examples = sorted((ROOT / "params" / "clients").glob("example_*.yaml"))
    horizons = (12, 18, 24, 30, 36)
    files = []
    for number in range(count):
        data = yaml.safe_load(examples[number % len(examples)].read_text(encoding="utf-8"))
        data["client"] = f"Bench client {number + 1:02d} ({data['client'].split(':')[0]})"
        data["uncertainty"] = {**data.get("uncertainty", {}), "seed": 1000 + number}
        data["horizon_months"] = horizons[number % len(horizons)]
        data["dataset"]["pairs"] = round(data["dataset"]["pairs"] * (1 + 0.05 * number))
        path = folder / f"bench_{number + 1:02d}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        files.append(path)
    return files


def timed(command: list[str]) -> float:
    """Wall seconds of one command, which must succeed (else its error output is shown)."""
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(command[:4])} ...\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def report_command(files: list[Path], out: Path, jobs: int, notebooks: list[Path]) -> list[str]:
    """The report command; the fixture notebook stands in while the project has none."""
    if notebooks == list(default_notebooks()):
        return [PYTHON, "-m", "ftcost_helpers", "report", *map(str, files), "--out", str(out), "--jobs", str(jobs)]
    script = (
        "import sys; from pathlib import Path; from ftcost_helpers.report.runner import run_reports; "
        "files = [Path(f) for f in sys.argv[3:]]; "
        "sys.exit(run_reports(files, Path(sys.argv[1]), int(sys.argv[2]), notebooks=[Path(n) for n in "
        f"{[str(n) for n in notebooks]!r}]).exit_code)"
    )
    return [PYTHON, "-c", script, str(out), str(jobs), *map(str, files)]


def injected(file: Path) -> list[str]:
    """papermill's -p options for the two parameters the report runner injects."""
    return ["-p", "params_file", str(file), "-p", "interactive", "False"]


def serial_cli(files: list[Path], out: Path, notebooks: list[Path]) -> float:
    """One papermill command line per notebook and client, serially (seconds)."""
    out.mkdir()
    start = time.perf_counter()
    for file in files:
        for notebook in notebooks:
            target = out / f"{file.stem}_{notebook.name}"
            subprocess.run(
                [PAPERMILL, "-k", KERNEL, "--cwd", str(notebook.parent), str(notebook), str(target), *injected(file)],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
    return time.perf_counter() - start


def empty_notebook(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python 3", "language": "python"}
    cell = nbformat.v4.new_code_cell("params_file = ''\ninteractive = False")
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    path = folder / "empty.ipynb"
    nbformat.write(nb, path)
    return path


def floor_times(folder: Path) -> tuple[float, float]:
    """(command line, Python API in a warm process) seconds for an empty notebook."""
    from ftcost_helpers.report.execute import KernelSettings, run_notebook

    empty = empty_notebook(folder)
    cli = min(timed([PAPERMILL, "-k", KERNEL, str(empty), str(folder / "cli.ipynb")]) for _ in range(2))
    settings = KernelSettings(kernel_name=KERNEL, cwd=folder)
    run_notebook(empty, folder / "api.ipynb", empty, settings)  # warm: papermill imported
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        run_notebook(empty, folder / "api.ipynb", empty, settings)
        runs.append(time.perf_counter() - start)
    return cli, min(runs)


def import_time() -> tuple[float, float]:
    """(wall seconds of ``import ftcost_helpers.cli`` in a fresh interpreter, its own
    cumulative import time in seconds from -X importtime)."""
    wall = min(timed([PYTHON, "-c", "import ftcost_helpers.cli"]) for _ in range(3))
    trace = subprocess.run(
        [PYTHON, "-X", "importtime", "-c", "import ftcost_helpers.cli"], capture_output=True, text=True, check=True
    ).stderr
    match = re.search(r"\|\s*(\d+)\s*\|\s*ftcost_helpers\.cli\s*$", trace, flags=re.MULTILINE)
    return wall, int(match.group(1)) / 1e6 if match else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=default_jobs())
    parser.add_argument(
        "--no-serial", action="store_true", help="leave out the serial papermill loop (the incremental figures only)"
    )
    args = parser.parse_args()
    print(f"load average     {', '.join(f'{value:.1f}' for value in os.getloadavg())}  (at the start)")
    notebooks = list(default_notebooks()) or [ROOT / "tests" / "fixtures" / "report_notebook.ipynb"]
    print(
        f"{args.clients} clients × {len(notebooks)} notebooks ({', '.join(n.name for n in notebooks)}); "
        f"{args.jobs} jobs on {os.cpu_count()} cores"
    )
    with tempfile.TemporaryDirectory(prefix="ftcost-bench-") as tmp:
        folder = Path(tmp)
        (folder / "clients").mkdir()
        files = client_variations(folder / "clients", args.clients)
        command = report_command(files, folder / "reports", args.jobs, notebooks)
        report = timed(command)
        written = len(list((folder / "reports").glob("*/summary.json")))
        assert written == args.clients, f"only {written} of {args.clients} reports written"
        count = args.clients * len(notebooks)
        print(f"report command   {report:8.1f} s  ({report / count:.2f} s per notebook, HTML/xlsx/json included)")
        unchanged = timed(command)
        files[0].write_text(files[0].read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
        one_changed = timed(command)
        redone = sorted((folder / "reports").glob("*/summary.json"), key=lambda p: p.stat().st_mtime)[-1]
        assert "01" in redone.parent.name, f"the edited client was not the one redone ({redone.parent.name})"
        print_incremental(report, unchanged, one_changed)
        if not args.no_serial:
            serial = serial_cli(files, folder / "serial", notebooks)
            print(f"serial CLI loop  {serial:8.1f} s  ({serial / count:.2f} s per notebook, notebooks only)")
            verdict = "met" if serial / report >= BUDGET else "MISSED"
            print(f"ratio            {serial / report:8.2f} ×  (budget ≥ {BUDGET:g}×: {verdict})")
        cli_floor, api_floor = floor_times(folder)
    wall, own = import_time()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())  # at the end
    print(f"floor            {cli_floor:8.2f} s empty notebook via the command line; {api_floor:.2f} s via the API")
    print(f"load average     {load}  (other work on the machine slows the parallel run more than the serial loop)")
    print(
        f"import           {wall:8.2f} s  python -c 'import ftcost_helpers.cli' ({own * 1000:.0f} ms of it the package)"
    )


def print_incremental(report: float, unchanged: float, one_changed: float) -> None:
    """The incremental batch against the full run (issue 14's budgets)."""
    verdict = "met" if report / unchanged >= UNCHANGED_BUDGET else "MISSED"
    print(
        f"unchanged rerun  {unchanged:8.2f} s  ({report / unchanged:.1f}× faster than the full run; "
        f"budget ≥ {UNCHANGED_BUDGET:g}×: {verdict})"
    )
    verdict = "met" if one_changed / report <= ONE_CHANGED_BUDGET else "MISSED"
    print(
        f"one changed      {one_changed:8.2f} s  ({one_changed / report:.3f} of the full run; "
        f"budget ≤ {ONE_CHANGED_BUDGET:g}: {verdict})"
    )


if __name__ == "__main__":
    main()
