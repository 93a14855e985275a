"""The candidate validation rows (``candidate_runs.yaml``) are complete enough to be used.

The engine runs on every row it can express (candidates.py; test_published_runs.py asserts
them); each row names, under ``needs:``, the engine features it waited for when it was written
(issue 22). What is checked here is the data itself: every row carries its source
and the figure as printed, a model and a run the engine's keys can describe, at least one
measured figure in a declared unit, and needs drawn from the vocabulary that
docs/validation_sources.md explains. The counts asserted are issue 22's floor for the table
(at least 60 new rows from at least 10 publications, several GPU classes, 1 to >= 256 GPUs).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
CANDIDATES = HERE / "candidate_runs.yaml"
PUBLISHED = HERE / "published_runs.yaml"
SOURCES_DOC = ROOT / "docs" / "validation_sources.md"

MODEL_KEYS = ("name", "parameters_billion", "layers", "hidden_size", "attention_heads", "vocab_size")
MEMORY_METRICS = {"device", "reserved", "allocated"}
TIME_FIGURES = (
    "tokens_per_second",
    "tokens_per_second_per_gpu",
    "seconds_per_step",
    "seconds_per_run",
    "sequences_per_second",
    "model_tflops_per_gpu",
    "gpu_hours_per_trillion_tokens",
)
MEMORY_FIGURES = ("peak_memory_gb", "peak_memory_gib")


def load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


RUNS: list[dict[str, Any]] = load(CANDIDATES)["runs"]


@cache
def catalogue_gpus() -> frozenset[str]:
    """GPU keys the engine knows: the catalogue and the price book."""
    catalogue = load(ROOT / "params" / "gpus.yaml")["gpus"]
    book = load(ROOT / "params" / "pricebook.yaml").get("gpus", {})
    return frozenset(catalogue) | frozenset(book)


@cache
def needs_vocabulary() -> frozenset[str]:
    """The need names docs/validation_sources.md defines: its `name` entries in the needs table."""
    text = SOURCES_DOC.read_text(encoding="utf-8")
    return frozenset(re.findall(r"^\| `([a-z0-9_]+)` \|", text, flags=re.MULTILINE))


def rows() -> list[Any]:
    """One pytest parameter per row, named by the row's id."""
    return [pytest.param(row, id=row["id"]) for row in RUNS]


def test_ids_are_unique_and_new() -> None:
    ids = [row["id"] for row in RUNS]
    assert len(ids) == len(set(ids))
    published = {row["id"] for row in load(PUBLISHED)["runs"]}
    assert not set(ids) & published


def test_enough_rows_publications_and_scale() -> None:
    documents = {row["source"]["document"] for row in RUNS}
    published_documents = {row["source"]["document"] for row in load(PUBLISHED)["runs"]}
    gpus = [row["training"]["gpus_per_run"] for row in RUNS]
    assert len(RUNS) >= 60
    assert len(documents - published_documents) >= 10
    assert min(gpus) == 1 and max(gpus) >= 256


@pytest.mark.parametrize("row", rows())
def test_row_has_its_source(row: dict[str, Any]) -> None:
    source = row["source"]
    for key in ("document", "url", "table", "figure"):
        assert str(source.get(key, "")).strip(), f"{row['id']}: source.{key} missing"
    assert str(source["url"]).startswith("https://")
    assert any(ch.isdigit() for ch in source["figure"]) or "OOM" in source["figure"] or "fit" in source["figure"]


@pytest.mark.parametrize("row", rows())
def test_row_has_model_and_run(row: dict[str, Any]) -> None:
    for key in MODEL_KEYS:
        assert key in row["model"], f"{row['id']}: model.{key} missing"
    training = row["training"]
    assert training["gpus_per_run"] >= 1
    assert "method" in training
    has_catalogue_gpu = training.get("gpu") in catalogue_gpus()
    has_spec = "gpu_spec" in row and row["gpu_spec"]["memory_gb"] > 0
    assert has_catalogue_gpu != has_spec, f"{row['id']}: exactly one of training.gpu (catalogued) or gpu_spec"
    if has_spec:
        assert "gpu_catalogue_entry" in row["needs"], f"{row['id']}: a GPU outside the catalogue needs an entry"


@pytest.mark.parametrize("row", rows())
def test_row_measures_something_in_a_declared_unit(row: dict[str, Any]) -> None:
    measured = row["measured"]
    assert isinstance(measured.get("fits"), bool)
    memory = [key for key in MEMORY_FIGURES if key in measured]
    time = [key for key in TIME_FIGURES if key in measured]
    if measured["fits"] is False:
        assert not memory and not time, f"{row['id']}: a run that did not fit has no figures"
        return
    assert len(memory) <= 1, f"{row['id']}: memory given in one unit only"
    if memory:
        assert measured.get("memory_metric") in MEMORY_METRICS
        assert measured[memory[0]] > 0
    if "seconds_per_run" in measured:
        assert measured["sequences_per_run"] > 0
    for key in time:
        assert measured[key] > 0


@pytest.mark.parametrize("row", rows())
def test_needs_come_from_the_documented_vocabulary(row: dict[str, Any]) -> None:
    vocabulary = needs_vocabulary()
    assert row["needs"], f"{row['id']}: needs is empty"
    unknown = set(row["needs"]) - vocabulary
    assert not unknown, f"{row['id']}: needs not in docs/validation_sources.md: {sorted(unknown)}"


@pytest.mark.parametrize("row", rows())
def test_multi_gpu_and_multi_node_rows_say_so(row: dict[str, Any]) -> None:
    training = row["training"]
    if training.get("nodes", 1) > 1:
        assert "multi_node" in row["needs"] or row["measured"]["fits"] is False
    if training["gpus_per_run"] > 1 and row["measured"]["fits"]:
        assert "communication" in row["needs"]
    if training.get("offload"):
        assert "offload" in row["needs"]
    if row["model"].get("experts"):
        assert "expert_parallel" in row["needs"]


def test_vocabulary_is_used() -> None:
    """Every need the document defines is needed by some row (no stale names)."""
    used = {name for row in RUNS for name in row["needs"]}
    assert needs_vocabulary() == used
