"""The batch: every client file → ``reports/<slug>/`` and ``reports/index.html``.

Order of work:

1. Every client file is validated first (``overrides.load_plan``, scenarios included); a bad file gets its
   one-line message and no report, and nothing is injected into any notebook for it.
2. Good clients are shared among a pool of long-lived worker *processes* (``--jobs``,
   spawned, not threads: papermill's ``cwd`` is per process). A worker runs a client's
   notebooks one after the other with papermill's Python API (no command-line start-up per
   notebook) in one kernel whose namespace is reset between notebooks
   (:class:`~.execute.KernelSession`), then renders ``report.html``, ``report.xlsx`` and
   ``summary.json`` beside them. The numbers come from the package, not the notebooks.
3. Each client is written in a staging folder inside the output folder
   (``.staging-<pid>-<slug>``) and renamed into place only when complete, so an earlier
   good report survives a failure. A failed client's staging folder moves to
   ``_failed/<slug>/`` (executed notebooks, traceback included, and ``error.txt``).
4. ``index.html`` is rebuilt from the ``summary.json`` files on disk.

A report folder records a fingerprint of everything it was made from
(:mod:`~ftcost_helpers.report.fingerprint`); a client whose fingerprint is unchanged is
skipped (``skipped (unchanged)``) unless ``force`` is given.

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
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ftcost_helpers.engine.loading import ParamsError, client_files, load_price_book, project_root
from ftcost_helpers.engine.overrides import load_plan
from ftcost_helpers.report.execute import KernelSettings, NotebookContractError
from ftcost_helpers.report.fingerprint import SharedInputs, client_fingerprint, is_unchanged, write_fingerprint
from ftcost_helpers.report.index import REPORT_HTML, REPORT_XLSX, SUMMARY_JSON, Failure, write_index
from ftcost_helpers.report.slug import client_dir, unique_slugs

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
    fresh_kernels: bool
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
    fingerprint: dict[str, Any] = field(default_factory=dict, compare=False)
    """What the report is made from (written beside it last, so its presence means complete)."""

    @property
    def label(self) -> str:
        """A short name for the progress display (the file's stem)."""
        return self.source.stem


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


def client_task(job: ClientJob) -> dict[str, Any]:
    """One client's whole report, in its staging folder: the notebooks (one kernel,
    reset between notebooks), then report.html, report.xlsx and summary.json."""
    from ftcost_helpers.report.execute import KernelSession

    assert _SETTINGS is not None
    with KernelSession(_SETTINGS.kernel, fresh=_SETTINGS.fresh_kernels) as session:
        for notebook in _SETTINGS.notebooks:
            _announce(job.label, notebook.stem)
            session.run(notebook, job.staging / notebook.name, job.source)
    _announce(job.label, "report")
    return render_outputs(job, _SETTINGS)


def render_outputs(job: ClientJob, settings: BatchSettings) -> dict[str, Any]:
    """Write report.html, report.xlsx and summary.json beside the executed notebooks."""
    from ftcost_helpers.report.excel import write_workbook
    from ftcost_helpers.report.figures import client_figures
    from ftcost_helpers.report.html import client_report

    book = load_price_book(settings.price_book)
    figures = client_figures(job.source, book, settings.today, settings.generated_at)
    executed = [job.staging / notebook.name for notebook in settings.notebooks]
    (job.staging / REPORT_HTML).write_text(client_report(figures, executed), encoding="utf-8")
    write_workbook(job.staging / REPORT_XLSX, figures)
    (job.staging / SUMMARY_JSON).write_text(
        json.dumps(figures.summary, indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    write_fingerprint(job.staging, job.fingerprint)
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
            params = load_plan(file, book)
        except ParamsError as error:
            failures.append(Failure(str(file), str(error)))
            say(f"error: {error}")
        except Exception as error:  # a bug must not stop the other clients
            message = f"{file}: unexpected error while reading it ({type(error).__name__}: {error})"
            failures.append(Failure(str(file), message))
            say(f"error: {message}")
        else:
            valid.append((Path(file).resolve(), params.client))
    return valid, failures


class _Batch:
    """The main process's side: one task per client, progress, placing or keeping."""

    def __init__(self, out_dir: Path, progress: Any) -> None:
        self.out_dir, self.progress = out_dir, progress
        self.in_flight: dict[Future[Any], ClientJob] = {}
        self.activity: dict[str, str] = {}
        self.result = BatchResult()

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
        job = self.in_flight.pop(future)
        self.activity.pop(job.label, None)
        self.progress.update(1)
        try:
            summary = future.result()
        except NotebookContractError as error:
            self.fail(job, str(error))
            self.abort_all(str(error))
        except Exception as error:
            self.fail(job, _describe(error))
        else:
            self.succeed(job, summary)

    def fail(self, job: ClientJob, message: str) -> None:
        self.result.failures.append(Failure(_display(job.source), message))
        self.progress.write(f"FAILED {_display(job.source)} ({job.client}): {message}")
        if job.staging.exists() and any(job.staging.iterdir()):
            kept = keep_failed(job, self.out_dir, message)
            self.progress.write(f"  executed notebooks kept for debugging in {kept}")
        else:
            shutil.rmtree(job.staging, ignore_errors=True)

    def abort_all(self, message: str) -> None:
        """Every client would fail the same way: cancel the ones not started."""
        for future, job in list(self.in_flight.items()):
            if future.cancel():
                del self.in_flight[future]
                self.progress.update(1)
                self.fail(job, message)

    def succeed(self, job: ClientJob, summary: dict[str, Any]) -> None:
        final = client_dir(self.out_dir, job.slug)
        place(job.staging, final)
        shutil.rmtree(self.out_dir / FAILED_DIR / job.slug, ignore_errors=True)
        self.result.reports[job.slug] = final
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
    from ftcost_helpers.report.execute import KernelStartFailed, NotebookFailed

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
    fresh_kernels: bool = False,
    force: bool = False,
) -> BatchResult:
    """Reports for ``files`` (default: every ``params/clients/*.yaml``) in ``out_dir``;
    clients whose report is unchanged are skipped unless ``force``.

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

    default_book = project_root() / "params" / "pricebook.yaml"
    if price_book and Path(price_book).resolve() != default_book.resolve():
        say(
            f"warning: the notebooks read {default_book}; "
            f"only summary.json, the workbook and the page's summary use {price_book}"
        )
    valid, failures = validate_files(files, price_book, say)
    today = dt.date.today()
    shared = SharedInputs.gather(notebooks, [price_book], today)
    jobs_list = [
        ClientJob(source, client, slug, out_dir / f"{STAGING}{os.getpid()}-{slug}", client_fingerprint(source, shared))
        for (source, client), slug in zip(valid, unique_slugs(client for _, client in valid), strict=True)
    ]
    jobs_list, skipped = _unchanged_left_out(jobs_list, out_dir, force, say)
    settings = BatchSettings(
        notebooks=notebooks,
        kernel=KernelSettings(kernel_name=kernel_name, cwd=notebooks[0].parent),
        fresh_kernels=fresh_kernels,
        price_book=Path(price_book).resolve() if price_book else None,
        today=today,
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    result = _run_pool(jobs_list, settings, out_dir, jobs or default_jobs()) if jobs_list else BatchResult()
    result.skipped = skipped
    result.failures[:0] = failures
    result.index = write_index(out_dir, result.failures)
    return result


def _unchanged_left_out(
    jobs_list: list[ClientJob], out_dir: Path, force: bool, say: Callable[[str], None]
) -> tuple[list[ClientJob], dict[str, Path]]:
    """(the jobs to run, the reports left as they are): a client whose report folder holds
    the fingerprint it would be written with now is skipped, unless ``force``."""
    if force:
        return jobs_list, {}
    to_run, skipped = [], {}
    for job in jobs_list:
        final = client_dir(out_dir, job.slug)
        if is_unchanged(final, job.fingerprint, (REPORT_HTML, REPORT_XLSX, SUMMARY_JSON)):
            skipped[job.slug] = final
            say(f"skipped (unchanged) {job.client} → {final}")
        else:
            to_run.append(job)
    return to_run, skipped


def _run_pool(jobs_list: list[ClientJob], settings: BatchSettings, out_dir: Path, jobs: int) -> BatchResult:
    import multiprocessing

    from tqdm import tqdm

    context = multiprocessing.get_context("spawn")
    events = context.Queue()
    runtime = Path(tempfile.mkdtemp(prefix="ftcost-kernels-"))  # short: IPC socket paths are limited
    settings = replace(settings, kernel=replace(settings.kernel, runtime_dir=runtime))
    workers = max(1, min(jobs, len(jobs_list)))
    previous_term = signal.signal(signal.SIGTERM, _raise_interrupt)
    progress = tqdm(total=len(jobs_list), desc="reports", unit="client", file=sys.stderr, dynamic_ncols=True)
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(events, settings))
    batch = _Batch(out_dir, progress)
    try:
        for job in jobs_list:
            job.staging.mkdir()
            batch.in_flight[pool.submit(client_task, job)] = job
        while batch.in_flight:
            done, _ = wait(list(batch.in_flight), timeout=0.25, return_when=FIRST_COMPLETED)
            batch.note_events(events)
            for future in done:
                if future in batch.in_flight:
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
        shutil.rmtree(runtime, ignore_errors=True)
    return batch.result


def report_command(args: Any) -> int:
    """``python -m ftcost_helpers report``: run the batch and say what happened."""
    out_dir = args.out if args.out is not None else project_root() / "reports"
    try:
        result = run_reports(
            args.files,
            out_dir,
            args.jobs,
            kernel_name=args.kernel,
            price_book=args.price_book,
            fresh_kernels=args.fresh_kernels,
            force=getattr(args, "force", False),
        )
    except ReportError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted: unfinished reports were discarded; earlier reports are unchanged", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"{len(result.reports)} report(s) written, {len(result.skipped)} skipped (unchanged); index: {result.index}")
    if result.failures:
        print(f"{len(result.failures)} client(s) failed:", file=sys.stderr)
        for failure in result.failures:
            print(f"  {failure.source}: {failure.message}", file=sys.stderr)
    return result.exit_code
