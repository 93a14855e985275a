"""Batch reports redo only what changed: each report folder records a fingerprint of what it
was made from, and ``report`` skips a client whose fingerprint is unchanged."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ftcost_helpers.engine.loading import project_root
from ftcost_helpers.report import fingerprint as fp
from ftcost_helpers.report.runner import run_reports

FIXTURE_NOTEBOOK = Path(__file__).parent / "fixtures" / "report_notebook.ipynb"
EXAMPLES = project_root() / "params" / "clients"


def batch(files: list[Path], out: Path, **options) -> tuple[object, list[str]]:
    lines: list[str] = []
    result = run_reports(files, out, jobs=2, notebooks=[FIXTURE_NOTEBOOK], say=lines.append, **options)
    assert result.exit_code == 0, result.failures
    return result, lines


@pytest.fixture
def two_clients(tmp_path: Path) -> list[Path]:
    """Copies of examples A and B (so a test may edit them)."""
    files = []
    for letter in "ab":
        copy = tmp_path / "clients" / f"example_{letter}.yaml"
        copy.parent.mkdir(exist_ok=True)
        shutil.copy(EXAMPLES / f"example_{letter}.yaml", copy)
        files.append(copy)
    return files


def test_unchanged_clients_are_skipped_a_changed_one_is_redone_alone_and_force_redoes_all(tmp_path, two_clients):
    out = tmp_path / "reports"
    first, _ = batch(two_clients, out)
    assert len(first.reports) == 2 and first.skipped == {}
    written = {slug: (folder / "summary.json").stat().st_mtime_ns for slug, folder in first.reports.items()}

    second, lines = batch(two_clients, out)
    assert second.reports == {} and set(second.skipped) == set(first.reports)
    assert sum(line.startswith("skipped (unchanged) ") for line in lines) == 2
    for slug, folder in second.skipped.items():
        assert (folder / "summary.json").stat().st_mtime_ns == written[slug], "not rewritten"
    index = (out / "index.html").read_text(encoding="utf-8")
    assert all(f"{folder.name}/" in index for folder in first.reports.values()), "the index lists every client"

    edited = two_clients[0]
    edited.write_text(edited.read_text(encoding="utf-8") + "\n# edited by the analyst\n", encoding="utf-8")
    third, _ = batch(two_clients, out)
    (redone,) = third.reports.values()
    stored = json.loads((redone / fp.FINGERPRINT_JSON).read_text(encoding="utf-8"))
    assert stored["client_file"] == fp.file_digest(edited)
    assert len(third.skipped) == 1 and redone not in third.skipped.values()

    forced, _ = batch(two_clients, out, force=True)
    assert len(forced.reports) == 2 and forced.skipped == {}


def test_a_changed_price_book_redoes_the_client(tmp_path, two_clients):
    out = tmp_path / "reports"
    book = tmp_path / "pricebook.yaml"
    shutil.copy(project_root() / "params" / "pricebook.yaml", book)
    batch(two_clients[:1], out, price_book=book)
    assert batch(two_clients[:1], out, price_book=book)[0].reports == {}, "same book: skipped"
    book.write_text(book.read_text(encoding="utf-8") + "\n# a new comment is a new price book\n", encoding="utf-8")
    again, _ = batch(two_clients[:1], out, price_book=book)
    assert len(again.reports) == 1 and again.skipped == {}


def test_a_report_missing_one_of_its_files_is_redone(tmp_path, two_clients):
    out = tmp_path / "reports"
    first, _ = batch(two_clients[:1], out)
    (folder,) = first.reports.values()
    (folder / "report.xlsx").unlink()
    again, _ = batch(two_clients[:1], out)
    assert list(again.reports.values()) == [folder] and (folder / "report.xlsx").exists()


def _package(root: Path) -> Path:
    package = root / "pkg"
    (package / "engine").mkdir(parents=True)
    (package / "engine" / "model.py").write_text("RATE = 1\n")
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "x.pyc").write_bytes(b"cache")
    return package


def test_the_package_digest_follows_any_module_not_only_the_notebooks(tmp_path):
    """Quarto's freeze and Jupyter Book's cache miss a change to an imported module; here an
    edit, a new file or a rename anywhere in the package changes the digest, and byte-code
    caches do not."""
    package = _package(tmp_path)
    before = fp.package_digest(package)
    (package / "__pycache__" / "x.pyc").write_bytes(b"other cache")
    assert fp.package_digest(package) == before
    (package / "engine" / "model.py").write_text("RATE = 2\n")
    edited = fp.package_digest(package)
    assert edited != before
    (package / "engine" / "model.py").rename(package / "engine" / "model2.py")
    assert fp.package_digest(package) not in (before, edited)


def test_each_shared_part_changes_the_fingerprint(tmp_path):
    client = tmp_path / "c.yaml"
    client.write_text("client: X\n")
    notebook = tmp_path / "n.ipynb"
    notebook.write_text("{}")
    shared = fp.SharedInputs.gather([notebook], [], fp.dt.date(2026, 12, 1))
    base = fp.client_fingerprint(client, shared)["digest"]
    assert fp.client_fingerprint(client, shared)["digest"] == base, "deterministic"
    for key, value in [
        ("package_source", "0" * 64),
        ("report_date", "2026-12-02"),
        ("notebooks", {"n.ipynb": "0" * 64}),
        ("libraries", {"python": "0"}),
        ("input_files", {}),
    ]:
        changed = fp.SharedInputs({**shared.parts, key: value})
        assert fp.client_fingerprint(client, changed)["digest"] != base, key
    assert {"params/defaults.yaml", "params/pricebook.yaml"} <= set(shared.parts["input_files"])
