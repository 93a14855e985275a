"""Provenance per input (issue 21, finding 2): every input is labelled by where its value
comes from (the client file, the firm's defaults, the dated price book or the model
catalogue), whatever the shape the client wrote it in: a number, ``{low, high}`` or
``{low, mode, high}``, and inside a scenario's overrides.

Each expected label is read off the files by eye: what the client file below (or example A)
writes is the client's; ``params/defaults.yaml`` sets ``serving.hours_per_month: 730``,
``engineering.hours_per_week: 40`` and ``training.lora.rank: 16``; neither sets
``dataset.curation_usd`` (the schema's zero); the price book of 26 May 2026 prices H100 SXM
and A100 80GB on neocloud spot; ``params/models.yaml`` holds Qwen/Qwen2.5-7B.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from ftcost_helpers.engine.loading import load_params, read_yaml
from ftcost_helpers.engine.overrides import scenario_params
from ftcost_helpers.engine.provenance import (
    CATALOGUE,
    CLIENT,
    FIRM_DEFAULT,
    PRICE_BOOK,
    given_keys,
    input_provenance,
    scenario_keys,
)
from ftcost_helpers.report.document import assumptions_section, client_keys, sources_section
from ftcost_helpers.report.figures import ClientFigures
from ftcost_helpers.report.workings import CLIENT_SOURCE, DEFAULT_SOURCE, plan_workings

EVERY_SHAPE = """\
client: Every shape
start_date: 2026-06-01
base_model: {name: Qwen/Qwen2.5-7B}
training:
  method: lora
  gpu: h100_sxm
  tier: neocloud_spot
  gpus_per_run: 2
  hours_per_run: {low: 4, high: 8}
  runs: {low: 3, mode: 5, high: 9}
  sharded: true
  failed_runs: 0
dataset:
  pairs: 5000
  annotation_rate_usd_per_hour: {low: 30, mode: 40, high: 60}
serving: {gpu: h100_sxm, tier: neocloud_on_demand, gpus: 1, tokens_per_second: 300}
scenarios:
  - name: Curated data on A100s
    overrides:
      training: {gpu: a100_80gb}
      dataset: {curation_usd: {low: 1000, mode: 2000, high: 4000}}
"""


@pytest.fixture()
def every_shape(tmp_path: Path, book):
    path = tmp_path / "every_shape.yaml"
    path.write_text(EVERY_SHAPE, encoding="utf-8")
    return path, load_params(path, book), given_keys(read_yaml(path))


def test_a_range_of_any_shape_is_one_key_and_an_old_key_takes_its_new_name(every_shape) -> None:
    _, _, keys = every_shape
    assert {"training.runs", "training.hours_per_run", "dataset.annotation_rate_usd_per_hour"} <= keys
    assert not any(key.endswith((".low", ".mode", ".high")) for key in keys)
    assert "training.sharding" in keys and "training.sharded" not in keys


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("training.gpus_per_run", CLIENT),  # a number
        ("training.failed_runs", CLIENT),  # a number the defaults also set: the client's wins
        ("training.hours_per_run", CLIENT),  # {low, high}
        ("training.runs", CLIENT),  # {low, mode, high}: the finding's mislabel
        ("dataset.annotation_rate_usd_per_hour", CLIENT),
        ("training.sharding", CLIENT),  # given under its old name, sharded
        ("serving.hours_per_month", FIRM_DEFAULT),  # defaults.yaml: 730
        ("training.lora.rank", FIRM_DEFAULT),  # defaults.yaml, nested: 16
        ("dataset.curation_usd", FIRM_DEFAULT),  # set nowhere: the schema's zero
        ("training.rate_usd_per_gpu_hour", PRICE_BOOK),  # not booked: the price book's range
        ("training.utilisation", PRICE_BOOK),  # not given: the book's default for LoRA
        ("base_model.layers", CATALOGUE),  # the file names the model only
        ("base_model.name", CLIENT),
    ],
)
def test_each_input_is_labelled_by_where_its_value_comes_from(every_shape, book, key: str, kind: str) -> None:
    _, params, keys = every_shape
    assert input_provenance(key, params, book, keys).kind == kind


def test_a_price_book_rate_carries_the_books_date_gpu_and_tier(every_shape, book) -> None:
    _, params, keys = every_shape
    rate = input_provenance("training.rate_usd_per_gpu_hour", params, book, keys)
    assert rate.as_of == dt.date(2026, 5, 26)
    assert rate.detail == "price book of 26 May 2026: H100 SXM, neocloud spot"


def test_the_not_in_the_plan_default_is_told_apart_from_the_defaults_file(every_shape, book) -> None:
    _, params, keys = every_shape
    assert input_provenance("dataset.curation_usd", params, book, keys).detail == "firm defaults (not in the plan)"
    assert input_provenance("serving.hours_per_month", params, book, keys).detail == "firm defaults"


def test_a_scenario_override_is_the_clients_and_a_dropped_rate_the_price_books(every_shape, book) -> None:
    _, params, keys = every_shape
    scenario = params.scenarios[0]
    plan = scenario_params(params, book, scenario)
    owed = scenario_keys(keys, scenario.overrides)
    # curation is not in the plan (firm default, zero) but the scenario gives it as {low, mode, high}
    assert input_provenance("dataset.curation_usd", params, book, keys).kind == FIRM_DEFAULT
    assert input_provenance("dataset.curation_usd", plan, book, owed).kind == CLIENT
    assert input_provenance("training.runs", plan, book, owed).kind == CLIENT  # the plan's own, kept
    # the scenario moves to A100s and books no rate: the A100 spot range of the price book
    rate = input_provenance("training.rate_usd_per_gpu_hour", plan, book, owed)
    assert (rate.kind, rate.detail) == (PRICE_BOOK, "price book of 26 May 2026: A100 80GB, neocloud spot")


def test_the_workings_label_every_shape_as_the_client_gives_it(every_shape, book) -> None:
    _, params, keys = every_shape
    inputs = plan_workings(params, book, keys).inputs
    for key in ("training.runs", "training.hours_per_run", "training.gpus_per_run"):
        assert inputs[key].source == CLIENT_SOURCE, key
    assert inputs["dataset.annotation_rate_usd_per_hour"].source == CLIENT_SOURCE
    assert inputs["serving.hours_per_month"].source == DEFAULT_SOURCE
    assert inputs["training.rate_usd_per_gpu_hour"].source.startswith("price book of 26 May 2026: H100 SXM")


EXAMPLE_A_CLIENT_INPUTS = {
    # the workings inputs example_a.yaml writes, read off the file: 4 training, 4 dataset,
    # 2 evaluation, 2 engineering, 2 serving, 8 maintenance, 1 alternative = 23
    "training.gpus_per_run",
    "training.hours_per_run",
    "training.runs",
    "training.rate_usd_per_gpu_hour",
    "dataset.pairs",
    "dataset.annotation_rate_usd_per_hour",
    "dataset.annotation_hours",
    "dataset.sourcing_usd",
    "evaluation.setup_usd",
    "evaluation.continuous_usd_per_month",
    "engineering.engineer_weeks",
    "engineering.rate_usd_per_hour",
    "serving.gpus",
    "serving.setup_usd",
    "maintenance.start_month",
    "maintenance.re_evaluation_usd_per_quarter",
    "maintenance.drift_monitoring_usd_per_quarter",
    "maintenance.incremental_data_usd_per_quarter",
    "maintenance.retrains_per_quarter",
    "maintenance.retrain_fraction_of_first_compute",
    "maintenance.migrations_per_year",
    "maintenance.migration_usd",
    "alternative.api.usd_per_month",
}


def test_example_a_labels(examples, example_files, book) -> None:
    params = examples["a"]
    inputs = plan_workings(params, book, given_keys(read_yaml(example_files["a"]))).inputs
    by_client = {key for key, item in inputs.items() if item.source == CLIENT_SOURCE}
    assert by_client == EXAMPLE_A_CLIENT_INPUTS
    assert inputs["serving.rate_usd_per_gpu_hour"].source == "price book of 26 May 2026: H100 SXM, neocloud on demand"
    assert inputs["engineering.hours_per_week"].source == DEFAULT_SOURCE  # defaults.yaml: 40
    # storage and egress (issue 24): prices from the price book, sizes from the model and horizon
    priced = {"storage.usd_per_tb_month", "storage.egress_usd_per_tb"}
    derived = {"storage.checkpoint_gb", "storage.months"}
    for key in priced:
        assert inputs[key].source == "price book of 26 May 2026: storage and egress prices"
    assert inputs["storage.checkpoint_gb"].source.startswith("trained parameters × 14 bytes")
    assert inputs["storage.months"].source == "the horizon"
    others = set(inputs) - by_client - {"serving.rate_usd_per_gpu_hour"} - priced - derived
    assert all(inputs[key].source == DEFAULT_SOURCE for key in others)


def test_example_a_document_credits_its_ranges_to_the_client(examples, example_files, book) -> None:
    from ftcost_helpers.engine.breakdown import estimate
    from ftcost_helpers.engine.summary import summarise

    params = examples["a"]
    breakdown = estimate(params, book)
    figures = ClientFigures(example_files["a"], params, breakdown, summarise(breakdown))
    workings = plan_workings(params, book, client_keys(figures))
    table = assumptions_section(figures, workings)
    for label in ("Training runs", "Annotation hours given", "Engineer weeks"):  # all {low, mode, high}
        row = re.search(rf"<td class=\"\">{label}</td>.*?</tr>", table, re.S)
        assert row is not None and row.group(0).endswith('<a href="#sources">1</a></td></tr>'), label
    sources = sources_section(figures, workings)
    assert f"23 inputs of the {len(workings.inputs)} listed under assumptions" in sources  # the hand count above


def test_a_model_named_only_cites_the_model_catalogue(every_shape, book) -> None:
    from ftcost_helpers.engine.breakdown import estimate
    from ftcost_helpers.engine.summary import summarise

    path, params, _ = every_shape
    breakdown = estimate(params, book)
    figures = ClientFigures(path, params, breakdown, summarise(breakdown))
    workings = plan_workings(params, book, client_keys(figures))
    assert "from the model catalogue (source 4)" in assumptions_section(figures, workings)
    assert "<li>The model catalogue as of" in sources_section(figures, workings)


def test_a_config_json_the_client_names_is_the_clients(tmp_path: Path, book) -> None:
    # the client names Qwen/Qwen2.5-7B (in the catalogue) and gives its config.json: the
    # figures read from that file are the client's, not the catalogue's
    (tmp_path / "config.json").write_text(
        '{"num_hidden_layers": 28, "hidden_size": 3584, "num_attention_heads": 28, "num_key_value_heads": 4, '
        '"intermediate_size": 18944, "vocab_size": 152064, "tie_word_embeddings": false}',
        encoding="utf-8",
    )
    path = tmp_path / "own_config.yaml"
    path.write_text(
        EVERY_SHAPE.replace(
            "base_model: {name: Qwen/Qwen2.5-7B}", "base_model: {name: Qwen/Qwen2.5-7B, config_json: config.json}"
        ),
        encoding="utf-8",
    )
    params = load_params(path, book)
    origin = input_provenance("base_model.layers", params, book, given_keys(read_yaml(path)))
    assert (origin.kind, origin.detail) == (CLIENT, "client file (the model's config.json)")


def test_a_scenario_on_another_model_takes_its_figures_from_the_catalogue(examples, example_files, book) -> None:
    # example A gives Qwen2.5-7B's architecture itself (client); a scenario naming
    # Qwen/Qwen2.5-14B gets that model's layers from the catalogue, not the plan's 28
    from ftcost_helpers.engine.schema import Scenario

    params = examples["a"]
    keys = given_keys(read_yaml(example_files["a"]))
    scenario = Scenario(name="14B", overrides={"base_model": {"name": "Qwen/Qwen2.5-14B"}})
    plan = scenario_params(params, book, scenario)
    assert input_provenance("base_model.layers", params, book, keys).kind == CLIENT
    owed = scenario_keys(keys, scenario.overrides, params)
    assert input_provenance("base_model.layers", plan, book, owed).kind == CATALOGUE
    assert input_provenance("base_model.name", plan, book, owed).kind == CLIENT
    assert input_provenance("training.runs", plan, book, owed).kind == CLIENT
