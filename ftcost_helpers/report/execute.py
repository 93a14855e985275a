"""Running one notebook with papermill's Python API inside a long-lived worker process.

Each notebook gets a fresh kernel (nothing leaks from one notebook to the next). The
worker starts that kernel itself, over IPC sockets rather than TCP ports (no port
collisions between parallel workers, papermill #511), with the notebooks folder as its
working directory (papermill's own ``cwd`` switches the whole process, #473), and retries
once when a kernel fails to start. The names injected are checked against the notebook's
``parameters`` cell first (papermill only warns on an unknown name, #701).
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

INJECTED = ("params_file", "interactive")
"""The only names the runner injects into a notebook."""


class NotebookContractError(Exception):
    """A notebook lacks a parameter the runner injects (the same for every client)."""


class NotebookFailed(Exception):
    """A cell raised. ``str()`` names the notebook, the cell and the error."""

    def __init__(self, notebook: str, cell: str, error: str) -> None:
        self.notebook, self.cell, self.error = notebook, cell, error
        super().__init__(f"{notebook}, {cell}: {error}")

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.notebook, self.cell, self.error)


class KernelStartFailed(Exception):
    """The kernel did not start or answer, twice."""


@dataclass(frozen=True)
class KernelSettings:
    """How kernels are started: the kernelspec, the working directory, time limits (s)."""

    kernel_name: str = "python3"
    cwd: Path | None = None
    start_timeout: float = 60.0
    cell_timeout: float = 600.0


@cache
def notebook_parameters(notebook: Path) -> frozenset[str]:
    """The names declared in ``notebook``'s ``parameters`` cell (papermill.inspect_notebook)."""
    import papermill

    return frozenset(papermill.inspect_notebook(str(notebook)))


def check_parameters(notebook: Path, names: tuple[str, ...] = INJECTED) -> None:
    """Raise NotebookContractError unless every injected name is a declared parameter."""
    missing = [name for name in names if name not in notebook_parameters(notebook)]
    if missing:
        raise NotebookContractError(
            f"{notebook.name}: its 'parameters' cell does not declare {', '.join(missing)} "
            f"(the report runner injects {', '.join(names)})"
        )


@cache
def _runtime_dir() -> Path:
    """A short private folder for this worker's kernel connection files and IPC sockets."""
    path = Path(tempfile.mkdtemp(prefix="ftcost-kernels-"))
    import atexit

    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def start_kernel(settings: KernelSettings, attempts: int = 2) -> Any:
    """A started, ready KernelManager (IPC transport); one retry when the start fails."""
    from jupyter_client.manager import KernelManager

    last_error: Exception | None = None
    for _ in range(attempts):
        connection_file = _runtime_dir() / f"kernel-{uuid.uuid4().hex[:12]}.json"
        km = KernelManager(kernel_name=settings.kernel_name, transport="ipc", connection_file=str(connection_file))
        try:
            km.start_kernel(cwd=str(settings.cwd) if settings.cwd else None)
            client = km.client()
            client.start_channels()
            try:
                client.wait_for_ready(timeout=settings.start_timeout)
            finally:
                client.stop_channels()
            return km
        except Exception as error:  # a kernel that failed to start: any cause, retried once
            last_error = error
            stop_kernel(km)
    raise KernelStartFailed(f"kernel '{settings.kernel_name}' failed to start: {last_error}")


def stop_kernel(km: Any) -> None:
    """Shut a kernel down now and remove its connection file and sockets."""
    try:
        if km.has_kernel:
            km.shutdown_kernel(now=True)
    finally:
        km.cleanup_resources()
        if km._created_context:
            km.context.destroy(linger=0)


def run_notebook(notebook: Path, output: Path, params_file: Path, settings: KernelSettings) -> None:
    """Execute ``notebook`` into ``output`` with ``params_file`` (absolute) injected and
    ``interactive`` false. On a failing cell papermill has already written ``output``
    (the traceback included) when NotebookFailed is raised."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    check_parameters(notebook)
    km = start_kernel(settings)
    try:
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters={"params_file": str(params_file.resolve()), "interactive": False},
            kernel_name=settings.kernel_name,
            km=km,
            progress_bar=False,
            request_save_on_cell_execute=False,
            execution_timeout=settings.cell_timeout,
        )
    except PapermillExecutionError as error:
        cell = f"cell {error.cell_index + 1} (In [{error.exec_count}])"
        raise NotebookFailed(notebook.name, cell, f"{error.ename}: {error.evalue}") from None
    finally:
        stop_kernel(km)
