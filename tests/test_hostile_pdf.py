"""The PDF printer loads nothing but the page: a page that asks for remote images, styles or
fonts (localhost and 127.0.0.1 included) gets none of them, with or without the page's
Content-Security-Policy. Needs Debian's chromium; skipped without it."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from ftcost_helpers.pdf import PdfError, _print_command, _run_chromium, find_chromium, html_to_pdf, printable

try:
    find_chromium()
except PdfError:  # pragma: no cover - the CI image has chromium
    pytest.skip("no chromium on this machine", allow_module_level=True)


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def listener() -> Iterator[int]:
    """An HTTP server on 127.0.0.1 that records every request it gets."""
    _Recorder.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def _hostile_page(port: int, policy: bool) -> str:
    loads = (
        f'<img src="http://127.0.0.1:{port}/ip.png"><img src="http://localhost:{port}/name.png">'
        f'<link rel="stylesheet" href="http://127.0.0.1:{port}/style.css">'
        f"<style>body {{ background: url(http://localhost:{port}/background.png) }}</style>"
    )
    page = f"<!DOCTYPE html><html><head><meta charset='utf-8'>{loads}</head><body><p>x</p></body></html>"
    return printable(page) if policy else page


def test_printing_fetches_nothing_from_localhost(listener: int, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(_hostile_page(listener, policy=False), encoding="utf-8")
    pdf = html_to_pdf(page)
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert _Recorder.seen == []


def test_the_browser_flags_alone_block_localhost(listener: int, tmp_path: Path) -> None:
    """Without the page's policy (a page printed as it is): the flags still block every load."""
    page, pdf = tmp_path / "raw.html", tmp_path / "raw.pdf"
    page.write_text(_hostile_page(listener, policy=False), encoding="utf-8")
    profile = tmp_path / "profile"
    _run_chromium(_print_command(find_chromium(), page, pdf, profile), timeout_s=120)
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert _Recorder.seen == []


def test_the_listener_does_answer(listener: int) -> None:
    """The control: the listener records a request that is made."""
    import urllib.request

    urllib.request.urlopen(f"http://127.0.0.1:{listener}/probe.png", timeout=5).read()
    assert _Recorder.seen == ["/probe.png"]
