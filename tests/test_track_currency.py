"""Spend to date in the plan's currency (issue 24, money; issue 23, tracking): ``track``, the
client document's "Since the last quote" and "Spend to date", the workbook's two follow-up
sheets and notebook 06's views write a plan in euros in EUR, never USD; a cost export in
another currency is refused in one line. Figures derived by hand in the comments from the
CSV (tests/fixtures/actuals/european_bank_eur.csv) and the plan's own booked rate."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import openpyxl
import pytest
import yaml
from follow_up_helpers import refused

from ftcost_helpers.cli import main
from ftcost_helpers.engine.loading import load_price_book, project_root
from ftcost_helpers.engine.money import amounts_in
from ftcost_helpers.report.document import client_document
from ftcost_helpers.report.excel import write_workbook
from ftcost_helpers.report.excel_follow_up import SHEET_SINCE, SHEET_SPEND
from ftcost_helpers.report.figures import client_figures, with_follow_up
from ftcost_helpers.report.follow_up import FollowUp
from ftcost_helpers.report.track import track_text

ROOT = project_root()
BANK_EUR = ROOT / "tests" / "fixtures" / "clients" / "european_bank_eur.yaml"
SPEND_EUR = ROOT / "tests" / "fixtures" / "actuals" / "european_bank_eur.csv"
TODAY = dt.date(2026, 12, 7)

# The CSV, in euros:
#   2026-09 (month 1): dataset 12,000 + engineering 5,600          = 17,600
#   2026-10 (month 2): compute 250 (100 GPU-hours) + engineering 5,600 = 5,850
#   to date 17,600 + 5,850 = 23,450.
# The plan books its own rate, EUR 2.00 a GPU-hour (a plan's own amounts are in its currency):
# compute's rate part = (250 ÷ 100 − 2.00) × 100 = (2.50 − 2.00) × 100 = EUR 50.
MONTHS_EUR = [17600.0, 5850.0]
TO_DATE_EUR = 23450.0
COMPUTE_RATE_EUR = (250 / 100 - 2.00) * 100


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The bank in euros on its base case (1,000 draws) at a booked EUR 2.00 a GPU-hour, and
    the same plan quoted earlier with 10 runs instead of 12."""
    folder = tmp_path_factory.mktemp("eur")
    plan = yaml.safe_load(BANK_EUR.read_text(encoding="utf-8"))
    plan["uncertainty"] = {"draws": 1000, "seed": 7}
    plan["report"]["basis"] = "base_case"
    plan["training"]["rate_usd_per_gpu_hour"] = 2.0
    path = folder / "bank_eur.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    plan["training"]["runs"] = 10
    earlier = folder / "earlier.yaml"
    earlier.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    return {"plan": path, "earlier": earlier, "folder": folder}


def run_track(capsys, *args: object) -> str:
    assert main(["track", *map(str, args)]) == 0
    return capsys.readouterr().out


@pytest.fixture(scope="module")
def figures_json(files) -> dict:
    """``track --json`` of the plan against the CSV (run once for the module)."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["track", str(files["plan"]), "--actuals", str(SPEND_EUR), "--json"]) == 0
    return json.loads(out.getvalue())


def test_track_json_says_its_currency_and_sums_the_euros(figures_json) -> None:
    assert figures_json["currency"] == "EUR"
    assert [row["actual_usd"] for row in figures_json["by_month"]] == MONTHS_EUR
    assert figures_json["actual_to_date_usd"] == TO_DATE_EUR
    compute = next(row for row in figures_json["by_area"] if row["area"] == "compute")
    assert compute["rate_usd"] == pytest.approx(COMPUTE_RATE_EUR, abs=0.005)
    assert compute["actual_usd_per_unit"] == 2.5 and compute["planned_usd_per_unit"] == 2.0
    # every note that names an amount names it in euros
    assert not [note for note in figures_json["notes"] if "USD" in note]


def test_track_text_is_in_euros_and_never_usd(files, capsys) -> None:
    text = run_track(capsys, files["plan"], "--actuals", SPEND_EUR)
    assert "USD" not in text
    assert "amounts in EUR" in text
    assert "EUR 17,600" in text and "EUR 5,850" in text and "EUR 23,450" in text
    assert "100.0 GPU-hours at EUR 2.50 against" in text and "planned at EUR 2.00" in text
    assert "EUR 50" in text  # compute's rate part
    assert re.search(r"Programme\s+EUR 23,450 – 23,450 \(P50 EUR 23,450\)", text)  # both months spent


def test_track_text_writes_the_figures_currency_whatever_the_context(figures_json) -> None:
    with amounts_in("USD"):  # a face that left USD set writes the figures' own currency
        text = track_text(figures_json)
    assert "USD" not in text and "EUR 23,450" in text


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("month,area,line,amount,currency\n2026-09,dataset,Annotation,100,USD\n", "row 2, currency"),
        (
            "BillingPeriodStart,ChargeCategory,ServiceName,BilledCost,BillingCurrency,Tags\n"
            '2026-09-01,Usage,GPU,100,USD,"{""ftcost-area"": ""compute""}"\n',
            "row 2, BillingCurrency",
        ),
    ],
)
def test_an_export_in_another_currency_is_one_line(files, capsys, tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "usd.csv"
    path.write_text(text, encoding="utf-8")
    line = refused(capsys, "track", files["plan"], "--actuals", path)
    assert line.startswith(f"error: {path}") and where in line
    assert "currency 'USD' is not the plan's EUR; convert the export first" in line


def test_an_earlier_quote_in_another_currency_is_one_line(files, capsys, tmp_path: Path) -> None:
    plan = yaml.safe_load(files["earlier"].read_text(encoding="utf-8"))
    plan.pop("currency")
    usd = tmp_path / "earlier_usd.yaml"
    usd.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    out = tmp_path / "out"
    line = refused(capsys, "report", files["plan"], "--out", out, "--previous", usd)
    assert "earlier_usd.yaml" in line and "currency" in line
    assert "the earlier quote is in USD, this one in EUR" in line
    assert not out.exists()


# --- the report's follow-up: document and workbook ------------------------------------------


@pytest.fixture(scope="module")
def followed(files):
    figures = client_figures(files["plan"], load_price_book(), TODAY, "2026-12-07T00:00:00+00:00")
    follow = FollowUp(previous=files["earlier"], actuals=SPEND_EUR)
    return with_follow_up(figures, follow, None, None, TODAY)


def text_of(page: str, anchor: str) -> str:
    section = page[page.index(f'id="{anchor}"') :]
    section = section[: section.index("</section>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))


def test_the_document_sections_are_in_euros(followed) -> None:
    page = client_document(followed, today=TODAY)
    spend = text_of(page, "spend")
    assert "USD" not in spend
    assert "Months 1–2 (to 2026-10): EUR 23,450 spent" in spend
    assert "Spend by month (EUR)" in spend and "Spend by area, months tracked (EUR)" in spend
    assert "100.0 GPU-hours against" in spend and "at EUR 2.50 against EUR 2.00 a unit" in spend
    since = text_of(page, "since")
    assert "USD" not in since
    assert "The change since the earlier quote by cause (EUR" in since
    # 2 more runs × 1 GPU × 10 hours (the mode) × EUR 2.00 = EUR 40 more training
    assert followed.requote.attribution["plan"]["programme"] == pytest.approx(40.0, abs=0.01)
    assert "+EUR 40" in since


def test_the_follow_up_sheets_are_headed_in_euros(followed, tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    write_workbook(path, followed)
    book = openpyxl.load_workbook(path)
    for name in (SHEET_SINCE, SHEET_SPEND):
        texts = [cell for row in book[name].iter_rows(values_only=True) for cell in row if isinstance(cell, str)]
        assert not [text for text in texts if "USD" in text], name
    since = next(book[SHEET_SINCE].iter_rows(values_only=True))
    assert since[2:4] == ("Programme (EUR)", "Cost of ownership (EUR)")
    spend = next(book[SHEET_SPEND].iter_rows(values_only=True))
    assert spend[1:6] == ("Forecast (EUR)", "Actual (EUR)", "Variance (EUR)", "Rate (EUR)", "Volume (EUR)")
    # the money cells' number format names the euro too
    formats = {cell.number_format for row in book[SHEET_SPEND].iter_rows() for cell in row if cell.data_type == "n"}
    assert formats and not [f for f in formats if "USD" in f]
    rows = {
        row[0]: row for row in openpyxl.load_workbook(path, data_only=True)[SHEET_SPEND].iter_rows(values_only=True)
    }
    assert rows["Month 1 (2026-09)"][2] == pytest.approx(MONTHS_EUR[0])


# --- notebook 06's views ---------------------------------------------------------------------


def test_the_notebook_views_are_in_euros(followed) -> None:
    from ftcost_helpers.views import tracking_views as tv

    with amounts_in("EUR"):  # as notebook 06's set-up does for a plan in euros
        figures = tv.track_actuals(followed.breakdown, SPEND_EUR)
        assert figures["currency"] == "EUR" and figures["actual_to_date_usd"] == TO_DATE_EUR
        shown = tv.by_month_table(figures)._repr_html_() + tv.by_area_table(figures)._repr_html_()
        shown += tv.reforecast_table(figures)._repr_html_() + tv.tracking_reading(figures)
        shown += tv.attribution_table(followed.requote)._repr_html_() + tv.requote_reading(followed.requote)
        assert "USD" not in shown and "EUR 23,450" in shown and "EUR 17,600" in shown
        chart = tv.forecast_actual_chart(figures)
        assert chart.axes[0].get_ylabel() == "EUR in the month"
        waterfall = tv.waterfall_chart(followed.requote)
        assert waterfall.axes[0].get_ylabel().startswith("EUR (")


# --- a pilot's calibration (notebook 06, estimate, the document and workbook) ----------------


def test_the_calibration_sentence_writes_the_plans_currency() -> None:
    from ftcost_helpers.report.calibrate import calibration_sentence

    # Example A's training line before a pilot: 8 GPUs × 6 h × runs 10–20 at 1.71131 a GPU-hour
    # = 821.43–1,642.86, written whole: 821 – 1,643; after it, a made-up 50.4–119.2 → 50 – 119.
    calibration = {
        "source": "from a pilot",
        "applied": True,
        "before": {
            "hours_per_run": {"low": 6, "high": 6},
            "utilisation": {"low": 0.4, "high": 0.68},
            "training_runs_usd": {"low": 8 * 6 * 10 * 1.71131, "high": 8 * 6 * 20 * 1.71131},
        },
        "after": {
            "hours_per_run": {"low": 0.37, "high": 0.44},
            "utilisation": {"low": 0.34, "high": 0.41},
            "training_runs_usd": {"low": 50.4, "high": 119.2},
        },
    }
    with amounts_in("EUR"):
        sentence = calibration_sentence(calibration)
    assert sentence is not None and "USD" not in sentence
    assert "training runs EUR 50 – 119 (before EUR 821 – 1,643)." in sentence


def test_calibrate_prints_the_plans_currency(tmp_path: Path, capsys) -> None:
    plan = yaml.safe_load((ROOT / "params" / "clients" / "example_a.yaml").read_text(encoding="utf-8"))
    plan.pop("scenarios")
    plan["currency"] = "EUR"  # example A's own amounts, read as euros
    path = tmp_path / "a_eur.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    assert main(["calibrate", str(path), "--log", str(ROOT / "params" / "examples" / "pilot_steps.csv")]) == 0
    text = capsys.readouterr().out
    assert "Training runs (EUR)" in text and "USD" not in text


def test_diff_is_in_the_plans_currency(files, capsys) -> None:
    assert main(["diff", str(files["earlier"]), str(files["plan"])]) == 0
    text = capsys.readouterr().out
    assert "USD" not in text
    # 2 more runs × 1 GPU × 10 hours × EUR 2.00 = EUR 40, all of it the plan's change
    assert re.search(r"Plan \(keys the client changed\)\s+EUR 40\s+EUR 40", text)
