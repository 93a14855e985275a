"""The batch's main process (:mod:`~ftcost_helpers.report.runner`): which client files to
report (unchanged ones skipped, bad ones said), the pool of worker processes their tasks are
handed to a client at a time, each client settled (placed, or kept as failed) as its last
task ends, and the progress display."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ftcost_helpers.engine.headline import BASIS_SHORT
from ftcost_helpers.engine.loading import ParamsError, price_book_environment
from ftcost_helpers.engine.overrides import load_plan
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.report.batch_folders import (
    STAGING,
    keep_failed,
    next_folder,
    place,
    remove_own_folder,
    start_staging,
)
from ftcost_helpers.report.batch_tasks import (
    RENDERED,
    BatchSettings,
    ClientJob,
    Task,
    client_tasks,
    describe_failure,
    rendering_outcome,
    submit,
)
from ftcost_helpers.report.execute import (
    NotebookContractError,
    WorkerSetup,
    init_worker,
    make_runtime_dir,
    remove_runtime_dir,
)
from ftcost_helpers.report.fingerprint import SharedInputs, client_fingerprint, is_unchanged, write_fingerprint
from ftcost_helpers.report.index import SOURCE_FILE, SUMMARY_JSON, Failure
from ftcost_helpers.report.ownership import FAILED_DIR
from ftcost_helpers.report.privacy import forget_local_paths
from ftcost_helpers.report.slug import client_dir

EXIT_OK, EXIT_FAILED = 0, 1
STOP_WORKERS_S = 3.0
"""How long terminated workers get to exit before they are killed (SIGTERM → exit within 5 s)."""


@dataclass
class BatchResult:
    """What a batch produced: report folders by slug, failures, the index and exit status."""

    reports: dict[str, Path] = field(default_factory=dict)
    skipped: dict[str, Path] = field(default_factory=dict)
    """Reports left as they were: made from exactly the same inputs."""
    failures: list[Failure] = field(default_factory=list)
    index: Path | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_FAILED if self.failures else EXIT_OK


def validate_file(file: Path, book: PriceBook, say: Callable[[str], None]) -> str | Failure:
    """The client name of a valid file, or a Failure (its lines said) for a bad one."""
    try:
        return load_plan(file, book).client
    except ParamsError as error:
        for line in error.lines():
            say(f"error: {line}")
        return Failure(str(file), str(error))
    except Exception as error:  # a bug must not stop the other clients
        message = f"{file}: unexpected error while reading it ({type(error).__name__}: {error})"
        say(f"error: {message}")
        return Failure(str(file), message)


@dataclass
class ClientPlan:
    """What the batch does with each client file: the jobs to run, the reports left as they
    are (made from exactly the same inputs), and the files that are bad."""

    jobs: list[ClientJob] = field(default_factory=list)
    skipped: dict[str, Path] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)


def plan_clients(
    files: Sequence[Path],
    out_dir: Path,
    shared: SharedInputs,
    book: PriceBook,
    say: Callable[[str], None],
    force: bool = False,
) -> ClientPlan:
    """Each file in turn: its report folder, then skipped or validated.

    A file whose report folder holds the fingerprint it would be written with now (and all
    of its outputs) is skipped, unless ``force``, without being read again: the fingerprint
    covers everything validating it depends on (the file, every file of ``params/``, any
    price book or overlay given, the package's source, the date), so it passes as it did
    when that report was made. Every other file is validated first; a bad one gets its
    one-line message, no folder and no job."""
    plan = ClientPlan()
    taken: set[str] = set()
    for file in files:
        source = Path(file).resolve()
        try:
            fingerprint = client_fingerprint(source, shared)
        except OSError:
            fingerprint = {}  # unreadable: validating it says why
        slug = next_folder(out_dir, source, taken)
        final = client_dir(out_dir, slug)
        client = None if force or not fingerprint else _unchanged_client(final, fingerprint)
        if client is not None:
            plan.skipped[slug] = final
            say(f"skipped (unchanged) {client} → {final}")
        else:
            checked = validate_file(file, book, say)
            if isinstance(checked, Failure):
                plan.failures.append(checked)
                continue
            plan.jobs.append(ClientJob(source, checked, slug, out_dir / f"{STAGING}{os.getpid()}-{slug}", fingerprint))
        taken.add(slug)
    return plan


def _unchanged_client(final: Path, fingerprint: dict[str, Any]) -> str | None:
    """The client name of a report made from exactly these inputs, else None."""
    if not is_unchanged(final, fingerprint, RENDERED):
        return None
    try:
        client = json.loads((final / SUMMARY_JSON).read_text(encoding="utf-8"))["client"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return client if isinstance(client, str) else None


@dataclass
class _Client:
    """Where one client's report stands in the main process."""

    job: ClientJob
    left: int
    """Tasks not yet finished without error."""
    running: int = 0
    summary: dict[str, Any] | None = None
    error: str | None = None
    """The first failure's message: the client's other tasks are not started after it."""


class _Batch:
    """The main process's side: hands out each client's tasks (its rendering and its
    notebooks) to the workers as they become free, a client at a time in file order; places
    a report once all its tasks are done, or keeps a failed one once none of its tasks is
    still running; shows the progress."""

    def __init__(self, out_dir: Path, progress: Any, settings: BatchSettings) -> None:
        self.out_dir, self.progress, self.settings = out_dir, progress, settings
        self.waiting: deque[Task] = deque()
        self.running: dict[Future[Any], Task] = {}
        self.clients: dict[str, _Client] = {}
        self.result = BatchResult()
        self.started: set[Path] = set()
        """The staging folders this run made: the only ones it moves or removes."""

    def add(self, job: ClientJob) -> None:
        """Start a client's staging folder and queue its tasks (or fail it at once)."""
        try:
            start_staging(job)
        except OSError as error:
            if not isinstance(error, FileExistsError) and job.staging.is_dir():
                self.started.add(job.staging)  # made, but its record could not be written
            self.progress.update(1)
            self.fail(job, f"could not start its report folder ({error.strerror})")
            return
        self.started.add(job.staging)
        tasks = client_tasks(job, self.settings.notebooks)
        self.clients[job.slug] = _Client(job, left=len(tasks))
        self.waiting.extend(tasks)

    def hand_out(self, pool: ProcessPoolExecutor, workers: int) -> None:
        """Keep every worker busy (no more tasks in flight than workers, so a failed
        client's tasks that have not started can still be withdrawn)."""
        while self.waiting and len(self.running) < workers:
            task = self.waiting.popleft()
            self.running[submit(pool, task, self.settings)] = task
            self.clients[task.job.slug].running += 1
        self.show_activity()

    def show_activity(self) -> None:
        """Which steps each client is on."""
        steps: dict[str, list[str]] = {}
        for task in self.running.values():
            steps.setdefault(task.job.label, []).append(task.step)
        self.progress.set_postfix_str(" · ".join(f"{label}: {', '.join(s)}" for label, s in steps.items()))

    def complete(self, future: Future[Any]) -> None:
        """A task ended: note its result and settle its client when nothing of it is left."""
        task = self.running.pop(future)
        client = self.clients[task.job.slug]
        client.running -= 1
        try:
            outcome = future.result()
            if task.notebook is None:
                client.summary = rendering_outcome(outcome)
        except NotebookContractError as error:
            self.abort_all(str(error))
        except Exception as error:
            self.withdraw(client, describe_failure(error))
        else:
            client.left -= 1
        self.settle(client)

    def withdraw(self, client: _Client, message: str) -> None:
        """A client failed: remember the first message and withdraw its waiting tasks."""
        if client.error is None:
            client.error = message
        self.waiting = deque(task for task in self.waiting if task.job is not client.job)

    def abort_all(self, message: str) -> None:
        """Every client would fail the same way (a notebook breaks the runner's contract):
        withdraw every unfinished client's tasks."""
        for client in list(self.clients.values()):
            self.withdraw(client, message)
            self.settle(client)

    def settle(self, client: _Client) -> None:
        """Place a client's report once all its tasks are done; keep a failed one once none
        of its tasks is still writing in its staging folder."""
        if client.running or client.job.slug not in self.clients:
            return
        job = client.job
        if client.error is None and client.left:
            return
        del self.clients[job.slug]
        self.progress.update(1)
        if client.error is not None:
            for name in RENDERED:  # a failed client has no report, only its notebooks
                (job.staging / name).unlink(missing_ok=True)
            self.fail(job, client.error)
            return
        assert client.summary is not None
        try:
            forget_local_paths(job.staging, job.source, self.settings.notebooks)  # no analyst's folder named
            write_fingerprint(job.staging, job.fingerprint)  # last: its presence means complete
            self.succeed(job, client.summary)
        except OSError as error:
            self.fail(job, f"could not put the report in place ({error.strerror})")

    def fail(self, job: ClientJob, message: str) -> None:
        self.result.failures.append(Failure(_display(job.source), message))
        self.progress.write(f"FAILED {_display(job.source)}: {message}")
        if job.staging not in self.started:
            return  # a folder of that name that this run did not make stays as it is
        if job.staging.exists() and any(p.name != SOURCE_FILE for p in job.staging.iterdir()):
            kept = keep_failed(job, self.out_dir, message)
            if kept is not None:
                self.progress.write(f"  executed notebooks kept for debugging in {kept}")
        else:
            shutil.rmtree(job.staging, ignore_errors=True)

    def succeed(self, job: ClientJob, summary: dict[str, Any]) -> None:
        final = client_dir(self.out_dir, job.slug)
        place(job.staging, final)
        with contextlib.suppress(OSError):  # an earlier failure of this file, if there is one
            remove_own_folder(self.out_dir / FAILED_DIR / job.slug, job.source)
        self.result.reports[job.slug] = final
        headline = summary["headline"]
        month, basis = headline["break_even_month"], BASIS_SHORT.get(headline["basis"], headline["basis"])
        self.progress.write(
            f"ok  {job.label} → {final}  (programme USD {headline['programme_usd']:,.0f} {basis}, "
            f"break-even {'month ' + str(month) if month is not None else 'none'})"
        )


class LineProgress:
    """The progress display when stderr is not a terminal (a log file, CI): no bar and no
    carriage returns, only the line each client ends with, numbered ``[done/total]``.
    It offers the part of tqdm's interface the batch uses."""

    def __init__(self, total: int) -> None:
        self.total, self.done = total, 0

    def update(self, count: int = 1) -> None:
        self.done += count

    def set_postfix_str(self, text: str) -> None:
        """Which notebook each client is on: too chatty for a log, so not shown."""

    def write(self, text: str) -> None:
        print(f"[{self.done}/{self.total}] {text}", flush=True)

    def close(self) -> None:
        """Nothing to tidy: every line is already complete."""


def progress_display(total: int, stream: Any = None) -> Any:
    """A tqdm bar on a terminal, else :class:`LineProgress` (one line per client)."""
    stream = stream if stream is not None else sys.stderr
    if not (hasattr(stream, "isatty") and stream.isatty()):
        return LineProgress(total)
    from tqdm import tqdm

    return tqdm(total=total, desc="reports", unit="client", file=stream, dynamic_ncols=True)


def _display(path: Path) -> str:
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Cancel queued tasks and end the pool's worker processes: SIGTERM (each kills its
    kernel and exits at once), then SIGKILL for any still there after
    :data:`STOP_WORKERS_S`, so the kernels are gone before the staging folders go."""
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + STOP_WORKERS_S
    for process in processes:
        process.join(timeout=max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join(timeout=1)


def run_pool(jobs_list: list[ClientJob], settings: BatchSettings, out_dir: Path, jobs: int) -> BatchResult:
    """Run every client's tasks over ``jobs`` worker processes (no more than there are
    tasks) and settle each client as its last task ends."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    runtime = make_runtime_dir()
    settings = replace(settings, kernel=replace(settings.kernel, runtime_dir=runtime))
    setup = WorkerSetup(
        kernel=settings.kernel,
        fresh_kernels=settings.fresh_kernels,
        environment=tuple(price_book_environment(settings.price_book, settings.rates).items()),
    )
    workers = max(1, min(jobs, len(jobs_list) * (len(settings.notebooks) + 1)))
    progress = progress_display(len(jobs_list))
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=init_worker, initargs=(setup,))
    batch = _Batch(out_dir, progress, settings)
    try:
        for job in jobs_list:
            batch.add(job)
        batch.hand_out(pool, workers)
        while batch.running:
            done, _ = wait(list(batch.running), timeout=0.5, return_when=FIRST_COMPLETED)
            for future in done:
                batch.complete(future)
            batch.hand_out(pool, workers)
        _stop_workers(pool)  # every task is done: nothing is left to save in the kernels
    except BaseException:
        _stop_workers(pool)
        for staging in batch.started:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        progress.close()
        remove_runtime_dir(runtime)
    return batch.result
