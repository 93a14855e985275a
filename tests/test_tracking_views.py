"""The tables, charts and panel of ``notebooks/06_tracking`` (issue 23 item 4). Expected figures
are derived by hand in the comments from the example files and the client files' own inputs."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.loading import ParamsError, load_price_book, project_root
from ftcost_helpers.engine.requote import CAUSES
from ftcost_helpers.views import tracking_views as tv
from ftcost_helpers.views.tracking_panel import NO_ACTUALS, tracking_panel
from ftcost_helpers.views.tracking_views import EXAMPLE_CLIENT

ROOT = project_root()
EXAMPLES = ROOT / "params" / "examples"
RATE = 1.71131  # example A's booked USD/GPU-hour (training.rate_usd_per_gpu_hour)


# ---------------------------------------------------------------- which files apply


def test_the_example_files_are_example_as_only(examples):
    path, why = tv.own_file("params/examples/pilot_steps.csv", examples["a"], "pilot log")
    assert path == EXAMPLES / "pilot_steps.csv" and why == ""
    for other in ("b", "c"):
        path, why = tv.own_file("params/examples/pilot_steps.csv", examples[other], "pilot log")
        assert path is None
        assert why.startswith("No pilot log for this client") and "params/clients/example_a.yaml" in why
        assert "-p pilot_log FILE" in why


def test_no_file_and_a_missing_file_are_said(examples):
    assert tv.own_file("", examples["a"], "actuals file") == (None, "No actuals file was given for this client.")
    path, why = tv.own_file("params/nowhere.csv", examples["b"], "actuals file")
    assert path is None and why == "No actuals file: `params/nowhere.csv` is not a file."


# ---------------------------------------------------------------- calibration


@pytest.fixture(scope="module")
def pilot_a(examples):
    book = load_price_book()
    reading = tv.read_pilot(examples["a"], book, EXAMPLES / "pilot_steps.csv")
    assert reading.message == "" and reading.result is not None
    return reading


def test_the_pilot_table_reads_the_plain_log(pilot_a):
    # params/examples/pilot_steps.csv: 200 steps logged every 10. Warm-up: max(5, ⌈10 % × 200⌉) = 20
    # steps, so the 18 intervals starting at step 20 or later are timed (rows 30..200), each 10
    # steps. Their seconds sorted: 22.245, 22.284, 22.386, 22.386, 22.387, 22.413, 22.417, 22.423,
    # 22.437, ..., 22.713, 22.775. P10 (weighted, definition 1): the first whose share reaches 10 %,
    # 1.8 of 18 → the 2nd, 22.284 / 10 = 2.2284 s; P50: 9 of 18 → the 9th, 2.2437 s; P90: 16.2 →
    # the 17th, 22.713 → 2.2713 s. Tokens: 1,310,720 per 10 steps = 131,072 a step; ÷ 2.2437 s =
    # 58,417.8 tokens/s. The pilot ran the plan's own configuration: k = 1 (the pilot itself),
    # w = 1.078¹ − 1 = 7.8 %.
    table = tv.pilot_table(pilot_a.result)
    assert table.value("Steps in the log", "Pilot") == "200"
    assert table.value("Warm-up steps set aside", "Pilot") == "20"
    assert table.value("Step time P10 / P50 / P90", "Pilot") == "2.228 / 2.244 / 2.271 s"
    assert table.value("Tokens per second", "Pilot") == "58,418"
    assert table.value("Peak memory measured", "Pilot") == "43.5 GB"  # the log's last peak, 43.46 GB
    assert table.value("Transfer steps k", "Pilot") == "1"
    assert table.value("Band widened by w", "Pilot") == "7.8%"


def test_the_calibration_narrows_the_hours_and_says_so(examples, pilot_a, book):
    from ftcost_helpers.engine.schema import Calibration
    from ftcost_helpers.report.calibrate import calibration_block

    before = estimate(examples["a"], book)
    date = pilot_a.log.says["date"]
    block = calibration_block(pilot_a.result, before, "params/examples/pilot_steps.csv", "plain_csv", date, date)
    after = estimate(examples["a"].model_copy(update={"calibration": Calibration.model_validate(block)}), book)
    # Before: example A books 6 h a run (training.hours_per_run), one value at every corner.
    assert tv.hours_per_run(before) == pytest.approx((6.0, 6.0, 6.0))
    low, base, high = tv.hours_per_run(after)
    assert low < base < high < 6.0
    table = tv.calibration_table(before, after)
    assert table.value("Hours per run", "Before (low–high, base)") == "6.00 h"
    reading = tv.calibration_reading(pilot_a.result, before, after)
    assert reading.startswith("**Reading the result.** The pilot's median step took 2.244 s")
    assert "against 6.00 h booked before" in reading and "widened by 7.8% for 1 transfer step," in reading
    figure = tv.calibration_chart(before, after)
    assert figure.axes[0].get_xscale() == "log"


def test_a_pilot_of_another_model_is_one_sentence(examples, book):
    # Example B trains on 4 GPUs; the log says it ran on 8 (and without --pilot, the pilot is
    # taken to have run the plan's own configuration). The file is named as the project shows it.
    reading = tv.read_pilot(examples["b"], book, EXAMPLES / "pilot_steps.csv")
    assert reading.result is None
    assert reading.message == (
        "The pilot log does not calibrate this plan: params/examples/pilot_steps.csv: gpus: the log says 8, "
        "the plan's training has 4: give --pilot FILE with what the pilot ran"
    )
    assert tv.read_pilot(examples["b"], book, None, "none here").message == "none here"


# ---------------------------------------------------------------- the re-quote


def test_scaled_book_multiplies_every_gpu_rate(book):
    # The price book's H100 SXM neocloud on-demand range is USD 1.80–2.60; × 0.9 = 1.62–2.34.
    scaled = tv.scaled_book(book, 0.9)
    rate = scaled.gpu_rates_usd_per_gpu_hour["h100_sxm"]["neocloud_on_demand"]
    assert (rate.low, rate.high) == (pytest.approx(1.62), pytest.approx(2.34))
    assert book.gpu_rates_usd_per_gpu_hour["h100_sxm"]["neocloud_on_demand"].low == 1.80, "the book is untouched"
    assert tv.scaled_book(book, 1.0) is book


def test_waterfall_steps_stack_each_part_on_the_last():
    # Old 100; +20 → bar from 100 to 120; −30 → bar from 90 to 120; 0 → nothing at 90; new 90.
    bars = tv.waterfall_steps(100.0, [("a", 20.0), ("b", -30.0), ("c", 0.0)])
    assert bars == [
        ("Old", 0.0, 100.0, "total"),
        ("a", 100.0, 20.0, "up"),
        ("b", 90.0, 30.0, "down"),
        ("c", 90.0, 0.0, "down"),
        ("New", 0.0, 90.0, "total"),
    ]


def stub_requote(old: dict, parts: dict, new: dict) -> SimpleNamespace:
    attribution = {cause: {"programme": 0.0, "tco": 0.0} | parts.get(cause, {}) for cause in CAUSES}
    return SimpleNamespace(
        old=SimpleNamespace(figures=lambda: old),
        new=SimpleNamespace(figures=lambda: new),
        attribution=attribution,
        change={k: new[k] - old[k] for k in old},
        changed=[("training.runs", {"low": 10.0, "high": 20.0, "mode": 14.0}, 16)],
        basis="p50",
    )


def test_the_waterfall_and_the_attribution_table():
    # TCO 1,000 → prices −100, plan +250, interaction −50 → 1,100 (1,000 − 100 + 250 − 50).
    result = stub_requote(
        {"programme": 500.0, "tco": 1000.0},
        {"prices": {"tco": -100.0}, "plan": {"programme": 200.0, "tco": 250.0}, "interaction": {"tco": -50.0}},
        {"programme": 700.0, "tco": 1100.0},
    )
    figure = tv.waterfall_chart(result, "tco")
    bars = [(round(p.get_y(), 6), round(p.get_height(), 6)) for p in figure.axes[0].patches]
    # Old 0–1,000; prices 900–1,000; plan 900–1,150; calibration and model nil at 1,150;
    # interaction 1,100–1,150; new 0–1,100.
    assert bars == [(0, 1000), (900, 100), (900, 250), (1150, 0), (1150, 0), (1100, 50), (0, 1100)]
    table = tv.attribution_table(result)
    assert table.value("Plan", "Programme") == 200.0 and table.value("Change", "Cost of ownership") == 100.0
    assert table.value("New quote", "Cost of ownership") == 1100.0
    assert "training.runs: 10–20 (14) → 16" in table.note
    reading = tv.requote_reading(result)
    assert "*plan* (USD 250)" in reading and "add −USD 50" in reading


def test_value_text():
    assert tv.value_text({"low": 10.0, "high": 20.0}) == "10–20"
    assert tv.value_text(None) == "none" and tv.value_text(20) == "20"


# ---------------------------------------------------------------- actual spend


@pytest.fixture(scope="module")
def tracked(examples):
    book = load_price_book()
    return tv.track_actuals(estimate(examples["a"], book), EXAMPLES / "actuals_focus.csv")


def test_tracking_the_focus_export(tracked):
    # The rows tagged with an area (the untagged storage row left out):
    # June 1,036 + 24,000 + 2,000 + 6,200 + 21,600 + 1,540 + 1,800 = 58,176;
    # July 222 − 100 + 14,400 + 21,600 + 1,610 + 1,800 = 39,532; August 7,200 + 1,595 + 1,800 = 10,595.
    assert [r["actual_usd"] for r in tracked["by_month"]] == [58176.0, 39532.0, 10595.0]
    assert tracked["actual_to_date_usd"] == 108303.0  # 58,176 + 39,532 + 10,595
    # Compute: 1,036 + 222 − 100 = 1,158 for 560 + 120 = 680 GPU-hours; rate variance
    # = 1,158 − 1.71131 × 680 = 1,158 − 1,163.69 = −5.69.
    compute = next(r for r in tracked["by_area"] if r["area"] == "compute")
    assert compute["actual_usd"] == 1158.0 and compute["rate_usd"] == pytest.approx(1158 - RATE * 680, abs=0.01)
    months = tv.by_month_table(tracked)
    assert months.value("Total", "Actual") == 108303.0
    assert list(months.data["Month"]) == ["2026-06", "2026-07", "2026-08", "Total"]
    areas = tv.by_area_table(tracked)
    assert areas.value("Compute", "Rate") == pytest.approx(-5.69, abs=0.01)
    assert "Storage" not in list(areas.data["Area"])


def test_the_notebook_tracks_as_the_command_does(tracked, capsys):
    """One glue (engine/tracking.spend_to_date) for ``track`` and the notebook: the same
    figures and notes, the untagged storage row said in both."""
    import json

    from ftcost_helpers.cli import main

    assert main(["track", str(ROOT / EXAMPLE_CLIENT), "--actuals", str(EXAMPLES / "actuals_focus.csv"), "--json"]) == 0
    command = json.loads(capsys.readouterr().out)
    shown = {key: value for key, value in command.items() if key not in ("plan", "actuals")}
    assert {key: value for key, value in tracked.items() if key != "actuals"} == shown
    assert "1 row without a 'ftcost-area' tag left out (other spending in the same account)" in tracked["notes"]
    assert tracked["currency"] == "USD"


def test_the_forecast_chart_draws_the_months(tracked):
    figure = tv.forecast_actual_chart(tracked)
    heights = [round(p.get_height(), 2) for p in figure.axes[0].patches]
    forecast = [r["forecast_usd"] for r in tracked["by_month"]]
    assert heights == [*forecast, 58176.0, 39532.0, 10595.0]


def test_the_reforecast_table_and_chart(tracked):
    again = tracked["reforecast"]
    table = tv.reforecast_table(tracked)
    band = again["tco_usd"]
    assert table.value("Cost of ownership, re-forecast", "P90 − P10") == pytest.approx(band["p90"] - band["p10"])
    # Every programme month of example A (build 0: all in month 1) is tracked: the programme is spent.
    assert table.value("Programme, re-forecast", "P90 − P10") == 0.0
    figure = tv.reforecast_chart(tracked)
    line = figure.axes[1].lines[2]  # the re-forecast's band of the cost of ownership
    assert list(line.get_xdata()) == [band["p10"], band["p90"]]
    assert "narrower than the original" in tv.tracking_reading(tracked)


def test_a_month_outside_the_plan_is_refused(tmp_path, examples, book):
    export = tmp_path / "late.csv"
    export.write_text("month,area,line,amount\n2031-01,compute,Training runs,100\n", encoding="utf-8")
    with pytest.raises(ParamsError) as refused:
        tv.track_actuals(estimate(examples["a"], book), export)
    assert str(refused.value).startswith("late.csv: ")  # outside the project: its name only


# ---------------------------------------------------------------- the panel


EXPORTS = {"FOCUS": "params/examples/actuals_focus.csv", "plain": "params/examples/actuals_plain.csv"}


def test_the_panel_moves_with_runs_and_prices(examples, book):
    panel = tracking_panel(examples["a"], book, actuals=EXPORTS)
    assert panel.headline()["Programme total"] == "USD 88,550"
    assert panel.headline()["Variance to date"] == "USD 2,205"  # 108,303 − 106,098 (the FOCUS export)
    base_tco = panel.breakdown.tco
    # 6 more runs of 6 h on 8 GPUs at USD 1.71131: + 6 × 6 × 8 × 1.71131 = 492.86 → USD 89,043.
    panel.controls["runs"].value = 20
    assert panel.breakdown.programme_total == pytest.approx(88550 + 6 * 6 * 8 * RATE, abs=0.01)
    assert panel.headline()["Programme total"] == "USD 89,043"
    assert panel.result.attribution["prices"]["programme"] == 0.0
    panel.controls["runs"].value = 14
    # GPU prices × 0.9: serving's H100 neocloud on-demand base 2.20 → 1.98 on 1 GPU × 730 h a
    # month for 24 months: −0.22 × 730 × 24 = −3,854.40 on the cost of ownership.
    panel.controls["gpu_prices"].value = 0.9
    assert panel.breakdown.tco - base_tco == pytest.approx(-0.22 * 730 * 24, abs=0.01)
    panel.controls["actuals"].value = NO_ACTUALS
    assert "Variance to date" not in panel.headline() and panel.track_view.value == ""


def test_the_panel_offers_another_client_none_of_example_as_files(examples, book, pilot_a):
    panel = tracking_panel(examples["b"], book, pilot=examples["a"], actuals=EXPORTS)
    assert panel.controls["actuals"].options == (NO_ACTUALS,)
    assert panel.pilot is None and panel.error is None
    assert panel.headline()["Programme total"] == "USD 94,800"


def test_the_modules_stay_small():
    for name in ("tracking_views.py", "tracking_panel.py"):
        assert len((ROOT / "ftcost_helpers" / "views" / name).read_text().splitlines()) < 600


def test_the_example_files_say_they_are_examples():
    for path in (EXAMPLES / "pilot_steps.csv", EXAMPLES / "actuals_focus.csv"):
        assert "EXAMPLE ONLY" in Path(path).read_text(encoding="utf-8").splitlines()[0]
