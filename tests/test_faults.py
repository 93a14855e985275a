"""Faults around the report batch (issue 13): whose folder a report is, a busy, missing,
read-only or full ``--out``, leftovers of killed runs, and signals."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from ftcost_helpers.cli import main
from ftcost_helpers.engine.loading import project_root
from ftcost_helpers.report.execute import (
    OWNER_FILE,
    RUNTIME_PREFIX,
    clean_stale_runtime_dirs,
    make_runtime_dir,
    remove_runtime_dir,
)
from ftcost_helpers.report.index import SOURCE_FILE, SUMMARY_JSON, index_html, read_summaries
from ftcost_helpers.report.runner import (
    FAILED_DIR,
    OLD,
    STAGING,
    ReportError,
    assign_folders,
    clean_stale,
    locked_out_dir,
    run_reports,
)
from ftcost_helpers.report.slug import source_id

FIXTURE_NOTEBOOK = Path(__file__).parent / "fixtures" / "report_notebook.ipynb"
CLIENTS = project_root() / "params" / "clients"


def client_file(folder: Path, stem: str, client: str) -> Path:
    """Example B under another client name, as ``folder/<stem>.yaml``."""
    data = yaml.safe_load((CLIENTS / "example_b.yaml").read_text(encoding="utf-8"))
    data["client"] = client
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def run(files: list[Path], out: Path, **options) -> object:
    return run_reports(files, out, jobs=1, notebooks=[FIXTURE_NOTEBOOK], say=lambda line: None, **options)


def owned_folder(out: Path, slug: str, source: Path) -> Path:
    folder = out / slug
    folder.mkdir(parents=True)
    (folder / SOURCE_FILE).write_text(f"{source_id(source)}\n", encoding="utf-8")
    return folder


# --------------------------------------------------------------------------- whose folder


def test_folders_are_named_after_the_file_and_never_taken_from_another(tmp_path: Path) -> None:
    out = tmp_path / "out"
    a, b, c = tmp_path / "a" / "acme.yaml", tmp_path / "b" / "acme.yaml", tmp_path / "acme_corp.yaml"
    owned_folder(out, "acme", b)  # b ran first, alone
    (out / "acme-corp").mkdir()  # a folder that does not say whose it is
    assert assign_folders(out, [a, b, c]) == ["acme-2", "acme", "acme-corp-2"]
    assert assign_folders(out, [b]) == ["acme"]
    owned_folder(out / FAILED_DIR, "acme-2", c)  # a failed run of another file holds acme-2
    assert assign_folders(out, [a]) == ["acme-3"]


def test_two_files_of_one_client_keep_two_reports_in_any_order(tmp_path: Path) -> None:
    """On main: two ``client: Acme`` files gave acme/ and acme-2/, then running the second
    alone overwrote acme/, and the index listed "Acme" twice, both the second."""
    out = tmp_path / "out"
    first, second = client_file(tmp_path, "acme_east", "Acme"), client_file(tmp_path, "acme_west", "Acme!")
    both = run([first, second], out)
    assert set(both.reports) == {"acme-east", "acme-west"}
    kept = (out / "acme-east" / SUMMARY_JSON).read_bytes()
    again = run([second], out, force=True)  # redone for real, not skipped as unchanged
    assert set(again.reports) == {"acme-west"}
    assert (out / "acme-east" / SUMMARY_JSON).read_bytes() == kept
    for slug, source in (("acme-east", first), ("acme-west", second)):
        assert (out / slug / SOURCE_FILE).read_text(encoding="utf-8").strip() == source_id(source)
    listed = read_summaries(out)
    assert [slug for slug, _ in listed] == ["acme-east", "acme-west"]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "acme_east.yaml" in index and "acme_west.yaml" in index
    assert index.count(">HTML</a>") == 2


HEADLINE = {
    "basis": "p50",
    "programme_usd": 1.0,
    "running_usd_per_month": 0.0,
    "alternative_usd_per_month": None,
    "net_saving_usd_per_month": None,
    "break_even_month": None,
    "tco_usd": 1.0,
}
"""A summary's headline object as the index reads it (engine/headline.py)."""


def test_the_index_lists_a_client_file_once(tmp_path: Path) -> None:
    """A file with two folders (say, an older version's name for it) is listed by its newest."""
    source = tmp_path / "acme.yaml"
    summary = {
        "client": "Acme",
        "programme_total_usd": 1.0,
        "range_usd": {"p10": 1.0, "p50": 1.0, "p90": 1.0},
        "ongoing_monthly_usd": {"eval": 0.0},
        "break_even_month": None,
        "headline": HEADLINE,
    }
    for slug, total in (("acme-old-name", 1.0), ("acme", 2.0)):
        folder = owned_folder(tmp_path / "out", slug, source)
        (folder / SUMMARY_JSON).write_text(json.dumps({**summary, "programme_total_usd": total}), encoding="utf-8")
        time.sleep(0.02)
    assert [(slug, s["programme_total_usd"]) for slug, s in read_summaries(tmp_path / "out")] == [("acme", 2.0)]


def test_an_older_versions_folder_of_the_same_file_is_not_listed_twice(tmp_path: Path) -> None:
    """Before folders were named after files, ``example_a.yaml`` went to a folder named after
    its client; once the new folder exists the index lists the file once. A folder without a
    new twin (or of another file) stays listed."""
    out = tmp_path / "out"
    summary = {
        "client": "Acme",
        "programme_total_usd": 1.0,
        "range_usd": {"p10": 1.0, "p50": 1.0, "p90": 1.0},
        "ongoing_monthly_usd": {"eval": 0.0},
        "break_even_month": None,
        "headline": HEADLINE,
    }
    for slug, source_file in (("acme-old", "params/clients/acme.yaml"), ("other-old", "params/clients/other.yaml")):
        (out / slug).mkdir(parents=True)
        (out / slug / SUMMARY_JSON).write_text(json.dumps({**summary, "source_file": source_file}), encoding="utf-8")
    new = owned_folder(out, "acme", tmp_path / "acme.yaml")
    (new / SUMMARY_JSON).write_text(
        json.dumps({**summary, "source_file": "params/clients/acme.yaml"}), encoding="utf-8"
    )
    assert sorted(slug for slug, _ in read_summaries(out)) == ["acme", "other-old"]


# --------------------------------------------------------------------------- --out


def test_a_second_run_on_the_same_out_is_refused(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    with locked_out_dir(out):
        status = main(["report", str(CLIENTS / "example_a.yaml"), "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 1
    assert err.strip() == f"error: --out {out}: another report run is writing there; run again once it has finished"
    with locked_out_dir(out):  # released afterwards
        pass


def test_out_naming_a_file_is_one_line(tmp_path: Path, capsys) -> None:
    out = tmp_path / "a-file"
    out.write_text("not a folder", encoding="utf-8")
    assert main(["report", str(CLIENTS / "example_a.yaml"), "--out", str(out)]) == 1
    assert capsys.readouterr().err.strip() == f"error: --out {out}: is a file, not a folder"
    assert main(["report", str(CLIENTS / "example_a.yaml"), "--out", str(out / "below")]) == 1
    assert "cannot create the folder (Not a directory)" in capsys.readouterr().err


@pytest.fixture()
def small_disk(tmp_path: Path):
    """A tmpfs mounted for the test (root only): yields a function mounting one of a size."""
    mounted: list[Path] = []

    def mount(name: str, options: str) -> Path:
        point = tmp_path / name
        point.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], check=False)


def test_a_read_only_out_is_one_line(small_disk, capsys) -> None:
    read_only = small_disk("ro", "ro,size=64k")
    assert main(["report", str(CLIENTS / "example_a.yaml"), "--out", str(read_only)]) == 1
    err = capsys.readouterr().err
    assert err.strip() == f"error: --out {read_only}: cannot write in the folder (Read-only file system)"
    assert main(["report", str(CLIENTS / "example_a.yaml"), "--out", str(read_only / "new")]) == 1
    assert "cannot create the folder (Read-only file system)" in capsys.readouterr().err


def test_a_full_disk_fails_one_client_and_keeps_the_others(tmp_path: Path, small_disk) -> None:
    """On main a full disk crashed the failure handler (writing error.txt), discarded the
    other client's finished report and left an empty _failed/. Here the disk holds one
    report and a half: the first client's lands, the second fails on one line, nothing of it
    is left, and the earlier index stays as it was."""
    first, second = client_file(tmp_path, "first", "First Co"), client_file(tmp_path, "second", "Second Co")
    measured = run([first], tmp_path / "measure")
    size = sum(p.stat().st_size for p in (tmp_path / "measure").rglob("*") if p.is_file())
    assert not measured.failures and size > 0
    disk = small_disk("full", f"size={int(size * 1.5) // 4096 * 4096}")
    result = run([first, second], disk)
    assert set(result.reports) == {"first"}
    ((source, message),) = [(f.source, f.message) for f in result.failures]
    assert source.endswith("second.yaml") and "No space left on device" in message and "\n" not in message
    summary = json.loads((disk / "first" / SUMMARY_JSON).read_text(encoding="utf-8"))
    assert summary["client"] == "First Co"
    leftovers = [p.name for p in disk.iterdir() if p.name.startswith((STAGING, OLD, ".index-"))]
    assert leftovers == []
    assert not (disk / FAILED_DIR).exists() or any((disk / FAILED_DIR).iterdir())


# --------------------------------------------------------------------------- leftovers


def test_leftovers_of_killed_runs_go_whatever_their_pid(tmp_path: Path) -> None:
    """PID 1 is always alive, so on main a ``.staging-1-*`` folder stayed for ever; with the
    output folder locked, anything not this run's is stale."""
    out = tmp_path / "out"
    out.mkdir()
    for name in (f"{STAGING}1-acme", f"{OLD}1-kept"):  # as a run makes them: with their .source
        (out / name).mkdir()
        (out / name / SOURCE_FILE).write_text(f"{source_id(CLIENTS / 'example_a.yaml')}\n", encoding="utf-8")
    (out / ".index-1.html").write_text(index_html([]), encoding="utf-8")
    (out / f"{OLD}1-kept" / SUMMARY_JSON).write_text("{}", encoding="utf-8")
    with locked_out_dir(out):
        clean_stale(out)
    assert sorted(p.name for p in out.iterdir()) == ["kept"]


def test_stale_kernel_folders_go_and_live_ones_stay(tmp_path: Path) -> None:
    live = make_runtime_dir()
    try:
        stale = tmp_path / f"{RUNTIME_PREFIX}1-stale"  # a killed run's: its owner file is unlocked
        stale.mkdir()
        (stale / OWNER_FILE).touch()
        (stale / "kernel-1.json").write_text("{}", encoding="utf-8")
        old = tmp_path / f"{RUNTIME_PREFIX}oldstyle"  # an older version's, with no owner file
        old.mkdir()
        os.utime(old, (time.time() - 3600, time.time() - 3600))
        fresh = tmp_path / f"{RUNTIME_PREFIX}being-made"
        fresh.mkdir()
        removed = clean_stale_runtime_dirs(tmp_path)
        assert sorted(p.name for p in removed) == sorted([stale.name, old.name])
        assert fresh.exists()
        assert live.exists() and live not in clean_stale_runtime_dirs(Path(tempfile.gettempdir()))
        held = os.open(live / OWNER_FILE, os.O_WRONLY)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(held)
    finally:
        remove_runtime_dir(live)
    assert not live.exists()


def test_a_bad_out_is_refused_before_anything_is_made(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="is a file"):
        (tmp_path / "f").write_text("x", encoding="utf-8")
        run([CLIENTS / "example_a.yaml"], tmp_path / "f")


# --------------------------------------------------------------------------- signals

SIGNALLED_RUN = [sys.executable, "-m", "ftcost_helpers", "report"]


def _start_and_wait_for_a_kernel(out: Path, source: Path) -> subprocess.Popen:
    """The real command on one client, returned once its staging folder and kernel are up."""
    process = subprocess.Popen(
        [*SIGNALLED_RUN, str(source), "--out", str(out), "--jobs", "1"],
        cwd=project_root(),
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (out.exists() and any(p.name.startswith(STAGING) for p in out.iterdir())):
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()
        time.sleep(0.05)
    runtime = [p for p in Path(tempfile.gettempdir()).glob(f"{RUNTIME_PREFIX}{process.pid}-*")]
    while not [p for p in runtime for _ in p.glob("kernel-*.json")]:
        assert time.monotonic() < deadline and process.poll() is None, "no kernel started"
        time.sleep(0.05)
        runtime = list(Path(tempfile.gettempdir()).glob(f"{RUNTIME_PREFIX}{process.pid}-*"))
    time.sleep(1.0)  # the kernel is running a notebook
    return process


@pytest.mark.parametrize(("how", "code"), [("sigterm", 143), ("ctrl-c", 130)])
def test_a_signal_stops_the_run_quickly_quietly_and_cleanly(tmp_path: Path, how: str, code: int) -> None:
    """On main SIGTERM exited 130 after 10-20 s with asyncio noise ("Kernel died", "future:
    <Task ...>") and left the kernel folder."""
    out = tmp_path / "out"
    process = _start_and_wait_for_a_kernel(out, CLIENTS / "example_a.yaml")
    started = time.monotonic()
    if how == "sigterm":
        process.send_signal(signal.SIGTERM)
    else:
        os.killpg(process.pid, signal.SIGINT)  # what a terminal sends: every process of the group
    _, err = process.communicate(timeout=60)
    took = time.monotonic() - started
    assert process.returncode == code, err
    assert took < 5.0, f"{took:.1f} s"
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.strip() and not line.startswith("reports:")]
    assert lines == ["interrupted: unfinished reports were discarded; earlier reports are unchanged"], err
    assert [p.name for p in out.iterdir()] == []
    assert not list(Path(tempfile.gettempdir()).glob(f"{RUNTIME_PREFIX}{process.pid}-*"))


def test_kill_9_leaves_nothing_the_next_run_does_not_clean(tmp_path: Path) -> None:
    out = tmp_path / "out"
    process = _start_and_wait_for_a_kernel(out, CLIENTS / "example_a.yaml")
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)
    assert [p for p in out.iterdir() if p.name.startswith(STAGING)], "the kill left its staging folder"
    bad = tmp_path / "bad.yaml"
    bad.write_text("client: [unclosed\n", encoding="utf-8")
    run_reports([bad], out, say=lambda line: None)  # validates only; cleans and rebuilds the index
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]
    assert not list(Path(tempfile.gettempdir()).glob(f"{RUNTIME_PREFIX}{process.pid}-*"))
