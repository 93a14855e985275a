"""The three worked examples of 001_6c04196dc11ea2b6.txt, reproduced to the dollar."""

from __future__ import annotations

import pytest

from ftcost_helpers.engine.breakdown import estimate


def usd(value: float) -> int:
    return round(value)


def lines_by_item(breakdown) -> dict[str, float]:
    return {item.item: item.base for item in breakdown.line_items}


def test_example_a_lines_and_total(examples, book):
    b = estimate(examples["a"], book)
    lines = lines_by_item(b)
    assert usd(lines["Expert annotation (hours × rate)"]) == 36_000  # 800 h × USD 45
    assert usd(b.areas_usd["dataset"]) == 38_000
    assert usd(b.areas_usd["compute"]) == 1_150  # 8 × 6 h × 14 runs × 1.7113
    assert usd(b.areas_usd["eval"]) == 6_200
    assert usd(b.areas_usd["engineering"]) == 43_200  # 6 weeks × 40 h × 180
    assert usd(b.areas_usd["compliance"]) == 0
    assert usd(b.programme_total) == 88_550


def test_example_a_breaks_even_in_month_5_against_the_api(examples, book):
    b = estimate(examples["a"], book)
    assert b.ongoing_monthly_usd["eval"] == 1_800
    assert b.break_even_month == 5
    assert b.cash_flow[4] < 0 <= b.cash_flow[5]


def test_example_b_lines_total_and_payback(examples, book):
    b = estimate(examples["b"], book)
    assert usd(b.areas_usd["dataset"]) == 26_000
    assert usd(b.areas_usd["compute"]) == 1_400  # 4 × 9 h × 8 runs × 4.8611
    assert usd(b.areas_usd["eval"]) == 9_800
    assert usd(b.areas_usd["engineering"]) == 57_600  # 8 weeks × 40 h × 180
    assert usd(b.programme_total) == 94_800
    assert b.ongoing_monthly_usd["eval"] == 2_200
    assert b.break_even_month == 4


def test_example_c_lines_total_and_no_break_even(examples, book):
    b = estimate(examples["c"], book)
    assert usd(b.areas_usd["dataset"]) == 142_000
    assert usd(b.areas_usd["compute"]) == 13_500  # 32 × 18 h × 5 runs × 4.6875
    assert usd(b.areas_usd["eval"]) == 31_000  # the source's "eval and compliance" line
    assert usd(b.areas_usd["engineering"] + b.areas_usd["compliance"]) == 118_000
    assert usd(b.programme_total) == 304_500
    assert b.break_even_month is None


@pytest.mark.parametrize("name", ["a", "b", "c"])
def test_every_line_lies_within_its_range(examples, book, name):
    for item in estimate(examples[name], book).line_items:
        assert item.low <= item.base <= item.high, item


@pytest.mark.parametrize("name", ["a", "b", "c"])
def test_areas_add_up_to_the_programme_total(examples, book, name):
    b = estimate(examples[name], book)
    assert sum(b.areas_usd.values()) == pytest.approx(b.programme_total)
