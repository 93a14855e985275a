"""The workshop dashboard: the notebooks' interactive panels served by Voilà for a room.

    python -m ftcost_helpers.dashboard                   # http://127.0.0.1:8866/ : the landing page
    python -m ftcost_helpers.dashboard --room 30         # warm kernels for a room of 30
    python -m ftcost_helpers.dashboard --pool-size 2     # two warm kernels per notebook
    python -m ftcost_helpers.dashboard --host room-pc    # serve a LAN room at http://room-pc:8866/

A room of 30 opening pages at once is what this is built for:

- **Kernels started ahead.** Voilà's preheated kernel pool (``--preheat_kernel``,
  ``--pool_size``: kernels per notebook, ``--pool-size`` here, default
  :data:`DEFAULT_POOL_SIZE`) starts each notebook's kernel and imports the model before anyone
  asks; a page opening takes a warm kernel and the pool refills behind it once the page
  has had :data:`POOL_REFILL_DELAY_S` to become interactive.
- **A room sized.** ``--room N`` keeps one warm kernel per person for the notebook the room
  opens next, following the session plan from one notebook to the next
  (:func:`~ftcost_helpers.dashboard.room.session_pool_sizes`); a page that finds its
  notebook's pool empty gets a kernel started for it. The pool replaces a taken kernel a
  minute later (the room's pages arrive meanwhile and need the CPU).
- **Kernels reclaimed, never from a page still loading.** The page's kernel is stopped when
  the page closes (Voilà's ``beforeunload`` beacon) and, should that never arrive, once its
  page has connected, gone, and ``--idle-timeout`` seconds have passed. A page still loading
  keeps its kernel for ``--connect-grace`` seconds (Jupyter Server's own culler counts such a
  kernel as idle: in a busy room it stopped the kernels of pages still loading). Pooled
  kernels are never culled. While its panel starts, the page says so; a page whose kernel
  was lost all the same reloads itself.
- **A broken client file named.** A page for a client file that does not validate shows one
  line per problem (file, key, problem), and so does the leader's terminal; the landing page
  marks the file broken.
- **Only this machine's names.** Every request's ``Host`` and ``Origin`` must name
  ``127.0.0.1``, ``localhost`` or the ``--host`` given (DNS rebinding is refused with 403).
- **Panel first.** Voilà serves *dashboard copies* of the notebooks, written at start-up into
  a temporary folder: the panel right after the set-up cell, the teaching text after it. A
  first cell (:func:`open_page`) imports the model while the kernel waits in the pool, reads
  the page's ``?client=`` once the page is asked for, and answers an unknown client with the
  list of clients instead of an error.
- **A landing page** (``/``): the six notebooks with their questions, a client picker (the
  examples in ``params/clients/`` and the participants' files in ``workshop/clients/``) and
  the workshop guide (``/guide``).

Everything is served from this machine (the ``ftcost`` template removes Voilà's CDN links).
Stop the server with Ctrl-C.
"""

from __future__ import annotations

import argparse
import inspect
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ftcost_helpers.dashboard.notebooks import (
    NOTEBOOKS,
    PAGE_MAGIC,
    READING_NOTE,
    DashboardError,
    check_notebooks,
    dashboard_notebook,
    notebook_entries,
    notebooks_dir,
    open_page,
    write_dashboard_notebooks,
)
from ftcost_helpers.dashboard.pages import (
    NotebookEntry,
    broken_clients,
    broken_file_page,
    client_problems,
    guide_html,
    landing_html,
    refusal_html,
)
from ftcost_helpers.dashboard.room import DEFAULT_CONNECT_GRACE_S, refill_delay_for_room, session_pool_sizes
from ftcost_helpers.engine.loading import project_root
from ftcost_helpers.views.notebook import DASHBOARD_KERNEL, dashboard_clients

__all__ = [
    "NOTEBOOKS",
    "PAGE_MAGIC",
    "READING_NOTE",
    "DashboardError",
    "NotebookEntry",
    "check_notebooks",
    "dashboard_notebook",
    "guide_html",
    "landing_html",
    "notebook_entries",
    "notebooks_dir",
    "open_page",
    "refusal_html",
    "session_pool_sizes",
    "write_dashboard_notebooks",
]

DEFAULT_PORT = 8866
HOST = "127.0.0.1"
LOCAL_NAMES = ("127.0.0.1", "localhost")
"""Names a request may give in ``Host``/``Origin`` besides the ``--host`` of a LAN room."""
TEMPLATE = "ftcost"
JUPYTER_DATA = Path(__file__).resolve().parent.parent / "jupyter_data"
"""A Jupyter data folder holding the ``ftcost`` Voilà template (put first on JUPYTER_PATH)."""
DEFAULT_POOL_SIZE = 1
"""Warm kernels kept per notebook (six notebooks: six kernels, about 150 MB each, at rest)."""
DEFAULT_IDLE_TIMEOUT_S = 40
"""A kernel whose page connected and has gone (closed without its beacon) is stopped after
this long without activity (checked every CULL_INTERVAL_S). A kernel whose page is still
connecting is kept for ``connect_grace_s`` instead (see :mod:`ftcost_helpers.dashboard.room`)."""
CULL_INTERVAL_S = 5
UNUSED_LABEXTENSIONS = ["jupyterlab-jupytext", "jupyterlab_pygments", "@voila-dashboards/jupyterlab-preview"]
"""JupyterLab extensions installed for JupyterLab that a Voilà page neither needs nor can
activate (each logs errors and version warnings in the page's console)."""
RENDERING_ARGUMENTS = ("template", "theme")
"""Query arguments with which Voilà 0.5.8 re-renders a page in another template or theme. The
dashboard refuses a page asked for with either (400): with ``allow_template_override=NO`` they
change nothing shown, but Voilà still reads them, and a page whose template or theme differs
from the pre-rendered one skips the warm pool and starts a kernel of its own (~180 MB, seconds
of CPU), a cheap way to exhaust a room's server."""


@dataclass(frozen=True)
class Room:
    """How the dashboard serves a room: where, how many warm kernels, when to reclaim them."""

    port: int = DEFAULT_PORT
    host: str | None = None
    pool_size: int = DEFAULT_POOL_SIZE
    idle_timeout_s: int = DEFAULT_IDLE_TIMEOUT_S
    show_tracebacks: bool = False
    room_size: int = 0
    """People opening pages at once (``--room``; 0: not said): the pool refills a minute after
    a page takes a kernel instead of seconds after (the pool's size is ``pool_size``)."""
    connect_grace_s: int = DEFAULT_CONNECT_GRACE_S

    @property
    def listen_ip(self) -> str:
        """Localhost only, unless the leader names the machine for a LAN room."""
        return "0.0.0.0" if self.host else HOST

    @property
    def allowed_names(self) -> tuple[str, ...]:
        return LOCAL_NAMES + ((self.host.lower(),) if self.host else ())

    @property
    def address(self) -> str:
        return f"http://{self.host or HOST}:{self.port}/"


# ---------------------------------------------------------------- requests


def _name_of(netloc: str) -> str:
    """The host name of ``Host`` or an origin's authority, without port or brackets."""
    parsed = urlsplit(f"//{netloc.strip()}")
    return (parsed.hostname or "").lower()


def request_is_allowed(host: str | None, origin: str | None, allowed: Iterable[str]) -> bool:
    """A request may proceed when its ``Host`` names this machine (``allowed``) and its
    ``Origin``, when sent, does too (a page from another site never gets an answer, even
    through a DNS name pointed at 127.0.0.1)."""
    names = {name.lower() for name in allowed}
    if not host or _name_of(host) not in names:
        return False
    if origin is None or origin == "null":
        return origin is None
    return (urlsplit(origin).hostname or "").lower() in names


# ---------------------------------------------------------------- Voilà for a room


POOL_REFILL_DELAY_S = 6.0
"""Seconds between a page taking a warm kernel and the pool starting its replacement. A new
kernel's start and warm-up (3–5 s of CPU) compete with the page it was taken for, which is
still receiving its widgets: on this 2-core machine, refilling at once (Voilà's 0 here before)
made ten sequential opens take 2.98 s (median; p95 3.65 s) to an interactive panel, a 6 s
delay 1.86 s (p95 2.23 s); pages were interactive within 3.3 s in every run
(``bench/bench_dashboard.py --sequential``)."""


KERNEL_MANAGER = "ftcost_helpers.dashboard.kernels.RoomKernelManager"
"""Jupyter Server's kernel manager with the room's culling rule; Voilà's pool builds on it."""
NOISE = ("Notebook %s is not trusted",)
CONTENT_HASHED = r"\.[0-9a-f]{16,}\.js$"
"""A widget extension's file whose name carries a hash of its content (webpack's
``remoteEntry.e4ff09401a2f575928c0.js``, ``446.bf169bd3821a9ba1aa62.js``): the same name always
holds the same bytes, so a browser may keep it. Voilà 0.5.8 serves every extension file with
``Cache-Control: no-cache`` and no ETag, so each page a participant opened fetched the widget
extensions' 1.3 MB of scripts again and compiled them afresh."""
"""Server log messages that say nothing to a workshop leader: Jupyter Server's notebook trust
check warns on every page (the dashboard copies are written unsigned, and a dashboard shows
no code to trust)."""


IOPUB_WAIT_S = 60
"""Seconds Voilà's executor waits for a cell's last outputs after the kernel has replied
(nbclient's ``iopub_timeout``, 4 s by default, after which it drops them with "Timeout waiting
for IOPub output"). On a host loaded by a room (load 25 on 2 cores, ``--room 30``) the wait ran
out twice and those two pages never got their panel. The wait ends as soon as the outputs
are in, so a quiet host loses nothing by the longer limit."""


def voila_arguments(room: Room, root: Path) -> list[str]:
    """Voilà's own command-line options for ``room``, serving the notebooks of ``root``."""
    return [
        str(root),
        "--no-browser",
        f"--port={room.port}",
        "--Voila.port_retries=0",
        f"--Voila.ip={room.listen_ip}",
        f"--template={TEMPLATE}",
        "--theme=light",
        # A page's URL may not choose another template or theme (``?template=``, ``?theme=``;
        # NotebookPage also refuses such a request, see RENDERING_ARGUMENTS).
        "--VoilaConfiguration.allow_template_override=NO",
        "--VoilaConfiguration.allow_theme_override=NO",
        "--strip_sources=True",
        f"--show_tracebacks={room.show_tracebacks}",
        "--preheat_kernel=True",
        f"--pool_size={room.pool_size}",
        f"--VoilaKernelManager.fill_delay={refill_delay_for_room(room.room_size, POOL_REFILL_DELAY_S):g}",
        # The culler never stops a kernel whose page is still connecting (Jupyter Server's own
        # counts such a kernel as idle and killed the slow pages of a room): see dashboard.room.
        f"--VoilaConfiguration.multi_kernel_manager_class={KERNEL_MANAGER}",
        f"--MappingKernelManager.cull_idle_timeout={room.idle_timeout_s}",
        f"--MappingKernelManager.cull_interval={CULL_INTERVAL_S}",
        "--MappingKernelManager.cull_connected=False",
        f"--RoomKernelManager.connect_grace={room.connect_grace_s}",
        f"--VoilaExecutor.iopub_timeout={IOPUB_WAIT_S}",
        f"--VoilaConfiguration.extension_denylist={json.dumps(UNUSED_LABEXTENSIONS)}",
        f"--RoomVoila.allowed_names={json.dumps(list(room.allowed_names))}",
        f"--RoomVoila.room_size={room.room_size}",
        # Kernels talk to Voilà over Unix sockets: no TCP ports to collide with other kernels
        # started at the same moment (papermill #511), and nothing listening on the network.
        "--KernelManager.transport=ipc",
    ]


def voila_command(room: Room) -> list[str]:
    """The command that runs Voilà for ``room`` (this module, in its own process)."""
    return [
        sys.executable,
        "-m",
        "ftcost_helpers.dashboard",
        "--voila-process",
        f"--port={room.port}",
        f"--pool-size={room.pool_size}",
        f"--idle-timeout={room.idle_timeout_s}",
        f"--connect-grace={room.connect_grace_s}",
        *([f"--room={room.room_size}"] if room.room_size else []),
        *([f"--host={room.host}"] if room.host else []),
        *(["--show-tracebacks"] if room.show_tracebacks else []),
    ]


def voila_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for Voilà: our template first on JUPYTER_PATH, and no ``MPLBACKEND``
    (the notebooks draw with the inline backend; Agg would make their charts vanish)."""
    env = dict(os.environ if base is None else base)
    env.pop("MPLBACKEND", None)
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(JUPYTER_DATA), env.get("JUPYTER_PATH")]))
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    env[DASHBOARD_KERNEL] = "1"  # its pages write scenarios only into participants' files
    return env


def run_voila(room: Room) -> int:
    """Serve ``room`` in this process until stopped: the dashboard copies of the notebooks
    in a temporary folder, removed on the way out."""
    folder = Path(tempfile.mkdtemp(prefix="ftcost-dashboard-"))
    try:
        write_dashboard_notebooks(notebooks_dir(), folder)
        _room_voila_class().launch_instance(voila_arguments(room, folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


def _room_voila_class() -> type:
    """Voilà with the room's rules: the allow-list in front of every handler, the landing page
    at ``/`` and the guide at ``/guide`` (built here: Voilà is imported only when serving)."""
    import tornado.web
    from tornado.routing import AnyMatches, Matcher, Rule
    from traitlets import Integer, List, Unicode
    from voila.app import Voila

    class AllowedRequest(Matcher):
        def __init__(self, names: Iterable[str]) -> None:
            self.names = tuple(names)

        def match(self, request: Any) -> dict | None:
            headers = request.headers
            return {} if request_is_allowed(headers.get("Host"), headers.get("Origin"), self.names) else None

    class Refused(tornado.web.RequestHandler):
        def prepare(self) -> None:
            self.set_status(403)
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.finish("Refused: this dashboard answers only to the names it was started for.\n")

    class Landing(tornado.web.RequestHandler):
        def get(self, *_args: Any) -> None:
            self.set_header("Content-Type", "text/html; charset=utf-8")
            clients = dashboard_clients()
            chosen = self.get_argument("client", "")
            self.finish(landing_html(notebook_entries(), clients, chosen, broken_clients(clients)))

    class Guide(tornado.web.RequestHandler):
        def get(self) -> None:
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(guide_html(reached_address(self.request.host, self.application.settings["ftcost_port"])))

    from jupyter_server.base.handlers import FileFindHandler
    from voila.tornado.handler import TornadoVoilaHandler

    class ExtensionFile(FileFindHandler):
        """Voilà's handler of the widget extensions' files, letting a browser keep the files
        whose names carry their content's hash (:data:`CONTENT_HASHED`)."""

        def set_headers(self) -> None:
            super().set_headers()
            if re.search(CONTENT_HASHED, self.request.path):
                self.set_header("Cache-Control", "public, max-age=31536000, immutable")

    class NotebookPage(TornadoVoilaHandler):
        """Voilà's page, with the ``_xsrf`` cookie set: the page's ``beforeunload`` beacon
        sends it back to stop the kernel, and without it Voilà refuses the beacon (403) and
        the kernel lives on until the culler comes."""

        async def prepare(self, *args: Any, **kwargs: Any) -> None:
            if any(name in self.request.arguments for name in RENDERING_ARGUMENTS):
                self.set_status(400)
                self.set_header("Content-Type", "text/plain; charset=utf-8")
                self.finish("Refused: the dashboard's pages take no template or theme argument.\n")
                return
            problems = self._client_problems()
            if problems:
                for line in problems:
                    self.log.warning("client file: %s", line)
                self.set_header("Content-Type", "text/html; charset=utf-8")
                self.finish(broken_file_page(problems))
                return
            prepared = super().prepare(*args, **kwargs)
            if inspect.isawaitable(prepared):
                await prepared
            self.xsrf_token  # noqa: B018 - reading the token sets the cookie

        def _client_problems(self) -> tuple[str, ...]:
            """The problems of the client file the page names (none: it opens as usual; an
            unknown name is the page's to answer, with the list of clients)."""
            path = dashboard_clients().get(self.get_argument("client", ""))
            return client_problems(path) if path else ()

    class RoomVoila(Voila):
        allowed_names = List(Unicode(), default_value=list(LOCAL_NAMES), config=True)
        room_size = Integer(0, config=True)

        def init_handlers(self) -> list:
            from voila.tornado.treehandler import TornadoVoilaTreeHandler

            replaced = {TornadoVoilaHandler: NotebookPage, FileFindHandler: ExtensionFile}
            handlers = [(h[0], replaced.get(h[1], h[1]), *h[2:]) for h in super().init_handlers()]
            kept = [h for h in handlers if h[1] is not TornadoVoilaTreeHandler]
            base = self.server_url.rstrip("/")
            pages = [(f"{base}/", Landing), (f"{base}/voila/tree(.*)", Landing), (f"{base}/guide", Guide)]
            return pages + kept

        def start(self) -> None:
            """Voilà's own start, with the handlers behind the allow-list."""
            self.connection_dir = tempfile.mkdtemp(prefix="voila_", dir=self.connection_dir_root)
            self.app = tornado.web.Application(**self.init_settings())
            self.app.settings.update(self.tornado_settings)
            self.app.settings["ftcost_port"] = self.port
            self.log.addFilter(_QuietLog())
            if self.room_size:
                from ftcost_helpers.dashboard.kernels import follow_the_session

                follow_the_session(self.kernel_manager, self.room_size, [f"{name}.ipynb" for name in NOTEBOOKS])
            router = tornado.web._ApplicationRouter
            rules = self.app.default_router.rules
            rules.insert(-1, Rule(AllowedRequest(self.allowed_names), router(self.app, self.init_handlers())))
            rules.insert(-1, Rule(AnyMatches(), router(self.app, [(r".*", Refused)])))
            self.listen()

    return RoomVoila


# ---------------------------------------------------------------- pages


class _QuietLog(logging.Filter):
    """Drops the server's :data:`NOISE` from the leader's terminal."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg not in NOISE


def reached_address(host_header: str, port: int) -> str:
    """The dashboard's address as a reader's browser reached it: the name in its ``Host``
    header (already checked against the room's names) and the port the server runs on."""
    name = _name_of(host_header) or HOST
    return f"http://{name}:{port}/"


# ---------------------------------------------------------------- the server process


def notebook_url(port: int, name: str, client: str | None = None) -> str:
    """The address at which Voilà renders notebook ``name`` (``05_roi`` or ``05_roi.ipynb``)."""
    stem = name.removesuffix(".ipynb")
    query = f"?client={client}" if client else ""
    return f"http://{HOST}:{port}/voila/render/{stem}.ipynb{query}"


def port_is_free(port: int, ip: str = HOST) -> bool:
    """Nothing listens on ``port`` (connections of a stopped server waiting to close do not
    count: the server, like this probe, sets SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((ip, port))
        except OSError:
            return False
    return True


def start(room: Room | int = DEFAULT_PORT, *, log: Path | None = None) -> subprocess.Popen:
    """Start the dashboard in the background (for tests and :func:`serve`); its output goes
    to ``log`` (default: inherited). Raises :class:`DashboardError` when a notebook is missing
    or the port is taken."""
    room = room if isinstance(room, Room) else Room(port=room)
    check_notebooks()
    if not port_is_free(room.port, room.listen_ip):
        raise DashboardError(f"port {room.port} on {room.listen_ip} is in use: pass --port with a free one")
    stream = log.open("ab") if log else None
    try:
        return subprocess.Popen(
            voila_command(room),
            cwd=project_root(),
            env=voila_environment(),
            stdout=stream,
            stderr=subprocess.STDOUT if stream else None,
        )
    finally:
        if stream:
            stream.close()


def wait_until_ready(process: subprocess.Popen, port: int, timeout_s: float = 60.0) -> float:
    """Seconds until the dashboard answers on ``port``; raises :class:`DashboardError` if it
    exits or does not answer within ``timeout_s``."""
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
    """Stop a dashboard started by :func:`start` (and its kernels with it)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _exit_quietly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def serve(room: Room, notebook: str | None = None) -> int:
    """Serve until Ctrl-C (or SIGTERM/SIGHUP); prints the address and the pool. Returns
    Voilà's exit status. Voilà and its kernels are stopped however this process is asked to end."""
    process = start(room)
    for ending in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(ending, _exit_quietly)
    try:
        wait_until_ready(process, room.port)
        where = room.address + (f"voila/render/{notebook}.ipynb" if notebook else "")
        print(serving_lines(room, where), flush=True)
        return process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        stop(process)


def serving_lines(room: Room, where: str) -> str:
    """What the leader's terminal says once the dashboard answers."""
    return (
        f"ftcost workshop dashboard: open {where}\n"
        f"  kernel pool: {pool_description(room)}; "
        f"a closed page's kernel is stopped, a gone page's after {room.idle_timeout_s} s idle, "
        f"a page still connecting keeps its kernel up to {room.connect_grace_s} s\n"
        f"  answers to: {', '.join(room.allowed_names)}  (Ctrl-C stops it)"
    )


def pool_description(room: Room) -> str:
    """The warm kernels, in words: per notebook, or for a room following the session."""
    if not room.room_size:
        return f"{room.pool_size} warm kernel(s) per notebook ({room.pool_size * len(NOTEBOOKS)} in all)"
    sizes = session_pool_sizes(room.room_size, NOTEBOOKS, {}, room.pool_size)
    first = NOTEBOOKS[0]
    return (
        f"for a room of {room.room_size}, {sizes[first]} warm for {first} and {room.pool_size} for each other "
        f"notebook ({sum(sizes.values())} in all); the next notebook is warmed 3 minutes after a quarter of the room "
        f"has opened the one before"
    )


def room_from_arguments(args: argparse.Namespace) -> Room:
    """The room the command line asks for (``--pool-size``: the warm kernels of a notebook the
    room is not about to open)."""
    return Room(
        port=args.port,
        host=args.host,
        pool_size=DEFAULT_POOL_SIZE if args.pool_size is None else args.pool_size,
        idle_timeout_s=args.idle_timeout,
        show_tracebacks=args.show_tracebacks,
        room_size=args.room or 0,
        connect_grace_s=args.connect_grace,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ftcost_helpers.dashboard", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--host", help="this machine's name on a LAN room: listen on every interface, answer to it")
    parser.add_argument(
        "--pool-size",
        type=int,
        help=f"warm kernels kept per notebook (default {DEFAULT_POOL_SIZE}; with --room: "
        "per notebook the room is not about to open)",
    )
    parser.add_argument(
        "--room",
        type=int,
        metavar="N",
        help="people opening pages at once: one warm kernel per person for the notebook the room opens next",
    )
    parser.add_argument(
        "--idle-timeout",
        type=int,
        default=DEFAULT_IDLE_TIMEOUT_S,
        help=f"seconds before the kernel of a page that has gone is stopped (default {DEFAULT_IDLE_TIMEOUT_S})",
    )
    parser.add_argument(
        "--connect-grace",
        type=int,
        default=DEFAULT_CONNECT_GRACE_S,
        help=f"seconds a page still loading keeps its kernel (default {DEFAULT_CONNECT_GRACE_S})",
    )
    parser.add_argument("--notebook", choices=NOTEBOOKS, help="print the address of this notebook's page")
    parser.add_argument("--show-tracebacks", action="store_true", help="show Python tracebacks in the page")
    parser.add_argument("--voila-process", action="store_true", help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    problem = _flag_problem(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    room = room_from_arguments(args)
    try:
        return run_voila(room) if args.voila_process else serve(room, args.notebook)
    except DashboardError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _flag_problem(args: argparse.Namespace) -> str | None:
    if args.pool_size is not None and args.pool_size < 0:
        return "--pool-size must be 0 or more"
    if args.room is not None and args.room <= 0:
        return "--room must be 1 or more"
    if args.idle_timeout <= 0 or args.connect_grace <= 0:
        return "--idle-timeout and --connect-grace must be more than 0"
    return None
