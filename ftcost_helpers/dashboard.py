"""The workshop dashboard: the notebooks' interactive panels served by Voilà on localhost.

    python -m ftcost_helpers.dashboard            # http://127.0.0.1:8866/ lists the notebooks
    python -m ftcost_helpers.dashboard --notebook 05_roi --port 8870

Voilà runs each notebook in its own kernel when a browser opens it and shows the outputs
and the live widgets, never the code. Everything is served from this machine: Voilà 0.5
takes the widgets' JavaScript from the installed labextensions, and the ``ftcost`` template
(``jupyter_data/voila/templates/ftcost``) removes the one CDN link of Voilà's page (Font
Awesome). Stop the server with Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from ftcost_helpers.engine.loading import project_root

DEFAULT_PORT = 8866
HOST = "127.0.0.1"
TEMPLATE = "ftcost"
NOTEBOOKS = ("01_compute", "02_dataset", "03_eval", "04_maintenance", "05_roi")
JUPYTER_DATA = Path(__file__).resolve().parent / "jupyter_data"
"""A Jupyter data folder holding the ``ftcost`` Voilà template (put first on JUPYTER_PATH)."""


class DashboardError(RuntimeError):
    """The dashboard cannot start; ``str()`` is one line for the user."""


def notebooks_dir() -> Path:
    """The folder Voilà serves: the project's ``notebooks/``."""
    return project_root() / "notebooks"


def check_notebooks(folder: Path | None = None) -> list[Path]:
    """The five notebooks, or a :class:`DashboardError` naming the missing ones."""
    folder = folder or notebooks_dir()
    paths = [folder / f"{name}.ipynb" for name in NOTEBOOKS]
    missing = [path.name for path in paths if not path.is_file()]
    if missing:
        raise DashboardError(f"{folder}: missing notebook(s) {', '.join(missing)}")
    return paths


def notebook_url(port: int, name: str) -> str:
    """The address at which Voilà renders notebook ``name`` (``05_roi`` or ``05_roi.ipynb``)."""
    stem = name.removesuffix(".ipynb")
    return f"http://{HOST}:{port}/voila/render/{stem}.ipynb"


def voila_command(port: int = DEFAULT_PORT, *, show_tracebacks: bool = False) -> list[str]:
    """The Voilà command line serving ``notebooks/`` with code hidden, on localhost only."""
    return [
        sys.executable,
        "-m",
        "voila",
        str(notebooks_dir()),
        "--no-browser",
        f"--port={port}",
        f"--Voila.ip={HOST}",
        f"--template={TEMPLATE}",
        "--theme=light",
        "--strip_sources=True",
        f"--show_tracebacks={show_tracebacks}",
        # Kernels talk to Voilà over Unix sockets: no TCP ports to collide with other kernels
        # started at the same moment (papermill #511), and nothing listening on the network.
        "--KernelManager.transport=ipc",
    ]


def voila_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for Voilà: our template first on JUPYTER_PATH, and no ``MPLBACKEND``
    (the notebooks draw with the inline backend; Agg would make their charts vanish)."""
    env = dict(os.environ if base is None else base)
    env.pop("MPLBACKEND", None)
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(JUPYTER_DATA), env.get("JUPYTER_PATH")]))
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    return env


def port_is_free(port: int) -> bool:
    """Nothing listens on ``port`` (connections of a stopped server waiting to close do not
    count: the server, like this probe, sets SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def start(port: int = DEFAULT_PORT, *, show_tracebacks: bool = False, log: Path | None = None) -> subprocess.Popen:
    """Start Voilà in the background (for tests and :func:`serve`); its output goes to ``log``
    (default: inherited). Raises :class:`DashboardError` when a notebook is missing or the
    port is taken."""
    check_notebooks()
    if not port_is_free(port):
        raise DashboardError(f"port {port} on {HOST} is in use: pass --port with a free one")
    stream = log.open("ab") if log else None
    try:
        return subprocess.Popen(
            voila_command(port, show_tracebacks=show_tracebacks),
            cwd=project_root(),
            env=voila_environment(),
            stdout=stream,
            stderr=subprocess.STDOUT if stream else None,
        )
    finally:
        if stream:
            stream.close()


def wait_until_ready(process: subprocess.Popen, port: int, timeout_s: float = 60.0) -> float:
    """Seconds until Voilà answers on ``port``; raises :class:`DashboardError` if it exits
    or does not answer within ``timeout_s``."""
    started = time.perf_counter()
    url = f"http://{HOST}:{port}/"
    while time.perf_counter() - started < timeout_s:
        if process.poll() is not None:
            raise DashboardError(f"Voilà exited with status {process.returncode} before serving {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    raise DashboardError(f"Voilà did not answer on {url} within {timeout_s:.0f} s")


def stop(process: subprocess.Popen, timeout_s: float = 10.0) -> None:
    """Stop a Voilà server started by :func:`start` (and its kernels with it)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _exit_quietly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def serve(port: int = DEFAULT_PORT, notebook: str | None = None, *, show_tracebacks: bool = False) -> int:
    """Serve until Ctrl-C (or SIGTERM/SIGHUP); prints the address to open. Returns Voilà's
    exit status. Voilà and its kernels are stopped however this process is asked to end."""
    process = start(port, show_tracebacks=show_tracebacks)
    for ending in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(ending, _exit_quietly)
    try:
        wait_until_ready(process, port)
        where = notebook_url(port, notebook) if notebook else f"http://{HOST}:{port}/"
        print(f"ftcost workshop dashboard: open {where}  (Ctrl-C stops it)", flush=True)
        return process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        stop(process)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ftcost_helpers.dashboard", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on {HOST} (default {DEFAULT_PORT})")
    parser.add_argument("--notebook", choices=NOTEBOOKS, help="print the address of this notebook's page")
    parser.add_argument("--show-tracebacks", action="store_true", help="show Python tracebacks in the page")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return serve(args.port, args.notebook, show_tracebacks=args.show_tracebacks)
    except DashboardError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
