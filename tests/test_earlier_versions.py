"""Files from earlier versions keep working (issue 27, What to build #5).

Before genai-prices, ``alternative.api.model`` named a row of the price book's
``api_prices_usd_per_1m_tokens`` table (params/pricebook.yaml before commit 2fa31bc):

    gpt_4o: {input: 2.50, output: 10.00}
    claude_sonnet: {input: 3.00, output: 15.00}
    claude_haiku: {input: 0.80, output: 4.00}
    claude_opus: {input: 15.00, output: 75.00}

A file written then is read with the genai-prices model at the same price and a note saying
so, as ``training.sharded`` is; ``init``'s template validates as written, its commented
alternatives included; a refusal's "closest:" list names each model once.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ftcost_helpers.cli import main
from ftcost_helpers.engine.api_prices import RETIRED_MODEL_IDS, api_price
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.loading import load_params, notice_lines, params_from_mapping, read_yaml
from ftcost_helpers.engine.overrides import load_plan
from ftcost_helpers.engine.template import render_client

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_A = ROOT / "params" / "clients" / "example_a.yaml"
OLD_BOOK = {  # USD per 1M tokens (input, output), the table quoted above
    "gpt_4o": (2.50, 10.00),
    "claude_sonnet": (3.00, 15.00),
    "claude_haiku": (0.80, 4.00),
    "claude_opus": (15.00, 75.00),
}


def old_client(tmp_path: Path, api: dict[str, Any], **top: Any) -> Path:
    """Example A (no scenarios) with its API alternative as a file of last month gave it."""
    data = read_yaml(EXAMPLE_A)
    data.pop("scenarios")
    data["alternative"] = {"kind": "api", "api": api}
    data.update(top)
    path = tmp_path / "old.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_every_retired_name_has_a_price_book_row() -> None:
    assert set(RETIRED_MODEL_IDS) == set(OLD_BOOK)


@pytest.mark.parametrize("old", sorted(OLD_BOOK))
def test_a_retired_name_is_priced_as_the_old_book_priced_it(old: str) -> None:
    model, provider = RETIRED_MODEL_IDS[old]
    price = api_price(model, provider, dt.date(2026, 6, 1), 2000)
    assert (price.input_usd_per_1m, price.output_usd_per_1m) == OLD_BOOK[old]


def test_gpt_4o_of_the_old_form_validates_with_a_note(tmp_path, book) -> None:
    path = old_client(
        tmp_path,
        {"model": "gpt_4o", "input_tokens_million_per_month": 400, "output_tokens_million_per_month": 40},
    )
    params = load_params(path, book)
    assert (params.alternative.api.model, params.alternative.api.provider) == ("gpt-4o", "openai")
    (line,) = notice_lines(params, path)
    assert line.startswith(f"{path}: alternative.api.model: 'gpt_4o' ")
    assert "read as 'gpt-4o' (openai)" in line and "\n" not in line
    # 400M input × USD 2.50 + 40M output × USD 10.00 = 1,000 + 400 = USD 1,400 a month.
    assert float(evaluate(params, book).alternative_monthly) == pytest.approx(1400)


def test_the_cli_accepts_the_old_form(tmp_path, capsys) -> None:
    path = old_client(tmp_path, {"model": "claude_sonnet", "usd_per_month": 9000})
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.strip() == f"ok: {path}"


def test_a_provider_the_file_gives_wins(tmp_path, book) -> None:
    path = old_client(tmp_path, {"model": "gpt_4o", "provider": "azure", "usd_per_month": 1})
    assert load_params(path, book).alternative.api.provider == "azure"


def test_a_current_name_has_no_note(tmp_path, book) -> None:
    params = load_params(old_client(tmp_path, {"model": "gpt-4o", "usd_per_month": 1}), book)
    assert params.notices == ()


def test_a_scenario_of_the_old_form_gets_its_note(tmp_path, book) -> None:
    scenario = {
        "name": "Opus",
        "overrides": {"alternative": {"api": {"model": "claude_opus", "usd_per_month": 5000}}},
    }
    path = old_client(tmp_path, {"model": "gpt-4o", "usd_per_month": 1}, scenarios=[scenario])
    notes = notice_lines(load_plan(path, book), path)
    assert len(notes) == 1
    assert notes[0].startswith(f"{path}: scenarios.0 (Opus): alternative.api.model: 'claude_opus' ")


@pytest.mark.parametrize(
    ("old", "value", "new"),
    [("sharded", False, "sharding: none"), ("gradient_checkpointing", True, "activation_checkpointing: full")],
)
def test_an_old_training_key_is_noted_too(tmp_path, book, old: str, value: bool, new: str) -> None:
    data = read_yaml(EXAMPLE_A)
    data.pop("scenarios")
    data["training"][old] = value
    params = params_from_mapping(data, "old.yaml", book)
    assert params.notices == ((f"training.{old}", f"an older name, read as {new} (write that instead)"),)


def test_closest_names_each_once(tmp_path, capsys) -> None:
    """genai-prices lists gpt-4o under several providers: on main "closest: gpt-4o, gpt-4o"."""
    path = old_client(tmp_path, {"model": "gpt4o", "usd_per_month": 1})
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    closest = re.search(r"closest: ([^)]*)\)", err)
    assert closest is not None, err
    names = closest.group(1).split(", ")
    assert len(names) == len(set(names)) and "gpt-4o" in names


# --------------------------------------------------------------------------- init's template as written


def uncomment(text: str, marker: str) -> str:
    """The template with the commented line holding ``marker`` made live (its indentation kept)."""
    lines = text.splitlines()
    index = next(i for i, line in enumerate(lines) if line.lstrip().startswith("#") and marker in line)
    lines[index] = lines[index].replace("# ", "", 1)
    return "\n".join(lines) + "\n"


def test_the_template_names_no_retired_model() -> None:
    template = (ROOT / "params" / "templates" / "client.yaml").read_text(encoding="utf-8")
    assert not any(old in template for old in RETIRED_MODEL_IDS)


@pytest.mark.parametrize("alternative", ["api: {usd_per_month", "api: {model:"])
def test_each_commented_alternative_of_the_template_validates(tmp_path, book, alternative: str) -> None:
    """Swap ``kind: none`` for the commented ``kind: api`` and one of its two ways to cost it."""
    path = tmp_path / "acme.yaml"
    text = render_client("acme", path, book)
    text = text.replace("  kind: none ", "  # kind: none ", 1)
    text = uncomment(uncomment(text, "kind: api"), alternative)
    params = params_from_mapping(yaml.safe_load(text), path, book)
    assert params.alternative.kind == "api"
    assert params.notices == ()


@pytest.mark.parametrize("command", ["validate", "estimate"])
def test_the_cli_prints_the_note_for_an_old_id(tmp_path, example_files, capsys, command) -> None:
    data = yaml.safe_load(example_files["a"].read_text(encoding="utf-8"))
    data["alternative"] = {"kind": "api", "api": {"model": "gpt_4o", "usd_per_month": 22000}}
    old = tmp_path / "last_month.yaml"
    old.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main([command, str(old)]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note: ")]
    assert len(notes) == 1
    assert "alternative.api.model" in notes[0] and "'gpt-4o'" in notes[0] and str(old) in notes[0]
