"""NPV, discounted payback and IRR (issue 24, item 5; ftcost_helpers/engine/finance.py), with
every expected figure worked by hand in the comments."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.finance import (
    annual_rate,
    discounted,
    discounted_payback_month,
    flows_from_cumulative,
    irr_monthly,
    monthly_rate,
    npv,
)
from ftcost_helpers.engine.headline import plan_headline
from ftcost_helpers.engine.model import roi
from ftcost_helpers.engine.summary import summarise

# 1.01^12 = 1.126825030131969...: an annual 12.6825 % is 1 % a month
ONE_PERCENT_A_MONTH = 1.01**12 - 1


def test_monthly_and_annual_rates_compound_into_each_other():
    assert monthly_rate(ONE_PERCENT_A_MONTH) == pytest.approx(0.01)
    assert annual_rate(0.01) == pytest.approx(0.12682503013)
    assert monthly_rate(0.0) == 0.0


def test_three_month_npv_by_hand():
    # −1,000 now, then 400 at the end of each of three months, at 1 % a month:
    # 400/1.01 = 396.039604, 400/1.0201 = 392.118420, 400/1.030301 = 388.236059
    # NPV = −1,000 + 1,176.394083 = 176.394083
    assert npv(np.array([-1000.0, 400, 400, 400]), 0.01) == pytest.approx(176.394083, abs=1e-6)


def test_npv_at_zero_is_the_plain_sum():
    assert npv(np.array([-1000.0, 400, 400, 400]), 0.0) == pytest.approx(200.0)


def test_npv_is_vectorised_over_draws_and_rates():
    flows = np.array([[-1000.0, 400, 400, 400], [-100.0, 0, 0, 121]])
    # second row at 10 % a month: −100 + 121/1.1^3 = −100 + 90.909... = −9.0909...
    assert npv(flows, np.array([0.01, 0.10])) == pytest.approx([176.394083, -9.0909091], abs=1e-6)


def test_discounted_payback_can_come_later_than_break_even_or_never():
    flows = np.array([-1000.0, 500, 502])
    # undiscounted: −1,000, −500, +2 → paid back in month 2
    assert roi.break_even_month(np.cumsum(flows)) == 2
    # at 1 % a month: 500/1.01 = 495.0495, 502/1.0201 = 492.1086 → −12.84 at month 2: never
    assert math.isnan(discounted_payback_month(flows, 0.01))
    # −1,000, 400 × 3 at 1 %: cumulative −603.96, −211.84, +176.39 → month 3
    assert discounted_payback_month(np.array([-1000.0, 400, 400, 400]), 0.01) == 3


def test_irr_by_hand():
    # −1,000 then +1,100 a month later: 10 % a month; (1.1)^12 − 1 = 2.138428... a year
    assert irr_monthly(np.array([-1000.0, 1100])) == pytest.approx(0.10, abs=1e-12)
    assert annual_rate(0.10) == pytest.approx(2.138428376721)
    # −100, 0, +121: (1 + x)^2 = 1.21 → x = 10 %
    assert irr_monthly(np.array([-100.0, 0, 121])) == pytest.approx(0.10, abs=1e-12)
    # −1,000 then 400 × 3: the three-month annuity factor is 2.5 at x ≈ 9.701 %
    # (1/1.097 + 1/1.097² + 1/1.097³ = 0.911577 + 0.830973 + 0.757496 = 2.500046)
    x = irr_monthly(np.array([-1000.0, 400, 400, 400]))
    assert x == pytest.approx(0.09701, abs=1e-4)
    assert npv(np.array([-1000.0, 400, 400, 400]), x) == pytest.approx(0.0, abs=1e-8)


def test_no_irr_without_a_change_of_sign():
    assert math.isnan(irr_monthly(np.array([-100.0, -50.0])))
    assert math.isnan(irr_monthly(np.array([100.0, 50.0])))
    assert math.isnan(irr_monthly(np.zeros(4)))


def test_irr_is_vectorised():
    rates = irr_monthly(np.array([[-1000.0, 1100, 0], [-100.0, 0, 121], [-1.0, -1.0, -1.0]]))
    assert rates[:2] == pytest.approx([0.10, 0.10], abs=1e-12)
    assert math.isnan(rates[2])


def test_flows_from_a_cumulative_cash_flow():
    assert flows_from_cumulative(np.array([-1000.0, -600, -200, 200])).tolist() == [-1000, 400, 400, 400]


def test_discounted_figures_without_a_rate_give_only_the_irr():
    cumulative = np.array([-1000.0, 100.0])  # −1,000 then +1,100
    figures = discounted(cumulative, None)
    assert (figures.npv_usd, figures.discounted_payback_month) == (None, None)
    assert figures.irr_annual == pytest.approx(2.138428376721)
    assert figures.undiscounted_usd == pytest.approx(100.0)
    assert discounted(cumulative, None, has_return=False).irr_annual is None


# ---- the headline, summary.json ----------------------------------------------------------


def _with_rate(params, rate):
    return params.model_copy(update={"finance": params.finance.model_copy(update={"discount_rate": rate})})


def test_examples_state_no_discounting_by_default(examples, book):
    finance = summarise(estimate(examples["a"], book), basis="base_case")["finance"]
    assert finance["discount_rate"] is None and finance["npv_usd"] is None


def test_npv_at_zero_is_the_cumulative_cash_at_the_horizon(examples, book):
    breakdown = estimate(_with_rate(examples["a"], 0.0), book)
    headline = plan_headline(breakdown, None, "base_case")
    assert headline.discounted.npv_usd == pytest.approx(float(headline.cash_flow[-1]))
    assert headline.discounted.discounted_payback_month == headline.break_even_month


def test_a_discount_rate_lowers_the_npv_and_delays_payback(examples, book):
    breakdown = estimate(_with_rate(examples["a"], 0.10), book)
    headline = plan_headline(breakdown, None, "base_case")
    figures = summarise(breakdown, basis="base_case")["finance"]
    flows = flows_from_cumulative(headline.cash_flow)
    m = 1.10 ** (1 / 12) - 1  # 10 % a year = 0.797 % a month
    by_hand = sum(flow / (1 + m) ** t for t, flow in enumerate(flows))
    assert figures["discount_rate"] == 0.10
    assert figures["npv_usd"] == pytest.approx(round(by_hand, 2), abs=0.01)
    assert figures["npv_usd"] < headline.cash_flow[-1]  # a saving that comes later is worth less
    if headline.break_even_month is not None and figures["discounted_payback_month"] is not None:
        assert figures["discounted_payback_month"] >= headline.break_even_month


# ---- the faces ---------------------------------------------------------------------------


def test_the_terminal_document_and_workbook_state_the_discounted_figures(tmp_path, book, capsys):
    import datetime as dt
    import re

    import yaml
    from openpyxl import load_workbook

    from ftcost_helpers.cli import main
    from ftcost_helpers.engine.loading import read_yaml
    from ftcost_helpers.report.document import client_document
    from ftcost_helpers.report.excel import write_workbook
    from ftcost_helpers.report.figures import client_figures

    bank_eur = Path(__file__).resolve().parent / "fixtures" / "clients" / "european_bank_eur.yaml"
    data = read_yaml(bank_eur)
    data["finance"] = {"discount_rate": 0.08}
    path = tmp_path / "bank.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    figures = client_figures(path, book, dt.date(2026, 12, 7), "test")
    finance = figures.summary["finance"]
    assert finance["discount_rate"] == 0.08 and finance["npv_usd"] is not None
    text = " ".join(re.sub(r"<[^>]+>", " ", client_document(figures)).split())
    assert "Discounted at 8.0% a year" in text
    assert "Net present value over 24 months: " in text
    write_workbook(tmp_path / "r.xlsx", figures)
    labels = [row[0].value for row in load_workbook(tmp_path / "r.xlsx")["Summary"].iter_rows()]
    assert any(str(label).startswith("Net present value at the discount rate") for label in labels)
    assert main(["estimate", str(path)]) == 0
    assert "Discounted at 8.0% a year: NPV −EUR " in capsys.readouterr().out  # it never pays back
