"""Buy or rent? Owned hardware against the plan's rented GPU-hours (issue 24, item 5;
ftcost_helpers/engine/model/ownership.py), every expected figure worked by hand."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.buy_rent import plan_buy_vs_rent
from ftcost_helpers.engine.loading import ParamsError, load_params, read_yaml
from ftcost_helpers.engine.model.ownership import (
    break_even_gpu_hours_per_month,
    buy_vs_rent,
    depreciation_over,
    depreciation_per_month,
    energy_per_gpu_hour,
)
from ftcost_helpers.engine.summary import summarise

BANK = Path(__file__).resolve().parent / "fixtures" / "clients" / "european_bank.yaml"


def test_straight_line_depreciation_to_the_resale_value():
    # 8 GPUs × 30,000 × (1 − 0.2) / (12 × 5) = 192,000 / 60 = 3,200 a month
    assert depreciation_per_month(8, 30_000, 0.2, 5) == pytest.approx(3200.0)
    # 24 of 60 months: 192,000 × 0.4 = 76,800; past the life, no more than the write-down
    assert depreciation_over(24, 8, 30_000, 0.2, 5) == pytest.approx(76_800.0)
    assert depreciation_over(72, 8, 30_000, 0.2, 5) == pytest.approx(192_000.0)
    assert depreciation_over(0, 8, 30_000, 0.2, 5) == 0.0


def test_energy_per_gpu_hour():
    # 0.7 kW × PUE 1.5 × 0.10 per kWh = 0.105 per GPU-hour
    assert energy_per_gpu_hour(0.7, 1.5, 0.10) == pytest.approx(0.105)


def test_break_even_hours_and_the_rent_that_never_covers_energy():
    # fixed 3,200 + 800 colocation = 4,000 a month; rent 2.105 − energy 0.105 = 2.00 margin
    # → 2,000 GPU-hours a month
    assert break_even_gpu_hours_per_month(4000.0, 2.105, 0.105) == pytest.approx(2000.0)
    assert math.isnan(break_even_gpu_hours_per_month(4000.0, 0.10, 0.105))
    assert math.isnan(break_even_gpu_hours_per_month(4000.0, 0.105, 0.105))  # zero margin
    both = break_even_gpu_hours_per_month(np.array([4000.0, 4000.0]), np.array([2.105, 0.1]), 0.105)
    assert both[0] == pytest.approx(2000.0) and math.isnan(both[1])


def _args() -> dict:
    """8 GPUs for 40,000 GPU-hours over 24 months: rented at 2.105 an hour, or bought at 30,000
    each over 5 years with 20% back at resale, 0.7 kW each at a PUE of 1.5 and 0.10 a kWh, and
    800 a month of colocation."""
    return dict(
        gpus=8,
        gpu_hours=40_000,
        horizon_months=24,
        rate=2.105,
        purchase_per_gpu=30_000,
        years=5,
        resale_fraction=0.2,
        power_kw_per_gpu=0.7,
        pue=1.5,
        kwh_price=0.10,
        colocation_per_month=800,
    )


def test_buy_vs_rent_by_hand():
    owned = buy_vs_rent(**_args())
    # rent 40,000 × 2.105 = 84,200; own: depreciation 76,800 + energy 40,000 × 0.105 = 4,200
    # + colocation 800 × 24 = 19,200 → 100,200: renting is cheaper
    assert owned.rented_usd == pytest.approx(84_200.0)
    assert owned.owned_usd == pytest.approx(100_200.0)
    assert owned.cheaper == "rent"
    assert owned.purchase_usd == pytest.approx(240_000.0)
    assert owned.owned_usd_per_gpu_hour == pytest.approx(100_200 / 40_000)
    assert owned.break_even_gpu_hours_per_month == pytest.approx(2000.0)
    # twice the hours: rent 168,400 against 76,800 + 8,400 + 19,200 = 104,400: buy
    twice = buy_vs_rent(**{**_args(), "gpu_hours": 80_000})
    assert twice.owned_usd == pytest.approx(104_400.0) and twice.cheaper == "buy"


def test_no_gpu_hours_no_rate_per_hour():
    owned = buy_vs_rent(**{**_args(), "gpu_hours": 0})
    assert owned.owned_usd_per_gpu_hour is None and owned.rented_usd == 0.0


def _bank(tmp_path: Path, ownership: dict, gpu: str | None = None) -> Path:
    data = read_yaml(BANK)
    data["training"]["ownership"] = ownership
    if gpu:
        data["training"]["gpu"] = gpu
    path = tmp_path / "bank.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_the_plan_takes_the_price_book_defaults(tmp_path, book):
    params = load_params(_bank(tmp_path, {"colocation_usd_per_month": 300}), book)
    owned = plan_buy_vs_rent(estimate(params, book))
    # GPU-hours: 1 GPU × 10 h × 12 runs + 2 failed runs × 10 h × 0.4 done = 120 + 8 = 128 at USD 1.50
    assert owned.gpu_hours == pytest.approx(128.0) and owned.rented_usd == pytest.approx(192.0)
    # purchase: midpoint of 25,000–33,750 = 29,375; resale midpoint 0.15; 5 years; 24 months
    # 29,375 × 0.85 × 24/60 = 9,987.50
    assert owned.depreciation_usd == pytest.approx(9987.5)
    # energy: 128 h × 0.9875 kW × PUE 1.58 × 0.1309 per kWh = 26.143
    assert owned.energy_usd == pytest.approx(128 * 0.9875 * 1.58 * 0.1309)
    assert owned.colocation_usd == pytest.approx(7200.0)
    summary = summarise(estimate(params, book))
    assert summary["ownership"]["cheaper"] == "rent"
    assert summary["ownership"]["owned_usd"] == pytest.approx(round(9987.5 + 128 * 0.9875 * 1.58 * 0.1309 + 7200, 2))


def test_a_plan_without_ownership_has_none(examples, book):
    assert summarise(estimate(examples["a"], book), basis="base_case")["ownership"] is None


def test_a_gpu_without_defaults_needs_its_own_figures(tmp_path, book):
    with pytest.raises(ParamsError, match=r"training\.ownership\.purchase_usd_per_gpu"):
        load_params(_bank(tmp_path, {"years": 4}, gpu="a100_80gb"), book)
    given = {"purchase_usd_per_gpu": 15_000, "power_kw_per_gpu": 0.4}
    assert load_params(_bank(tmp_path, given, gpu="a100_80gb"), book).training.ownership.years is None


def test_the_workbook_shows_buy_or_rent(tmp_path, book):
    import datetime as dt

    from openpyxl import load_workbook

    from ftcost_helpers.report.excel import write_workbook
    from ftcost_helpers.report.figures import client_figures

    figures = client_figures(_bank(tmp_path, {"colocation_usd_per_month": 300}), book, dt.date(2026, 12, 7), "t")
    write_workbook(tmp_path / "r.xlsx", figures)
    rows = {row[0].value: row[2].value for row in load_workbook(tmp_path / "r.xlsx")["Summary"].iter_rows()}
    assert rows["Buy or rent: cheaper over the horizon (base case)"] == "rent"
    assert rows["Owning the training GPUs over the horizon (base case)"] == pytest.approx(
        figures.summary["ownership"]["owned_usd"]
    )


def test_a_plan_costed_on_owned_gpus(tmp_path, book):
    # the bank trained on the GPU it buys: the runs' 120 GPU-hours × energy 0.204232 (0.9875 kW
    # × PUE 1.58 × 0.1309) + depreciation 9,987.50 + colocation 7,200; failed runs 8 GPU-hours
    # × energy; the same total as the buy-vs-rent comparison's owned figure
    ownership = {"colocation_usd_per_month": 300, "costed": True}
    params = load_params(_bank(tmp_path, ownership), book)
    breakdown = estimate(params, book)
    energy = 0.9875 * 1.58 * 0.1309
    runs = next(line.base for line in breakdown.line_items if line.item.startswith("Training runs"))
    failed = next(line.base for line in breakdown.line_items if line.item.startswith("Failed runs"))
    assert runs == pytest.approx(120 * energy + 9987.5 + 7200)
    assert failed == pytest.approx(8 * energy)
    assert runs + failed == pytest.approx(plan_buy_vs_rent(breakdown).owned_usd)


def test_the_workbook_of_a_plan_on_owned_gpus_agrees_with_the_engine(tmp_path, book):
    import datetime as dt

    from openpyxl import load_workbook

    from ftcost_helpers.report.excel import write_workbook
    from ftcost_helpers.report.figures import client_figures

    path = _bank(tmp_path, {"colocation_usd_per_month": 300, "costed": True})
    figures = client_figures(path, book, dt.date(2026, 12, 7), "t")
    write_workbook(tmp_path / "r.xlsx", figures)
    sheet = load_workbook(tmp_path / "r.xlsx", data_only=True)["Summary"]
    rows = {row[0].value: (row[1].value, row[2].value) for row in sheet.iter_rows()}
    for figure in ("Programme total (base case)", "Cost of ownership over 24 months (base case)"):
        formula, engine = rows[figure]
        assert formula == pytest.approx(engine, abs=0.01), figure


def test_an_owned_hardware_scenario_compares_with_the_plan(tmp_path, book):
    from ftcost_helpers.engine.scenarios import compare_scenarios

    data = read_yaml(BANK)
    data["training"]["ownership"] = {"colocation_usd_per_month": 300}
    data["scenarios"] = [{"name": "Buy the GPU", "overrides": {"training": {"ownership": {"costed": True}}}}]
    path = tmp_path / "bank.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    plan, bought = compare_scenarios(load_params(path, book), book)
    # rented compute 192 (128 GPU-hours × 1.50) against owning 17,213.64 (see above)
    assert plan.compute_usd == pytest.approx(192.0)
    assert bought.compute_usd == pytest.approx(9987.5 + 7200 + 128 * 0.9875 * 1.58 * 0.1309)
    assert bought.programme_total_usd - plan.programme_total_usd == pytest.approx(bought.compute_usd - 192.0)
