"""The batch around the reports: bad files, failing notebooks, hostile client names,
interrupted runs. Each uses the small fixture notebook to keep the suite quick."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from ftcost_helpers.cli import main
from ftcost_helpers.engine.loading import project_root
from ftcost_helpers.report.execute import NotebookContractError, check_parameters
from ftcost_helpers.report.index import REPORT_HTML, SOURCE_FILE, SUMMARY_JSON
from ftcost_helpers.report.runner import FAILED_DIR, OLD, STAGING, clean_stale, run_reports
from ftcost_helpers.report.slug import source_id

FIXTURE_NOTEBOOK = Path(__file__).parent / "fixtures" / "report_notebook.ipynb"
CLIENTS = project_root() / "params" / "clients"
HOSTILE = '<script>alert("x")</script> ../../escape'


def client_file(folder: Path, name: str, client: str, **changes: object) -> Path:
    """A copy of example B under another client name (and other changes)."""
    data = yaml.safe_load((CLIENTS / "example_b.yaml").read_text(encoding="utf-8"))
    data.update(client=client, **changes)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def mixed_batch(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Good, hostile-named, bad-key and failing-notebook clients in one batch, over an
    earlier good report of the failing client."""
    inputs = tmp_path_factory.mktemp("inputs")
    out = tmp_path_factory.mktemp("reports")
    good = CLIENTS / "example_a.yaml"
    hostile = client_file(inputs, "hostile", HOSTILE)
    bad = inputs / "bad.yaml"
    bad.write_text(
        (CLIENTS / "example_c.yaml").read_text(encoding="utf-8").replace("horizon_months:", "horizon_mnths:")
    )
    failing = client_file(inputs, "failing", "Acme explode test")
    earlier = out / "failing"  # the folder is named after the client file's stem
    earlier.mkdir()
    (earlier / SUMMARY_JSON).write_text(json.dumps({"marker": "earlier good report"}), encoding="utf-8")
    (earlier / SOURCE_FILE).write_text(f"{source_id(failing)}\n", encoding="utf-8")
    lines: list[str] = []
    result = run_reports([good, bad, hostile, failing], out, jobs=2, notebooks=[FIXTURE_NOTEBOOK], say=lines.append)
    return {"result": result, "out": out, "bad": bad, "failing": failing, "messages": lines}


def test_good_reports_complete_and_the_exit_status_says_failure(mixed_batch: dict) -> None:
    result = mixed_batch["result"]
    assert result.exit_code != 0
    assert set(result.reports) == {"example-a", "hostile"}
    for folder in result.reports.values():
        assert (folder / REPORT_HTML).exists() and (folder / SUMMARY_JSON).exists()


def test_bad_file_is_named_with_its_problem(mixed_batch: dict) -> None:
    failures = {f.source: f.message for f in mixed_batch["result"].failures}
    message = failures[str(mixed_batch["bad"])]
    assert "horizon_mnths: unknown key (did you mean 'horizon_months'?)" in message
    assert any("horizon_mnths" in line for line in mixed_batch["messages"])
    assert "\n" not in message


def test_failing_notebook_names_the_cell_and_keeps_the_notebook(mixed_batch: dict) -> None:
    out = mixed_batch["out"]
    (message,) = [f.message for f in mixed_batch["result"].failures if "failing" in f.source]
    assert message.startswith("report_notebook.ipynb, cell ")
    assert "AssertionError: this client asks the fixture notebook to fail" in message
    kept = out / FAILED_DIR / "failing"
    assert (kept / FIXTURE_NOTEBOOK.name).exists()
    assert "AssertionError" in (kept / "error.txt").read_text(encoding="utf-8")
    earlier = json.loads((out / "failing" / SUMMARY_JSON).read_text(encoding="utf-8"))
    assert earlier == {"marker": "earlier good report"}


def test_no_staging_folder_is_left(mixed_batch: dict) -> None:
    assert not [p.name for p in mixed_batch["out"].iterdir() if p.name.startswith((STAGING, OLD))]


def test_hostile_name_stays_inside_and_is_escaped(mixed_batch: dict) -> None:
    out = mixed_batch["out"]
    folder = mixed_batch["result"].reports["hostile"]
    assert folder.parent == out.resolve()
    assert not (out.parent / "escape").exists()
    for page in (folder / REPORT_HTML, out / "index.html"):
        html = page.read_text(encoding="utf-8")
        assert "<script" not in html, page
        assert "&lt;script&gt;alert" in html, page
    summary = json.loads((folder / SUMMARY_JSON).read_text(encoding="utf-8"))
    assert summary["client"] == HOSTILE


def test_index_lists_good_reports_and_failures(mixed_batch: dict) -> None:
    index = (mixed_batch["out"] / "index.html").read_text(encoding="utf-8")
    assert "example-a/report.html" in index
    assert "Failed in the last run" in index and "horizon_mnths" in index


def test_cli_exits_non_zero_on_a_bad_file_without_running_anything(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("client: [unclosed\n", encoding="utf-8")
    assert main(["report", str(bad), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert f"{bad}: line" in err and "malformed YAML" in err
    assert "Traceback" not in err
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["index.html"]


def test_notebook_without_the_parameters_is_refused(tmp_path: Path) -> None:
    import nbformat

    nb = nbformat.read(FIXTURE_NOTEBOOK, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("tags", None)
    path = tmp_path / "untagged.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(NotebookContractError, match="params_file, interactive"):
        check_parameters(path)
    check_parameters(FIXTURE_NOTEBOOK)


def test_clean_stale_restores_a_report_moved_aside(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    for name in (f"{OLD}{pid}-acme", f"{STAGING}{pid}-acme", f"{STAGING}{os.getpid()}-live"):
        (tmp_path / name).mkdir()  # as a run makes them: with the record of their client file
        (tmp_path / name / SOURCE_FILE).write_text(f"{source_id(CLIENTS / 'example_a.yaml')}\n", encoding="utf-8")
    clean_stale(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["acme", f"{STAGING}{os.getpid()}-live"])


INTERRUPTED_RUN = """
import sys
from pathlib import Path
from ftcost_helpers.report.runner import run_reports
try:
    run_reports([Path(sys.argv[1])], Path(sys.argv[2]), jobs=1, notebooks=[Path(sys.argv[3])])
except KeyboardInterrupt:
    sys.exit(130)
"""


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_interrupted_run_leaves_no_partial_folder(tmp_path: Path, how: str) -> None:
    out = tmp_path / "out"
    source = CLIENTS / "example_a.yaml"
    process = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED_RUN, str(source), str(out), str(FIXTURE_NOTEBOOK)],
        start_new_session=True,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not (out.exists() and any(p.name.startswith(STAGING) for p in out.iterdir())):
        assert time.monotonic() < deadline and process.poll() is None, "the run never started"
        time.sleep(0.05)
    time.sleep(1.0)  # a worker and its kernel are up
    if how == "ctrl-c":
        os.killpg(process.pid, signal.SIGINT)  # what a terminal sends: every process of the group
    else:
        process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert list(out.iterdir()) == [], [p.name for p in out.iterdir()]
