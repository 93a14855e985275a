"""The dashboard's command, its notebooks and its refusals, without a browser (the pages
themselves are tested in Chromium by tests/browser/test_dashboard_page.py)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import nbformat
import pytest

from ftcost_helpers import dashboard


def test_voila_runs_a_warm_pool_culls_idle_kernels_and_hides_code() -> None:
    room = dashboard.Room(port=8899, pool_size=3, idle_timeout_s=30)
    arguments = dashboard.voila_arguments(room, Path("/tmp/x"))
    assert arguments[0] == "/tmp/x"
    assert "--strip_sources=True" in arguments and "--no-browser" in arguments
    assert "--Voila.ip=127.0.0.1" in arguments and "--port=8899" in arguments
    assert "--preheat_kernel=True" in arguments and "--pool_size=3" in arguments
    assert "--MappingKernelManager.cull_idle_timeout=30" in arguments
    assert "--MappingKernelManager.cull_connected=False" in arguments
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


def test_dashboard_copy_puts_the_panel_first_and_the_teaching_text_after(tmp_path: Path) -> None:
    (path,) = [p for p in dashboard.write_dashboard_notebooks(dashboard.notebooks_dir(), tmp_path) if "05" in p.name]
    cells = nbformat.read(path, as_version=4).cells
    stored = nbformat.read(dashboard.notebooks_dir() / "05_roi.ipynb", as_version=4).cells
    assert "open_page()" in cells[0].source
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
