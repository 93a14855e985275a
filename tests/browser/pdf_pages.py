"""Reading a printed PDF with poppler-utils (pdfinfo, pdftotext, pdftoppm, pdfimages), for
the browser tests; a missing tool fails the test with the package to install."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest


def poppler(tool: str) -> str:
    """The path of poppler's ``tool``."""
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} not found: apt-get install -y poppler-utils", pytrace=False)
    return path


def page_count(pdf: Path) -> int:
    info = subprocess.run([poppler("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def pdf_text(pdf: Path, first: int = 1, last: int | None = None) -> str:
    """The text of pages ``first`` to ``last`` (default: the last page), laid out as printed."""
    command = [poppler("pdftotext"), "-layout", "-f", str(first), "-l", str(last or page_count(pdf)), str(pdf), "-"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout
