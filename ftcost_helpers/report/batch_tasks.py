"""A client's report as tasks for the batch's workers (:mod:`~ftcost_helpers.report.runner`):
one per notebook, and the rendering of report.html, report.xlsx and summary.json, which a
worker's kernel runs (:func:`rendered_in_kernel`) since it has the package loaded already.
Also what every worker is told (:class:`BatchSettings`) and a failed task's one-line message."""

from __future__ import annotations

import base64
import datetime as dt
import json
import pickle
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftcost_helpers.engine.loading import ParamsError, load_price_book
from ftcost_helpers.report.execute import KernelSettings, kernel_call_task, notebook_task
from ftcost_helpers.report.follow_up import NO_FOLLOW_UP, FollowUp, keep_inputs
from ftcost_helpers.report.index import REPORT_HTML, REPORT_XLSX, SUMMARY_JSON


class RenderFailed(Exception):
    """A client's rendering failed; ``str()`` is its one-line message."""


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
    "from ftcost_helpers.report.batch_tasks import rendered_in_kernel as _render_in_kernel\n"
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
        return json.dumps({"error": describe_failure(error)})


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


def describe_failure(error: BaseException) -> str:
    """A one-line message for a failed task (no traceback)."""
    from ftcost_helpers.report.execute import KernelCallFailed, KernelStartFailed, NotebookFailed

    if isinstance(error, NotebookFailed | KernelStartFailed | KernelCallFailed | RenderFailed | ParamsError):
        return str(error)
    if isinstance(error, OSError) and error.strerror:
        where = f" ({Path(error.filename).name})" if error.filename else ""
        return f"could not write the report: {error.strerror}{where}"
    return f"{type(error).__name__}: {error}"
