"""The dashboard's command and its refusals, without a browser (the pages themselves are
tested in Chromium by tests/browser/test_dashboard_page.py)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from ftcost_helpers import dashboard


def test_command_hides_code_and_listens_on_localhost_only() -> None:
    command = dashboard.voila_command(8899)
    assert "--strip_sources=True" in command
    assert "--Voila.ip=127.0.0.1" in command and "--port=8899" in command and "--no-browser" in command
    assert f"--template={dashboard.TEMPLATE}" in command
    assert command[-1] == "--KernelManager.transport=ipc"


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


def test_notebook_address() -> None:
    assert dashboard.notebook_url(8866, "05_roi") == "http://127.0.0.1:8866/voila/render/05_roi.ipynb"
    assert dashboard.notebook_url(8866, "05_roi.ipynb") == dashboard.notebook_url(8866, "05_roi")
