"""One figure, one function: the headline of page 1 is the figure summary.json, the index,
the CLI (text and JSON) and the cash-flow chart give, for the worked examples and for two
clients written with ``init`` (a bank with low/mode/high ranges and an API alternative
priced by volume; a hospital with a build period, staff time saved and a scenario that
does not fit)."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path

import pytest

from ftcost_helpers.cli import main
from ftcost_helpers.engine.money import usd
from ftcost_helpers.report.document import client_document
from ftcost_helpers.report.figures import client_figures
from ftcost_helpers.report.index import index_html

TODAY = dt.date(2026, 12, 7)
FIXTURES = Path(__file__).parent / "fixtures" / "clients"
CLIENTS = {
    "a": "params/clients/example_a.yaml",
    "c": "params/clients/example_c.yaml",
    "bank": str(FIXTURES / "european_bank.yaml"),
    "hospital": str(FIXTURES / "hospital.yaml"),
}


def visible(markup: str) -> str:
    markup = re.sub(r"<style.*?</style>", "", markup, flags=re.S)
    markup = re.sub(r'src="data:[^"]*"', "", markup)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup)))


def page_one(document: str) -> str:
    return visible(document.split('<section id="warnings"', 1)[0])


@pytest.fixture(scope="module")
def reports(book):
    root = Path(__file__).resolve().parents[1]
    built = {}
    for name, file in CLIENTS.items():
        figures = client_figures(root / file, book, TODAY, "2026-12-07T00:00:00+00:00")
        built[name] = (figures, client_document(figures))
    return built


@pytest.mark.parametrize("name", CLIENTS)
def test_page_one_states_the_summary_headline(reports, name):
    figures, document = reports[name]
    h = figures.summary["headline"]
    text = page_one(document)
    assert f"Programme cost, one-time ({'P50' if h['basis'] == 'p50' else h['basis']})" in text
    assert usd(h["programme_usd"]) in text
    assert usd(h["running_usd_per_month"]) in text
    assert usd(h["tco_usd"]) in text
    # Cost of ownership = programme + running costs to the horizon, as the card says.
    running_total = h["tco_usd"] - h["programme_usd"]
    assert f"{usd(h['programme_usd'])} programme + {usd(running_total)} running costs" in text
    if h["break_even_month"] is not None:
        assert f"month {h['break_even_month']}" in text
        assert dt.date.fromisoformat(h["break_even_date"]).strftime("%B %Y") in text
    # Page 1's dates: the start always, and launch after a build.
    assert f"month 1, {figures.params.start_date.day} {figures.params.start_date:%B %Y}" in text


@pytest.mark.parametrize("name", CLIENTS)
def test_the_index_row_states_the_same_headline(reports, name):
    figures, _ = reports[name]
    h = figures.summary["headline"]
    row = visible(index_html([("client", figures.summary | {"source_file": "x.yaml", "report_date": "2026-12-07"})]))
    assert usd(h["programme_usd"]) in row and usd(h["tco_usd"]) in row
    assert usd(figures.summary["programme_total_usd"]) not in row or h["basis"] == "base_case"


@pytest.mark.parametrize("name", ["a", "bank", "hospital"])
def test_the_cli_states_the_same_headline(reports, name, capsys):
    figures, _ = reports[name]
    assert main(["estimate", CLIENTS[name], "--json"]) == 0
    from_cli = json.loads(capsys.readouterr().out)["headline"]
    assert from_cli == figures.summary["headline"]
    assert main(["estimate", CLIENTS[name]]) == 0
    text = capsys.readouterr().out
    assert f"Programme cost {usd(from_cli['programme_usd'])}" in text
    assert f"Cost of ownership over {from_cli['horizon_months']} months: {usd(from_cli['tco_usd'])}" in text


def test_the_bank_headline_carries_serving_as_needed(reports):
    # 400M input + 40M output tokens a month (modes) over 730 hours is 167.4 tokens/s on
    # average, 502.3 at the default peak of 3×: one H100 serving 400 tokens/s cannot carry it,
    # two can; one more H100 on neocloud on-demand at USD 2.20 × 730 hours = USD 1,606 a month.
    figures, document = reports["bank"]
    h = figures.summary["headline"]
    assert h["serving_shortfall_usd_per_month"] == pytest.approx(1_606.0)
    assert "USD 1,606 a month to serve the peak load" in page_one(document)
    assert figures.summary["verdict"]["code"] == "cannot_run_as_specified"


def test_the_hospital_counts_months_from_the_start_and_names_staff_time(reports):
    figures, document = reports["hospital"]
    h = figures.summary["headline"]
    # A three-month build from 1 October 2026: in service from month 4, 1 January 2027;
    # maintenance from the first month in service (start_month 1): month 4 too.
    assert (h["launch_month"], h["launch_date"]) == (4, "2027-01-01")
    assert (h["maintenance_from_month"], h["maintenance_from_date"]) == (4, "2027-01-01")
    text = page_one(document)
    assert "Launch month 4, 1 January 2027" in text
    assert "Staff time saved per month" in text and "time, not cash" in text
    # The scenario on one RTX 4090 (24 GB) cannot hold a 22B model's full fine-tune.
    scenarios = visible(document.split('id="scenarios"', 1)[1].split("</section>", 1)[0])
    assert "cannot run as specified" in scenarios


def test_the_document_is_signed_by_the_firm(reports):
    figures, document = reports["bank"]
    text = visible(document)
    assert figures.firm.name in text and figures.firm.disclaimer in text
    assert "Version 1.0" in text and "Prepared by" in text and "A. Analyst" in text and "R. Reviewer" in text
    assert figures.firm.confidentiality in text


@pytest.mark.parametrize("name", CLIENTS)
def test_the_workbook_opens_with_the_same_headline(reports, name, tmp_path):
    import openpyxl

    from ftcost_helpers.report.excel import write_workbook

    figures, _ = reports[name]
    h = figures.summary["headline"]
    path = tmp_path / "report.xlsx"
    write_workbook(path, figures)
    book = openpyxl.load_workbook(path, data_only=True)  # the cached values a preview shows
    summary = {row[0]: row[2] for row in book["Summary"].iter_rows(min_row=2, values_only=True) if row[0]}
    basis = {"p50": "P50", "p80": "P80", "base_case": "base case"}[h["basis"]]
    assert summary[f"Programme, headline ({basis})"] == pytest.approx(h["programme_usd"])
    assert summary[f"Cost of ownership, headline ({basis})"] == pytest.approx(h["tco_usd"])
    assert summary[f"Running cost per month, headline ({basis})"] == pytest.approx(h["running_usd_per_month"])
    # The cash-flow sheet dates each month: month 1 ends a month after the start, less a day.
    cash = book["Cash flow"]
    assert cash["K1"].value == "Month ends"
    start = figures.params.start_date
    first_end = (dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)) - dt.timedelta(days=1)
    assert cash["K3"].value.date() == first_end  # row 3 is month 1 (row 2 is month 0)


def test_the_hospital_workbook_dates_its_launch_month(reports, tmp_path):
    import openpyxl

    from ftcost_helpers.report.excel import write_workbook

    figures, _ = reports["hospital"]
    path = tmp_path / "report.xlsx"
    write_workbook(path, figures)
    cash = openpyxl.load_workbook(path, data_only=True)["Cash flow"]
    # Month 4, the first in service after the 3-month build from 1 October 2026, ends on 31 January 2027.
    assert (cash["A6"].value, cash["K6"].value.date()) == (4, dt.date(2027, 1, 31))


def test_the_verdict_calls_staff_time_time_not_cash(reports):
    figures, _ = reports["hospital"]
    sentence = figures.summary["verdict"]["sentence"]
    assert "of staff time it saves (valued at its loaded cost, not cash)" in sentence
    assert "staff time it replaces" not in sentence
