"""API prices from genai-prices: list prices, tiers by request size, the plan's date, names.

Expected prices are the providers' published list prices (USD per 1M tokens):
- Anthropic, https://docs.anthropic.com/en/docs/about-claude/pricing: Claude Sonnet 4.5 input 3,
  output 15, cache hits 0.30; prompts above 200K input tokens 6 / 22.50. Claude Opus 4.5 5 / 25.
- OpenAI, https://openai.com/api/pricing: GPT-4o input 2.50, cached input 1.25, output 10.
- Google, https://ai.google.dev/gemini-api/docs/pricing: Gemini 2.5 Flash input 0.30 (text),
  output 2.50.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ftcost_helpers import cli
from ftcost_helpers.engine import api_prices
from ftcost_helpers.engine.api_prices import UnknownApiModel, api_price
from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.loading import ParamsError, load_params

JUNE = dt.date(2026, 6, 1)


@pytest.mark.parametrize(
    ("model", "input_price", "cached", "output_price"),
    [("claude-sonnet-4-5", 3.0, 0.30, 15.0), ("gpt-4o", 2.50, 1.25, 10.0), ("claude-opus-4-5", 5.0, 0.50, 25.0)],
)
def test_list_prices_match_the_providers_pages(model, input_price, cached, output_price):
    price = api_price(model, None, JUNE, 2000)
    assert (price.input_usd_per_1m, price.cached_input_usd_per_1m, price.output_usd_per_1m) == pytest.approx(
        (input_price, cached, output_price)
    )


def test_gemini_flash_is_found_without_a_provider():
    price = api_price("gemini-2.5-flash", None, JUNE, 2000)
    assert (price.provider, price.input_usd_per_1m, price.output_usd_per_1m) == ("google", 0.30, 2.50)


def test_a_long_request_pays_the_long_context_tier():
    # Anthropic: Sonnet 4.5 prompts above 200K input tokens cost 6 / 22.50 per 1M.
    long = api_price("claude-sonnet-4-5", None, JUNE, 250_000)
    assert (long.input_usd_per_1m, long.output_usd_per_1m) == (6.0, 22.5)


def test_the_price_is_the_one_in_force_on_the_plans_start_date():
    # genai-prices records Sonnet 4.6's long-context premium (6 per 1M above 200K) until
    # 2026-03-13, flat 3 from then on (Anthropic removed the premium for 4.6).
    assert api_price("claude-sonnet-4-6", None, dt.date(2026, 3, 1), 250_000).input_usd_per_1m == 6.0
    assert api_price("claude-sonnet-4-6", None, JUNE, 250_000).input_usd_per_1m == 3.0


def test_the_source_names_the_package_model_and_date():
    source = api_price("gpt-4o", "openai", JUNE, 2000).source
    assert source.startswith("genai-prices 0.2.3, openai gpt-4o as checked 2026-06-01")


def test_unknown_model_lists_the_closest_names():
    with pytest.raises(UnknownApiModel, match="claude-sonnet-4-5"):
        api_price("claude-sonet-4-5", None, JUNE, 2000)


API_CLIENT = {
    "alternative": {
        "kind": "api",
        "api": {
            "usd_per_month": None,
            "model": "claude-sonnet-4-5",
            "input_tokens_million_per_month": 400,
            "output_tokens_million_per_month": 40,
        },
    }
}


def _client_file(tmp_path, example_files, overrides):
    from ftcost_helpers.engine.loading import deep_merge, read_yaml

    data = deep_merge(read_yaml(example_files["a"]), overrides)
    data.pop("scenarios")
    path = tmp_path / "client.yaml"
    import yaml

    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_a_named_model_prices_the_monthly_tokens(tmp_path, example_files, book):
    params = load_params(_client_file(tmp_path, example_files, API_CLIENT), book)
    run = estimate(params, book).base
    # 400M input × USD 3 + 40M output × USD 15 = 1,200 + 600 = USD 1,800 a month
    assert run.alternative_monthly == pytest.approx(1800)
    assert run.alternative_source.startswith("genai-prices 0.2.3, anthropic claude-sonnet-4-5")


def test_cached_input_is_billed_at_the_cached_price(tmp_path, example_files, book):
    cached = {"alternative": {"api": {"cached_input_tokens_million_per_month": 1000}}}
    from ftcost_helpers.engine.loading import deep_merge

    params = load_params(_client_file(tmp_path, example_files, deep_merge(API_CLIENT, cached)), book)
    # 1,800 as above + 1,000M cached × USD 0.30 = 2,100
    assert estimate(params, book).base.alternative_monthly == pytest.approx(2100)


def test_estimate_json_names_genai_prices(tmp_path, example_files, capsys):
    assert cli.main(["estimate", "--json", str(_client_file(tmp_path, example_files, API_CLIENT))]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["alternative_source"].startswith("genai-prices 0.2.3, anthropic claude-sonnet-4-5")


def test_an_unknown_model_is_one_line_naming_the_key(tmp_path, example_files, book):
    wrong = {"alternative": {"api": {"model": "claude-sonet-4-5"}}}
    with pytest.raises(ParamsError) as caught:
        load_params(_client_file(tmp_path, example_files, wrong), book)
    assert "alternative.api.model: genai-prices 0.2.3 knows no model 'claude-sonet-4-5'" in str(caught.value)
    assert "claude-sonnet-4-5" in str(caught.value)


def test_an_unknown_provider_names_the_provider_key(tmp_path, example_files, book):
    wrong = {"alternative": {"api": {"provider": "anthropik"}}}
    with pytest.raises(ParamsError, match=r"alternative\.api\.provider: .*closest: anthropic"):
        load_params(_client_file(tmp_path, example_files, wrong), book)


def test_genai_prices_is_not_imported_with_the_package():
    code = (
        "import sys, ftcost_helpers.cli, ftcost_helpers.engine.breakdown, ftcost_helpers.engine.loading;"
        "print('genai_prices' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


def test_prices_come_from_the_bundled_snapshot_without_network(monkeypatch):
    """No request leaves the process: any attempt by the package's HTTP client fails."""
    import httpx2

    def refuse(*args, **kwargs):
        raise AssertionError("genai-prices tried the network")

    monkeypatch.setattr(httpx2.Client, "send", refuse)
    api_price.cache_clear()
    assert api_price("gpt-4o", None, JUNE, 2000).output_usd_per_1m == 10.0


def _validate_in_subprocess(file: Path, cache: Path, code_after: str = "") -> subprocess.CompletedProcess[str]:
    script = (
        "import sys; from ftcost_helpers.cli import main; "
        f"status = main(['validate', {str(file)!r}]); {code_after}"
        "print('genai_prices' in sys.modules); sys.exit(status)"
    )
    environment = {**os.environ, "FTCOST_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment)


def test_a_remembered_name_is_checked_without_importing_genai_prices(tmp_path, example_files):
    # Example A's scenario names gpt-4o: the first validate looks it up, the second remembers it.
    first = _validate_in_subprocess(example_files["a"], tmp_path)
    second = _validate_in_subprocess(example_files["a"], tmp_path)
    assert (first.returncode, first.stdout.splitlines()[-1]) == (0, "True")
    assert (second.returncode, second.stdout.splitlines()[-1]) == (0, "False")


def test_unknown_names_are_never_remembered(tmp_path, example_files):
    wrong = {"alternative": {"api": {"model": "claude-sonet-4-5"}}}
    for _ in range(2):  # the second run must look it up again and fail again
        result = _validate_in_subprocess(_client_file(tmp_path, example_files, wrong), tmp_path / "cache")
        assert result.returncode == 1
        assert "knows no model 'claude-sonet-4-5'" in result.stderr
    remembered = [json.loads(file.read_text()) for file in (tmp_path / "cache").glob("genai-prices-*.json")]
    assert not any("claude-sonet" in key for entries in remembered for key in entries)


def test_a_remembered_price_is_the_list_price(tmp_path, monkeypatch):
    # OpenAI's list price of gpt-4o on 2026-06-01: 2.50 input, 10.00 output per 1M tokens.
    monkeypatch.setenv("FTCOST_CACHE_DIR", str(tmp_path))
    api_prices._remembered.cache_clear()
    api_price.cache_clear()
    looked_up = api_price("gpt-4o", None, JUNE, 2000)
    api_prices._remembered.cache_clear()
    api_price.cache_clear()
    monkeypatch.setattr(api_prices, "_price_from_snapshot", lambda *args: pytest.fail("not read from the cache"))
    remembered = api_price("gpt-4o", None, JUNE, 2000)
    assert remembered == looked_up
    assert (remembered.input_usd_per_1m, remembered.output_usd_per_1m, remembered.on) == (2.5, 10.0, JUNE)
    api_prices._remembered.cache_clear()
    api_price.cache_clear()


@pytest.mark.parametrize("damage", ["not json {", "[1, 2]", '{"price|gpt-4o||2026-06-01|2000": {"on": "x"}}'])
def test_a_damaged_cache_is_ignored_and_rewritten(tmp_path, monkeypatch, damage):
    monkeypatch.setenv("FTCOST_CACHE_DIR", str(tmp_path))
    cache = api_prices.cache_path()
    cache.write_text(damage)
    api_prices._remembered.cache_clear()
    api_price.cache_clear()
    assert api_price("gpt-4o", None, JUNE, 2000).output_usd_per_1m == 10.0
    assert json.loads(cache.read_text())["price|gpt-4o||2026-06-01|2000"]["output_usd_per_1m"] == 10.0
    api_prices._remembered.cache_clear()
    api_price.cache_clear()


def test_no_cache_folder_or_an_unwritable_one_still_prices(tmp_path, monkeypatch):
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    for folder in ("", str(not_a_folder / "cache")):  # the second cannot be created
        monkeypatch.setenv("FTCOST_CACHE_DIR", folder)
        api_prices._remembered.cache_clear()
        api_price.cache_clear()
        assert api_price("gpt-4o", None, JUNE, 2000).input_usd_per_1m == 2.5
    assert api_prices.cache_path() is not None and not api_prices.cache_path().exists()
    assert list(tmp_path.rglob("*.tmp")) == []
    api_prices._remembered.cache_clear()
    api_price.cache_clear()
