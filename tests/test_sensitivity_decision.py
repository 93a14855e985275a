"""The tornado answers the decision: one quantity (net value with an alternative, else cost of
ownership over the horizon), cost and value inputs moved alike, sorted and drawn by that same
quantity, top drivers only.

Every expected figure is worked out by hand from the second plan (tests/fixtures/second_plan.yaml,
derived line by line in tests/test_hand_derived_plan.py): 12 months, programme USD 55,300, TCO
USD 117,160, a labour alternative of 10 staff × 160 h × 25 % saved × USD 40 = USD 16,000 a month,
no build period (the alternative is replaced from month 1), maintenance from month 4 (months
4–12: 9 months, 3 quarters). Base-case net value = 12 × 16,000 − 117,160 = 192,000 − 117,160 =
USD 74,840 (the cumulative cash position in month 12 there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
from matplotlib.colors import to_hex

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.loading import deep_merge, params_from_mapping, read_yaml
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.resolve import pick_one_input
from ftcost_helpers.engine.schema import Params
from ftcost_helpers.engine.sensitivity import (
    COST_OF_OWNERSHIP,
    NET_VALUE,
    TOP_DRIVERS,
    input_value_text,
    quantity_of,
    sensitivity,
)
from ftcost_helpers.engine.summary import summarise
from ftcost_helpers.report import document_charts
from ftcost_helpers.report.document import client_keys, risk_section
from ftcost_helpers.report.excel import write_workbook
from ftcost_helpers.report.figures import ClientFigures
from ftcost_helpers.report.workings import plan_workings
from ftcost_helpers.views import charts

SECOND_PLAN = Path(__file__).parent / "fixtures" / "second_plan.yaml"

RANGES = {
    # base cases are the file's own values (midpoints), so the base case stays USD 74,840
    "alternative": {"labour": {"time_saved_fraction": {"low": 0.15, "high": 0.35}}},
    "maintenance": {"incremental_data_usd_per_quarter": {"low": 3000, "high": 9000}},
    "engineering": {"engineer_weeks": {"low": 3, "high": 5}},
}
API_ALTERNATIVE = {
    # 2,000 M input tokens a month at USD 2.50 per 1M (1,000–3,000 M) + 500 M output at USD 10:
    # 5,000 + 5,000 = USD 10,000 a month at base
    "kind": "api",
    "api": {
        "input_tokens_million_per_month": {"low": 1000, "high": 3000},
        "output_tokens_million_per_month": 500,
        "input_price_usd_per_1m_tokens": 2.5,
        "output_price_usd_per_1m_tokens": 10,
    },
}


def plan(book: PriceBook, changes: dict[str, Any]) -> Params:
    return params_from_mapping(deep_merge(read_yaml(SECOND_PLAN), changes), "second plan", book)


@pytest.fixture(scope="module")
def labour_plan(book: PriceBook) -> Params:
    return plan(book, RANGES)


def test_hand_derived_swings_of_the_net_value(labour_plan, book):
    result = sensitivity(labour_plan, book)
    assert result.quantity == NET_VALUE
    assert (result.name, result.unit, result.axis_label) == (
        "Net value over 12 months",
        "USD",
        "Net value over 12 months, USD",
    )
    assert result.base == pytest.approx(74_840)
    # time saved 0.15 / 0.35: 10 × 160 × 40 = 64,000 × share = 9,600 / 22,400 a month, × 12 months
    # = 115,200 / 268,800; − TCO 117,160 → −1,960 / 151,640 (swing 0.20 × 64,000 × 12 = 153,600).
    # incremental data 3,000 / 9,000 a quarter against 6,000: ∓ 3,000 × 3 quarters = ∓ 9,000 of TCO
    # → net 83,840 / 65,840 (swing 18,000).
    # engineer weeks 3 / 5 against 4: ∓ 1 week × 40 h × USD 150 = ∓ 6,000 → 80,840 / 68,840 (12,000).
    # Nothing else moves: both GPU rates are booked, the sweep has no early stopping, quality
    # loss is not a cost.
    expected = [
        ("alternative.labour.time_saved_fraction", 0.15, 0.35, -1_960, 151_640),
        ("maintenance.incremental_data_usd_per_quarter", 3_000, 9_000, 83_840, 65_840),
        ("engineering.engineer_weeks", 3, 5, 80_840, 68_840),
    ]
    got = [(r.path, r.input_low, r.input_high, r.at_low, r.at_high) for r in result.rows]
    assert got == [(p, lo, hi, pytest.approx(a), pytest.approx(b)) for p, lo, hi, a, b in expected]
    assert [r.swing for r in result.rows] == pytest.approx([153_600, 18_000, 12_000])
    assert result.drivers_found == 3


def test_break_even_at_each_end_of_the_time_saved(labour_plan, book):
    # 0.15: net 9,600 − 3,055 = 6,545 in months 1–3, 9,600 − 5,855 = 3,745 from month 4:
    #   −55,300 + 3 × 6,545 + 9 × 3,745 = −1,960 in month 12 → never.
    # 0.35: 22,400 − 3,055 = 19,345 a month: −55,300 + 2 × 19,345 = −16,610; + 19,345 = 2,735 → month 3.
    (time_saved,) = [r for r in sensitivity(labour_plan, book).rows if r.path.endswith("time_saved_fraction")]
    assert (time_saved.low_break_even, time_saved.high_break_even) == (None, 3)


def test_an_api_volume_is_a_driver_and_can_be_the_top_one(book):
    params = plan(book, {"engineering": RANGES["engineering"], "alternative": API_ALTERNATIVE})
    result = sensitivity(params, book)
    # base: 10,000 × 12 − 117,160 = 2,840. Input tokens 1,000 / 3,000 M × USD 2.50 = 2,500 / 7,500
    # + 5,000 output = 7,500 / 12,500 a month × 12 = 90,000 / 150,000 → −27,160 / 32,840 (60,000);
    # then engineer weeks: 2,840 ± 6,000 → 8,840 / −3,160 (12,000).
    assert result.base == pytest.approx(2_840)
    top, second = result.rows
    assert top.path == "alternative.api.input_tokens_million_per_month"
    assert (top.at_low, top.at_high, top.swing) == pytest.approx((-27_160, 32_840, 60_000))
    assert (second.path, second.at_low, second.at_high) == ("engineering.engineer_weeks", 8_840, -3_160)


def test_without_an_alternative_the_quantity_is_cost_of_ownership(book):
    params = plan(book, RANGES | {"alternative": {"kind": "none"}})
    result = sensitivity(params, book)
    assert result.quantity == COST_OF_OWNERSHIP
    assert result.axis_label == "Cost of ownership over 12 months, USD"
    # TCO 117,160; incremental data ± 9,000; engineer weeks ± 6,000. The time saved moves nothing.
    assert result.base == pytest.approx(117_160)
    assert [(r.path, r.at_low, r.at_high) for r in result.rows] == [
        ("maintenance.incremental_data_usd_per_quarter", pytest.approx(108_160), pytest.approx(126_160)),
        ("engineering.engineer_weeks", pytest.approx(111_160), pytest.approx(123_160)),
    ]
    assert all(r.low_break_even is None and r.high_break_even is None for r in result.rows)


def test_only_the_top_drivers_are_kept(labour_plan, book):
    assert [r.path for r in sensitivity(labour_plan, book, top=1).rows] == ["alternative.labour.time_saved_fraction"]
    assert sensitivity(labour_plan, book, top=1).drivers_found == 3
    assert len(sensitivity(labour_plan, book, top=None).rows) == 3
    assert sensitivity(labour_plan, book, top=0).rows == ()
    assert TOP_DRIVERS == 8


@pytest.mark.parametrize("name", "abc")
def test_rows_descend_by_the_swing_of_the_drawn_quantity(examples, book, name):
    result = sensitivity(examples[name], book, top=None)
    swings = [abs(r.at_high - r.at_low) for r in result.rows]
    assert swings == sorted(swings, reverse=True) and all(s > 0 for s in swings)
    assert len(sensitivity(examples[name], book).rows) == min(TOP_DRIVERS, result.drivers_found)


@pytest.mark.parametrize("name", "abc")
def test_each_row_is_a_run_with_that_input_alone_moved(examples, book, name):
    params = examples[name]
    result = sensitivity(params, book)
    assert result.base == pytest.approx(float(quantity_of(evaluate(params, book), result.quantity)))
    for row in result.rows:
        low = evaluate(params, book, pick_one_input(row.path, "low"))
        high = evaluate(params, book, pick_one_input(row.path, "high"))
        assert row.at_low == pytest.approx(float(quantity_of(low, result.quantity)))
        assert row.at_high == pytest.approx(float(quantity_of(high, result.quantity)))


def test_running_cost_drivers_are_not_left_out(examples, book):
    # Example A maintains from month 7 to 24: 18 months, 6 quarters. Incremental data 3,000–10,000
    # a quarter: 7,000 × 6 = 42,000 of net value; a migration 8,000–40,000 at 2.5 a year (0.625 a
    # quarter): 32,000 × 0.625 × 6 = 120,000 — the largest, though neither touches the programme.
    rows = {r.path: r for r in sensitivity(examples["a"], book).rows}
    assert rows["maintenance.incremental_data_usd_per_quarter"].swing == pytest.approx(42_000)
    assert rows["maintenance.migration_usd"].swing == pytest.approx(120_000)
    assert next(iter(rows)) == "maintenance.migration_usd"


@pytest.mark.parametrize(
    ("path", "value", "text"),
    [
        ("alternative.labour.time_saved_fraction", 0.15, "15%"),
        ("maintenance.incremental_data_usd_per_quarter", 3000, "USD 3,000/quarter"),
        ("pricebook.gpu_rates_usd_per_gpu_hour.h100_sxm.neocloud_spot", 1.8, "USD 1.80/GPU-hour"),
        ("dataset.curation_usd", 12500, "USD 12,500"),
        ("engineering.engineer_weeks", 4.5, "4.5"),
        ("alternative.api.input_tokens_million_per_month", 1000, "1,000"),
    ],
)
def test_input_values_in_their_units(path, value, text):
    assert input_value_text(path, value) == text


# ---------------------------------------------------------------- the charts


def test_chart_names_the_quantity_and_draws_the_bars_in_its_order(labour_plan, book):
    result = sensitivity(labour_plan, book)
    ax = charts.tornado_chart(result).axes[0]
    assert ax.get_xlabel() == "Net value over 12 months, USD"
    assert "net value over 12 months" in ax.get_title()
    # top to bottom: the rows' order (largest swing first)
    names = [t.get_text().replace("\n", " ") for t in ax.get_yticklabels()][::-1]
    assert names == [r.label for r in result.rows]
    bars = sorted(ax.patches, key=lambda p: -p.get_y())
    spans = [abs(bars[i].get_width()) + abs(bars[i + 1].get_width()) for i in range(0, len(bars), 2)]
    assert spans == pytest.approx([153_600, 18_000, 12_000])  # each bar pair from base to each end
    # Okabe–Ito blue at the input's low end, orange at its high end, said by the legend
    blue = [p for p in ax.patches if to_hex(p.get_facecolor()) == "#0072b2"]
    assert sorted(round(p.get_x() + p.get_width()) for p in blue) == [-1_960, 80_840, 83_840]
    legend = [t.get_text() for t in ax.figure.legends[0].get_texts()]
    assert legend == ["Input at its low end", "Input at its high end", "Base case USD 74,840"]
    labels = [t.get_text() for t in ax.texts]
    assert "15%\n→ −USD 1.96k" in labels and "35%\n→ USD 152k" in labels


def test_chart_of_a_plan_without_an_alternative_says_cost_of_ownership(book):
    result = sensitivity(plan(book, RANGES | {"alternative": {"kind": "none"}}), book)
    ax = charts.tornado_chart(result).axes[0]
    assert ax.get_xlabel() == "Cost of ownership over 12 months, USD"
    assert "cost of ownership over 12 months" in ax.get_title()


def test_chart_ticks_are_exact_currency(labour_plan, book):
    ax = charts.tornado_chart(sensitivity(labour_plan, book)).axes[0]
    assert isinstance(ax.xaxis.get_major_formatter(), charts.ExactUsdTicks)
    assert document_charts.ExactUsdTicks is charts.ExactUsdTicks


def test_document_chart_and_caption_say_the_quantity(labour_plan, book):
    result = sensitivity(labour_plan, book)
    names = ["Time saved", "Incremental data", "Engineer weeks"]
    chart = document_charts.tornado_chart(result, names)
    assert chart.data_uri.startswith("data:image/png;base64,")
    assert "net value over 12 months (base case USD 74,840)" in chart.alt
    assert "Time saved: −USD 1,960 at 15%, USD 151,640 at 35%" in chart.alt
    caption = document_charts.tornado_caption(result, names)
    assert "low end (blue)" in caption and "high end (orange)" in caption
    assert "The largest is Time saved: −USD 1,960 at 15% and USD 151,640 at 35%." in caption


def figures_of(params: Params, book: PriceBook) -> ClientFigures:
    breakdown = estimate(params, book)
    summary = summarise(breakdown) | {"source_file": "x.yaml", "report_date": "2026-12-01"}
    return ClientFigures(SECOND_PLAN, params, breakdown, summary)


def test_risk_section_heads_the_tornado_with_the_quantity(labour_plan, book):
    figures = figures_of(labour_plan, book)
    workings = plan_workings(labour_plan, book, client_keys(figures))
    section = risk_section(figures, workings, sensitivity(labour_plan, book))
    assert "<h3>What moves the net value over 12 months</h3>" in section
    assert "cost of ownership over 12" not in section.split("<h3>Cumulative", 1)[0]


def test_workbook_sensitivity_sheet_reads_the_quantity(labour_plan, book, tmp_path):
    path = tmp_path / "plan.xlsx"
    write_workbook(path, figures_of(labour_plan, book))
    sheet = openpyxl.load_workbook(path)["Sensitivity"]
    headers = [cell.value for cell in sheet[1]]
    assert headers[3:6] == ["Net value over 12 months at low", "Net value over 12 months at high", "Swing"]
    first = [cell.value for cell in sheet[2]]
    assert first[1:6] == pytest.approx([0.15, 0.35, -1_960, 151_640, 153_600])
    assert first[6:8] == [None, 3]  # break-even: never at the low end, month 3 at the high end
    swings = [sheet.cell(row=r, column=6).value for r in range(2, 5)]
    assert swings == pytest.approx([153_600, 18_000, 12_000])
