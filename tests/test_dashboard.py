"""The dashboard's command, its notebooks and its refusals, without a browser (the pages
themselves are tested in Chromium by tests/browser/test_dashboard_page.py)."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from ftcost_helpers import dashboard
from ftcost_helpers.dashboard import pages
from ftcost_helpers.dashboard.room import KernelWatch, may_cull, session_pool_sizes


def test_voila_runs_a_warm_pool_culls_idle_kernels_and_hides_code() -> None:
    room = dashboard.Room(port=8899, pool_size=3, idle_timeout_s=30)
    arguments = dashboard.voila_arguments(room, Path("/tmp/x"))
    assert arguments[0] == "/tmp/x"
    assert "--strip_sources=True" in arguments and "--no-browser" in arguments
    assert "--Voila.ip=127.0.0.1" in arguments and "--port=8899" in arguments
    assert "--preheat_kernel=True" in arguments and "--pool_size=3" in arguments
    assert "--MappingKernelManager.cull_idle_timeout=30" in arguments
    assert "--MappingKernelManager.cull_connected=False" in arguments
    # the culler is the room's own: a page still connecting keeps its kernel (see below)
    assert f"--VoilaConfiguration.multi_kernel_manager_class={dashboard.KERNEL_MANAGER}" in arguments
    assert "--RoomKernelManager.connect_grace=600" in arguments
    # a loaded host's late outputs are waited for, not dropped after nbclient's 4 s
    assert "--VoilaExecutor.iopub_timeout=60" in arguments
    assert f"--template={dashboard.TEMPLATE}" in arguments
    assert "--KernelManager.transport=ipc" in arguments
    # the pool refills only once the page that took a kernel has had time to become
    # interactive (at once, the refill's CPU slowed that page by a second on two cores)
    assert "--VoilaKernelManager.fill_delay=6" in arguments
    names = next(a for a in arguments if a.startswith("--RoomVoila.allowed_names="))
    assert json.loads(names.split("=", 1)[1]) == ["127.0.0.1", "localhost"]


def test_a_lan_room_listens_everywhere_and_answers_to_its_name() -> None:
    room = dashboard.Room(host="Room-PC")
    assert room.listen_ip == "0.0.0.0"
    assert room.allowed_names == ("127.0.0.1", "localhost", "room-pc")
    assert room.address == "http://Room-PC:8866/"
    assert "--host=Room-PC" in dashboard.voila_command(room)


@pytest.mark.parametrize(
    ("host", "origin", "allowed"),
    [
        ("127.0.0.1:8866", None, True),
        ("localhost:8866", "http://localhost:8866", True),
        ("LOCALHOST", None, True),
        ("evil.example", None, False),
        ("evil.example:8866", "http://127.0.0.1:8866", False),
        ("127.0.0.1:8866", "http://evil.example", False),
        ("127.0.0.1:8866", "null", False),
        (None, None, False),
        ("127.0.0.1.evil.example", None, False),
    ],
)
def test_host_and_origin_must_name_this_machine(host, origin, allowed) -> None:
    assert dashboard.request_is_allowed(host, origin, dashboard.LOCAL_NAMES) is allowed


def test_environment_puts_the_template_first_and_drops_agg() -> None:
    env = dashboard.voila_environment({"JUPYTER_PATH": "/elsewhere", "MPLBACKEND": "Agg"})
    assert env["JUPYTER_PATH"].split(":")[0] == str(dashboard.JUPYTER_DATA)
    assert env["JUPYTER_PATH"].endswith("/elsewhere")
    assert "MPLBACKEND" not in env


def test_template_extends_voila_lab_and_links_nothing_outside() -> None:
    folder = dashboard.JUPYTER_DATA / "voila" / "templates" / dashboard.TEMPLATE
    assert json.loads((folder / "conf.json").read_text())["base_template"] == "lab"
    template = (folder / "index.html.j2").read_text()
    assert "{%- extends 'voila/templates/lab/index.html.j2' -%}" in template
    # The only URLs in the template are the CDN links it removes, each inside a replace().
    for line in template.splitlines():
        if "https://" in line:
            assert line.strip().startswith("| replace('<link"), line
    assert "https://" not in (folder / "page.html").read_text(), "the page frame links outside"


def test_the_page_says_its_panel_is_starting_and_reloads_a_lost_one_a_few_times() -> None:
    template = (dashboard.JUPYTER_DATA / "voila" / "templates" / dashboard.TEMPLATE / "index.html.j2").read_text()
    script = template.split("{%- block body_footer -%}", 1)[1]
    assert "Starting your panel…" in script and 'role="status"' in script
    assert "location.reload()" in script and "reloads < 3" in script, "a lost panel reloads, at most three times"
    assert "fetch(" not in script and "XMLHttpRequest" not in script and "http" not in script, "it fetches nothing"


def test_dashboard_copy_puts_the_panel_first_and_the_teaching_text_after(tmp_path: Path) -> None:
    (path,) = [p for p in dashboard.write_dashboard_notebooks(dashboard.notebooks_dir(), tmp_path) if "05" in p.name]
    cells = nbformat.read(path, as_version=4).cells
    stored = nbformat.read(dashboard.notebooks_dir() / "05_roi.ipynb", as_version=4).cells
    ahead = tuple(c.source.removeprefix(f"%%{dashboard.PAGE_MAGIC}\n") for c in cells[1:4])
    assert cells[0].source.endswith(f"open_page(ahead={ahead!r})"), "the pooled kernel runs the page's cells ahead"
    assert "parameters" in cells[1].metadata["tags"]
    assert "setup_notebook(" in cells[2].source and "panel" in cells[3].metadata["tags"]
    assert all(c.source.startswith(f"%%{dashboard.PAGE_MAGIC}\n") for c in cells[1:4])
    assert [c.source for c in cells[5:]] == [c.source for c in stored if c.cell_type == "markdown"]
    assert not any("simulate(" in c.source for c in cells), "the Monte Carlo cell would hold the panel back"


def test_landing_page_lists_titles_questions_and_clients(tmp_path: Path) -> None:
    entries = dashboard.notebook_entries()
    assert [e.name for e in entries] == list(dashboard.NOTEBOOKS)
    assert entries[0].title.startswith("01 · Compute") and entries[0].question.startswith("How many GPU-hours")
    page = dashboard.landing_html(entries, {"example_a": Path("a.yaml"), "<b>": Path("b.yaml")}, "example_a")
    assert "href='voila/render/05_roi.ipynb?client=example_a'" in page
    assert "&lt;b&gt;" in page and 'href="guide"' in page


def test_guide_page_renders_the_workshop_guide() -> None:
    page = dashboard.guide_html()
    assert "<h1>Workshop: what does fine-tuning an LLM really cost?</h1>" in page
    assert "<details>" in page and "<table>" in page


def test_unknown_client_page_lists_the_clients() -> None:
    text = dashboard.refusal_html("no client file 'nope' (known: example_a)")
    assert "no client file &#x27;nope&#x27;" in text
    for name in ("example_a", "example_b", "example_c"):
        assert f"?client={name}" in text


def test_missing_notebooks_are_named(tmp_path: Path) -> None:
    (tmp_path / "01_compute.ipynb").write_text("{}")
    with pytest.raises(dashboard.DashboardError, match=r"missing notebook\(s\) 02_dataset.ipynb, 03_eval"):
        dashboard.check_notebooks(tmp_path)


def test_a_port_in_use_is_refused_before_starting() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert not dashboard.port_is_free(port)
        with pytest.raises(dashboard.DashboardError, match=f"port {port} on 127.0.0.1 is in use"):
            dashboard.start(port)
    assert dashboard.port_is_free(port)


def test_bad_flags_are_one_line(capsys) -> None:
    assert dashboard.main(["--pool-size", "-1"]) == 1
    assert capsys.readouterr().err.count("\n") == 1


def test_notebook_address() -> None:
    assert dashboard.notebook_url(8866, "05_roi") == "http://127.0.0.1:8866/voila/render/05_roi.ipynb"
    assert dashboard.notebook_url(8866, "05_roi.ipynb") == dashboard.notebook_url(8866, "05_roi")
    assert dashboard.notebook_url(8866, "05_roi", "example_b").endswith("05_roi.ipynb?client=example_b")


# ---------------------------------------------------------------- the room's culling rule

TIMEOUT, GRACE = 40, 600


@pytest.mark.parametrize(
    ("watch", "now", "culled"),
    [
        # a page connected and open: never, however long it has been quiet
        (KernelWatch(last_activity=0, connections=1, ever_connected=True), 10_000, False),
        # running a cell (a pooled kernel waiting for its page is busy): never
        (KernelWatch(last_activity=0, connections=0, ever_connected=False, busy=True), 10_000, False),
        # a page still loading 45 s after its cells ran: kept (Jupyter's own culler stopped it at 40 s)
        (KernelWatch(last_activity=0, connections=0, ever_connected=False), 45, False),
        # ... up to the grace (600 s), then taken for abandoned
        (KernelWatch(last_activity=0, connections=0, ever_connected=False), 600, False),
        (KernelWatch(last_activity=0, connections=0, ever_connected=False), 601, True),
        # a page that connected and went at t=100 (last activity t=20): 40 s after it went, not 40 s after t=20
        (KernelWatch(last_activity=20, connections=0, ever_connected=True, disconnected_at=100), 139, False),
        (KernelWatch(last_activity=20, connections=0, ever_connected=True, disconnected_at=100), 141, True),
        # activity after the page went (a cell finishing) counts from that activity: 150 + 40 = 190
        (KernelWatch(last_activity=150, connections=0, ever_connected=True, disconnected_at=100), 189, False),
        (KernelWatch(last_activity=150, connections=0, ever_connected=True, disconnected_at=100), 191, True),
    ],
)
def test_a_kernel_is_culled_only_once_its_page_has_gone(watch: KernelWatch, now: float, culled: bool) -> None:
    assert may_cull(watch, now, TIMEOUT, GRACE) is culled


def _manager_with_one_kernel(idle_s: float):
    """The room's kernel manager holding one fake kernel, last active ``idle_s`` seconds ago."""
    from ftcost_helpers.dashboard.kernels import RoomKernelManager

    manager = RoomKernelManager(cull_idle_timeout=TIMEOUT, connect_grace=GRACE)
    moment = datetime.now(UTC) - timedelta(seconds=idle_s)
    manager._kernels["k"] = SimpleNamespace(last_activity=moment, execution_state="idle")
    manager._kernel_connections["k"] = 0
    stopped: list[str] = []

    async def shutdown_kernel(kernel_id: str, *args, **kwargs) -> None:
        stopped.append(kernel_id)

    manager.shutdown_kernel = shutdown_kernel
    return manager, stopped


def test_the_kernel_manager_keeps_a_connecting_page_and_stops_a_gone_one() -> None:
    manager, stopped = _manager_with_one_kernel(idle_s=100)  # idle 100 s: past 40, inside 600
    asyncio.run(manager.cull_kernel_if_idle("k"))
    assert stopped == [], "a page that has not connected yet lost its kernel"
    manager.notify_connect("k")
    asyncio.run(manager.cull_kernel_if_idle("k"))
    assert stopped == [], "a connected page lost its kernel"
    manager.notify_disconnect("k")
    asyncio.run(manager.cull_kernel_if_idle("k"))
    assert stopped == [], "the page went just now: 40 s from now, not from its last activity"
    manager._disconnected_at["k"] -= TIMEOUT + 1
    asyncio.run(manager.cull_kernel_if_idle("k"))
    assert stopped == ["k"]


def test_a_kernel_whose_page_never_connects_is_stopped_after_the_grace() -> None:
    manager, stopped = _manager_with_one_kernel(idle_s=GRACE + 5)
    asyncio.run(manager.cull_kernel_if_idle("k"))
    assert stopped == ["k"]


# ---------------------------------------------------------------- a room's size


NOTEBOOKS = ("n1", "n2", "n3", "n4", "n5")


@pytest.mark.parametrize(
    ("room", "opened", "sizes"),
    [
        # nobody yet: one warm kernel per person for the first notebook, one for each other (30 + 4 = 34)
        (30, {}, (30, 1, 1, 1, 1)),
        # 7 of 30 opened n1: under a quarter (30 / 4 = 7.5, so 8 are needed); the room has not reached it
        (30, {"n1": 7}, (30, 1, 1, 1, 1)),
        # the 8th: the room is on n1, n2 is warmed for it, n1 no longer refilled past one
        (30, {"n1": 8}, (1, 30, 1, 1, 1)),
        # one person peeking at n4 moves nothing
        (30, {"n1": 8, "n4": 1}, (1, 30, 1, 1, 1)),
        # reached in order: n1 and n2 reached, n3 next
        (30, {"n1": 30, "n2": 8}, (1, 1, 30, 1, 1)),
        # n2 reached but n1 never: the room follows the plan from the first notebook not reached
        (30, {"n2": 30}, (30, 1, 1, 1, 1)),
        # every notebook reached: the floor everywhere
        (30, dict.fromkeys(NOTEBOOKS, 30), (1, 1, 1, 1, 1)),
        # a room of 3: one page is a quarter (3 / 4 = 0.75, rounded up to 1)
        (3, {"n1": 1}, (1, 3, 1, 1, 1)),
    ],
)
def test_the_pool_follows_the_room_through_the_session(room: int, opened: dict, sizes: tuple) -> None:
    assert tuple(session_pool_sizes(room, NOTEBOOKS, opened, floor=1).values()) == sizes


def test_the_pool_never_drops_below_its_floor() -> None:
    # --pool-size 2 with --room 1: the next notebook gets max(1, 2) = 2, the others 2
    assert session_pool_sizes(1, NOTEBOOKS, {}, floor=2) == dict.fromkeys(NOTEBOOKS, 2)


@pytest.mark.parametrize(
    ("flags", "pool", "room"),
    [
        ([], dashboard.DEFAULT_POOL_SIZE, 0),
        (["--room", "30"], dashboard.DEFAULT_POOL_SIZE, 30),
        (["--room", "30", "--pool-size", "2"], 2, 30),
        (["--pool-size", "0"], 0, 0),
    ],
)
def test_room_and_pool_flags_reach_voila(flags: list[str], pool: int, room: int) -> None:
    built = dashboard.room_from_arguments(dashboard.build_parser().parse_args(flags))
    assert (built.pool_size, built.room_size) == (pool, room)
    arguments = dashboard.voila_arguments(built, Path("/tmp/x"))
    assert f"--pool_size={pool}" in arguments and f"--RoomVoila.room_size={room}" in arguments
    assert f"--pool-size={pool}" in dashboard.voila_command(built)
    assert (f"--room={room}" in dashboard.voila_command(built)) is bool(room), "the Voilà process knows the room"
    # a room's pool refills a minute after a page takes a kernel (not 6 s: the room is arriving)
    refill = 60 if room else 6
    assert f"--VoilaKernelManager.fill_delay={refill}" in arguments


def test_the_leader_is_told_the_room_and_the_pool() -> None:
    text = dashboard.serving_lines(dashboard.Room(room_size=30), "http://127.0.0.1:8866/")
    # 30 for the first notebook + 1 for each of the five others = 35
    assert "for a room of 30, 30 warm for 01_compute and 1 for each other notebook (35 in all)" in text
    plain = dashboard.serving_lines(dashboard.Room(pool_size=2), "http://127.0.0.1:8866/")
    assert "2 warm kernel(s) per notebook (12 in all)" in plain  # 2 × 6 notebooks


@pytest.mark.parametrize("flags", [["--room", "0"], ["--connect-grace", "0"], ["--idle-timeout", "-1"]])
def test_bad_room_flags_are_one_line(flags: list[str], capsys) -> None:
    assert dashboard.main(flags) == 1
    assert capsys.readouterr().err.count("\n") == 1


# ---------------------------------------------------------------- errors on the page


@pytest.fixture()
def broken_file(tmp_path: Path) -> Path:
    """Example A with ``training.runs`` made a word: one problem, at one key."""
    text = (dashboard.project_root() / "params" / "clients" / "example_a.yaml").read_text()
    broken = text.replace("runs: {low: 10, mode: 14, high: 20}", "runs: <b>lots</b>", 1)
    assert broken != text, "example A's runs line changed: update this fixture"
    path = tmp_path / "my_a.yaml"
    path.write_text(broken)
    return path


def test_a_broken_file_is_one_line_naming_file_and_key(broken_file: Path) -> None:
    (line,) = pages.client_problems(broken_file)
    # outside the project a file is named by its name alone (no absolute paths are shown)
    assert line.startswith("my_a.yaml: training.runs: "), line
    assert "\n" not in line and "Traceback" not in line
    assert pages.client_problems(dashboard.project_root() / "params" / "clients" / "example_a.yaml") == ()


def test_the_broken_file_message_is_escaped_text_not_markup(broken_file: Path) -> None:
    page = pages.broken_file_html(pages.client_problems(broken_file))
    assert "training.runs" in page and "&lt;b&gt;lots&lt;/b&gt;" in page and "<b>lots" not in page
    assert "This client file cannot be opened" in page


def test_the_picker_marks_a_broken_file_with_its_line(broken_file: Path) -> None:
    clients = {"example_a": dashboard.project_root() / "params" / "clients" / "example_a.yaml", "my_a": broken_file}
    broken = pages.broken_clients(clients)
    assert list(broken) == ["my_a"] and "training.runs" in broken["my_a"]
    page = pages.landing_html(dashboard.notebook_entries(), clients, "example_a", broken)
    assert "<option value='my_a' data-broken=yes>my_a (broken)</option>" in page
    assert "<option value='example_a' selected>example_a</option>" in page
    assert "<strong>my_a</strong> is broken: <code>" in page and "training.runs" in page


def test_the_trust_check_noise_is_dropped_from_the_log() -> None:
    quiet = dashboard._QuietLog()

    def record(message: str) -> logging.LogRecord:
        return logging.LogRecord("RoomVoila", logging.WARNING, __file__, 1, message, ("x.ipynb",), None)

    assert quiet.filter(record("Notebook %s is not trusted")) is False
    assert quiet.filter(record("client file: %s")) is True


# ---------------------------------------------------------------- the guide follows the server


@pytest.mark.parametrize(
    ("host", "port", "address"),
    [
        ("127.0.0.1:8866", 8866, "http://127.0.0.1:8866/"),
        ("Room-PC:8870", 8870, "http://room-pc:8870/"),
        ("localhost", 9000, "http://localhost:9000/"),  # no port in Host: the server's own
    ],
)
def test_the_address_is_the_one_the_reader_reached(host: str, port: int, address: str) -> None:
    assert dashboard.reached_address(host, port) == address


def test_the_guide_links_to_the_server_it_is_served_by_with_answers_folded() -> None:
    page = dashboard.guide_html("http://room-pc:8870/")
    assert "http://127.0.0.1:8866/" not in page and ":8866" not in page
    assert '<a href="http://room-pc:8870/">http://room-pc:8870/</a>' in page
    source = (dashboard.project_root() / pages.GUIDE).read_text()
    assert page.count("<details>") == source.count("<details>") >= 9, "every answer folded away"
    assert "```yaml exercise" in source and "exercise: 1" not in page, "the test's block shows"


class _FakeVoilaPool:
    """Stands for Voilà's pooling manager: its pool sizes, refills and page requests."""

    def __init__(self) -> None:
        self.kernel_pools_config = {"default": {"pool_size": 1}}
        self.filled: list[tuple[str, float | None, int]] = []

    def fill_if_needed(self, delay=None, notebook_name=None, **kwargs) -> None:
        size = self.kernel_pools_config.get(notebook_name, {}).get("pool_size")
        self.filled.append((notebook_name, delay, size))

    async def get_rendered_notebook(self, notebook_name, *args, **kwargs):
        self.fill_if_needed(notebook_name=notebook_name)  # Voilà refills the notebook a page took from
        return notebook_name


def test_the_voila_pool_is_resized_as_the_room_moves() -> None:
    from ftcost_helpers.dashboard.kernels import follow_the_session

    pool = _FakeVoilaPool()
    follow_the_session(pool, 4, ["a.ipynb", "b.ipynb"])
    assert pool.filled == [("a.ipynb", 0, 4)], "the first notebook warmed at once for the room of 4"
    asyncio.run(pool.get_rendered_notebook("a.ipynb"))
    # one page of 4 is a quarter: the room has reached a; a falls back to 1 (refilled after
    # Voilà's fill_delay: delay None), b is warmed to 4 once the room's pages have arrived (180 s)
    assert pool.filled[1:] == [("a.ipynb", None, 1), ("b.ipynb", 180, 4)]
