"""The batch: every client file → ``reports/<client-file-stem>/`` and ``reports/index.html``.

Order of work:

0. The output folder is locked for the run (a second run on it is refused with a message),
   refused if it holds files ftcost did not write (unless ``allow_other_files``; the
   project's own ``reports/`` is always taken), and whatever a killed run left there
   (staging folders, a report moved aside, a temporary index, each known by its mark:
   :mod:`~ftcost_helpers.report.ownership`) is cleaned up, as are kernel folders in /tmp whose
   owner is gone. Nothing the runner did not write is ever replaced, renamed or removed.
1. Each client file gets its report folder and a fingerprint of everything its report is
   made from (:mod:`~ftcost_helpers.report.fingerprint`). A client whose folder holds that
   same fingerprint is skipped (``skipped (unchanged)``) unless ``force`` is given — without
   reading its file again, since the fingerprint covers all that its validation depends on.
   Every other file is validated first (``overrides.load_plan``, scenarios included); a bad
   file gets its one-line message and no report, and nothing is injected into any notebook
   for it.
2. Each remaining client is cut into tasks — the rendering of ``report.html``,
   ``report.xlsx`` and ``summary.json`` (the numbers come from the package, not the
   notebooks, so it need not wait for them) and one task per notebook — handed out, a
   client at a time in file order, to a pool of long-lived worker *processes* (``--jobs``,
   no more than there are tasks; spawned, not threads: papermill's ``cwd`` is per process)
   as each becomes free; so a lone client's notebooks run on every core, not on one.
   A worker runs notebooks with papermill's Python API (no command-line start-up per
   notebook) in one kernel it keeps for its whole life, whose namespace is reset before
   each notebook (:class:`~.execute.KernelSession`).
3. Each client is written in a staging folder inside the output folder
   (``.staging-<pid>-<slug>``) and, once all its tasks are done, gets its fingerprint and
   is renamed into place, so an earlier good report survives a failure. When a task fails
   the client's tasks not yet started are withdrawn, and once none of its tasks is still
   running, its staging folder (executed notebooks, traceback included, and ``error.txt``;
   no report files) moves to ``_failed/<slug>/``; when even that cannot be written (a full
   disk), it is removed and the message says so.
4. ``index.html`` is rebuilt from the ``summary.json`` files on disk.

A report folder belongs to one client file: it is named after the file's stem (``acme.yaml``
→ ``acme/``) and records which file it was made from (``.source``), so two files never share a
folder whatever their client names, and running one never replaces another's report (a
second ``acme.yaml`` from another folder gets ``acme-2/``).

Progress: a bar on a terminal (with the steps each client is on), else one line per client.
An interrupted run stops the workers (each kills its kernel at once), removes its staging
and kernel folders, prints one line and exits 130 (Ctrl-C) or 143 (SIGTERM).

Here: the entry points (:func:`run_reports`, :func:`report_command`) and the run's signals.
A client's tasks and the rendering of its outputs: :mod:`.batch_tasks`; the output folder:
:mod:`.batch_folders`; planning the clients, the worker pool and the progress display:
:mod:`.batch_schedule`.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ftcost_helpers.engine.loading import client_files, load_price_book, project_root
from ftcost_helpers.engine.money import plural
from ftcost_helpers.report.batch_folders import (
    OLD,
    STAGING,
    ReportError,
    assign_folders,
    clean_stale,
    locked_out_dir,
    place,
    refuse_foreign_folder,
)
from ftcost_helpers.report.batch_schedule import (
    EXIT_FAILED,
    EXIT_OK,
    BatchResult,
    LineProgress,
    _Batch,
    plan_clients,
    progress_display,
    run_pool,
)
from ftcost_helpers.report.batch_tasks import BatchSettings, ClientJob
from ftcost_helpers.report.execute import KernelSettings, clean_stale_runtime_dirs
from ftcost_helpers.report.fingerprint import SharedInputs
from ftcost_helpers.report.follow_up import NO_FOLLOW_UP, FollowUp, check_follow_up, follow_up_from_args
from ftcost_helpers.report.index import ForeignIndex, write_index
from ftcost_helpers.report.messages import one_line, say_error
from ftcost_helpers.report.ownership import FAILED_DIR

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "FAILED_DIR",
    "OLD",
    "STAGING",
    "BatchResult",
    "BatchSettings",
    "ClientJob",
    "LineProgress",
    "ReportError",
    "_Batch",
    "assign_folders",
    "clean_stale",
    "default_jobs",
    "default_notebooks",
    "locked_out_dir",
    "place",
    "progress_display",
    "refuse_foreign_folder",
    "report_command",
    "run_reports",
]
"""The names the tests, the command line and the client pack import from the runner,
wherever they are defined."""

NOTEBOOK_PATTERN = "[0-9][0-9]_*.ipynb"
EXIT_INTERRUPTED = 130


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal; ``exit_code`` is 128 + its number (SIGTERM: 143)."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.exit_code = 128 + signum


def default_notebooks() -> tuple[Path, ...]:
    """``notebooks/01_*.ipynb`` … in order."""
    return tuple(sorted((project_root() / "notebooks").glob(NOTEBOOK_PATTERN)))


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise Interrupted(signum)


@contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGTERM (and SIGINT) raise :class:`Interrupted` in the main process for the run (a
    run started from another thread leaves signals alone: Python handles them in the main one)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _raise_interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


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
    rates: Path | None = None,
    allow_other_files: bool = False,
    follow_up: FollowUp = NO_FOLLOW_UP,
) -> BatchResult:
    """Reports for ``files`` (default: every ``params/clients/*.yaml``) in ``out_dir``;
    clients whose report is unchanged are skipped unless ``force``. Every part of a client's
    report (notebooks, HTML, workbook, summary.json) reads the same price book with the same
    rates overlay (``price_book``, ``rates``). An ``out_dir`` holding files ftcost did not
    write is refused unless ``allow_other_files`` (:func:`refuse_foreign_folder`).

    Raises ReportError when there is nothing to run or ``out_dir`` cannot be used,
    KeyboardInterrupt when interrupted (after cleaning up). See the module's notes for the
    order of work.
    """
    say = say or (lambda line: print(line, file=sys.stderr))
    files = list(files) if files else client_files()
    if not files:
        raise ReportError("no client files given and none in params/clients/")
    notebooks = tuple(Path(n).resolve() for n in (notebooks or default_notebooks()))
    if not notebooks:
        raise ReportError(f"no notebooks matching {NOTEBOOK_PATTERN} in {project_root() / 'notebooks'}")
    with _signals_interrupt(), locked_out_dir(Path(out_dir).resolve()) as locked:
        refuse_foreign_folder(locked, allow_other_files)
        clean_stale(locked)
        clean_stale_runtime_dirs()
        return _run_batch(
            files, locked, jobs, notebooks, kernel_name, price_book, say, fresh_kernels, force, rates, follow_up
        )


def _run_batch(
    files: Sequence[Path],
    out_dir: Path,
    jobs: int | None,
    notebooks: tuple[Path, ...],
    kernel_name: str,
    price_book: Path | None,
    say: Callable[[str], None],
    fresh_kernels: bool,
    force: bool,
    rates: Path | None = None,
    follow_up: FollowUp = NO_FOLLOW_UP,
) -> BatchResult:
    """Skip the unchanged, validate the others, run the pool, rebuild the index (``out_dir``
    is locked and clean)."""
    book = load_price_book(price_book, rates)  # a broken price book or overlay stops the batch before any client
    today = dt.date.today()
    shared = SharedInputs.gather(notebooks, [price_book, rates], today)
    if follow_up:  # a report with a follow-up is made from its files too
        shared = SharedInputs({**shared.parts, "follow_up": follow_up.fingerprint()})
    plan = plan_clients(files, out_dir, shared, book, say, force)
    settings = BatchSettings(
        notebooks=notebooks,
        kernel=KernelSettings(kernel_name=kernel_name, cwd=notebooks[0].parent),
        fresh_kernels=fresh_kernels,
        price_book=Path(price_book).resolve() if price_book else None,
        rates=Path(rates).resolve() if rates else None,
        today=today,
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        follow_up=follow_up,
    )
    result = run_pool(plan.jobs, settings, out_dir, jobs or default_jobs()) if plan.jobs else BatchResult()
    result.skipped = plan.skipped
    result.failures[:0] = plan.failures
    try:
        result.index = write_index(out_dir, result.failures)
    except ForeignIndex:
        say(f"warning: {out_dir / 'index.html'} is not ftcost's: left as it is, and no index written")
    except OSError as error:
        say(f"warning: {out_dir / 'index.html'} not updated ({error.strerror}); the next run rebuilds it")
    return result


def report_command(args: Any) -> int:
    """``python -m ftcost_helpers report``: run the batch and say what happened."""
    out_dir = args.out if args.out is not None else project_root() / "reports"
    follow_up = follow_up_from_args(args)  # a bad --previous / --actuals: one line, nothing written
    check_follow_up(follow_up, list(args.files or client_files()), args.price_book, args.rates)
    try:
        result = run_reports(
            args.files,
            out_dir,
            args.jobs,
            kernel_name=args.kernel,
            price_book=args.price_book,
            fresh_kernels=args.fresh_kernels,
            force=getattr(args, "force", False),
            rates=args.rates,
            allow_other_files=getattr(args, "allow_other_files", False),
            follow_up=follow_up,
        )
    except ReportError as error:
        say_error(str(error))
        return EXIT_FAILED
    except KeyboardInterrupt as interrupt:
        print("interrupted: unfinished reports were discarded; earlier reports are unchanged", file=sys.stderr)
        return getattr(interrupt, "exit_code", EXIT_INTERRUPTED)
    written, skipped = plural(len(result.reports), "report"), len(result.skipped)
    index = f"index: {result.index}" if result.index is not None else "no index written"
    print(f"{written} written, {skipped} skipped (unchanged); {index}")
    if result.failures:
        print(f"{plural(len(result.failures), 'client')} failed:", file=sys.stderr)
        for failure in result.failures:
            print(f"  {one_line(failure.source)}: {one_line(failure.message)}", file=sys.stderr)
    return result.exit_code
