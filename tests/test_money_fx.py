"""Money in the client's currency (issue 24, item 5): dated exchange rates in the price book,
prices converted at the plan's start date in one place (engine/fx.py), every output in the
client's currency with the rate and its date cited.

The rates are the ECB's euro reference rates of 28 June 2024 (params/pricebook.yaml,
``fx_rates``): EUR 1 = USD 1.0705 = GBP 0.84638. Expected figures are worked by hand below.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ftcost_helpers.cli import main
from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.fx import NoFxRate, in_currency, rate_at, table_at
from ftcost_helpers.engine.loading import load_params, read_yaml
from ftcost_helpers.engine.money import amounts_in, compact_usd, tick_labels, usd, usd_cents, usd_range
from ftcost_helpers.engine.pricebook import FxTable
from ftcost_helpers.engine.summary import summarise

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "clients"
BANK_USD = FIXTURES / "european_bank.yaml"
BANK_EUR = FIXTURES / "european_bank_eur.yaml"
START = dt.date(2026, 9, 1)

EUR_PER_USD = 1 / 1.0705  # = 0.934143... EUR per USD (ECB, 28 June 2024)
GBP_PER_USD = 0.84638 / 1.0705  # = 0.790640... GBP per USD, crossed through the euro


# ---- formatting ---------------------------------------------------------------------------


def test_money_takes_the_currency_code():
    assert usd(88_550, "EUR") == "EUR 88,550"
    assert usd(-1_200, "EUR") == "−EUR 1,200"
    assert usd_cents(1.705, "GBP") == "GBP 1.71"  # half up at the cent
    assert usd_range(307_100, 434_200, "CHF") == "CHF 307,100 – 434,200"
    assert compact_usd(13_500, currency="EUR") == "EUR 13.5k"
    assert compact_usd(0, currency="EUR") == "EUR 0"


def test_the_plan_currency_applies_inside_amounts_in_and_is_restored_after():
    assert usd(5) == "USD 5"
    with amounts_in("EUR"):
        assert usd(5) == "EUR 5"
        assert tick_labels([0, 2500, 5000]) == ["EUR 0", "EUR 2.5k", "EUR 5k"]
        assert usd(5, "JPY") == "JPY 5"  # an explicit code wins
    assert usd(5) == "USD 5"


# ---- the rate in force at the plan's date --------------------------------------------------


def test_rate_of_the_ecb_table_through_the_euro(book):
    eur = rate_at(book, "EUR", START)
    assert eur.per_usd == pytest.approx(EUR_PER_USD)
    assert eur.date == dt.date(2024, 6, 28)
    assert "European Central Bank" in eur.source
    assert rate_at(book, "GBP", START).per_usd == pytest.approx(GBP_PER_USD)


def test_the_book_currency_needs_no_rate(book):
    same = rate_at(book, "USD", START)
    assert (same.per_usd, same.date, same.converted) == (1.0, None, False)


def test_a_currency_no_table_quotes_is_refused(book):
    with pytest.raises(NoFxRate, match="no exchange rate for XYZ"):
        rate_at(book, "XYZ", START)


def test_the_table_in_force_is_the_latest_on_or_before_the_date():
    january = FxTable(date=dt.date(2026, 1, 5), source="s", per_eur={"USD": 1.2})
    june = FxTable(date=dt.date(2026, 6, 1), source="s", per_eur={"USD": 1.1})
    tables = [june, january]
    assert table_at(tables, dt.date(2026, 3, 1)) is january
    assert table_at(tables, dt.date(2026, 6, 1)) is june  # on the day itself
    assert table_at(tables, dt.date(2027, 1, 1)) is june
    assert table_at(tables, dt.date(2025, 1, 1)) is january  # before every table: the earliest
    assert table_at([], dt.date(2026, 1, 1)) is None


# ---- the price book converted at one place -------------------------------------------------


def test_every_usd_key_of_the_book_is_converted_and_nothing_else(book):
    eur = in_currency(book, "EUR", START)
    assert eur.currency == "EUR" and book.currency == "USD"  # the book as read is untouched
    spot = eur.gpu_rate("h100_sxm", "neocloud_spot")  # USD 1.20–1.80
    assert (spot.low, spot.high) == pytest.approx((1.20 * EUR_PER_USD, 1.80 * EUR_PER_USD))
    # 5,000 / 1.0705 = 4,670.71 and 25,000 / 1.0705 = 23,353.57
    assert eur.decision_rule_api_usd_per_month["do_not_fine_tune_below"] == pytest.approx(4670.71, abs=0.01)
    assert eur.decision_rule_api_usd_per_month["almost_always_above"] == pytest.approx(23353.57, abs=0.01)
    assert eur.serving_reference["usd_per_day"].low == pytest.approx(95 * EUR_PER_USD)
    assert eur.serving_reference["tokens_per_day"].low == 12_000_000  # not money: unchanged
    assert eur.gpus["h100_sxm"].memory_gb == book.gpus["h100_sxm"].memory_gb
    assert eur.dataset_reference_pairs == book.dataset_reference_pairs
    assert eur.per_usd == pytest.approx(EUR_PER_USD) and book.per_usd == 1.0


def test_converting_twice_is_converting_once(book):
    eur = in_currency(book, "EUR", START)
    assert in_currency(eur, "EUR", START) is eur
    assert in_currency(book, "USD", START) is book


# ---- end to end: a client in EUR reports in EUR with the FX date cited -------------------------


@pytest.fixture(scope="module")
def bank(book):
    usd_plan, eur_plan = load_params(BANK_USD, book), load_params(BANK_EUR, book)
    return estimate(usd_plan, book), estimate(eur_plan, book)


def _line(breakdown, item: str) -> float:
    return next(line.base for line in breakdown.line_items if line.item.startswith(item))


def test_price_book_lines_convert_and_the_clients_own_amounts_do_not(bank):
    in_usd, in_eur = bank
    # 1 GPU × 10 hours × 12 runs × USD 1.50 (h100 spot midpoint) = USD 180; in EUR 180 / 1.0705
    assert _line(in_usd, "Training runs") == pytest.approx(180.0)
    assert _line(in_eur, "Training runs") == pytest.approx(180.0 / 1.0705)  # EUR 168.15
    # The client's own figure: 5,000 in the file's currency, whichever it is
    assert _line(in_eur, "Sourcing") == _line(in_usd, "Sourcing") == 5000
    # The gpt-4o alternative (genai-prices, USD) converts at the same rate
    usd_api, eur_api = float(in_usd.base.alternative_monthly), float(in_eur.base.alternative_monthly)
    assert eur_api == pytest.approx(usd_api / 1.0705)


def test_summary_is_in_eur_and_cites_the_rate(bank):
    summary = summarise(bank[1])
    assert summary["currency"] == "EUR"
    assert summary["fx"] == {
        "currency": "EUR",
        "from": "USD",
        "rate": round(EUR_PER_USD, 6),
        "date": "2024-06-28",
        "source": summary["fx"]["source"],
    }
    assert "European Central Bank" in summary["fx"]["source"]
    assert "USD" not in summary["verdict"]["sentence"]
    assert all("USD " not in warning["message"] for warning in summary["warnings"])


def test_a_usd_plan_says_it_converted_nothing(bank):
    fx = summarise(bank[0])["fx"]
    assert (fx["currency"], fx["rate"], fx["date"]) == ("USD", 1.0, None)


def test_the_terminal_estimate_is_in_eur_with_the_fx_date(capsys):
    assert main(["estimate", str(BANK_EUR)]) == 0
    out = capsys.readouterr().out
    assert "Line item (EUR)" in out
    assert "0.9341 EUR per USD, the rate of 2024-06-28" in " ".join(out.split())  # however the terminal wraps
    amounts = re.findall(r"(?:USD|EUR) [0-9]", out)
    assert amounts and all(amount.startswith("EUR") for amount in amounts)


def test_the_document_and_the_workbook_are_in_eur(book, tmp_path):
    from openpyxl import load_workbook

    from ftcost_helpers.report.document import client_document
    from ftcost_helpers.report.excel import write_workbook
    from ftcost_helpers.report.figures import client_figures

    figures = client_figures(BANK_EUR, book, dt.date(2026, 12, 7), "test")
    text = re.sub(r"<[^>]+>", " ", client_document(figures))
    assert "all amounts in EUR (price-book prices converted at 0.9341 EUR per USD, the rate of 28 June 2024)" in (
        " ".join(text.split())
    )
    assert "The exchange rate: 0.9341 EUR per USD, the rate of 28 June 2024" in text
    assert re.findall(r"EUR [0-9]", text)
    assert not re.findall(r"USD [0-9]", text)  # no amount in dollars anywhere
    path = tmp_path / "report.xlsx"
    write_workbook(path, figures)
    workbook = load_workbook(path)
    formats = {cell.number_format for sheet in workbook for row in sheet.iter_rows() for cell in row}
    assert any('"EUR "' in fmt for fmt in formats) and not any("USD" in fmt for fmt in formats)
    book_sheet = workbook["Price book"]
    cells = [cell.value for row in book_sheet.iter_rows() for cell in row if cell.value is not None]
    assert "Exchange rate (EUR per USD)" in cells
    assert any(isinstance(value, float) and value == pytest.approx(EUR_PER_USD) for value in cells)


# ---- bad input -----------------------------------------------------------------------------


def _bank_in(tmp_path: Path, currency: str) -> Path:
    data = read_yaml(BANK_USD)
    data["currency"] = currency
    path = tmp_path / "client.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("currency", "fragment"), [("XYZ", "no exchange rate for XYZ"), ("eur", "currency"), ("EURO", "currency")]
)
def test_a_currency_without_a_rate_or_not_a_code_is_one_line(tmp_path, currency, fragment):
    path = _bank_in(tmp_path, currency)
    result = subprocess.run(
        [sys.executable, "-m", "ftcost_helpers", "estimate", str(path)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("error: ") and "currency" in lines[0] and fragment in lines[0]


def test_amounts_nested_in_blocks_are_converted(book):
    # ownership_defaults names no currency; its kwh_price_usd and by_gpu purchase_usd_per_gpu do
    eur = in_currency(book, "EUR", START)
    assert eur.ownership_defaults.kwh_price_usd.low == pytest.approx(0.0604 * EUR_PER_USD)
    assert eur.ownership_defaults.by_gpu["h100_sxm"].purchase_usd_per_gpu.high == pytest.approx(33_750 * EUR_PER_USD)
    assert eur.ownership_defaults.by_gpu["h100_sxm"].power_kw_per_gpu.high == 1.275  # kW: unchanged
    assert eur.ownership_defaults.pue.mode == 1.58
    assert eur.storage_usd_per_tb_month.low == pytest.approx(21 * EUR_PER_USD)
    assert eur.committed_use["one_year"].discount.low == 0.25  # a share: unchanged


def test_a_rates_overlay_adds_a_newer_table_used_from_its_date(tmp_path):
    from ftcost_helpers.engine.loading import load_price_book

    overlay = tmp_path / "rates.yaml"
    overlay.write_text(
        "as_of: 2026-06-01\nsource: test overlay\nsources: {test_rates: a test table}\n"
        "fx_rates:\n"
        "  - {date: 2024-06-28, source: ecb_reference_rates, per_eur: {USD: 1.0705}}\n"
        "  - {date: 2026-06-01, source: test_rates, per_eur: {USD: 1.25}}\n",
        encoding="utf-8",
    )
    merged = load_price_book(rates=overlay, today=dt.date(2026, 12, 7))
    # a plan starting after 1 June 2026 takes the new table: 1 / 1.25 = 0.8 EUR per USD
    assert rate_at(merged, "EUR", START).per_usd == pytest.approx(0.8)
    assert rate_at(merged, "EUR", START).date == dt.date(2026, 6, 1)
    # one starting before it, the ECB table of 28 June 2024
    assert rate_at(merged, "EUR", dt.date(2026, 1, 1)).per_usd == pytest.approx(EUR_PER_USD)


def test_an_old_exchange_rate_is_a_warning(bank):
    # 28 June 2024 → 1 September 2026: 365 + 365 + 65 = 795 days ÷ 30.44 = 26.1 months (> 6)
    found = [f for f in bank[1].warnings if f.code == "FX_RATE_STALE"]
    assert len(found) == 1 and "26.1 months before the plan's start 2026-09-01" in found[0].message
    assert not [f for f in bank[0].warnings if f.code == "FX_RATE_STALE"]  # in USD nothing is converted


def test_the_reports_index_writes_each_client_in_its_currency(book):
    from ftcost_helpers.report.figures import client_figures
    from ftcost_helpers.report.index import _row

    summary = client_figures(BANK_EUR, book, dt.date(2026, 12, 7), "test").summary
    row = _row("european-bank", summary)
    assert re.findall(r"EUR [0-9]", row) and not re.findall(r"USD [0-9]", row)
    assert usd(1) == "USD 1"  # the index's other rows are not affected
