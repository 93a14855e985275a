"""Shared fixtures: the price book and the worked-example parameter files; :func:`as_input`
for the strategies that write numbers into client files."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# The genai-prices lookup cache of the test run is its own (subprocesses inherit it), so a
# developer's ~/.cache never answers for the code under test.
os.environ["FTCOST_CACHE_DIR"] = tempfile.mkdtemp(prefix="ftcost-test-cache-")

from ftcost_helpers.engine.loading import load_params, load_price_book, project_root
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.schema import Params

ROOT = project_root()
CLIENTS = ROOT / "params" / "clients"


@pytest.fixture(scope="session")
def book() -> PriceBook:
    return load_price_book()


@pytest.fixture(scope="session")
def example_files() -> dict[str, Path]:
    return {name: CLIENTS / f"example_{name}.yaml" for name in "abc"}


@pytest.fixture(scope="session")
def examples(book: PriceBook, example_files: dict[str, Path]) -> dict[str, Params]:
    return {name: load_params(path, book) for name, path in example_files.items()}
