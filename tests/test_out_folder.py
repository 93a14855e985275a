"""``report --out`` is the report's, not the user's (issue 27, finding 5): a folder holding
files ftcost did not write is refused unless ``--allow-other-files``, and with it those files
are left byte for byte, whatever their names; only what carries the runner's mark (a folder's
``.source``, an index page's header, the write probe) is ever replaced, renamed or removed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ftcost_helpers.engine.loading import project_root
from ftcost_helpers.report.execute import OWNER_FILE, RUNTIME_PREFIX, clean_stale_runtime_dirs
from ftcost_helpers.report.index import INDEX_MARK, SOURCE_FILE, SUMMARY_JSON, ForeignIndex, index_html, write_index
from ftcost_helpers.report.ownership import foreign_entries, is_leftover
from ftcost_helpers.report.runner import (
    FAILED_DIR,
    OLD,
    STAGING,
    ReportError,
    clean_stale,
    place,
    refuse_foreign_folder,
    run_reports,
)
from ftcost_helpers.report.slug import source_id

FIXTURE_NOTEBOOK = Path(__file__).parent / "fixtures" / "report_notebook.ipynb"
EXAMPLE_A = project_root() / "params" / "clients" / "example_a.yaml"
A_SOURCE_LINE = "0123456789abcdef" * 4 + "\n"
"""A ``.source`` line as the runner writes it: 64 hex digits and a newline."""


def users_folder(out: Path) -> Path:
    """A folder of the user's: an index.html of their own, files and folders whose names begin
    as the runner's leftovers do (some with exactly a leftover's shape, none with its mark), a
    folder named like a client's report, and a subfolder."""
    (out / "sub" / "deeper").mkdir(parents=True)
    (out / "sub" / "deeper" / "notes.txt").write_bytes(b"the user's notes\n")
    (out / "index.html").write_bytes(b"<html><body>my own index</body></html>\n")
    (out / ".old-x").write_bytes(b"old x\n")
    (out / ".staging-y").mkdir()
    (out / ".staging-y" / "draft.txt").write_bytes(b"draft\n")
    (out / ".index-z").write_bytes(b"index z\n")
    (out / f"{STAGING}1-acme").mkdir()  # a leftover's name, no .source: not ours
    (out / f"{OLD}1-acme").mkdir()
    (out / f"{OLD}1-acme" / "kept.txt").write_bytes(b"kept\n")
    (out / ".index-1.html").write_bytes(b"<p>not an index of ftcost</p>\n")
    (out / f"{STAGING}1-probe-abcdefgh").write_bytes(b"not empty, so not the probe\n")
    (out / "example-a").mkdir()  # the client's folder name, but it does not say whose it is
    (out / "example-a" / "summary.json").write_bytes(b'{"mine": true}\n')
    return out


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every entry under ``folder``: a file's bytes, None for a folder."""
    return {
        path.relative_to(folder).as_posix(): (path.read_bytes() if path.is_file() else None)
        for path in sorted(folder.rglob("*"))
    }


def test_a_folder_of_the_users_is_refused_with_one_line_and_left_as_it_was(tmp_path: Path) -> None:
    out = users_folder(tmp_path / "mine")
    before = snapshot(out)
    done = subprocess.run(
        [sys.executable, "-m", "ftcost_helpers", "report", str(EXAMPLE_A), "--out", str(out), "--jobs", "1"],
        cwd=project_root(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"error: --out {out}: holds files ftcost did not write (")
    # All 10 entries are the user's: sub, index.html, .old-x, .staging-y, .index-z, the four with
    # a leftover's shape and example-a. Sorted, three are named, then "7 more".
    assert "('.index-1.html', '.index-z', '.old-1-acme' and 7 more)" in line
    assert "--allow-other-files" in line
    assert snapshot(out) == before


def test_with_allow_other_files_the_users_files_stay_byte_for_byte(tmp_path: Path) -> None:
    out = users_folder(tmp_path / "mine")
    before = snapshot(out)
    lines: list[str] = []
    for _ in range(2):  # the second run's start-of-run cleanup sees them too
        result = run_reports(
            [EXAMPLE_A], out, jobs=1, notebooks=[FIXTURE_NOTEBOOK], say=lines.append, allow_other_files=True, force=True
        )
        assert result.failures == []
        assert set(result.reports) == {"example-a-2"}  # example-a/ is someone else's
    after = snapshot(out)
    assert {name: after[name] for name in before} == before
    new = set(after) - set(before)
    assert new and all(name.startswith("example-a-2") for name in new), sorted(new)
    assert result.index is None
    assert f"warning: {out.resolve() / 'index.html'} is not ftcost's: left as it is, and no index written" in lines


def test_a_run_never_takes_a_staging_name_it_did_not_make(tmp_path: Path) -> None:
    """A folder of the user's under the very name this run's staging folder would have: the
    client fails on one line and the folder is neither moved to _failed/ nor removed."""
    out = tmp_path / "mine"
    taken = out / f"{STAGING}{os.getpid()}-example-a"
    taken.mkdir(parents=True)
    (taken / "work.txt").write_bytes(b"mine\n")
    result = run_reports([EXAMPLE_A], out, jobs=1, notebooks=[FIXTURE_NOTEBOOK], say=lambda line: None,
                         allow_other_files=True)  # fmt: skip
    ((_, message),) = [(f.source, f.message) for f in result.failures]
    assert message == "could not start its report folder (File exists)"
    assert (taken / "work.txt").read_bytes() == b"mine\n"
    assert not (out / FAILED_DIR).exists()


def test_the_marked_leftovers_of_a_killed_run_go_and_their_unmarked_twins_stay(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for name in (f"{STAGING}1-acme", f"{OLD}1-kept"):
        (out / name).mkdir()
        (out / name / SOURCE_FILE).write_text(A_SOURCE_LINE, encoding="utf-8")
    (out / ".index-1.html").write_text(index_html([]), encoding="utf-8")
    (out / f"{STAGING}1-probe-k2j4h5g6").write_bytes(b"")  # what mkstemp makes: empty
    twins = {
        f"{STAGING}2-acme": None,
        f"{OLD}2-other": None,
        ".index-2.html": b"<p>mine</p>",
        f"{STAGING}2-probe-k2j4h5g6": b"x",
    }
    for name, content in twins.items():
        if content is None:
            (out / name).mkdir()
        else:
            (out / name).write_bytes(content)
    (out / f"{STAGING}3-bad").mkdir()
    (out / f"{STAGING}3-bad" / SOURCE_FILE).write_text("not a digest\n", encoding="utf-8")
    twins[f"{STAGING}3-bad"] = None
    assert [name for name in sorted(twins) if is_leftover(out / name)] == []
    clean_stale(out)
    assert sorted(p.name for p in out.iterdir()) == sorted(["kept", *twins])


def test_a_folder_ftcost_wrote_earlier_is_taken_without_the_flag(tmp_path: Path) -> None:
    """What this and earlier versions leave: report folders with .source, a report folder of
    a version that did not record its file, _failed/, the index page."""
    out = tmp_path / "reports"
    (out / "acme").mkdir(parents=True)
    (out / "acme" / SOURCE_FILE).write_text(f"{source_id(EXAMPLE_A)}\n", encoding="utf-8")
    (out / "older-client").mkdir()
    for name in (SUMMARY_JSON, "report.html"):
        (out / "older-client" / name).write_text("{}", encoding="utf-8")
    (out / FAILED_DIR / "broken").mkdir(parents=True)
    (out / FAILED_DIR / "broken" / SOURCE_FILE).write_text(A_SOURCE_LINE, encoding="utf-8")
    (out / "index.html").write_text(index_html([]), encoding="utf-8")
    assert foreign_entries(out) == []
    refuse_foreign_folder(out)  # no error
    (out / FAILED_DIR / "notes.txt").write_text("mine", encoding="utf-8")
    assert foreign_entries(out) == [FAILED_DIR]


def test_the_projects_own_reports_folder_is_taken_with_its_readme(tmp_path: Path, monkeypatch) -> None:
    """``make reports`` writes into reports/, which git ships holding README.md."""
    monkeypatch.setenv("FTCOST_ROOT", str(tmp_path))
    for folder in (tmp_path / "reports", tmp_path / "elsewhere"):
        folder.mkdir()
        (folder / "README.md").write_text("# reports/\n", encoding="utf-8")
    refuse_foreign_folder((tmp_path / "reports").resolve())
    with pytest.raises(ReportError, match=r"holds files ftcost did not write \('README.md'\)"):
        refuse_foreign_folder((tmp_path / "elsewhere").resolve())
    refuse_foreign_folder((tmp_path / "elsewhere").resolve(), allow_other_files=True)


def test_an_index_html_of_the_users_is_never_replaced_and_ftcosts_is(tmp_path: Path) -> None:
    mine = tmp_path / "index.html"
    mine.write_bytes(b"<h1>Fine-tuning cost reports</h1> but not ftcost's page\n")
    with pytest.raises(ForeignIndex):
        write_index(tmp_path)
    assert mine.read_bytes() == b"<h1>Fine-tuning cost reports</h1> but not ftcost's page\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html"]
    mine.write_text(index_html([]), encoding="utf-8")
    os.utime(mine, (1, 1))
    write_index(tmp_path)
    assert INDEX_MARK in mine.read_text(encoding="utf-8") and mine.stat().st_mtime > 1


def test_a_report_is_never_moved_aside_over_a_file_of_that_name(tmp_path: Path) -> None:
    final, staging = tmp_path / "acme", tmp_path / f"{STAGING}{os.getpid()}-acme"
    final.mkdir()
    staging.mkdir()
    aside = tmp_path / f"{OLD}{os.getpid()}-acme"
    aside.mkdir()  # empty: a rename would silently replace it
    with pytest.raises(FileExistsError):
        place(staging, final)
    assert aside.is_dir() and final.is_dir() and staging.is_dir()


def test_kernel_folders_are_told_from_the_users_by_what_they_hold(tmp_path: Path) -> None:
    """A stale kernel folder holds the owner file and kernel files only; one named like it
    holding anything else is not a kernel folder and stays, however old."""
    hour_ago = time.time() - 3600
    stale = tmp_path / f"{RUNTIME_PREFIX}1-stale"
    stale.mkdir()
    (stale / OWNER_FILE).touch()
    (stale / "kernel-abc.json").write_text("{}", encoding="utf-8")
    (stale / "kernel-abc-ipc-1").touch()
    users = tmp_path / f"{RUNTIME_PREFIX}notes"
    users.mkdir()
    (users / "notes.txt").write_bytes(b"mine\n")
    os.utime(users, (hour_ago, hour_ago))
    owned_but_more = tmp_path / f"{RUNTIME_PREFIX}2-more"
    owned_but_more.mkdir()
    (owned_but_more / OWNER_FILE).touch()
    (owned_but_more / "thesis.tex").write_bytes(b"mine\n")
    assert clean_stale_runtime_dirs(tmp_path) == [stale]
    assert (users / "notes.txt").read_bytes() == b"mine\n"
    assert (owned_but_more / "thesis.tex").read_bytes() == b"mine\n"
