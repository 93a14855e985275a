"""How the batch shares a client's work among the workers (issue 14): each client is cut
into tasks (its rendering, then one per notebook) handed out in file order as workers
become free, so a lone client uses every worker; a report is placed only once all its
tasks are done, and a failed client is kept in _failed/ only once none of its tasks is
still writing.

The first tests drive the scheduler with a pool whose tasks the test finishes itself, in
an order it chooses (two clients interleaved, a third notebook failing while the second
is still running); the last runs the real pool on tiny notebooks."""

from __future__ import annotations

import base64
import datetime as dt
import json
import pickle
import re
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

from ftcost_helpers.engine.loading import project_root
from ftcost_helpers.report.execute import KernelSettings, NotebookFailed, kernel_call_task, notebook_task
from ftcost_helpers.report.fingerprint import FINGERPRINT_JSON
from ftcost_helpers.report.index import REPORT_HTML, REPORT_XLSX, SOURCE_FILE, SUMMARY_JSON
from ftcost_helpers.report.runner import (
    FAILED_DIR,
    STAGING,
    BatchSettings,
    ClientJob,
    LineProgress,
    _Batch,
    run_reports,
)

CLIENTS = project_root() / "params" / "clients"
RENDERED = {REPORT_HTML, REPORT_XLSX, SUMMARY_JSON}


class HeldPool:
    """A stand-in for the process pool: it records what it is given and lets the test
    finish each task (writing what the real task would write) when it chooses."""

    def __init__(self) -> None:
        self.submitted: list[tuple[str, str]] = []
        self.futures: dict[tuple[str, str], tuple[Future[Any], Any, tuple[Any, ...]]] = {}

    def submit(self, function: Any, *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        if function is kernel_call_task:  # the rendering: (code, result name), the job pickled in the code
            (payload,) = re.findall(r"\('([A-Za-z0-9+/=]+)'\)", args[0])
            job, _ = pickle.loads(base64.b64decode(payload))
            args = (job,)
            key = (job.slug, "report")
        else:
            assert function is notebook_task
            key = (args[2].stem, args[0].stem)
        self.submitted.append(key)
        self.futures[key] = (future, function, args)
        return future

    def finish(self, batch: _Batch, slug: str, step: str, error: Exception | None = None) -> None:
        future, function, args = self.futures.pop((slug, step))
        if error is not None:
            future.set_exception(error)
        elif function is kernel_call_task:
            (job,) = args
            for name in RENDERED:
                (job.staging / name).write_text("{}", encoding="utf-8")
            headline = {"basis": "p50", "programme_usd": 1000.0, "break_even_month": 4}
            future.set_result(json.dumps({"summary": {"headline": headline, "programme_total_usd": 1000.0}}))
        else:
            notebook, output, _ = args
            executed = {"cells": [], "metadata": {"executed": notebook.name}, "nbformat": 4, "nbformat_minor": 5}
            output.write_text(json.dumps(executed), encoding="utf-8")
            future.set_result(None)
        batch.complete(future)
        batch.hand_out(self, workers=2)  # type: ignore[arg-type]

    def in_flight(self) -> set[tuple[str, str]]:
        return set(self.futures)


def held_batch(out: Path, slugs: list[str], notebooks: list[str]) -> tuple[_Batch, HeldPool]:
    """A batch of clients ``slugs`` (client file ``<slug>.yaml`` each) over ``notebooks``,
    with two workers, every task held."""
    out.mkdir()
    settings = BatchSettings(
        notebooks=tuple(out.parent / f"{name}.ipynb" for name in notebooks),
        kernel=KernelSettings(),
        fresh_kernels=False,
        price_book=None,
        rates=None,
        today=dt.date(2026, 1, 1),
        generated_at="2026-01-01T00:00:00+00:00",
    )
    batch = _Batch(out, LineProgress(len(slugs)), settings)
    pool = HeldPool()
    for slug in slugs:
        source = out.parent / f"{slug}.yaml"
        source.write_text(f"client: {slug}\n", encoding="utf-8")
        batch.add(ClientJob(source, slug, slug, out / f"{STAGING}test-{slug}", {"digest": f"d-{slug}"}))
    batch.hand_out(pool, workers=2)  # type: ignore[arg-type]
    return batch, pool


def test_two_clients_interleave_and_each_lands_when_its_last_task_ends(tmp_path: Path) -> None:
    out = tmp_path / "out"
    batch, pool = held_batch(out, ["acme", "bolt"], ["01_a", "02_b", "03_c"])
    # one client's first two tasks go to the two workers: its rendering and its first notebook
    assert pool.in_flight() == {("acme", "report"), ("acme", "01_a")}
    pool.finish(batch, "acme", "01_a")
    pool.finish(batch, "acme", "report")
    assert pool.in_flight() == {("acme", "02_b"), ("acme", "03_c")}
    pool.finish(batch, "acme", "02_b")
    # a worker is free while acme's last notebook runs: bolt starts beside it
    assert pool.in_flight() == {("acme", "03_c"), ("bolt", "report")}
    assert not (out / "acme").exists(), "placed before its last notebook ended"
    pool.finish(batch, "bolt", "report")
    pool.finish(batch, "acme", "03_c")
    acme = out / "acme"
    assert {p.name for p in acme.iterdir()} == RENDERED | {SOURCE_FILE, FINGERPRINT_JSON} | {
        "01_a.ipynb",
        "02_b.ipynb",
        "03_c.ipynb",
    }
    assert json.loads((acme / FINGERPRINT_JSON).read_text(encoding="utf-8")) == {"digest": "d-acme"}
    assert not (out / "bolt").exists()
    for step in ("01_a", "02_b", "03_c"):
        pool.finish(batch, "bolt", step)
    assert set(batch.result.reports) == {"acme", "bolt"} and not batch.result.failures
    assert not batch.running and not batch.waiting
    assert [p.name for p in out.iterdir() if p.name.startswith(STAGING)] == []
    # every task was handed out once, in file order
    assert pool.submitted == [(slug, step) for slug in ("acme", "bolt") for step in ("report", "01_a", "02_b", "03_c")]


def test_a_third_notebook_failing_keeps_the_client_in_failed_once_its_running_tasks_end(tmp_path: Path) -> None:
    out = tmp_path / "out"
    earlier = out / "acme"
    batch, pool = held_batch(out, ["acme", "bolt"], ["01_a", "02_b", "03_c", "04_d"])
    earlier.mkdir()
    (earlier / SUMMARY_JSON).write_text('{"marker": "earlier good report"}', encoding="utf-8")
    pool.finish(batch, "acme", "01_a")
    pool.finish(batch, "acme", "report")
    assert pool.in_flight() == {("acme", "02_b"), ("acme", "03_c")}
    pool.finish(batch, "acme", "03_c", NotebookFailed("03_c.ipynb", "cell 2 (In [1])", "ValueError: boom"))
    # acme's fourth notebook is withdrawn; the free worker goes on with bolt
    assert pool.in_flight() == {("acme", "02_b"), ("bolt", "report")}
    assert (out / f"{STAGING}test-acme").is_dir(), "moved away while its second notebook was still writing"
    assert not (out / FAILED_DIR).exists()
    pool.finish(batch, "acme", "02_b")
    kept = out / FAILED_DIR / "acme"
    assert {p.name for p in kept.iterdir()} == {SOURCE_FILE, "error.txt", "01_a.ipynb", "02_b.ipynb"}
    assert "03_c.ipynb, cell 2 (In [1]): ValueError: boom" in (kept / "error.txt").read_text(encoding="utf-8")
    assert (earlier / SUMMARY_JSON).read_text(encoding="utf-8") == '{"marker": "earlier good report"}'
    while pool.futures:  # bolt's tasks, as they come
        pool.finish(batch, *next(iter(pool.futures)))
    assert ("acme", "04_d") not in pool.submitted
    assert set(batch.result.reports) == {"bolt"}
    (failure,) = batch.result.failures
    assert failure.source.endswith("acme.yaml") and failure.message.startswith("03_c.ipynb, cell 2")


# --------------------------------------------------------------------------- the real pool


def tiny_notebook(path: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    parameters = nbformat.v4.new_code_cell('params_file = ""\ninteractive = True')
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# Tiny {path.stem}"), parameters]
    nb.cells += [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def side_by_side(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Two clients over three tiny notebooks and two workers. The first notebook waits for
    the second to have started for the same client (so it cannot pass unless one client's
    notebooks run side by side in two workers); the third fails for a client whose name says
    "explode"."""
    root = tmp_path_factory.mktemp("side")
    marks = root / "marks"
    marks.mkdir()
    books = root / "notebooks"
    books.mkdir()
    stem = "__import__('pathlib').Path(params_file).stem"
    notebooks = [
        tiny_notebook(
            books / "01_waits.ipynb",
            "import time\nfrom pathlib import Path\n"
            f"mark = Path({str(marks)!r}) / ({stem} + '-02')\n"
            "deadline = time.monotonic() + 120\n"
            "while not mark.exists():\n"
            "    assert time.monotonic() < deadline, 'notebook 02 of this client never started beside 01'\n"
            "    time.sleep(0.05)",
        ),
        tiny_notebook(
            books / "02_marks.ipynb",
            f"(__import__('pathlib').Path({str(marks)!r}) / ({stem} + '-02')).touch()",
            f"(__import__('pathlib').Path({str(marks)!r}) / ('kernel-' + str(__import__('os').getpid()))).touch()",
        ),
        tiny_notebook(
            books / "03_third.ipynb",
            "import yaml\nclient = yaml.safe_load(open(params_file))['client']\n"
            "assert 'explode' not in client, 'the third notebook fails for this client'",
        ),
    ]
    clients = root / "clients"
    clients.mkdir()
    files = []
    for name, client in (("good", "Good Co"), ("failing", "Acme explode test")):
        data = yaml.safe_load((CLIENTS / "example_b.yaml").read_text(encoding="utf-8"))
        data["client"] = client
        files.append(clients / f"{name}.yaml")
        files[-1].write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    out = root / "out"
    result = run_reports(files, out, jobs=2, notebooks=notebooks, say=lambda line: None)
    return {"result": result, "out": out, "kernel_pids": [int(p.name[7:]) for p in marks.glob("kernel-*")]}


def test_one_clients_notebooks_run_side_by_side_and_its_report_lands(side_by_side: dict) -> None:
    folder = side_by_side["out"] / "good"
    assert set(side_by_side["result"].reports) == {"good"}
    assert RENDERED | {FINGERPRINT_JSON, "01_waits.ipynb", "02_marks.ipynb", "03_third.ipynb"} <= {
        p.name for p in folder.iterdir()
    }
    for name in ("01_waits.ipynb", "02_marks.ipynb", "03_third.ipynb"):
        counts = [c.execution_count for c in nbformat.read(folder / name, as_version=4).cells if c.cell_type == "code"]
        assert counts == list(range(1, len(counts) + 1)), name  # a reused kernel counts from 1 again


def test_a_failing_third_notebook_leaves_its_notebooks_in_failed_and_no_report(side_by_side: dict) -> None:
    out = side_by_side["out"]
    (failure,) = side_by_side["result"].failures
    assert failure.message.startswith("03_third.ipynb, cell ")
    assert "the third notebook fails for this client" in failure.message
    kept = out / FAILED_DIR / "failing"
    names = {p.name for p in kept.iterdir()}
    assert {"01_waits.ipynb", "02_marks.ipynb", "03_third.ipynb", "error.txt"} <= names
    assert not names & (RENDERED | {FINGERPRINT_JSON})
    assert "AssertionError" in (kept / "03_third.ipynb").read_text(encoding="utf-8")
    assert not (out / "failing").exists()
    assert [p.name for p in out.iterdir() if p.name.startswith(STAGING)] == []


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (an exited kernel whose new parent,
    PID 1 in a container, need not reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def test_no_kernel_outlives_the_batch(side_by_side: dict) -> None:
    """The workers are ended once every task is done, each killing its kernel first: every
    kernel that ran a notebook is gone (a grace of a few seconds for the kill to land)."""
    import time

    pids = side_by_side["kernel_pids"]
    assert pids, "the notebooks recorded no kernel"
    deadline = time.monotonic() + 5
    while any(_running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in pids if _running(pid)] == []


def test_a_reused_kernel_keeps_no_names_and_goes_back_to_its_folder(tmp_path: Path) -> None:
    """A worker keeps its kernel for every notebook it runs, whichever client they are for;
    the namespace is reset before each, and the working directory restored."""
    from ftcost_helpers.report.execute import KernelSession

    first = tiny_notebook(tmp_path / "first.ipynb", "import os\nleaked = os.getpid()\nos.chdir('/')\nprint(leaked)")
    second = tiny_notebook(
        tmp_path / "second.ipynb",
        "import os\nassert 'leaked' not in globals(), 'a name of the previous notebook is still defined'\n"
        f"assert os.getcwd() == {str(tmp_path)!r}, os.getcwd()\nprint(os.getpid())",
    )
    params = CLIENTS / "example_a.yaml"
    with KernelSession(KernelSettings(cwd=tmp_path)) as session:
        session.run(first, tmp_path / "first-out.ipynb", params)
        session.run(second, tmp_path / "second-out.ipynb", params)
    pids = [
        nbformat.read(tmp_path / f"{name}-out.ipynb", as_version=4).cells[-1].outputs[0].text
        for name in ("first", "second")
    ]
    assert pids[0] == pids[1], "the second notebook ran in another kernel"
