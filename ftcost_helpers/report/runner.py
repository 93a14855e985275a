"""The batch: every client file → ``reports/<slug>/`` and ``reports/index.html``.

Order of work:

1. Every client file is validated first (``loading.load_params``); a bad file gets its
   one-line message and no report, and nothing is injected into any notebook for it.
2. The notebooks of every good client run in a pool of long-lived worker *processes*
   (``--jobs``), one notebook per task, so one client's five notebooks spread over the
   cores too. Workers use papermill's Python API (no command-line start-up per notebook).
3. When a client's notebooks have all succeeded, a worker renders ``report.html``,
   ``report.xlsx`` and ``summary.json`` beside them.
4. Each client is written in a staging folder inside the output folder
   (``.staging-<pid>-<slug>``) and renamed into place only when complete, so an earlier
   good report survives a failure. A failed client's staging folder moves to
   ``_failed/<slug>/`` (executed notebooks, traceback included, and ``error.txt``).
5. ``index.html`` is rebuilt from the ``summary.json`` files on disk.

An interrupted run (Ctrl-C, SIGTERM) stops the workers, shuts their kernels down, and
removes its staging folders; staging left by a killed run is cleaned by the next one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import sys
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..loading import ParamsError, client_files, load_params, load_price_book, project_root
from .execute import KernelSettings, NotebookContractError
from .index import REPORT_HTML, REPORT_XLSX, SUMMARY_JSON, Failure, write_index
from .slug import client_dir, unique_slugs

NOTEBOOK_PATTERN = "[0-9][0-9]_*.ipynb"
FAILED_DIR = "_failed"
STAGING, OLD = ".staging-", ".old-"
EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130


class ReportError(Exception):
    """The batch cannot start (no notebooks, no client files)."""


def default_notebooks() -> tuple[Path, ...]:
    """``notebooks/01_*.ipynb`` … in order."""
    return tuple(sorted((project_root() / "notebooks").glob(NOTEBOOK_PATTERN)))


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class BatchSettings:
    """What every worker needs to know (sent once, when the worker starts)."""

    notebooks: tuple[Path, ...]
    kernel: KernelSettings
    price_book: Path | None
    today: dt.date
    generated_at: str


@dataclass(frozen=True)
class ClientJob:
    """One valid client file and where its report is being written."""

    source: Path
    client: str
    slug: str
    staging: Path

    @property
    def label(self) -> str:
        """A short name for the progress display (the file's stem)."""
        return self.source.stem


@dataclass
class BatchResult:
    """What a batch produced: report folders by slug, failures, the index and exit status."""

    reports: dict[str, Path] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    index: Path | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_FAILED if self.failures else EXIT_OK


# --------------------------------------------------------------------------- workers

_EVENTS: Any = None
_SETTINGS: BatchSettings | None = None


def _raise_exit(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _init_worker(events: Any, settings: BatchSettings) -> None:
    """A worker leaves Ctrl-C to the main process and exits cleanly (kernels shut down)
    on SIGTERM."""
    global _EVENTS, _SETTINGS
    _EVENTS, _SETTINGS = events, settings
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _raise_exit)


def _announce(slug: str, step: str) -> None:
    if _EVENTS is not None:
        _EVENTS.put((slug, step))


def notebook_task(job: ClientJob, notebook: Path) -> str:
    """Execute one notebook for one client into the client's staging folder."""
    from .execute import run_notebook

    assert _SETTINGS is not None
    _announce(job.label, notebook.stem)
    run_notebook(notebook, job.staging / notebook.name, job.source, _SETTINGS.kernel)
    return notebook.name


def finish_task(job: ClientJob) -> dict[str, Any]:
    """Render report.html, report.xlsx and summary.json into the staging folder."""
    from .excel import write_workbook
    from .figures import client_figures
    from .html import client_report

    assert _SETTINGS is not None
    _announce(job.label, "report")
    book = load_price_book(_SETTINGS.price_book)
    figures = client_figures(job.source, book, _SETTINGS.today, _SETTINGS.generated_at)
    executed = [job.staging / notebook.name for notebook in _SETTINGS.notebooks]
    (job.staging / REPORT_HTML).write_text(client_report(figures, executed), encoding="utf-8")
    write_workbook(job.staging / REPORT_XLSX, figures)
    (job.staging / SUMMARY_JSON).write_text(json.dumps(figures.summary, indent=2) + "\n", encoding="utf-8")
    return figures.summary


# --------------------------------------------------------------------------- folders


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(out_dir: Path) -> None:
    """Remove staging folders of runs that no longer exist; put back a report that a
    killed run had moved aside (``.old-<pid>-<slug>``) before its replacement landed."""
    for entry in out_dir.iterdir():
        prefix = STAGING if entry.name.startswith(STAGING) else OLD if entry.name.startswith(OLD) else None
        if prefix is None:
            continue
        pid_text, _, slug = entry.name[len(prefix) :].partition("-")
        if not pid_text.isdigit() or _pid_alive(int(pid_text)):
            continue
        final = out_dir / slug
        if prefix == OLD and slug and not final.exists():
            os.rename(entry, final)
        else:
            shutil.rmtree(entry, ignore_errors=True)


def place(staging: Path, final: Path) -> None:
    """Move a complete report folder into place, replacing an earlier one.

    The earlier folder is renamed aside first and deleted only after the new one is in
    place; a crash in between leaves it as ``.old-<pid>-<slug>``, which :func:`clean_stale`
    restores.
    """
    if final.exists():
        old = final.with_name(f"{OLD}{os.getpid()}-{final.name}")
        os.rename(final, old)
        os.rename(staging, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(staging, final)


def keep_failed(job: ClientJob, out_dir: Path, message: str) -> Path:
    """Move a failed client's staging folder to ``_failed/<slug>/`` with ``error.txt``."""
    target = client_dir(out_dir / FAILED_DIR, job.slug)
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    (job.staging / "error.txt").write_text(f"{job.source}\n{message}\n", encoding="utf-8")
    os.rename(job.staging, target)
    return target


# --------------------------------------------------------------------------- the batch


def validate_files(
    files: Sequence[Path], price_book: Path | None, say: Callable[[str], None]
) -> tuple[list[tuple[Path, str]], list[Failure]]:
    """(source, client name) of every valid file, and a Failure for every bad one."""
    book = load_price_book(price_book)
    valid, failures = [], []
    for file in files:
        try:
            params = load_params(file, book)
        except ParamsError as error:
            failures.append(Failure(str(file), str(error)))
            say(f"error: {error}")
        else:
            valid.append((Path(file).resolve(), params.client))
    return valid, failures


@dataclass
class _ClientState:
    job: ClientJob
    remaining: int
    running: int = 0
    error: str | None = None


class _Batch:
    """The scheduler: feeds the pool notebook tasks, then a finish task per client."""

    def __init__(self, jobs: list[ClientJob], notebooks: Sequence[Path], out_dir: Path, progress: Any) -> None:
        self.out_dir, self.progress = out_dir, progress
        self.clients = {job.slug: _ClientState(job, remaining=len(notebooks)) for job in jobs}
        self.queue: deque[tuple[str, ClientJob, Path | None]] = deque(
            ("notebook", job, notebook) for job in jobs for notebook in notebooks
        )
        self.in_flight: dict[Future[Any], tuple[str, ClientJob]] = {}
        self.activity: dict[str, str] = {}
        self.result = BatchResult()

    def submit_ready(self, pool: ProcessPoolExecutor, limit: int) -> None:
        while self.queue and len(self.in_flight) < limit:
            kind, job, notebook = self.queue.popleft()
            future = pool.submit(notebook_task, job, notebook) if kind == "notebook" else pool.submit(finish_task, job)
            self.in_flight[future] = (kind, job)
            self.clients[job.slug].running += 1

    def note_events(self, events: Any) -> None:
        """Show which notebook each client is running."""
        changed = False
        while True:
            try:
                label, step = events.get_nowait()
            except Exception:
                break
            self.activity[label] = step
            changed = True
        if changed:
            self.progress.set_postfix_str(" · ".join(f"{label}: {step}" for label, step in self.activity.items()))

    def complete(self, future: Future[Any]) -> None:
        kind, job = self.in_flight.pop(future)
        state = self.clients[job.slug]
        state.running -= 1
        self.progress.update(1)
        try:
            outcome = future.result()
        except NotebookContractError as error:
            self.abort_all(str(error))
        except Exception as error:
            self.fail(state, _describe(error))
        else:
            if kind == "notebook":
                state.remaining -= 1
                if state.remaining == 0 and state.error is None:
                    self.queue.appendleft(("finish", job, None))
            else:
                self.succeed(state, outcome)
        if state.error is not None and state.running == 0 and job.staging.exists():
            kept = keep_failed(job, self.out_dir, state.error)
            self.progress.write(f"  executed notebooks kept for debugging in {kept}")

    def fail(self, state: _ClientState, message: str) -> None:
        if state.error is not None:
            return
        state.error = message
        job = state.job
        dropped = [task for task in self.queue if task[1].slug == job.slug]
        for task in dropped:
            self.queue.remove(task)
        self.progress.update(len(dropped) + (1 if state.remaining else 0))
        self.activity.pop(job.label, None)
        self.result.failures.append(Failure(_display(job.source), message))
        self.progress.write(f"FAILED {_display(job.source)} ({job.client}): {message}")

    def abort_all(self, message: str) -> None:
        for state in self.clients.values():
            if state.remaining or state.running:
                self.fail(state, message)

    def succeed(self, state: _ClientState, summary: dict[str, Any]) -> None:
        job = state.job
        final = client_dir(self.out_dir, job.slug)
        place(job.staging, final)
        shutil.rmtree(self.out_dir / FAILED_DIR / job.slug, ignore_errors=True)
        self.result.reports[job.slug] = final
        self.activity.pop(job.label, None)
        month = summary["break_even_month"]
        self.progress.write(
            f"ok  {job.client} → {final}  (programme USD {summary['programme_total_usd']:,.0f}, "
            f"break-even {'month ' + str(month) if month is not None else 'none'})"
        )


def _display(path: Path) -> str:
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


def _describe(error: BaseException) -> str:
    """A one-line message for a failed task (no traceback)."""
    from .execute import KernelStartFailed, NotebookFailed

    if isinstance(error, NotebookFailed | KernelStartFailed | ParamsError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Cancel queued tasks and end the pool's worker processes (SIGTERM, then SIGKILL),
    so that their kernels are shut down before the staging folders go."""
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join(timeout=5)


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run_reports(
    files: Sequence[Path] | None = None,
    out_dir: Path = Path("reports"),
    jobs: int | None = None,
    notebooks: Sequence[Path] | None = None,
    kernel_name: str = "python3",
    price_book: Path | None = None,
    say: Callable[[str], None] | None = None,
) -> BatchResult:
    """Reports for ``files`` (default: every ``params/clients/*.yaml``) in ``out_dir``.

    Raises ReportError when there is nothing to run, KeyboardInterrupt when interrupted
    (after cleaning up). See the module's notes for the order of work.
    """
    say = say or (lambda line: print(line, file=sys.stderr))
    files = list(files) if files else client_files()
    if not files:
        raise ReportError("no client files given and none in params/clients/")
    notebooks = tuple(Path(n).resolve() for n in (notebooks or default_notebooks()))
    if not notebooks:
        raise ReportError(f"no notebooks matching {NOTEBOOK_PATTERN} in {project_root() / 'notebooks'}")
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    clean_stale(out_dir)

    valid, failures = validate_files(files, price_book, say)
    jobs_list = [
        ClientJob(source, client, slug, out_dir / f"{STAGING}{os.getpid()}-{slug}")
        for (source, client), slug in zip(valid, unique_slugs(client for _, client in valid), strict=True)
    ]
    settings = BatchSettings(
        notebooks=notebooks,
        kernel=KernelSettings(kernel_name=kernel_name, cwd=notebooks[0].parent),
        price_book=Path(price_book).resolve() if price_book else None,
        today=dt.date.today(),
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    result = _run_pool(jobs_list, settings, out_dir, jobs or default_jobs()) if jobs_list else BatchResult()
    result.failures[:0] = failures
    result.index = write_index(out_dir, result.failures)
    return result


def _run_pool(jobs_list: list[ClientJob], settings: BatchSettings, out_dir: Path, jobs: int) -> BatchResult:
    import multiprocessing

    from tqdm import tqdm

    context = multiprocessing.get_context("spawn")
    events = context.Queue()
    steps = len(jobs_list) * (len(settings.notebooks) + 1)
    workers = max(1, min(jobs, len(jobs_list) * len(settings.notebooks)))
    previous_term = signal.signal(signal.SIGTERM, _raise_interrupt)
    progress = tqdm(total=steps, desc="reports", unit="step", file=sys.stderr, dynamic_ncols=True)
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(events, settings))
    batch = _Batch(jobs_list, settings.notebooks, out_dir, progress)
    try:
        for job in jobs_list:
            job.staging.mkdir()
        while batch.queue or batch.in_flight:
            batch.submit_ready(pool, limit=workers + 1)
            done, _ = wait(list(batch.in_flight), timeout=0.25, return_when=FIRST_COMPLETED)
            batch.note_events(events)
            for future in done:
                batch.complete(future)
        pool.shutdown(wait=True)
    except BaseException:
        _stop_workers(pool)
        for job in jobs_list:
            shutil.rmtree(job.staging, ignore_errors=True)
        raise
    finally:
        progress.close()
        signal.signal(signal.SIGTERM, previous_term)
        events.close()
    return batch.result


def report_command(args: Any) -> int:
    """``python -m ftcost_helpers report``: run the batch and say what happened."""
    out_dir = args.out if args.out is not None else project_root() / "reports"
    try:
        result = run_reports(args.files, out_dir, args.jobs, kernel_name=args.kernel, price_book=args.price_book)
    except ReportError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted: unfinished reports were discarded; earlier reports are unchanged", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"{len(result.reports)} report(s) written; index: {result.index}")
    if result.failures:
        print(f"{len(result.failures)} client(s) failed:", file=sys.stderr)
        for failure in result.failures:
            print(f"  {failure.source}: {failure.message}", file=sys.stderr)
    return result.exit_code
