"""`diff`: a re-quote's change attributed to prices, plan, calibration, model and their
interaction (issue 23 item 2). Expected figures derived by hand from the price book."""

from __future__ import annotations

import json

import pytest
import yaml

from ftcost_helpers.cli import main
from ftcost_helpers.engine.loading import load_price_book, params_from_mapping, read_yaml
from ftcost_helpers.engine.loading import project_root as root
from ftcost_helpers.engine.requote import CAUSES, changed_keys, requote

EXAMPLE_B = root() / "params" / "clients" / "example_b.yaml"

# Example B serves on 4 × H100 SXM, neocloud on-demand, 730 hours a month from month 1 to 24.
# The price book's range is 1.80–2.60 USD/GPU-hour (base case the midpoint, 2.20); the overlay
# below makes it 1.80–2.20 (base 2.00): −0.20 × 4 × 730 = −584 a month, × 24 months = −14,016.
OVERLAY = {
    "as_of": "2026-11-01",
    "source": "negotiated contract (test)",
    "gpu_rates_usd_per_gpu_hour": {"h100_sxm": {"neocloud_on_demand": {"low": 1.80, "high": 2.20}}},
}


@pytest.fixture(scope="module")
def overlay(tmp_path_factory):
    path = tmp_path_factory.mktemp("rates") / "rates.yaml"
    path.write_text(yaml.safe_dump(OVERLAY), encoding="utf-8")
    return path


def plan(**training):
    data = read_yaml(EXAMPLE_B)
    data["training"].update(training)
    return params_from_mapping(data, "b.yaml")


def test_a_rates_overlay_is_all_prices(book, overlay):
    new_book = load_price_book(rates=overlay)
    result = requote(plan(), book, plan(), new_book, "base_case")
    assert result.change["tco"] == pytest.approx(-14_016.0, abs=0.01)
    assert result.change["programme"] == pytest.approx(0.0, abs=0.01)  # serving is not in the programme
    assert result.attribution["prices"]["tco"] == pytest.approx(-14_016.0, abs=0.01)
    for cause in ("plan", "calibration", "model", "interaction"):
        assert result.attribution[cause]["tco"] == pytest.approx(0.0, abs=0.01)
    assert result.changed == []


def test_a_changed_runs_is_all_plan(book):
    # Example B books 4 GPUs × 9 h a run at its own rate, 4.86111 USD/GPU-hour; runs from the
    # mode 8 (range 6–12, base case the mode) to 5: the training line falls by
    # 3 × 4 × 9 × 4.86111 = 525.00 (B has no failed runs or sweep to move with it).
    old, new = plan(), plan(runs=5)
    result = requote(old, book, new, book, "base_case")
    training_line = -3 * 4 * 9 * 4.86111
    assert result.attribution["plan"]["programme"] == pytest.approx(result.change["programme"], abs=0.01)
    assert result.change["programme"] == pytest.approx(training_line, abs=0.01)
    assert result.attribution["prices"]["programme"] == 0.0
    assert [key for key, _, _ in result.changed] == ["training.runs"]


def test_the_parts_always_add_up_to_the_change(book, overlay):
    new_book = load_price_book(rates=overlay)
    result = requote(plan(), book, plan(runs=5), new_book, "base_case")
    for figure in ("programme", "tco"):
        assert sum(result.attribution[cause][figure] for cause in CAUSES) == pytest.approx(
            result.change[figure], abs=1e-6
        )
    # Prices alone and the plan alone, each from the old quote: fewer runs at the old rate and
    # the new rate on the old runs; serving's rate does not touch the runs, so nothing interacts.
    assert result.attribution["interaction"]["programme"] == pytest.approx(0.0, abs=0.01)


def test_changed_keys_treat_a_range_as_one_value():
    assert changed_keys(plan(), plan(runs=5)) == [("training.runs", {"low": 6.0, "high": 12.0, "mode": 8.0}, 5.0)]


def test_diff_json_has_the_contract(overlay, capsys):
    assert main(["diff", str(EXAMPLE_B), str(EXAMPLE_B), "--rates", str(overlay), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"old", "new", "change_usd", "attribution_usd"}
    assert set(out["attribution_usd"]) == set(CAUSES)
    assert all(set(pair) == {"programme", "tco"} for pair in out["attribution_usd"].values())
    assert out["attribution_usd"]["prices"]["tco"] == out["change_usd"]["tco"] < 0


def test_diff_text_and_a_bad_file(tmp_path, capsys):
    assert main(["diff", str(EXAMPLE_B), str(EXAMPLE_B)]) == 0
    assert "Re-quote, on the" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("client: x\n", encoding="utf-8")
    assert main(["diff", str(EXAMPLE_B), str(bad)]) == 1
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "Traceback" not in err


def test_diff_between_two_currencies_is_one_line(tmp_path, capsys):
    # Example B in USD against the same plan in EUR: a change between them would be mostly the
    # exchange rate, so the re-quote is refused, naming both files and both currencies.
    euro = tmp_path / "example_b_eur.yaml"
    euro.write_text(yaml.safe_dump(read_yaml(EXAMPLE_B) | {"currency": "EUR"}, sort_keys=False), encoding="utf-8")
    for old, new, old_code, new_code in ((EXAMPLE_B, euro, "USD", "EUR"), (euro, EXAMPLE_B, "EUR", "USD")):
        assert main(["diff", str(old), str(new)]) == 1
        captured = capsys.readouterr()
        assert captured.out == ""
        lines = captured.err.splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith(f"error: {new}: currency: {new_code}, but the earlier quote "), lines[0]
        assert f"{old.name}' is in {old_code}" in lines[0], lines[0]


def test_requote_refuses_two_currencies_in_code(book):
    usd = params_from_mapping(read_yaml(EXAMPLE_B))
    eur = params_from_mapping(read_yaml(EXAMPLE_B) | {"currency": "EUR"})
    with pytest.raises(ValueError, match="the new quote is in EUR, the earlier one in USD"):
        requote(usd, book, eur, book, "p50")
