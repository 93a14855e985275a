"""The audit's warnings in the document: listed once, after page 1, the most important first
(by what fixing each would save, printed beside it, and its severity); page 1's executive
summary names the three that matter most by their titles; the stale-price warning in a
decision-maker's words.

Figures by hand on the second plan (tests/fixtures/second_plan.yaml) without HIPAA and with
3 build months (see tests/test_audit_savings.py for each): serving moved off hyperscaler
on-demand saves (3.50 − 1.50) × 730 h × 9 months = USD 13,140; training moved saves
200 GPU-hours × 2.50 = 500, with 2 quarters of re-trains at 0.5 × it, USD 1,000; early
stopping saves 320 × (1 − 0.275) = 232, with re-trains USD 464. The budget split (no
saving) comes after those three.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.loading import deep_merge, params_from_mapping, read_yaml
from ftcost_helpers.engine.summary import summarise
from ftcost_helpers.report.document import client_document
from ftcost_helpers.report.figures import ClientFigures

SECOND_PLAN = Path(__file__).parent / "fixtures" / "second_plan.yaml"
TODAY = dt.date(2026, 12, 1)


def page(book, changes: dict, today: dt.date | None = None) -> str:
    plan = params_from_mapping(deep_merge(read_yaml(SECOND_PLAN), changes), "second plan", book)
    breakdown = estimate(plan, book, today=today)
    summary = summarise(breakdown) | {"source_file": "x.yaml", "report_date": TODAY.isoformat()}
    return client_document(ClientFigures(SECOND_PLAN, plan, breakdown, summary))


def text_of(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def listed_warnings(document: str) -> list[str]:
    """The warnings of the warnings section, as text, in the order printed."""
    section = document.split('<section id="warnings"', 1)[1].split("</section>", 1)[0]
    items = re.findall(r"<li>(.*?)</li>", section.split('<ul class="warnings">', 1)[1].split("</ul>", 1)[0], re.S)
    return [text_of(item) for item in items]


def top_risks(document: str) -> str:
    """Page 1's executive summary: its "Top risks" paragraph."""
    decision = document.split('<section id="decision"', 1)[1].split("</section>", 1)[0]
    return text_of(decision.split("<dt>Top risks</dt><dd>", 1)[1].split("</dd>", 1)[0])


# Severity by the USD at stake against the cost of ownership: with 3 build months the TCO is
# 55,300 + 3 × 3,055 (months 4–6) + 6 × 5,855 (months 7–12, maintenance from month 4 after
# launch) = USD 99,595; 13,140 is 13.2% of it (high), 1,000 is 1.0% and 464 0.5% (low).
SERVING = "Big-cloud on-demand prices for serving GPUs where cheaper ones would do"
TRAINING = "Big-cloud on-demand prices for training GPUs where cheaper ones would do"
SWEEP = "Tuning trials run to the end instead of stopped early"


def test_the_warnings_are_listed_by_what_is_at_stake(book) -> None:
    document = page(book, {"compliance": {"hipaa": False}, "programme": {"build_months": 3}})
    shown = listed_warnings(document)
    assert len(shown) == 4
    assert shown[0].startswith(f"{SERVING} (high). Fixing it saves USD 13,140 over 12 months. Serving on")
    assert shown[1].startswith(f"{TRAINING} (low). Fixing it saves USD 1,000 over 12 months. Training on")
    assert shown[2].startswith(f"{SWEEP} (low). Fixing it saves USD 464 over 12 months.")
    # no saving: after the three that have one, with its rule's severity
    assert shown[3].startswith(
        "Data and evaluation share of the budget outside the usual range (medium). Not counted in the estimate's"
    )


def test_page_one_names_the_three_that_matter_most_once_each(book) -> None:
    document = page(book, {"compliance": {"hipaa": False}, "programme": {"build_months": 3}})
    assert top_risks(document) == f"{SERVING}; {TRAINING}; {SWEEP}."


def test_a_fix_that_costs_money_says_the_estimate_is_optimistic(book) -> None:
    # serving left out over the 9 months after launch: 2,555 × 9 = USD 22,995 the estimate lacks
    document = page(book, {"programme": {"build_months": 3}, "serving": {"modelled": False}})
    (left_out,) = [w for w in listed_warnings(document) if w.startswith("Running the model in production left out")]
    assert "Fixing it lowers the cash position after 12 months by USD 22,995: the estimate is too optimistic" in (
        left_out
    )


def test_stale_prices_in_a_decision_makers_words(book) -> None:
    # the second plan books its training rate but not serving's when the rate is removed: the
    # serving rate then comes from the price book, a year old by this report's date
    late = book.as_of + dt.timedelta(days=365)
    document = page(book, {"serving": {"rate_usd_per_gpu_hour": None}}, today=late)
    text = html.unescape(re.sub(r"<[^>]+>", " ", document))
    assert "GPU prices out of date" in text
    assert "have the estimate refreshed with current quotes before committing to a budget" in text
    for analyst in ("--rates", "--price-book", "FILE", "overlay", "gpu_rates"):
        assert analyst not in text, analyst
