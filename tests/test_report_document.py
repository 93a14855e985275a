"""The client document (report.html) of the worked examples, built from the engine without
running the notebooks: page 1 holds the decision, the words are the client's (no keys, file
ids or paths), totals equal the rows shown, and client text is escaped where it lands."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import pytest

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.money import compact_usd, rounded_to_total, tick_labels, usd
from ftcost_helpers.engine.summary import summarise
from ftcost_helpers.report.document import client_document, client_text, in_words
from ftcost_helpers.report.document_style import css_string
from ftcost_helpers.report.figures import ClientFigures, client_figures

TODAY = dt.date(2026, 12, 1)
RAW = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b|\b\d{3}_[0-9a-f]{16}\b|\.ya?ml\b|\b\d{4}-\d\d-\d\d\b|params/")


@pytest.fixture(scope="module")
def documents(book, example_files) -> dict[str, tuple[ClientFigures, str]]:
    built = {}
    for name in "abc":
        figures = client_figures(example_files[name], book, TODAY, "2026-12-01T00:00:00+00:00")
        built[name] = (figures, client_document(figures))
    return built


def visible_text(page: str) -> str:
    """The words a reader sees: no styles, no image data, no tags."""
    page = re.sub(r"<style.*?</style>", "", page, flags=re.S)
    page = re.sub(r'src="data:[^"]*"', "", page)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def first_page(page: str) -> str:
    return visible_text(page.split('<section id="areas"', 1)[0])


def test_page_one_holds_the_decision_for_example_a(documents) -> None:
    figures, page = documents["a"]
    s = figures.summary
    text = first_page(page)
    # Example A replaces a USD 22,000/month GPT-4o pipeline (001_…, worked example A).
    assert "USD 22,000" in text
    assert f"P10–P90: {usd(s['range_usd']['p10'])} – {usd(s['range_usd']['p90'])}" in text
    assert usd(s["range_usd"]["p50"]) in text
    h = s["headline"]
    assert h["basis"] == "p50" and "figures on the P50 basis" in visible_text(page)
    # The programme card: the source's USD 88,550 of line items plus the contingency to the P50.
    assert usd(h["programme_usd"]) in text
    assert f"USD 88,550 of line items + {usd(h['programme_usd'] - 88_550)} contingency" in text
    # Net saving = alternative − running, on the same basis; cost of ownership = programme + running.
    assert h["net_saving_usd_per_month"] == pytest.approx(22_000 - h["running_usd_per_month"], abs=0.01)
    assert f"USD 22,000 − {usd(h['running_usd_per_month'])}" in text
    assert f"{usd(h['programme_usd'])} programme + {usd(h['tco_usd'] - h['programme_usd'])} running" in text
    month = h["break_even_month"]
    assert f"month {month}" in text
    assert f"{h['chance_of_break_even_by_month'][month - 1]:.0%} chance of having paid back by then" in text
    verdict = page.split('<p class="verdict">', 1)[1].split("</p>", 1)[0]
    assert s["verdict"]["code"] == "pays_back" and s["verdict"]["sentence"] == html.unescape(
        re.sub(r"<[^>]+>", "", verdict)
    )
    assert usd(h["tco_usd"]) in text


def test_verdicts_of_the_three_examples(documents) -> None:
    assert documents["b"][0].summary["verdict"]["code"] == "pays_back"
    assert "month 4" in documents["b"][0].summary["verdict"]["sentence"]
    c = documents["c"][0].summary
    assert c["verdict"]["code"] == "no_alternative"
    assert c["alternative_usd_per_month"] is None and c["net_saving_usd_per_month"] is None


@pytest.mark.parametrize("name", "abc")
def test_no_raw_key_file_id_or_path_in_client_copy(documents, name) -> None:
    text = visible_text(documents[name][1])
    for key in ("neocloud_spot", "hyperscaler_on_demand", "full_sft", "001_6c04196dc11ea2b6", "params/pricebook"):
        assert key not in documents[name][1], key
    assert RAW.findall(text) == []
    assert "1 GPUs" not in text and "(s)" not in text


@pytest.mark.parametrize("name", "abc")
def test_line_item_total_is_the_sum_of_the_rows_shown(documents, name) -> None:
    figures, page = documents[name]
    table = page.split('id="line-items"', 1)[1].split("</table>", 1)[0]
    body, foot = table.split("<tfoot>", 1)
    rows = re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1])
    base = [float(re.findall(r'<td class="num">USD ([\d,]+)</td>', row)[0].replace(",", "")) for row in rows]
    total = float(re.search(r'<td class="num">USD ([\d,]+)</td>', foot).group(1).replace(",", ""))
    assert sum(base) == total == round(figures.breakdown.programme_total)


def test_worked_example_totals_reach_the_page(documents) -> None:
    # The source's worked examples (tests/test_worked_examples.py): A 88,550, B 94,800, C 304,500.
    for name, total in (("a", "USD 88,550"), ("b", "USD 94,800"), ("c", "USD 304,500")):
        assert total in visible_text(documents[name][1]), name


@pytest.mark.parametrize("name", "abc")
def test_every_chart_says_what_it_shows(documents, name) -> None:
    images = re.findall(r"<img [^>]*>", documents[name][1])
    assert len(images) >= 3
    for image in images:
        alt = re.search(r'alt="([^"]*)"', image).group(1)
        assert len(alt) > 60 and "No description" not in alt and "USD" in alt


def test_client_text_lands_escaped(book, examples) -> None:
    hostile = '</style><script>alert(1)</script> "Bank" & co'
    plan = examples["a"].model_copy(update={"client": hostile})
    breakdown = estimate(plan, book)
    summary = summarise(breakdown) | {"source_file": "x.yaml", "report_date": TODAY.isoformat()}
    page = client_document(ClientFigures(Path("x.yaml"), plan, breakdown, summary))
    assert "<script>" not in page
    assert hostile in visible_text(page)  # shown as text, in the heading
    assert f"<title>Fine-tuning cost estimate: {html.escape(hostile)}</title>" in page
    assert css_string(hostile) in page and "</style><script" not in css_string(hostile)


def test_engine_sentences_in_client_words(book) -> None:
    sentence = "rate for H100 on neocloud_spot (2026-05-26, 001_6c04196dc11ea2b6.txt); refresh params/pricebook.yaml"
    assert client_text(sentence, book) == (
        "rate for H100 on neocloud spot (26 May 2026, Daniel Reyes (YuSMP Group)); refresh the price book"
    )


def test_inputs_in_words() -> None:
    assert in_words(1.71131, "USD/GPU-hour") == "USD 1.71 per GPU-hour"
    assert in_words(0.4, "share") == "40%"
    assert in_words(1, "GPUs") == "1 GPU" and in_words(8, "GPUs") == "8 GPUs"
    assert in_words(True, "yes/no") == "yes"
    assert in_words(1800, "USD/month") == "USD 1,800 per month"


def test_ticks_are_exact_at_their_step() -> None:
    # Ticks 2,500 apart: 2.5k, 5k, 7.5k (the issue saw "2k / 8k / 12k / 18k").
    assert tick_labels([0, 2500, 5000, 7500, 10000]) == ["USD 0", "USD 2.5k", "USD 5k", "USD 7.5k", "USD 10k"]
    assert tick_labels([-100000, -50000, 0]) == ["−USD 100k", "−USD 50k", "USD 0"]
    assert tick_labels([0, 250000, 500000, 750000, 1000000]) == [
        "USD 0",
        "USD 0.25M",
        "USD 0.5M",
        "USD 0.75M",
        "USD 1M",
    ]


def test_compact_labels_keep_three_figures() -> None:
    # A USD 13,500/month alternative beside a 14.3k running cost must not read "USD 14k".
    assert compact_usd(13_500) == "USD 13.5k" and compact_usd(14_300) == "USD 14.3k"
    assert compact_usd(88_550) == "USD 88.6k" and compact_usd(1_234_567) == "USD 1.23M"


def test_rounded_rows_add_up_to_the_rounded_total() -> None:
    # 0.4 + 0.4 + 0.4 + 1.8 = 3.0: plain rounding shows 0 + 0 + 0 + 2 = 2; the largest
    # remainders (0.8, then the first 0.4) take the two dollars left after rounding down.
    assert rounded_to_total([0.4, 0.4, 0.4, 1.8]) == [1, 0, 0, 2]
    assert sum(rounded_to_total([1150.0, 38000.4, 6200.3, 43199.3])) == round(1150.0 + 38000.4 + 6200.3 + 43199.3)


def _api_by_tokens(params):
    api = params.alternative.api.model_copy(
        update={
            "usd_per_month": None,
            "input_tokens_million_per_month": 800.0,
            "output_tokens_million_per_month": 200.0,
        }
    )
    return params.model_copy(update={"alternative": params.alternative.model_copy(update={"api": api})})


@pytest.mark.parametrize("name", ["a", "b", "c", "a-api-tokens"])
def test_workings_restate_the_engine(examples, book, name) -> None:
    """The formulas the document prints and the workbook writes give the engine's lines,
    running costs and alternative (evaluated here; LibreOffice does it in test_report_workbook)."""
    from ftcost_helpers.report.workings import plan_workings

    params = _api_by_tokens(examples["a"]) if name == "a-api-tokens" else examples[name]
    breakdown = estimate(params, book)
    values = plan_workings(params, book).values()
    for item, line in zip(plan_workings(params, book).lines, breakdown.base.lines, strict=True):
        assert line.item.startswith(item.engine_item)
        assert values[item.id] == pytest.approx(float(line.value), abs=0.005), item.id
    for key, engine_key in (
        ("eval_monthly", "eval"),
        ("serving_monthly", "serving"),
        ("maintenance_monthly", "maintenance"),
    ):
        assert values[key] == pytest.approx(breakdown.ongoing_monthly_usd[engine_key], abs=0.005), key
    if params.alternative.kind != "none":
        assert values["alternative_monthly"] == pytest.approx(float(breakdown.base.alternative_monthly), abs=0.005)
