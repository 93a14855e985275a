"""The values the workbook caches for its formulas (:mod:`ftcost_helpers.report.excel_calc`)
follow the spreadsheet's rules, each case worked by hand: precedence, a lazy IF, error
values, and what SUM, COUNT, MIN, AND and SUMPRODUCT make of text, blanks and booleans
in a range. tests/test_report_workbook.py compares every cached value of the real
workbooks to LibreOffice's recalculation."""

from __future__ import annotations

import pytest

from ftcost_helpers.report.excel_calc import CellError, Cells, evaluate, parse

SHEET = "Cash flow"
CELLS = {
    (SHEET, 0, 0): 2.0,  # A1
    (SHEET, 1, 0): 3.0,  # A2
    (SHEET, 2, 0): None,  # A3: blank
    (SHEET, 0, 1): "",  # B1: the text "" ("Paid back in" before break-even)
    (SHEET, 1, 1): 5.0,  # B2
    (SHEET, 2, 1): True,  # B3
    ("Inputs", 4, 1): 4.0,  # 'Inputs'!$B$5
    ("It's", 0, 0): 7.0,  # 'It''s'!A1
}


def value(formula: str):
    return evaluate(parse(formula, SHEET), CELLS.get)


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("=1+2*3", 7.0),  # * before +
        ("=(1+2)*3", 9.0),
        ("=2-3-4", -5.0),  # left to right: (2 − 3) − 4
        ("=8/4/2", 1.0),
        ("=-2*-3", 6.0),  # unary minus binds tightest
        ("=-A1+B2", 3.0),  # −2 + 5
        ("=1e-05*2", 2e-05),
        ("=A1+A3", 2.0),  # a blank is 0
        ("='Inputs'!$B$5*A2", 12.0),
        ("='It''s'!A1", 7.0),
        ("=A1>'Inputs'!$B$5", False),  # 2 > 4
        ("=A2+1>=4", True),  # comparison binds loosest: (3 + 1) ≥ 4
        ('=B1=""', True),
        ('=A3=""', True),  # a blank equals "" …
        ("=A3=0", True),  # … and 0
        ('=A1<"a"', True),  # numbers sort before text
        ("=IF(A1=2,10,20)", 10.0),
        ("=IF(A1=3,10)", False),  # IF without an else gives FALSE
        ("=IF(B3,1,0)", 1.0),  # TRUE
        ("=IF(A3=0,1,1/A3)", 1.0),  # the branch not taken is not worked out: no #DIV/0!
        ('=IF(A1>=0,A1,"")', 2.0),
        ('=IF(A1<0,A1,"")', ""),
        ("=AND(A1>=1,A1<=3)", True),
        ("=AND(A1>=1,A2<=2)", False),
        ("=SUM(A1:B3)", 10.0),  # 2 + 3 + 5: the blank, "" and TRUE in a range are skipped
        ("=SUM(A1,TRUE)", 3.0),  # TRUE typed as an argument counts 1
        ("=COUNT(A1:B3)", 3.0),
        ("=COUNT(B1)", 0.0),
        ("=MIN(A1:B3)", 2.0),
        ("=MIN(B1:B1)", 0.0),  # no number in the range: 0
        ("=MIN(B3:A1)", 2.0),  # a range's corners in either order
        ("=MAX(A1:B2)", 5.0),
        ('=IF(COUNT(B1:B1)=0,"none",MIN(B1:B1))', "none"),
        ("=SUMPRODUCT(A1:B1,A2:B2)", 6.0),  # 2 × 3 + "" × 5, the text as 0: 6 + 0
        ("=-SUMPRODUCT(A1:A2,B2:B3)", -10.0),  # −(2 × 5 + 3 × TRUE→0) = −10
    ],
)
def test_formula_values_by_hand(formula, expected) -> None:
    result = value(formula)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(("formula", "code"), [("=1/0", "#DIV/0!"), ("=A1/A3", "#DIV/0!"), ('="x"+1', "#VALUE!")])
def test_errors_are_spreadsheet_error_values(formula, code) -> None:
    with pytest.raises(CellError) as raised:
        value(formula)
    assert raised.value.code == code


def test_ranges_are_blocks_of_cells() -> None:
    assert parse("=$L$45:$P$45", SHEET) == Cells(SHEET, 44, 11, 44, 15)
    assert parse("='Line items'!D2:D22", SHEET) == Cells("Line items", 1, 3, 21, 3)


@pytest.mark.parametrize("formula", ["=VLOOKUP(A1,B1:B2,1)", "=A1 &", "=(1+2", "=1 2"])
def test_what_the_workbook_does_not_write_is_refused(formula) -> None:
    with pytest.raises(ValueError):
        value(formula)
