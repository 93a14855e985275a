"""``report --client-pack``: beside each report, the files a client receives and nothing else.

A report folder ``reports/<slug>/`` is the firm's working: the executed notebooks,
``summary.json``, ``fingerprint.json`` and the client document that links them; the index
beside it names every client. What is sent to a client is ``reports/<slug>/client-pack/``:

- ``report.pdf`` when the report has been printed (``--pdf``) and the PDF is not older
  than the page (a stale PDF would contradict the page beside it);
- ``report.xlsx``, the workbook, as it is;
- ``report.html``, a copy of the client document whose links to files the client does not
  receive (the notebooks, ``summary.json``) are plain text. Its charts are embedded, so no
  image file travels with it.

A pack is complete or absent: it is written in ``.client-pack-<pid>`` inside the report
folder and renamed into place (an earlier pack is moved aside first and removed once the
new one is in place), with the output folder locked as for the batch. A pack whose files
are those of its report (same names, same modification times) is left as it is. A report
written again by a later run without ``--client-pack`` has no pack until one is asked for.

    from ftcost_helpers.report.pack import write_client_packs
    write_client_packs(Path("reports"))       # reports/<slug>/client-pack/ for every report
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from ftcost_helpers.report.index import REPORT_HTML, REPORT_PDF, REPORT_XLSX
from ftcost_helpers.report.sanitize import unlink_files

PACK_DIR = "client-pack"
"""The pack's folder inside each report folder."""

PACK_STAGING, PACK_OLD = ".client-pack-", ".old-client-pack-"
"""A pack being written, and an earlier pack moved aside (``<prefix><pid>``)."""

PACK_FILES = (REPORT_PDF, REPORT_XLSX, REPORT_HTML)
"""Every file a pack may hold, in the order they are written (the page last)."""


def pack_files(report_dir: Path) -> list[str]:
    """The names of the files the client receives from ``report_dir``: the workbook and the
    page, and the PDF when it is there and not older than the page."""
    page = report_dir / REPORT_HTML
    pdf = report_dir / REPORT_PDF
    printed = pdf.is_file() and pdf.stat().st_mtime_ns >= page.stat().st_mtime_ns
    return [name for name in PACK_FILES if name != REPORT_PDF or printed]


def client_page(page: str, delivered: Sequence[str]) -> str:
    """The client document as the client receives it: links to files that are not
    ``delivered`` with it are plain text (links within the page and to the web stay)."""
    return unlink_files(page, keep=frozenset(delivered))


def is_current(report_dir: Path, names: Sequence[str]) -> bool:
    """Whether the pack holds exactly ``names``, each with its report file's modification
    time (the pack copies it), so that nothing has changed since it was written."""
    pack = report_dir / PACK_DIR
    if not pack.is_dir() or sorted(p.name for p in pack.iterdir()) != sorted(names):
        return False
    return all((pack / name).stat().st_mtime_ns == (report_dir / name).stat().st_mtime_ns for name in names)


def write_client_pack(report_dir: Path) -> Path | None:
    """Write ``report_dir/client-pack/`` (complete or not at all) and return it, or None
    when the pack there is current already."""
    names = pack_files(report_dir)
    _clean_stale(report_dir)
    if is_current(report_dir, names):
        return None
    staging = report_dir / f"{PACK_STAGING}{os.getpid()}"
    staging.mkdir()
    try:
        for name in names:
            _copy(report_dir / name, staging / name, names)
        _place(staging, report_dir / PACK_DIR)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return report_dir / PACK_DIR


def _copy(original: Path, copy: Path, delivered: Sequence[str]) -> None:
    """One file of the pack, with the original's modification time (see :func:`is_current`)."""
    if original.name == REPORT_HTML:
        copy.write_text(client_page(original.read_text(encoding="utf-8"), delivered), encoding="utf-8")
        shutil.copystat(original, copy)
    else:
        shutil.copy2(original, copy)


def _place(staging: Path, final: Path) -> None:
    """Rename ``staging`` to ``final``; an earlier pack is moved aside first and removed last."""
    if final.exists():
        old = final.with_name(f"{PACK_OLD}{os.getpid()}")
        os.rename(final, old)
        os.rename(staging, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(staging, final)


def _clean_stale(report_dir: Path) -> None:
    """Remove what a killed run left in ``report_dir``: a pack half written or moved aside
    (the folder is locked, so no other run is writing one)."""
    for entry in report_dir.iterdir():
        if entry.name.startswith((PACK_STAGING, PACK_OLD)):
            shutil.rmtree(entry, ignore_errors=True)


def report_folders(out_dir: Path) -> list[Path]:
    """Every complete report folder in ``out_dir`` (it has its page and its workbook); the
    batch's staging, old and failed folders are not reports."""
    folders = []
    for page in sorted(out_dir.glob(f"*/{REPORT_HTML}")):
        folder = page.parent
        if not folder.name.startswith((".", "_")) and (folder / REPORT_XLSX).is_file():
            folders.append(folder)
    return folders


def write_client_packs(out_dir: Path) -> list[Path]:
    """A client pack for every report in ``out_dir`` (the folder locked meanwhile); returns
    the packs written (those already current are left as they are). Raises ReportError when
    the folder is busy or unusable, OSError when a pack cannot be written."""
    from ftcost_helpers.report.runner import locked_out_dir

    with locked_out_dir(Path(out_dir).resolve()) as locked:
        return [pack for folder in report_folders(locked) if (pack := write_client_pack(folder)) is not None]


def client_packs_command(out_dir: Path) -> int:
    """``report --client-pack``: write the packs and say how many; 1 when they cannot be."""
    from ftcost_helpers.engine.money import plural
    from ftcost_helpers.report.runner import EXIT_FAILED, EXIT_OK, ReportError

    try:
        written = write_client_packs(out_dir)
    except ReportError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as error:
        where = f" ({Path(error.filename).name})" if error.filename else ""
        print(f"error: client packs not written: {error.strerror or error}{where}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{plural(len(written), 'client pack')} written ({PACK_DIR}/ in each report folder: send only these files)")
    return EXIT_OK
