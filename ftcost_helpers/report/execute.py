"""Running notebooks with papermill's Python API inside long-lived worker processes.

A worker keeps one kernel for its whole life and resets its namespace before each notebook
(see :class:`KernelSession`; ``fresh=True`` gives each notebook a kernel of its own), so the
kernel start-up and the notebooks' imports are paid once per worker, not once per client.
The worker starts the kernel itself, over IPC sockets rather than TCP ports (no port
collisions between parallel workers, papermill #511), with the notebooks folder as its
working directory (papermill's own ``cwd`` switches the whole process, #473), and retries
once when a kernel fails to start. The names injected are checked against the notebook's
``parameters`` cell first (papermill only warns on an unknown name, #701).

This module imports nothing heavy at the top (no engine, no pandas), so a worker that only
runs notebooks starts in a third of a second: see :func:`init_worker`.
"""

from __future__ import annotations

import ast
import contextlib
import os
import shutil
import signal
import sys
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
    """How kernels are started: the kernelspec, the working directory, time limits (s), and
    the folder for connection files and IPC sockets (default: one per process in /tmp)."""

    kernel_name: str = "python3"
    cwd: Path | None = None
    start_timeout: float = 60.0
    cell_timeout: float = 600.0
    runtime_dir: Path | None = None


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


RUNTIME_PREFIX = "ftcost-kernels-"
"""Kernel folders in the temporary folder: ``ftcost-kernels-<pid>-<random>``."""

OWNER_FILE = ".owner"
"""A file in each kernel folder that its creator holds locked (flock) for its lifetime."""

_OWNER_LOCKS: dict[Path, int] = {}


def make_runtime_dir() -> Path:
    """A short private folder for kernel connection files and IPC sockets (short: socket
    paths are limited), locked by this process until :func:`remove_runtime_dir` or its exit,
    so :func:`clean_stale_runtime_dirs` knows a live folder from one a killed run left."""
    import fcntl

    path = Path(tempfile.mkdtemp(prefix=f"{RUNTIME_PREFIX}{os.getpid()}-"))
    descriptor = os.open(path / OWNER_FILE, os.O_WRONLY | os.O_CREAT, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    _OWNER_LOCKS[path] = descriptor
    return path


def remove_runtime_dir(path: Path) -> None:
    """Remove a kernel folder made by :func:`make_runtime_dir` and release its lock."""
    shutil.rmtree(path, ignore_errors=True)
    descriptor = _OWNER_LOCKS.pop(path, None)
    if descriptor is not None:
        os.close(descriptor)


def clean_stale_runtime_dirs(root: Path | None = None, grace_s: float = 60.0) -> list[Path]:
    """Remove the kernel folders whose owner is gone (its lock is free), whatever its process
    id says (a killed run's pid may be reused, or be PID 1 in a container); a folder without an
    owner file (an older version's, or one being made) goes once it is ``grace_s`` old. Only a
    folder that is a kernel folder is touched (:func:`is_kernel_folder`): this user's, holding
    nothing but the owner file and kernels' connection files and sockets."""
    import fcntl
    import time

    removed = []
    for path in Path(root or tempfile.gettempdir()).glob(f"{RUNTIME_PREFIX}*"):
        if path in _OWNER_LOCKS or not is_kernel_folder(path):
            continue
        owner = path / OWNER_FILE
        try:
            if owner.exists():
                descriptor = os.open(owner, os.O_WRONLY | os.O_NOFOLLOW)
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a live run's
                finally:
                    os.close(descriptor)
            elif time.time() - path.stat().st_mtime < grace_s:
                continue
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


KERNEL_FILE_PREFIX = "kernel-"
"""Connection files (``kernel-<id>.json``) and IPC sockets (``kernel-<id>-ipc-<n>``) in a kernel folder."""


def is_kernel_folder(path: Path) -> bool:
    """True when ``path`` is a real folder (not a link) of this user holding nothing but
    :data:`OWNER_FILE` and kernel files (:data:`KERNEL_FILE_PREFIX`): what
    :func:`make_runtime_dir` makes and a kernel fills. Anything else there is not ours."""
    try:
        if path.is_symlink() or not path.is_dir() or path.stat().st_uid != os.getuid():
            return False
        return all(n == OWNER_FILE or n.startswith(KERNEL_FILE_PREFIX) for n in os.listdir(path))
    except OSError:
        return False


@cache
def _runtime_dir() -> Path:
    """This process's kernel folder when the runner gave none (removed at exit)."""
    path = make_runtime_dir()
    import atexit

    atexit.register(remove_runtime_dir, path)
    return path


_KERNELS: list[Any] = []
"""The KernelManagers of this process that may have a kernel (from before its start until
it is stopped), for :func:`kill_kernels`."""


def kill_kernels() -> None:
    """Kill every kernel of this process and what it started (its process group) at once,
    without waiting or talking to it: for a worker that is being terminated."""
    for km in list(_KERNELS):
        provisioner = getattr(km, "provisioner", None)
        group = getattr(provisioner, "pgid", None) or getattr(provisioner, "pid", None)
        if group:
            with contextlib.suppress(OSError):
                os.killpg(group, signal.SIGKILL)


IOPUB_PROBE_S = 0.01
"""How long :class:`PromptKernelClient` waits for a message on its newly connected IOPub
channel after each kernel_info reply before asking again (s)."""


@cache
def prompt_client_class() -> type:
    """The kernel client class papermill's notebook client gets from the kernel manager
    (``km.client()``, one per notebook), defined on first use so that importing this module
    does not import jupyter_client.

    A newly connected IOPub socket misses what the kernel publishes until its subscription has
    reached the kernel (ZeroMQ's "slow joiner"), so a kernel is ready when it has answered
    kernel_info on the shell channel *and* IOPub has delivered a message. jupyter_client's
    ``wait_for_ready`` waits 0.2 s on IOPub after each reply before asking again, which the
    first reply nearly always costs: 0.2 s idle per notebook, about 10 s over the 50 notebooks
    a worker runs in a batch of 20 clients. This client asks the same question, with the same
    guarantee, every :data:`IOPUB_PROBE_S` seconds."""
    import queue
    import time

    from jupyter_client.blocking.client import BlockingKernelClient

    class PromptKernelClient(BlockingKernelClient):
        def wait_for_ready(self, timeout: float | None = None) -> None:
            """Return once the kernel answers kernel_info and IOPub delivers; RuntimeError
            when the kernel dies or ``timeout`` seconds (None: no limit) pass first."""
            deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
            while time.monotonic() < deadline:
                msg_id = self.kernel_info()
                reply = self._reply_to(msg_id, deadline)
                if reply is not None and self._iopub_delivers(deadline):
                    self._handle_kernel_info_reply(reply)
                    return
                if not self.is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
            raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")

        def _reply_to(self, msg_id: str, deadline: float) -> dict[str, Any] | None:
            """The shell reply to ``msg_id`` within a second (and the deadline), or None."""
            until = min(deadline, time.monotonic() + 1.0)
            while (left := until - time.monotonic()) > 0:
                try:
                    msg = self.shell_channel.get_msg(timeout=left)
                except queue.Empty:
                    return None
                if msg["parent_header"].get("msg_id") == msg_id:
                    return msg
            return None

        def _iopub_delivers(self, deadline: float) -> bool:
            """True once IOPub has delivered a message (the subscription is live)."""
            try:
                self.iopub_channel.get_msg(timeout=max(0.0, min(IOPUB_PROBE_S, deadline - time.monotonic())))
            except queue.Empty:
                return False
            return True

    return PromptKernelClient


def start_kernel(settings: KernelSettings, attempts: int = 2) -> Any:
    """A started, ready KernelManager (IPC transport); one retry when the start fails. The
    clients it makes for papermill are :func:`prompt_client_class`'s."""
    from jupyter_client.manager import KernelManager

    last_error: Exception | None = None
    for _ in range(attempts):
        connection_file = (settings.runtime_dir or _runtime_dir()) / f"kernel-{uuid.uuid4().hex[:12]}.json"
        km = KernelManager(
            kernel_name=settings.kernel_name,
            transport="ipc",
            connection_file=str(connection_file),
            client_factory=prompt_client_class(),
        )
        _KERNELS.append(km)
        try:
            km.start_kernel(cwd=str(settings.cwd) if settings.cwd else None)
            if _execute_silently(km, "", {}, settings.start_timeout) is None:
                raise TimeoutError(f"no answer within {settings.start_timeout:g} s, or it died")
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
        if km in _KERNELS:
            _KERNELS.remove(km)
        km.cleanup_resources()
        if km._created_context:
            km.context.destroy(linger=0)


class KernelCallFailed(Exception):
    """Code run in a kernel outside a notebook (:meth:`KernelSession.call`) raised or timed out."""


def _execute_silently(km: Any, code: str, expressions: dict[str, str], timeout: float) -> dict[str, Any] | None:
    """Run ``code`` silently in ``km``'s kernel and return the content of its reply (with the
    values of ``expressions``), or None when there is none within ``timeout`` seconds or the
    kernel died.

    Only the shell channel's reply is awaited (a request sent before a new kernel listens
    waits in the socket): a client's ``wait_for_ready`` also waits for a message on its newly
    connected IOPub channel, which a freshly subscribed socket misses at least once (0.2 s
    each time), and nothing here needs IOPub."""
    import queue
    import time

    client = km.blocking_client()
    client.start_channels(iopub=False, stdin=False, hb=False, control=False)
    try:
        msg_id = client.execute(code, silent=True, user_expressions=expressions)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                reply = client.get_shell_msg(timeout=min(0.5, max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                if not km.is_alive():
                    return None
                continue
            if reply["parent_header"].get("msg_id") == msg_id:
                return dict(reply["content"])
        return None
    finally:
        client.stop_channels()


RESET_NAMESPACE = "get_ipython().reset(new_session=True, aggressive=False); __import__('os').chdir({cwd!r})"
"""Empties the user namespace, the output history and the execution counter (In [1] again)
and goes back to the working directory; imported modules stay loaded, which is the point
of reusing the kernel."""


class KernelSession:
    """The kernel that runs a worker's notebooks, one after the other, whichever clients
    they are for.

    Between two notebooks the kernel's namespace is reset, so a notebook sees none of the
    previous one's variables (a name it did not define itself is a NameError, as in a
    fresh kernel) and its execution counts start at 1 again; what stays is the modules
    already imported, so the notebooks after the first skip the kernel start-up and the
    imports (about 1.8 s of CPU each). ``fresh=True`` starts a new kernel per notebook
    instead. A kernel that died is replaced before the next notebook.
    """

    def __init__(self, settings: KernelSettings, fresh: bool = False) -> None:
        self.settings, self.fresh = settings, fresh
        self.km: Any = None
        self.used = False

    def __enter__(self) -> KernelSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.km is not None:
            stop_kernel(self.km)
            self.km = None

    def _ready_kernel(self) -> Any:
        """A kernel with an empty namespace: new, or the previous one reset."""
        if self.km is not None and (self.fresh or not self.km.is_alive()):
            self.close()
        if self.km is None:
            self.km = start_kernel(self.settings)
        elif self.used and not self._reset():
            self.close()
            self.km = start_kernel(self.settings)
        self.used = True
        return self.km

    def _reset(self) -> bool:
        """Reset the namespace (:data:`RESET_NAMESPACE`); False if the kernel did not say "ok"
        in time."""
        code = RESET_NAMESPACE.format(cwd=str(self.settings.cwd or Path.cwd()))
        reply = _execute_silently(self.km, code, {}, self.settings.start_timeout)
        return reply is not None and reply["status"] == "ok"

    def call(self, code: str, expression: str) -> str:
        """Execute ``code`` in the kernel, with an empty namespace as a notebook gets, and
        return the value of ``expression`` (which must be a str). Raises KernelCallFailed
        (one line) when the code raises or does not finish within the cell time limit."""
        km = self._ready_kernel()
        reply = _execute_silently(km, code, {"value": expression}, self.settings.cell_timeout)
        if reply is None:
            raise KernelCallFailed(f"no answer from the kernel within {self.settings.cell_timeout:g} s")
        if reply["status"] != "ok":
            raise KernelCallFailed(f"{reply.get('ename')}: {reply.get('evalue')}")
        value = reply["user_expressions"]["value"]
        if value["status"] != "ok":
            raise KernelCallFailed(f"{value.get('ename')}: {value.get('evalue')}")
        text = ast.literal_eval(value["data"]["text/plain"])
        if not isinstance(text, str):
            raise KernelCallFailed(f"{expression} is a {type(text).__name__}, not a str")
        return text

    def run(self, notebook: Path, output: Path, params_file: Path) -> None:
        """Execute ``notebook`` into ``output`` with ``params_file`` (absolute) injected and
        ``interactive`` false. On a failing cell papermill has already written ``output``
        (the traceback included) when NotebookFailed is raised."""
        import papermill
        from papermill.exceptions import PapermillExecutionError

        check_parameters(notebook)
        try:
            papermill.execute_notebook(
                str(notebook),
                str(output),
                parameters={"params_file": str(params_file.resolve()), "interactive": False},
                kernel_name=self.settings.kernel_name,
                km=self._ready_kernel(),
                progress_bar=False,
                request_save_on_cell_execute=False,
                execution_timeout=self.settings.cell_timeout,
            )
        except PapermillExecutionError as error:
            cell = f"cell {error.cell_index + 1} (In [{error.exec_count}])"
            raise NotebookFailed(notebook.name, cell, f"{error.ename}: {error.evalue}") from None


def run_notebook(notebook: Path, output: Path, params_file: Path, settings: KernelSettings) -> None:
    """Execute one notebook in a kernel of its own (see :meth:`KernelSession.run`)."""
    with KernelSession(settings, fresh=True) as session:
        session.run(notebook, output, params_file)


# --------------------------------------------------------------------------- worker processes

SLOW_OPTIONAL_IMPORTS = ("rfc3987_syntax",)
"""Modules a worker keeps from being imported. jsonschema (imported by nbformat, imported by
papermill) loads ``rfc3987_syntax`` when it is installed (jupyter-events' extras bring it),
and that module compiles some thirty Earley grammars at import: 1.0 s of CPU of the 1.4 s that
``import papermill`` takes here (``python -X importtime``; python-jsonschema/jsonschema#1428).
It only serves the draft-7 ``iri`` formats, which no notebook schema uses and which nbformat
never checks (it validates without a format checker), so without it jsonschema simply leaves
those two format checkers out."""


@dataclass(frozen=True)
class WorkerSetup:
    """What a worker process is given once, when it starts: how to start kernels, whether
    each notebook gets a fresh one, and the environment the kernels inherit (the price book
    and rates overlay the client reports read)."""

    kernel: KernelSettings
    fresh_kernels: bool = False
    environment: tuple[tuple[str, str], ...] = ()


_SESSION: KernelSession | None = None
"""This worker's kernel session (made by :func:`init_worker`, stopped when the worker exits)."""


def init_worker(setup: WorkerSetup) -> None:
    """Start-up of a pool worker: keep slow optional modules out, hand Ctrl-C to the main
    process, exit at once on SIGTERM (killing the kernel first), and make the kernel session
    that every notebook of this worker runs in; it is stopped when the worker exits."""
    global _SESSION
    from multiprocessing.util import Finalize

    for name in SLOW_OPTIONAL_IMPORTS:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # None: "import fails"
    os.environ.update(dict(setup.environment))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminate_worker)
    _SESSION = KernelSession(setup.kernel, fresh=setup.fresh_kernels)
    Finalize(_SESSION, _SESSION.close, exitpriority=10)


def _terminate_worker(signum: int, frame: Any) -> None:
    """SIGTERM in a worker: kill its kernel at once and exit, saying nothing (the main
    process says what happened; a half-run notebook's asyncio tasks are not worth a word)."""
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)
    os.dup2(quiet, 2)
    kill_kernels()
    os._exit(128 + signum)


def notebook_task(notebook: Path, output: Path, params_file: Path) -> None:
    """One notebook of one client, in this worker's kernel (see :meth:`KernelSession.run`)."""
    assert _SESSION is not None, "notebook_task runs in a worker started by init_worker"
    _SESSION.run(notebook, output, params_file)


def kernel_call_task(code: str, expression: str) -> str:
    """Code run in this worker's kernel, outside any notebook (see :meth:`KernelSession.call`):
    the worker itself then needs none of the modules the code imports, which the kernel has
    loaded for the notebooks anyway."""
    assert _SESSION is not None, "kernel_call_task runs in a worker started by init_worker"
    return _SESSION.call(code, expression)
