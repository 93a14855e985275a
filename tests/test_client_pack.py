"""Nothing private leaves (issue 21, "What to build" 9): what a client receives names no local
folder and links no file it does not receive; the firm's working (notebooks, summary.json)
names files without their folders; ``report --client-pack`` gives each client a folder with
only the PDF, the workbook and the page; the index says it is the firm's own.

One real batch for example A (the six notebooks) runs once for the module, from a client
file and a rates overlay in a temporary folder outside the project, so that every path the
batch sees is one that must not be shown (``--pdf`` too where Chromium is installed)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ftcost_helpers.engine.loading import project_root
from ftcost_helpers.pdf import printable
from ftcost_helpers.report import pack as pack_module
from ftcost_helpers.report.index import AUDIENCE, index_html
from ftcost_helpers.report.pack import PACK_DIR, client_page, write_client_pack, write_client_packs
from ftcost_helpers.report.privacy import path_replacements, without_paths
from ftcost_helpers.report.sanitize import file_link, unlink_files

ROOT = project_root()
EXAMPLE_A = ROOT / "params" / "clients" / "example_a.yaml"
NOTEBOOKS = (
    "01_compute.ipynb",
    "02_dataset.ipynb",
    "03_eval.ipynb",
    "04_maintenance.ipynb",
    "05_roi.ipynb",
    "06_tracking.ipynb",
)
HAS_CHROMIUM = shutil.which("chromium") is not None or Path("/usr/bin/chromium").is_file()
HAS_PDFTOTEXT = shutil.which("pdftotext") is not None
RATES = """as_of: 2026-11-15
source: a broker's quote
gpu_rates_usd_per_gpu_hour:
  h100_sxm:
    neocloud_on_demand: {low: 1.55, high: 1.65}
"""


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``report acme.yaml --rates rates.yaml --client-pack [--pdf]`` with both files in a
    temporary folder (outside the project, so neither has a project-relative name)."""
    work = tmp_path_factory.mktemp("client-pack")
    client = work / "acme.yaml"
    shutil.copyfile(EXAMPLE_A, client)
    (work / "rates.yaml").write_text(RATES, encoding="utf-8")
    out = work / "reports"
    command = [str(client), "--rates", str(work / "rates.yaml"), "--out", str(out), "--jobs", "2", "--client-pack"]
    done = subprocess.run(
        [sys.executable, "-m", "ftcost_helpers", "report", *command, *(["--pdf"] if HAS_CHROMIUM else [])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "1 client pack written" in done.stdout
    return {"work": work, "out": out, "folder": out / "acme", "pack": out / "acme" / PACK_DIR}


def private_strings(work: Path) -> list[str]:
    """What must appear in no file a client receives: a file link, and the folders of this
    machine (the batch's temporary folder, the project, the Python installation, home)."""
    folders = {work, ROOT, Path(sys.prefix), Path(sys.base_prefix), Path.home()}
    spellings = {str(f) for f in folders} | {str(f.resolve()) for f in folders}
    return ["file:/", *sorted(s.rstrip("/") + "/" for s in spellings if s != "/")]


def leaks(text: str, work: Path) -> list[str]:
    return [private for private in private_strings(work) if private in text]


def texts_of(path: Path) -> dict[str, str]:
    """Every text a file holds, by where: a workbook's XML parts, a PDF's raw bytes and (with
    Poppler) its text, any other file as it is."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as workbook:
            return {f"{path.name}:{n}": workbook.read(n).decode("utf-8", "replace") for n in workbook.namelist()}
    if path.suffix == ".pdf":
        found = {path.name: path.read_bytes().decode("latin-1")}
        if HAS_PDFTOTEXT:
            text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
            found[f"{path.name} (pdftotext)"] = text
        return found
    return {path.name: path.read_text(encoding="utf-8")}


# --------------------------------------------------------------------------- the pack


def test_the_pack_holds_exactly_the_pdf_the_workbook_and_the_page(batch: dict[str, Path]) -> None:
    expected = {"report.html", "report.xlsx"} | ({"report.pdf"} if HAS_CHROMIUM else set())
    assert {p.name for p in batch["pack"].iterdir()} == expected
    assert not [p.name for p in batch["folder"].iterdir() if p.name.startswith((".client-pack-", ".old-client-pack"))]
    assert (batch["pack"] / "report.xlsx").read_bytes() == (batch["folder"] / "report.xlsx").read_bytes()
    if HAS_CHROMIUM:
        assert (batch["pack"] / "report.pdf").read_bytes() == (batch["folder"] / "report.pdf").read_bytes()


def test_nothing_in_the_pack_names_a_local_folder_or_a_file_link(batch: dict[str, Path]) -> None:
    for path in sorted(batch["pack"].iterdir()):
        for where, text in texts_of(path).items():
            assert not leaks(text, batch["work"]), f"{where} holds {leaks(text, batch['work'])}"


WORKING_NAMES = (".ipynb", "summary.json", "fingerprint.json", "acme.yaml", "rates.yaml", "python -m", "--rates")
"""The firm's file names and command lines: the client gets none of them (the notebooks are
named by their titles)."""


def test_the_pack_names_none_of_the_firms_files_or_commands(batch: dict[str, Path]) -> None:
    for path in sorted(batch["pack"].iterdir()):
        for where, text in texts_of(path).items():
            named = [name for name in WORKING_NAMES if name in text]
            assert not named, f"{where} names {named}"


@pytest.mark.skipif(not HAS_CHROMIUM, reason="needs Debian's chromium (CI installs it)")
def test_the_printed_pdf_links_only_within_itself(batch: dict[str, Path]) -> None:
    """Before: seven ``file:///…/acme/<file>`` links (five notebooks, the workbook and
    summary.json). Now every link annotation is a ``/Dest`` inside the PDF or a web address."""
    raw = (batch["folder"] / "report.pdf").read_bytes()
    uris = re.findall(rb"/URI\s*\(([^)]*)\)", raw)
    assert all(uri.startswith((b"http://", b"https://", b"mailto:")) for uri in uris), uris
    assert b"/Dest" in raw, "the page's own anchors (#sources) stay links"
    if HAS_PDFTOTEXT:
        text = texts_of(batch["folder"] / "report.pdf")["report.pdf (pdftotext)"]
        assert "Notebook: 01" in text, "the working's titles are still printed, as text"


def test_the_packs_page_links_only_what_travels_with_it(batch: dict[str, Path]) -> None:
    page = (batch["pack"] / "report.html").read_text(encoding="utf-8")
    links = set(re.findall(r'href="([^"]*)"', page))
    files = {link for link in links if file_link(link) is not None}
    assert files == {"report.xlsx"}  # the workbook; no notebook, no summary.json, no index
    assert "#sources" in links
    assert page.count('<span class="unlinked">Notebook: ') == len(NOTEBOOKS)


def test_the_report_folders_page_links_its_working_relatively(batch: dict[str, Path]) -> None:
    """The firm's copy keeps its links to the working, relative inside the folder, and none
    leads out of it (to the index or elsewhere)."""
    page = (batch["folder"] / "report.html").read_text(encoding="utf-8")
    files = {link for link in re.findall(r'href="([^"]*)"', page) if file_link(link) is not None}
    assert files == {"report.xlsx", "summary.json", *NOTEBOOKS}
    assert all((batch["folder"] / name).is_file() for name in files)
    assert not leaks(page, batch["work"])


def test_a_current_pack_is_left_alone_and_a_stale_one_rewritten(batch: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "reports"
    shutil.copytree(batch["out"], out)  # copytree keeps modification times: the pack is current
    pack = out / "acme" / PACK_DIR
    assert write_client_packs(out) == []
    page = out / "acme" / "report.html"
    page.write_text(page.read_text(encoding="utf-8").replace("Example A", "Example A (revised)"), encoding="utf-8")
    os.utime(page, ns=(page.stat().st_atime_ns, page.stat().st_mtime_ns + 10**9))
    assert write_client_packs(out) == [pack]
    assert "Example A (revised)" in (pack / "report.html").read_text(encoding="utf-8")
    # The page is now newer than any PDF printed from it: a stale PDF is not sent.
    assert {p.name for p in pack.iterdir()} == {"report.html", "report.xlsx"}


# --------------------------------------------------------------------------- the firm's working


def test_notebooks_name_the_client_file_without_its_folder(batch: dict[str, Path]) -> None:
    for name in NOTEBOOKS:
        notebook = json.loads((batch["folder"] / name).read_text(encoding="utf-8"))
        run = notebook["metadata"]["papermill"]
        assert run["parameters"]["params_file"] == "acme.yaml"
        assert run["input_path"] == f"notebooks/{name}"  # inside the project: relative to it
        assert run["output_path"] == name  # the staging folder, renamed to the report folder
        text = json.dumps(notebook, ensure_ascii=False)
        assert 'params_file = \\"acme.yaml\\"' in text  # papermill's injected cell
        assert not leaks(text, batch["work"]), f"{name} holds {leaks(text, batch['work'])}"


def test_summary_json_names_files_without_their_folders(batch: dict[str, Path]) -> None:
    text = (batch["folder"] / "summary.json").read_text(encoding="utf-8")
    summary = json.loads(text)
    assert summary["source_file"] == "acme.yaml"
    assert "; rates.yaml (as of 2026-11-15; a broker's quote)" in summary["price_sources"]
    assert not leaks(text, batch["work"])


def test_without_paths_replaces_paths_but_leaves_images(tmp_path: Path) -> None:
    staging, source = tmp_path / ".staging-1-acme", tmp_path / "clients" / "acme.yaml"
    pairs = path_replacements(staging, source, [ROOT / "notebooks" / "01_compute.ipynb"])
    image = "iVBORw0KGgo" + str(tmp_path).replace("-", "").replace("_", "")  # base64 letters and slashes
    node = {
        "metadata": {
            "output_path": f"{staging}/01_compute.ipynb",
            "input_path": str(ROOT / "notebooks/01_compute.ipynb"),
        },
        "source": [f'params_file = "{source}"\n'],
        "outputs": [{"data": {"image/png": image, "text/plain": f"{sys.prefix}/lib/x.py:1: Warning"}}],
    }
    clean = without_paths(node, pairs)
    assert clean["metadata"] == {"output_path": "01_compute.ipynb", "input_path": "notebooks/01_compute.ipynb"}
    assert clean["source"] == ['params_file = "acme.yaml"\n']
    assert clean["outputs"][0]["data"] == {"image/png": image, "text/plain": "<python>/lib/x.py:1: Warning"}


# --------------------------------------------------------------------------- the index


def test_the_index_says_it_is_the_firms_own(batch: dict[str, Path]) -> None:
    index = (batch["out"] / "index.html").read_text(encoding="utf-8")
    assert "Internal: the firm&#x27;s index of client reports — do not send" in index
    assert '<meta name="ftcost-audience" content="Internal:' in index
    assert "<title>Internal:" in index
    assert AUDIENCE in index_html([]).replace("&#x27;", "'")
    for page in (batch["folder"] / "report.html", batch["pack"] / "report.html"):
        assert "index.html" not in page.read_text(encoding="utf-8") and 'href="../' not in page.read_text("utf-8")


# --------------------------------------------------------------------------- links and packs, unit


@pytest.mark.parametrize(
    ("href", "target"),
    [
        ("#sources", None),
        ("https://example.org/a?b=1", None),
        ("mailto:partner@example.org", None),
        ("report.xlsx", "report.xlsx"),
        ("01_compute.ipynb#top", "01_compute.ipynb"),
        ("a%20b.json", "a b.json"),
        ("../index.html", "../index.html"),
        ("", ""),  # the page itself: printed, it would be the page's file:// address
        ("//fileserver/share/x.pdf", "//fileserver/share/x.pdf"),
        ("file:///home/analyst/x.pdf", "file:///home/analyst/x.pdf"),
    ],
)
def test_file_link_tells_files_from_anchors_and_web_addresses(href: str, target: str | None) -> None:
    assert file_link(href) == target


def test_unlink_files_keeps_the_text_and_the_kept_files() -> None:
    page = (
        '<p><a href="#s">s</a> <a href="report.xlsx" rel="noopener">W</a> <a title="a>b" href="01_a.ipynb">'
        '<b>N</b></a> <a href="https://x.org/">web</a> <a href="../index.html">i</a></p>'
    )
    assert unlink_files(page, keep={"report.xlsx"}) == (
        '<p><a href="#s">s</a> <a href="report.xlsx" rel="noopener">W</a> <span class="unlinked"><b>N</b></span> '
        '<a href="https://x.org/">web</a> <span class="unlinked">i</span></p>'
    )


def test_printable_leaves_no_link_to_a_file() -> None:
    page = '<html><head></head><body><a href="report.xlsx">W</a> <a href="#x">x</a></body></html>'
    ready = printable(page)
    assert 'href="report.xlsx"' not in ready and '<span class="unlinked">W</span>' in ready
    assert '<a href="#x">x</a>' in ready


def fake_report(folder: Path, pdf: bool, pdf_older: bool = False) -> Path:
    folder.mkdir(parents=True)
    (folder / "report.html").write_text(
        '<html><body><a href="report.xlsx">W</a> <a href="report.pdf">P</a> <a href="summary.json">J</a></body></html>',
        encoding="utf-8",
    )
    (folder / "report.xlsx").write_bytes(b"PK workbook")
    (folder / "summary.json").write_text("{}", encoding="utf-8")
    (folder / "01_compute.ipynb").write_text("{}", encoding="utf-8")
    if pdf:
        (folder / "report.pdf").write_bytes(b"%PDF-1.4")
        page_time = (folder / "report.html").stat().st_mtime_ns
        offset = -(10**9) if pdf_older else 10**9
        os.utime(folder / "report.pdf", ns=(page_time + offset, page_time + offset))
    return folder


@pytest.mark.parametrize(
    ("pdf", "pdf_older", "expected"),
    [
        (False, False, {"report.html", "report.xlsx"}),
        (True, False, {"report.html", "report.pdf", "report.xlsx"}),
        (True, True, {"report.html", "report.xlsx"}),  # printed before the page changed: not sent
    ],
)
def test_the_pack_takes_a_pdf_only_when_it_is_current(
    tmp_path: Path, pdf: bool, pdf_older: bool, expected: set[str]
) -> None:
    folder = fake_report(tmp_path / "acme", pdf, pdf_older)
    pack = write_client_pack(folder)
    assert pack == folder / PACK_DIR and {p.name for p in pack.iterdir()} == expected
    page = (pack / "report.html").read_text(encoding="utf-8")
    assert '<a href="report.xlsx">W</a>' in page and '<span class="unlinked">J</span>' in page
    assert ('<a href="report.pdf">P</a>' in page) == ("report.pdf" in expected)


def test_a_failed_pack_leaves_the_earlier_one_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = fake_report(tmp_path / "acme", pdf=False)
    write_client_pack(folder)
    before = {p.name: p.read_bytes() for p in (folder / PACK_DIR).iterdir()}
    (folder / "report.pdf").write_bytes(b"%PDF-1.4")  # newer than the page: the pack is stale

    def full_disk(original: Path, copy: Path, delivered: object) -> None:
        raise OSError(28, "No space left on device", str(copy))

    monkeypatch.setattr(pack_module, "_copy", full_disk)
    with pytest.raises(OSError):
        write_client_pack(folder)
    assert {p.name: p.read_bytes() for p in (folder / PACK_DIR).iterdir()} == before
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []


def test_a_pack_left_half_written_is_cleaned_and_the_folders_listed(tmp_path: Path) -> None:
    folder = fake_report(tmp_path / "acme", pdf=False)
    (folder / ".client-pack-999").mkdir()
    (folder / ".client-pack-999" / "summary.json").write_text("{}", encoding="utf-8")
    for runner_folder in (".staging-1-acme", "_failed"):
        fake_report(tmp_path / runner_folder, pdf=False)
    assert write_client_packs(tmp_path) == [folder / PACK_DIR]
    assert not (folder / ".client-pack-999").exists()
    assert not (tmp_path / "_failed" / PACK_DIR).exists() and not (tmp_path / ".staging-1-acme" / PACK_DIR).exists()


def test_client_page_is_the_page_with_only_the_delivered_links() -> None:
    page = '<a href="report.pdf">P</a><a href="05_roi.ipynb">R</a>'
    assert client_page(page, ["report.pdf"]) == '<a href="report.pdf">P</a><span class="unlinked">R</span>'
