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
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import errno
import json
import os
import pickle
import shutil
import signal
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ftcost_helpers.engine.headline import BASIS_SHORT
from ftcost_helpers.engine.loading import (
    ParamsError,
    client_files,
    load_price_book,
    price_book_environment,
    project_root,
)
from ftcost_helpers.engine.money import plural
from ftcost_helpers.engine.overrides import load_plan
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.report.execute import (
    KernelSettings,
    NotebookContractError,
    WorkerSetup,
    clean_stale_runtime_dirs,
    init_worker,
    kernel_call_task,
    make_runtime_dir,
    notebook_task,
    remove_runtime_dir,
)
from ftcost_helpers.report.fingerprint import SharedInputs, client_fingerprint, is_unchanged, write_fingerprint
from ftcost_helpers.report.follow_up import (
    NO_FOLLOW_UP,
    FollowUp,
    check_follow_up,
    follow_up_from_args,
    keep_inputs,
)
from ftcost_helpers.report.index import (
    INDEX_TEMPORARY,
    REPORT_HTML,
    REPORT_XLSX,
    SOURCE_FILE,
    SUMMARY_JSON,
    Failure,
    ForeignIndex,
    folder_owner,
    write_index,
)
from ftcost_helpers.report.messages import one_line, say_error
from ftcost_helpers.report.ownership import FAILED_DIR, foreign_folder_problem, is_leftover
from ftcost_helpers.report.privacy import forget_local_paths
from ftcost_helpers.report.slug import client_dir, slugify, source_id

NOTEBOOK_PATTERN = "[0-9][0-9]_*.ipynb"
STAGING, OLD = ".staging-", ".old-"
EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130
STOP_WORKERS_S = 3.0
"""How long terminated workers get to exit before they are killed (SIGTERM → exit within 5 s)."""


class ReportError(Exception):
    """The batch cannot start (no notebooks, no client files, an unusable or busy ``--out``)."""


class RenderFailed(Exception):
    """A client's rendering failed; ``str()`` is its one-line message."""


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


@dataclass(frozen=True)
class BatchSettings:
    """What every worker needs to know (sent once, when the worker starts)."""

    notebooks: tuple[Path, ...]
    kernel: KernelSettings
    fresh_kernels: bool
    price_book: Path | None
    rates: Path | None
    today: dt.date
    generated_at: str
    follow_up: FollowUp = NO_FOLLOW_UP
    """``--previous`` / ``--actuals`` (issue 23): the sections a report adds."""


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


# --------------------------------------------------------------------------- tasks

RENDER_STEP = "report"
"""The step name of a client's rendering task (report.html, report.xlsx, summary.json)."""

RENDERED = (REPORT_HTML, REPORT_XLSX, SUMMARY_JSON)


@dataclass(frozen=True)
class Task:
    """One piece of one client's report: a notebook to execute, or (``notebook`` None) the
    rendering of report.html, report.xlsx and summary.json."""

    job: ClientJob
    notebook: Path | None = None

    @property
    def step(self) -> str:
        return self.notebook.stem if self.notebook is not None else RENDER_STEP


def client_tasks(job: ClientJob, notebooks: Sequence[Path]) -> list[Task]:
    """A client's tasks in the order they are handed out: the rendering first (it needs
    nothing from the notebooks; left to the end it would run alone while the other worker
    idles), then the notebooks in their order."""
    return [Task(job), *(Task(job, notebook) for notebook in notebooks)]


RENDER_IN_KERNEL = (
    "from ftcost_helpers.report.runner import rendered_in_kernel as _render_in_kernel\n"
    "_rendered = _render_in_kernel({payload!r})"
)
"""What a worker's kernel runs for the rendering task: the kernel has the package, pandas and
matplotlib loaded for the notebooks already, so the worker need not load them a second time
(about 1.2 s of CPU a worker). Figures are drawn on canvases of their own, never through
pyplot, so nothing of them reaches the next notebook; its namespace is reset before it."""


def render_call(job: ClientJob, settings: BatchSettings) -> tuple[str, str]:
    """The code and the result's name of one client's rendering task, as a kernel runs it."""
    payload = base64.b64encode(pickle.dumps((job, settings))).decode("ascii")
    return RENDER_IN_KERNEL.format(payload=payload), "_rendered"


def rendered_in_kernel(payload: str) -> str:
    """(Runs in a worker's kernel.) The client's report.html, report.xlsx and summary.json,
    written by :func:`render_outputs`; returns JSON: ``{"summary": …}``, or ``{"error": one
    line}`` when it failed."""
    job, settings = pickle.loads(base64.b64decode(payload))
    try:
        return json.dumps({"summary": render_outputs(job, settings)}, allow_nan=False)
    except Exception as error:  # said on one line by the main process
        return json.dumps({"error": _describe(error)})


def render_outputs(job: ClientJob, settings: BatchSettings) -> dict[str, Any]:
    """Write report.html, report.xlsx and summary.json in the client's staging folder.

    The document links each notebook under its title, read from the source notebook: the
    executed copy has the same markdown (papermill adds only the injected-parameters cell),
    so the rendering need not wait for the notebooks."""
    from ftcost_helpers.report.document import client_document, working_files
    from ftcost_helpers.report.excel import write_workbook
    from ftcost_helpers.report.figures import client_figures, with_follow_up

    book = load_price_book(settings.price_book, settings.rates)
    figures = client_figures(job.source, book, settings.today, settings.generated_at)
    figures = with_follow_up(figures, settings.follow_up, settings.price_book, settings.rates, settings.today)
    keep_inputs(job.staging, job.source, settings.rates)  # what a later `report --previous FOLDER` reads
    document = client_document(figures, working_files(job.staging, settings.notebooks))
    (job.staging / REPORT_HTML).write_text(document, encoding="utf-8")
    write_workbook(job.staging / REPORT_XLSX, figures)
    (job.staging / SUMMARY_JSON).write_text(
        json.dumps(figures.summary, indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    return figures.summary


def submit(pool: ProcessPoolExecutor, task: Task, settings: BatchSettings) -> Future[Any]:
    """Hand one task to the pool."""
    if task.notebook is None:
        return pool.submit(kernel_call_task, *render_call(task.job, settings))
    return pool.submit(notebook_task, task.notebook, task.job.staging / task.notebook.name, task.job.source)


def rendering_outcome(answer: str) -> dict[str, Any]:
    """The summary a rendering task returned; raises RenderFailed with its one-line message."""
    outcome = json.loads(answer)
    if "error" in outcome:
        raise RenderFailed(outcome["error"])
    return dict(outcome["summary"])


# --------------------------------------------------------------------------- folders


@contextmanager
def locked_out_dir(out_dir: Path) -> Iterator[Path]:
    """``out_dir`` made if missing, checked writable, and locked (flock on the folder itself,
    so no file is added) for the length of the run. Raises ReportError, one line, when it
    cannot be a folder, cannot be written, or another run holds it."""
    import fcntl

    where = f"--out {out_dir}"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ReportError(f"{where}: is a file, not a folder") from None
    except OSError as error:
        raise ReportError(f"{where}: cannot create the folder ({error.strerror})") from None
    if not out_dir.is_dir():
        raise ReportError(f"{where}: is a file, not a folder")
    try:
        descriptor = os.open(out_dir, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as error:
        raise ReportError(f"{where}: cannot open the folder ({error.strerror})") from None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ReportError(f"{where}: another report run is writing there; run again once it has finished") from None
        try:
            probe, name = tempfile.mkstemp(prefix=f"{STAGING}{os.getpid()}-probe-", dir=out_dir)
            os.close(probe)
            os.unlink(name)
        except OSError as error:
            raise ReportError(f"{where}: cannot write in the folder ({error.strerror})") from None
        yield out_dir
    finally:
        os.close(descriptor)


def clean_stale(out_dir: Path) -> None:
    """Remove what killed runs left in ``out_dir`` (staging folders, temporary indexes, a write
    probe) and put back a report that one had moved aside (``.old-<pid>-<slug>``) before its
    replacement landed. Only what carries the runner's mark is touched
    (:func:`~.ownership.is_leftover`): a file or folder of the user's with such a name stays as
    it is. Called with the folder locked, so a leftover not this process's is stale, whatever
    its process id says (a pid may be reused, or be PID 1 in a container)."""
    for entry in out_dir.iterdir():
        name = entry.name
        prefix = next((p for p in (STAGING, OLD, INDEX_TEMPORARY) if name.startswith(p)), None)
        if prefix is None or not is_leftover(entry):
            continue
        owner, _, slug = name[len(prefix) :].removesuffix(".html").partition("-")
        if owner == str(os.getpid()):
            continue
        final = out_dir / slug
        if prefix == OLD and not os.path.lexists(final):
            os.rename(entry, final)
        elif entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def refuse_foreign_folder(out_dir: Path, allow_other_files: bool = False) -> None:
    """Raise ReportError (one line) when ``out_dir`` holds anything ftcost did not write
    (:func:`~.ownership.foreign_entries`), unless ``allow_other_files`` or it is the
    project's own ``reports/`` (which git ships with its README). Either way the runner
    never replaces, renames or removes what is not its own."""
    if allow_other_files or out_dir == (project_root() / "reports").resolve():
        return
    problem = foreign_folder_problem(out_dir)
    if problem is not None:
        raise ReportError(f"--out {out_dir}: {problem}")


def assign_folders(out_dir: Path, sources: Sequence[Path]) -> list[str]:
    """One folder name per client file: the slug of its stem, or ``-2``, ``-3``... when that
    folder (or its ``_failed/`` twin) belongs to another file, or another file of this run
    takes it. A folder that does not say whose it is belongs to someone else."""
    taken: set[str] = set()
    slugs = []
    for source in sources:
        slug = next_folder(out_dir, source, taken)
        taken.add(slug)
        slugs.append(slug)
    return slugs


def next_folder(out_dir: Path, source: Path, taken: set[str]) -> str:
    """The folder name of ``source`` when the files before it took ``taken`` (see :func:`assign_folders`)."""
    base = slug = slugify(source.stem)
    count = 1
    while slug in taken or _belongs_elsewhere(out_dir, slug, source):
        count += 1
        slug = f"{base}-{count}"
    return slug


def _belongs_elsewhere(out_dir: Path, slug: str, source: Path) -> bool:
    for folder in (out_dir / slug, out_dir / FAILED_DIR / slug):
        if folder.exists() and folder_owner(folder) != source_id(source):
            return True
    return False


def place(staging: Path, final: Path) -> None:
    """Move a complete report folder into place, replacing an earlier one.

    The earlier folder is renamed aside first and deleted only after the new one is in
    place; a crash in between leaves it as ``.old-<pid>-<slug>``, which :func:`clean_stale`
    restores.
    """
    if final.exists():
        old = final.with_name(f"{OLD}{os.getpid()}-{final.name}")
        if os.path.lexists(old):  # not this run's: never renamed over
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(old))
        os.rename(final, old)
        os.rename(staging, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(staging, final)


def keep_failed(job: ClientJob, out_dir: Path, message: str) -> Path | None:
    """Move a failed client's staging folder to ``_failed/<slug>/`` with ``error.txt`` (over
    an earlier failed folder of the same file only); when that cannot be written (a full
    disk), remove the staging folder and return None."""
    failed = out_dir / FAILED_DIR
    target = client_dir(failed, job.slug)
    made_failed = not os.path.lexists(failed)
    try:
        remove_own_folder(target, job.source)
        failed.mkdir(exist_ok=True)
        (job.staging / "error.txt").write_text(f"{job.source}\n{message}\n", encoding="utf-8")
        os.rename(job.staging, target)
    except OSError:
        shutil.rmtree(job.staging, ignore_errors=True)
        if made_failed and failed.is_dir() and not any(failed.iterdir()):
            failed.rmdir()
        return None
    return target


def remove_own_folder(folder: Path, source: Path) -> None:
    """Remove ``folder`` if it is a report folder of ``source`` (its ``.source`` says so);
    raise FileExistsError if something else is there."""
    if not os.path.lexists(folder):
        return
    if folder.is_symlink() or folder_owner(folder) != source_id(source):
        raise FileExistsError(errno.EEXIST, "not this client file's folder", str(folder))
    shutil.rmtree(folder, ignore_errors=True)


def start_staging(job: ClientJob) -> None:
    """Make a client's staging folder and record whose report it is."""
    job.staging.mkdir()
    (job.staging / SOURCE_FILE).write_text(f"{source_id(job.source)}\n", encoding="utf-8")


# --------------------------------------------------------------------------- the batch


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
            self.withdraw(client, _describe(error))
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


def _describe(error: BaseException) -> str:
    """A one-line message for a failed task (no traceback)."""
    from ftcost_helpers.report.execute import KernelCallFailed, KernelStartFailed, NotebookFailed

    if isinstance(error, NotebookFailed | KernelStartFailed | KernelCallFailed | RenderFailed | ParamsError):
        return str(error)
    if isinstance(error, OSError) and error.strerror:
        where = f" ({Path(error.filename).name})" if error.filename else ""
        return f"could not write the report: {error.strerror}{where}"
    return f"{type(error).__name__}: {error}"


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
    result = _run_pool(plan.jobs, settings, out_dir, jobs or default_jobs()) if plan.jobs else BatchResult()
    result.skipped = plan.skipped
    result.failures[:0] = plan.failures
    try:
        result.index = write_index(out_dir, result.failures)
    except ForeignIndex:
        say(f"warning: {out_dir / 'index.html'} is not ftcost's: left as it is, and no index written")
    except OSError as error:
        say(f"warning: {out_dir / 'index.html'} not updated ({error.strerror}); the next run rebuilds it")
    return result


def _run_pool(jobs_list: list[ClientJob], settings: BatchSettings, out_dir: Path, jobs: int) -> BatchResult:
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
