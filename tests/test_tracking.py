"""``track`` (issue 23, items 3 and 5): actual spend against the forecast by month and area,
the variance split into rate and volume, the Monte Carlo re-forecast with the months spent
fixed; every bad cost export is one line, exit 1. Expected figures are derived by hand in
the comments from the client files' own inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from follow_up_helpers import built_example_a, refused

from ftcost_helpers.cli import main
from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.headline import plan_headline
from ftcost_helpers.engine.loading import load_price_book, project_root
from ftcost_helpers.engine.overrides import load_plan
from ftcost_helpers.engine.tracking import (
    TRACKED_AREAS,
    DrawnSchedule,
    fold_outlay,
    forecast_by_area,
    reforecast,
    split_variance,
    tabulate,
    width,
)
from ftcost_helpers.engine.uncertainty import simulate

ROOT = project_root()
EXAMPLE_A = ROOT / "params" / "clients" / "example_a.yaml"
EXAMPLES = ROOT / "params" / "examples"
RATE = 1.71131  # example A's booked USD/GPU-hour (training.rate_usd_per_gpu_hour)


def run_json(capsys, *args: str) -> dict:
    assert main(["track", *map(str, args), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def built_plan(tmp_path_factory) -> Path:
    """Example A on its base case, with a 3-month build spending evenly (1,000 draws)."""
    return built_example_a(tmp_path_factory.mktemp("track"))


def write(tmp_path: Path, text: str, name: str = "actuals.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# --- the arithmetic ------------------------------------------------------------------------


def test_split_variance_by_hand():
    # 450 GPU-hours cost 810 against a forecast of 1,150.00032 at 1.71131/GPU-hour:
    # planned units 1,150.00032 ÷ 1.71131 = 672; actual rate 810 ÷ 450 = 1.8.
    # rate = (1.8 − 1.71131) × 450 = 39.9105; volume = (450 − 672) × 1.71131 = −379.91082.
    rate, volume = split_variance(810.0, 672 * RATE, 450.0, RATE)
    assert rate == pytest.approx(39.9105)
    assert volume == pytest.approx(-379.91082)
    assert rate + volume == pytest.approx(810.0 - 672 * RATE)
    # Without units, or with no planned rate, the whole variance is volume.
    assert split_variance(810.0, 1000.0, None, RATE) == (0.0, pytest.approx(-190.0))
    assert split_variance(810.0, 1000.0, 450.0, None) == (0.0, pytest.approx(-190.0))
    # Zero everywhere: nothing to split.
    assert split_variance(0.0, 0.0, 0.0, RATE) == (0.0, 0.0)


def test_fold_and_tabulate():
    # Month 0's 5 is counted in month 1: [5, 1, 2] → [6, 2].
    assert fold_outlay(np.array([5.0, 1.0, 2.0])).tolist() == [6.0, 2.0]
    # Two rows in (compute, month 2) add up; months are 1-based.
    table = tabulate(np.array([2, 2, 1]), np.array([0, 0, 1]), np.array([10.0, 5.0, 7.0]), 3)
    assert table.shape == (len(TRACKED_AREAS), 3)
    assert table[0].tolist() == [0.0, 15.0, 0.0] and table[1].tolist() == [7.0, 0.0, 0.0]


def test_reforecast_fixes_the_months_spent():
    # Two draws, 2 months, no running costs: programme draws [1, 3] and [2, 4] → totals 4 and 6.
    schedule = DrawnSchedule(
        programme=np.array([[1.0, 3.0], [2.0, 4.0]]),
        running=np.zeros((2, 2)),
        alternative=np.zeros(2),
        operating=np.ones(2),
        has_alternative=False,
    )
    before = reforecast(schedule, np.array([10.0, 0.0]), np.zeros(2), 0)
    after = reforecast(schedule, np.array([10.0, 0.0]), np.zeros(2), 1)
    # Before: P10 = 4 + 0.1 × (6 − 4) = 4.2, P90 = 5.8. After month 1 at 10: totals 13 and 14,
    # P10 = 13.1, P90 = 13.9, narrower (0.8 against 1.6).
    assert before["programme_usd"] == {"p10": 4.2, "p50": 5.0, "p90": 5.8}
    assert after["programme_usd"] == {"p10": 13.1, "p50": 13.5, "p90": 13.9}
    assert width(after["programme_usd"]) < width(before["programme_usd"])
    assert after["break_even_month"] is None  # no alternative


def test_area_forecasts_add_up_to_the_headline():
    book = load_price_book()
    plan = load_plan(EXAMPLE_A, book)
    breakdown = estimate(plan, book)
    head = plan_headline(breakdown, simulate(plan, book, draws=500))
    shortfall = head.serving_shortfall_usd_per_month
    forecast = forecast_by_area(
        plan,
        breakdown.base,
        head.programme_usd / head.base_case_programme_usd,
        (head.running_usd_per_month - shortfall) / sum(breakdown.ongoing_monthly_usd.values()),
        shortfall,
    )
    expected = fold_outlay(head.spend_by_month) + head.running_by_month
    np.testing.assert_allclose(forecast.sum(axis=0), expected, rtol=1e-12)


# --- the command on a hand-derived 3-month CSV ----------------------------------------------

THREE_MONTHS = """# made up for this test
month,area,line,amount,gpu_hours
2026-06,compute,Training runs,430,250
2026-06,dataset,Annotation,12000,
2026-06,engineering,MLOps,14400,
2026-07,compute,Training runs,380,200
2026-07,dataset,Annotation,13500,
2026-07,engineering,MLOps,14400,
2026-08,dataset,Annotation,12500,
2026-08,eval,Harness,6500,
2026-08,engineering,MLOps,16000,
"""


def test_three_months_by_hand(capsys, tmp_path, built_plan):
    figures = run_json(capsys, built_plan, "--actuals", write(tmp_path, THREE_MONTHS))
    # Forecast, base case, 3 build months, even: compute 8 × 6 × 14 × 1.71131 = 1,150.00032,
    # dataset 800 × 45 + 2,000 = 38,000, eval 6,200, engineering 6 × 40 × 180 = 43,200, a third
    # each month; nothing runs before launch (month 4). Month 1: 383.33344 + 12,666.6667 +
    # 2,066.6667 + 14,400 = 29,516.6668; months 1–3: 88,550.00032.
    assert figures["months_tracked"] == 3 and figures["through"] == "2026-08"
    assert figures["forecast_to_date_usd"] == pytest.approx(88550.00, abs=0.01)
    month1 = figures["by_month"][0]
    assert month1["period"] == "2026-06"
    assert month1["forecast_usd"] == pytest.approx(29516.67, abs=0.01)
    # Actual: month 1 430 + 12,000 + 14,400 = 26,830; month 2 380 + 13,500 + 14,400 = 28,280;
    # month 3 12,500 + 6,500 + 16,000 = 35,000; to date 90,110.
    assert [row["actual_usd"] for row in figures["by_month"]] == [26830.0, 28280.0, 35000.0]
    assert figures["actual_to_date_usd"] == 90110.0
    # Compute: 810 for 450 GPU-hours: rate 810 − 1.71131 × 450 = 39.9105 → 39.91; volume
    # 770.0895 − 1,150.00032 = −379.91082 → −379.91. Eval +300, engineering +1,600, dataset 0
    # are all volume. Total 90,110 − 88,550.00032 = 1,559.99968; volume 1,520.08918.
    compute = next(row for row in figures["by_area"] if row["area"] == "compute")
    assert (compute["rate_usd"], compute["volume_usd"]) == (39.91, -379.91)
    assert (compute["planned_units"], compute["actual_units"], compute["units"]) == (672.0, 450.0, "GPU-hours")
    assert compute["actual_usd_per_unit"] == 1.8
    variance = figures["variance_usd"]
    assert variance["total"] == pytest.approx(1560.00, abs=0.01)
    assert variance["rate"] == pytest.approx(39.91, abs=0.01)
    assert variance["volume"] == pytest.approx(1520.09, abs=0.01)
    # The whole build is spent: the programme is its actual 90,110 in every draw, and the
    # cost of ownership's range narrows.
    again = figures["reforecast"]
    assert again["programme_usd"] == {"p10": 90110.0, "p50": 90110.0, "p90": 90110.0}
    assert width(again["tco_usd"]) < width(again["original"]["tco_usd"])
    assert again["narrower"] is True


def test_one_month_spent_narrows_the_range(capsys, tmp_path, built_plan):
    one = "month,area,line,amount\n2026-06,dataset,Annotation,12000\n2026-06,engineering,MLOps,14400\n"
    figures = run_json(capsys, built_plan, "--actuals", write(tmp_path, one))
    again = figures["reforecast"]
    # Two build months are still to come: the programme still varies, but less.
    assert 0 < width(again["programme_usd"]) < width(again["original"]["programme_usd"])
    assert width(again["tco_usd"]) < width(again["original"]["tco_usd"])
    # Without GPU-hours the compute variance (0 − 383.33) is all volume, and said so.
    compute = next(row for row in figures["by_area"] if row["area"] == "compute")
    assert compute["rate_usd"] == 0.0 and compute["volume_usd"] == pytest.approx(-383.33, abs=0.01)
    assert any("compute: no GPU-hours measured" in note for note in figures["notes"])


def test_original_is_the_monte_carlo(capsys, tmp_path, built_plan):
    """The range before tracking is the plan's own Monte Carlo (same draws, same seed)."""
    figures = run_json(
        capsys, built_plan, "--actuals", write(tmp_path, "month,area,line,amount\n2026-06,dataset,A,1\n")
    )
    book = load_price_book()
    simulation = simulate(load_plan(built_plan, book), book)
    assert figures["reforecast"]["original"]["programme_usd"] == simulation.range_usd()
    tco = {name: round(value, 2) for name, value in simulation.tco_percentiles().items()}
    assert figures["reforecast"]["original"]["tco_usd"] == pytest.approx(tco, abs=0.01)


def test_gpu_hours_option(capsys, tmp_path, built_plan):
    actuals = write(tmp_path, THREE_MONTHS)
    # A number: 600 GPU-hours; rate = 810 − 1.71131 × 600 = 810 − 1,026.786 = −216.786 → −216.79.
    figures = run_json(capsys, built_plan, "--actuals", actuals, "--gpu-hours", "600")
    compute = next(row for row in figures["by_area"] if row["area"] == "compute")
    assert compute["rate_usd"] == -216.79
    # A file by month: 250 + 250 = 500; rate = 810 − 855.655 = −45.655 → −45.66 (rounded half away).
    hours = write(tmp_path, "month,gpu_hours\n2026-06,250\n2026-07,250\n", "hours.csv")
    figures = run_json(capsys, built_plan, "--actuals", actuals, "--gpu-hours", hours)
    compute = next(row for row in figures["by_area"] if row["area"] == "compute")
    assert compute["actual_units"] == 500.0 and compute["rate_usd"] == pytest.approx(-45.66, abs=0.01)


# --- the example files ----------------------------------------------------------------------


def test_example_focus_export(capsys):
    figures = run_json(capsys, EXAMPLE_A, "--actuals", EXAMPLES / "actuals_focus.csv")
    # Tagged rows: June 1,036 + 24,000 + 2,000 + 6,200 + 21,600 + 1,540 + 1,800 = 58,176;
    # July 222 − 100 + 14,400 + 21,600 + 1,610 + 1,800 = 39,532; August 7,200 + 1,595 + 1,800
    # = 10,595; to date 108,303. The storage row of another team is left out.
    assert figures["format"] == "focus"
    assert [row["actual_usd"] for row in figures["by_month"]] == [58176.0, 39532.0, 10595.0]
    assert figures["actual_to_date_usd"] == 108303.0
    compute = next(row for row in figures["by_area"] if row["area"] == "compute")
    assert compute["actual_units"] == 560 + 120  # GPU-Hours rows; the credit has no quantity
    v = figures["variance_usd"]
    assert v["rate"] + v["volume"] == pytest.approx(v["total"], abs=0.02)
    # Example A spends its whole programme at the start: once month 1 is in, it is fixed.
    again = figures["reforecast"]
    assert width(again["programme_usd"]) == 0 < width(again["original"]["programme_usd"])
    assert again["narrower"] is True
    assert any("1 row without a 'ftcost-area' tag" in note for note in figures["notes"])


def test_example_plain_csv_and_text(capsys):
    assert main(["track", str(EXAMPLE_A), "--actuals", str(EXAMPLES / "actuals_plain.csv")]) == 0
    text = capsys.readouterr().out
    assert "Re-forecast" in text and "2026-07" in text and "GPU-hours" in text
    figures = run_json(capsys, EXAMPLE_A, "--actuals", EXAMPLES / "actuals_plain.csv")
    assert figures["actual_to_date_usd"] == 58176.0 + 39532.0  # the same two months as the export


def test_help(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["track", "--help"])
    assert exit_.value.code == 0
    assert "--actuals" in capsys.readouterr().out


# --- bad input: one line, exit 1 ------------------------------------------------------------

HEADER = "month,area,line,amount\n"
FOCUS = "BillingPeriodStart,ChargeCategory,ServiceName,BilledCost,BillingCurrency,Tags\n"


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [
        (HEADER + "2026-06,compute,GPU,100\n2026-07,dataset,Ann\n", "row 3", "truncated"),
        (HEADER + '2026-06,compute,"GPU,100\n', "row", "malformed or truncated"),
        ("month,area,line,amount,cost\n2026-06,compute,GPU,1,2\n", "header, cost", "unknown column 'cost'"),
        (HEADER + "2026-06,compute,GPU,100\n2026-06,compute,GPU,50\n", "row 3", "repeats row 2"),
        (HEADER + "2026-05,compute,GPU,100\n", "row 2, month", "before the plan's start (2026-06-01)"),
        (HEADER + "2028-06,compute,GPU,100\n", "row 2, month", "programme month 25, after the plan's 24-month"),
        (HEADER + "2026-06,marketing,Ads,100\n", "row 2, area", "unknown area 'marketing'"),
        (HEADER + "2026-06,compute,GPU,lots\n", "row 2, amount", "expected a number"),
        (HEADER + "June,compute,GPU,100\n", "row 2, month", "YYYY-MM"),
        ("month,area,line,amount,currency\n2026-06,compute,GPU,100,EUR\n", "row 2, currency", "not the plan's USD"),
        (FOCUS + '2026-06-01T00:00:00Z,Usage,GPU,100,EUR,"{""ftcost-area"": ""compute""}"\n', "BillingCurrency", "EUR"),
        (FOCUS.replace("Tags", "Tags,Colour") + "2026-06-01,Usage,GPU,1,USD,{},red\n", "Colour", "x_"),
        (FOCUS + "2026-06-01,Usage,GPU,1,USD,{oops\n", "row 2, Tags", "not a JSON object"),
        (FOCUS + "2026-06-01,Refund,GPU,1,USD,{}\n", "row 2, ChargeCategory", "not one of FOCUS's"),
        (FOCUS + '2026-06-01,Usage,GPU,1,USD,"{""ftcost-area"": ""compute""}"\n' * 2, "row 3", "repeats row 2"),
        (FOCUS + "2026-06-01,Usage,GPU,1,USD,{}\n", "", "no rows of spend with a 'ftcost-area' tag"),
        ("step,seconds\n1,2\n", "header", "neither a FOCUS cost export"),
        ("# only a comment\n", "header", "empty after its comments"),
    ],
)
def test_bad_input_is_one_line(capsys, tmp_path, text, where, says):
    path = write(tmp_path, text)
    line = refused(capsys, "track", EXAMPLE_A, "--actuals", path)
    assert line.startswith(f"error: {path}")
    assert where in line and says in line, line


def test_bad_gpu_hours(capsys, tmp_path):
    actuals = write(tmp_path, HEADER + "2026-06,compute,GPU,100\n")
    assert "at least 0" in refused(capsys, "track", EXAMPLE_A, "--actuals", actuals, "--gpu-hours", "-3")
    later = write(tmp_path, "month,gpu_hours\n2026-09,10\n", "hours.csv")
    assert "after the last month of spend" in refused(
        capsys, "track", EXAMPLE_A, "--actuals", actuals, "--gpu-hours", later
    )
    missing = refused(capsys, "track", EXAMPLE_A, "--actuals", tmp_path / "nope.csv")
    assert "nope.csv" in missing and "file not found" in missing


def test_spend_not_yet_invoiced_is_said(capsys, tmp_path):
    # Example A schedules its whole programme at the start: with only 1,000 of it invoiced,
    # the rest of the programme forecast is not in the re-forecast, and the output says how much.
    actuals = write(tmp_path, HEADER + "2026-06,dataset,Annotation,1000\n")
    figures = run_json(capsys, EXAMPLE_A, "--actuals", actuals)
    programme = sum(row["forecast_usd"] for row in figures["by_area"][:5])
    note = next(note for note in figures["notes"] if "not yet invoiced" in note)
    assert f"USD {programme - 1000:,.0f}" in note
    assert figures["reforecast"]["programme_usd"]["p50"] == 1000.0


def test_a_folder_is_refused(capsys, tmp_path):
    assert "is a folder" in refused(capsys, "track", EXAMPLE_A, "--actuals", tmp_path)


def test_months_by_area(capsys, tmp_path, built_plan):
    figures = run_json(capsys, built_plan, "--actuals", write(tmp_path, THREE_MONTHS))
    # Month 3: eval forecast 6,200 ÷ 3 = 2,066.67 against 6,500 actual; no serving before launch.
    month3 = figures["by_month"][2]["by_area"]
    assert month3["eval"] == {"forecast_usd": 2066.67, "actual_usd": 6500.0}
    assert "serving" not in month3


def test_hostile_files_are_one_line(capsys, tmp_path):
    import os

    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    assert "FIFO" in refused(capsys, "track", EXAMPLE_A, "--actuals", fifo)  # refused unread, never blocks
    latin = tmp_path / "latin.csv"
    latin.write_bytes(HEADER.encode() + "2026-06,compute,Caf\xe9,1\n".encode("latin-1"))
    assert "not UTF-8" in refused(capsys, "track", EXAMPLE_A, "--actuals", latin)
    deep = write(tmp_path, FOCUS + "2026-06-01,Usage,GPU,1,USD," + '"' + "[" * 100_000 + '"\n', "deep.csv")
    assert "row 2, Tags: not a JSON object" in refused(capsys, "track", EXAMPLE_A, "--actuals", deep)
