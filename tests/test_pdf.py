"""PDF printing without a browser: the clear errors, and the page prepared for print.
(Printing itself is tested with Chromium in tests/browser/test_report_pdf.py.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ftcost_helpers.engine.loading import project_root
from ftcost_helpers.pdf import PRINT_CSS_MARKER, PdfError, find_chromium, html_to_pdf, printable, reports_to_pdf


@pytest.fixture()
def no_chromium(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    missing = tmp_path / "no-such-chromium"
    monkeypatch.setenv("FTCOST_CHROMIUM", str(missing))
    return missing


def test_missing_chromium_says_how_to_install_it(no_chromium: Path, tmp_path: Path) -> None:
    with pytest.raises(PdfError, match=r"Chromium not found .*apt-get install -y chromium"):
        find_chromium()
    page = tmp_path / "report.html"
    page.write_text("<html><head></head><body>x</body></html>")
    with pytest.raises(PdfError, match="apt-get install"):
        html_to_pdf(page)
    assert not (tmp_path / "report.pdf").exists()


def test_report_pdf_option_fails_fast_without_chromium(no_chromium: Path, tmp_path: Path) -> None:
    """``report --pdf`` with no browser: one line, exit 1, and no batch run at all."""
    command = ["report", "params/clients/example_a.yaml", "--out", str(tmp_path), "--pdf"]
    done = subprocess.run(
        [sys.executable, "-m", "ftcost_helpers", *command],
        cwd=project_root(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: Chromium not found ($FTCOST_CHROMIUM={no_chromium}): PDF reports need it; "
        "install Debian's package: apt-get install -y chromium"
    ]
    assert list(tmp_path.iterdir()) == []


def test_missing_html_is_named(tmp_path: Path) -> None:
    with pytest.raises(PdfError, match="no such HTML file"):
        html_to_pdf(tmp_path / "absent.html")


def test_printable_adds_print_css_once_and_unfolds_details() -> None:
    page = "<html><head><title>t</title></head><body><details><summary>s</summary>x</details></body></html>"
    ready = printable(page)
    assert ready.count(PRINT_CSS_MARKER) == 1 and "break-inside: avoid" in ready
    assert "<details open>" in ready
    assert printable(ready).count(PRINT_CSS_MARKER) == 1
    assert ready.index(PRINT_CSS_MARKER) < ready.index("</head>")


def test_reports_to_pdf_skips_runner_folders_and_fresh_pdfs(tmp_path: Path, no_chromium: Path) -> None:
    """Only client folders with a missing or stale PDF are printed (here: none, so no browser
    is needed); staging (``.``) and failed (``_``) folders never are."""
    for folder in (".staging-1-a", "_failed"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "report.html").write_text("<html></html>")
    fresh = tmp_path / "client-a"
    fresh.mkdir()
    (fresh / "report.html").write_text("<html></html>")
    (fresh / "report.pdf").write_bytes(b"%PDF-1.4")
    assert reports_to_pdf(tmp_path) == []
    stale = tmp_path / "client-b"
    stale.mkdir()
    (stale / "report.html").write_text("<html></html>")
    with pytest.raises(PdfError, match="Chromium not found"):
        reports_to_pdf(tmp_path)
