"""Reserved / committed-use serving terms (issue 24, item 5;
ftcost_helpers/engine/model/commitment.py), worked by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.loading import ParamsError, load_params, read_yaml
from ftcost_helpers.engine.model.commitment import billed_hours_per_month, committed_rate, months_beyond_horizon
from ftcost_helpers.engine.summary import summarise

BANK = Path(__file__).resolve().parent / "fixtures" / "clients" / "european_bank.yaml"


def test_committed_rate_and_billed_hours():
    assert committed_rate(3.0, 0.37) == pytest.approx(1.89)  # 3 × 0.63
    assert committed_rate(3.0, 0.0) == 3.0
    assert billed_hours_per_month(400.0, True) == 730.0  # reserved: every hour billed
    assert billed_hours_per_month(730.0, True) == 730.0
    assert billed_hours_per_month(400.0, False) == 400.0


def test_months_owed_past_the_horizon():
    assert months_beyond_horizon(36, 24, 1) == 12  # 24 months in service, 12 more owed
    assert months_beyond_horizon(12, 24, 4) == 0  # 21 months in service cover the year
    assert months_beyond_horizon(36, 24, 25) == 36  # launched after the horizon: all owed
    assert months_beyond_horizon(24, 24, 1) == 0  # exactly the horizon


def _bank(tmp_path: Path, term: str) -> Path:
    data = read_yaml(BANK)
    data["serving"]["commitment"] = term
    path = tmp_path / "bank.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_a_three_year_term_on_the_bank(tmp_path, book):
    params = load_params(_bank(tmp_path, "three_year"), book)
    run = evaluate(params, book)
    # H100 SXM neocloud on demand 1.80–2.60 → 2.20 midpoint; 52–55 % off → 0.535 midpoint
    # 2.20 × 0.465 = 1.023 a GPU-hour; 1 GPU × 730 h × 1.023 = 746.79 a month
    assert float(run.serving.rate_usd_per_gpu_hour) == pytest.approx(1.023)
    assert float(run.serving.usd_per_month) == pytest.approx(746.79)
    summary = summarise(estimate(params, book), basis="base_case")["commitment"]
    # launched in month 1 of a 24-month horizon: 36 − 24 = 12 months owed, 12 × 730 × 1.023
    assert summary["term_months"] == 36 and summary["months_beyond_horizon"] == 12
    assert summary["owed_beyond_horizon_usd"] == pytest.approx(round(12 * 730 * 1.023, 2))


def test_no_commitment_by_default(examples, book):
    assert summarise(estimate(examples["a"], book), basis="base_case")["commitment"] is None


def test_an_unknown_term_is_refused(tmp_path, book):
    with pytest.raises(ParamsError, match=r"serving\.commitment"):
        load_params(_bank(tmp_path, "two_year"), book)


def test_the_terminal_and_the_document_state_the_commitment(tmp_path, book, capsys):
    import datetime as dt
    import re

    from ftcost_helpers.cli import main
    from ftcost_helpers.report.document import client_document
    from ftcost_helpers.report.figures import client_figures

    path = _bank(tmp_path, "three_year")
    assert main(["estimate", str(path)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    # 12 × 730 × 1.023 = 8,961.48 owed past the horizon (see the three-year case above)
    assert "Serving on a 36-month commitment (three_year): USD 1.02 per GPU-hour" in out
    assert "12 months of the term (USD 8,961) fall after the horizon" in out
    text = " ".join(
        re.sub(r"<[^>]+>", " ", client_document(client_figures(path, book, dt.date(2026, 12, 7), "t"))).split()
    )
    assert "Committed serving" in text and "USD 8,961" in text
