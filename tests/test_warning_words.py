"""Words of the warnings (issue 21, findings 7 and 9): a plain-English title for every audit
code, each warning printed once, severity by the dollars at stake against the cost of
ownership, sentences that do not contradict each other, and a glossary in the document.

Figures by hand on the second plan (tests/fixtures/second_plan.yaml; its arithmetic is in
tests/test_hand_derived_plan.py and tests/test_audit_savings.py): cost of ownership over 12
months USD 117,160 (55,300 + 3 × 3,055 + 9 × 5,855); first compute USD 800 (200 GPU-hours at
USD 4.00); maintenance, and with it a re-train at 0.5 × compute a quarter, from month 4.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path
from typing import Any

import pytest

from ftcost_helpers.engine.audit import AUDIT_CODES, SEVERITY, TITLES, Finding, audit, severity_at_stake
from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.loading import deep_merge, params_from_mapping, read_yaml
from ftcost_helpers.engine.summary import summarise
from ftcost_helpers.report.document import client_document, warnings_block
from ftcost_helpers.report.figures import ClientFigures
from ftcost_helpers.views.text_report import breakdown_text

SECOND_PLAN = Path(__file__).parent / "fixtures" / "second_plan.yaml"
OPEN = {"compliance": {"hipaa": False}}
"""No HIPAA constraint: hyperscaler on-demand is then a cost mistake."""
TODAY = dt.date(2026, 12, 1)


def plan_with(book, *changes: dict[str, Any], source: Path = SECOND_PLAN):
    data = read_yaml(source)
    for change in changes:
        data = deep_merge(data, change)
    return params_from_mapping(data, source.name, book)


def found(params, book, code: str) -> list[Finding]:
    return [f for f in audit(params, book, evaluate(params, book)) if f.code == code]


def document_of(params, book, today: dt.date | None = None) -> str:
    breakdown = estimate(params, book, today=today)
    summary = summarise(breakdown) | {"source_file": "x.yaml", "report_date": TODAY.isoformat()}
    return client_document(ClientFigures(SECOND_PLAN, params, breakdown, summary))


def text_of(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def listed(part: str) -> list[str]:
    """The text of each warning in the warning lists of one part of the document."""
    lists = re.findall(r'<ul class="warnings">(.*?)</ul>', part, re.S)
    return [text_of(item) for block in lists for item in re.findall(r"<li>(.*?)</li>", block, re.S)]


# ---------------------------------------------------------------- titles


@pytest.mark.parametrize("code", AUDIT_CODES)
def test_every_code_has_a_plain_title(code: str) -> None:
    title = TITLES[code]
    assert "_" not in title and title.strip() == title and title[0].isupper()
    assert title.lower() != code.replace("_", " ").lower()  # not the code's own words
    for area in ("compute", "roi"):
        shown = Finding(code, area, "message").title
        assert "{" not in shown and "_" not in shown


def test_a_rule_for_training_and_serving_names_which() -> None:
    training = Finding("ON_DEMAND_HYPERSCALER", "compute", "training on demand").title
    serving = Finding("ON_DEMAND_HYPERSCALER", "roi", "serving on demand").title
    assert training != serving and "training" in training and "serving" in serving


def test_titles_are_distinct() -> None:
    assert len(set(TITLES.values())) == len(AUDIT_CODES)


def test_the_terminal_leads_with_the_title(examples, book) -> None:
    # example B books its H200 at USD 4.86, above the price book's 2.40–3.40
    text = " ".join(breakdown_text(estimate(examples["b"], book), width=120).split())
    assert "Booked training GPU rate outside the market range (" in text
    assert "[RATE_OUTSIDE_PRICE_BOOK]" not in text


# ---------------------------------------------------------------- each warning once

MANY = {
    **OPEN,
    "programme": {"build_months": 3},
    "evaluation": {"harness": False, "frozen_test_set": False, "contamination_check": False},
}
"""The second plan with seven warnings: two on-demand tiers, the sweep, the budget split and
three missing evaluation practices (the tiers and the sweep have savings: they come first)."""


def section(document: str, anchor: str) -> str:
    return document.split(f'<section id="{anchor}"', 1)[1].split("</section>", 1)[0]


def test_no_warning_is_printed_twice(book) -> None:
    plan = plan_with(book, MANY)
    warnings = estimate(plan, book).warnings
    assert len(warnings) == 7
    document = document_of(plan, book)
    listed_once = listed(section(document, "warnings"))
    titles = [item.split(" (", 1)[0] for item in listed_once]
    assert len(set(titles)) == len(titles) == len(warnings)  # each warning once, under its own title
    assert listed(document) == listed_once  # no other warning list: not on page 1, not under risk
    assert listed(section(document, "risk")) == []
    # page 1 names the three that matter most, each once: the two tiers (by their savings) and the sweep
    decision = text_of(section(document, "decision"))
    risks = decision.split("Top risks", 1)[1].split("Next steps", 1)[0]
    assert [title for title in titles if title in risks] == titles[:3]
    assert len(set(titles[:3])) == 3


def test_an_exact_duplicate_is_listed_once(book) -> None:
    twice = Finding("NO_FROZEN_TEST_SET", "eval", "No frozen test set.")
    assert len(listed(warnings_block([twice, twice], book, 12))) == 1


# ---------------------------------------------------------------- severity by the dollars at stake


@pytest.mark.parametrize(
    ("at_stake", "severity"),
    [
        (10_000.0, "high"),  # 10% of 100,000: the high band's floor
        (9_999.0, "medium"),
        (-10_000.0, "high"),  # money the plan leaves out matters as much as money wasted
        (2_000.0, "medium"),  # 2%: the medium band's floor
        (1_999.0, "low"),
        (1_000.0, "low"),  # 1%
        (0.0, "low"),
    ],
)
def test_severity_bands_against_the_cost_of_ownership(at_stake: float, severity: str) -> None:
    assert severity_at_stake("ON_DEMAND_HYPERSCALER", at_stake, 100_000.0) == severity


def test_a_finding_without_a_dollar_figure_keeps_its_rules_severity() -> None:
    assert severity_at_stake("NO_EVAL_HARNESS", None, 100_000.0) == SEVERITY["NO_EVAL_HARNESS"] == "medium"
    assert severity_at_stake("ON_DEMAND_HYPERSCALER", 50.0, None) == "high"  # no TCO to weigh it against


def test_a_plan_that_cannot_run_stays_critical_whatever_the_dollars() -> None:
    assert severity_at_stake("MODEL_DOES_NOT_FIT", -100.0, 100_000.0) == "critical"


def test_a_one_percent_saving_is_low_and_a_fifteen_percent_one_high(book) -> None:
    plan = plan_with(book, OPEN)
    by_area = {f.area: f for f in found(plan, book, "ON_DEMAND_HYPERSCALER")}
    # training: 200 GPU-hours × (4.00 − 1.50) = 500, with 3 quarters of re-trains at 0.5 × it
    # 1,250: 1,250 ÷ 117,160 = 1.07% of the cost of ownership → low (the rule alone says high)
    assert by_area["compute"].saving_usd == pytest.approx(1_250, abs=0.01)
    assert by_area["compute"].severity == "low"
    # serving: 8,760 GPU-hours × (3.50 − 1.50) = 17,520 ÷ 117,160 = 14.95% → high
    assert by_area["roi"].saving_usd == pytest.approx(17_520, abs=0.01)
    assert by_area["roi"].severity == "high"


def test_a_rate_outside_the_book_at_three_percent_is_medium(book) -> None:
    # booked at USD 10.00: compute 200 × 10 = 2,000; at the book's midpoint 3.50, 700: 1,300
    # less, and 1.5 × that in re-trains: saving 3,250. TCO 117,160 + 1,200 × 2.5 = 120,160;
    # 3,250 ÷ 120,160 = 2.7% → medium
    (rate,) = found(plan_with(book, {"training": {"rate_usd_per_gpu_hour": 10.0}}), book, "RATE_OUTSIDE_PRICE_BOOK")
    assert rate.saving_usd == pytest.approx(3_250, abs=0.01)
    assert rate.tco_usd == pytest.approx(120_160, abs=0.01)
    assert rate.severity == "medium"
    assert rate.as_dict()["severity"] == "medium" and rate.as_dict()["title"] == rate.title


# ---------------------------------------------------------------- sentences that agree


def test_no_warning_says_no_saving_then_gives_one(book) -> None:
    text = text_of(document_of(plan_with(book, MANY), book))
    assert "No dollar saving can be worked out" not in text
    assert "Not counted in the estimate's figures." in text  # the budget split's, which moves money


def test_the_default_utilisation_is_called_the_defaults(examples, example_files, book) -> None:
    # example A gives no training.utilisation: the price book's default for adapters under 20B
    # applies, utilisation_defaults.adapters_small 0.40–0.68, base case the midpoint 0.54
    (low,) = found(examples["a"], book, "UTILISATION_IMPLAUSIBLY_LOW")
    assert "At the default's 54% utilisation (the price book's for this method and model size)" in low.message
    assert "the plan's 54%" not in low.message
    own = plan_with(book, {"training": {"utilisation": 0.3}}, source=example_files["a"])
    (low,) = found(own, book, "UTILISATION_IMPLAUSIBLY_LOW")
    assert "At the plan's 30% utilisation" in low.message


def test_end_of_life_uses_the_plans_own_migration_cost(example_files, book) -> None:
    # example A: migration_usd {8,000, 40,000}, base case the midpoint 24,000; compute USD 1,150
    # (8 × 6 h × 14 runs × 1.71131); together USD 25,150
    plan = plan_with(book, {"base_model": {"end_of_life": "2027-06-30"}}, source=example_files["a"])
    (end,) = found(plan, book, "BASE_MODEL_END_OF_LIFE")
    assert "(USD 24,000, the plan's own cost of one migration) plus USD 1,150 of compute" in end.message
    assert "saves that (USD 25,150)" in end.message
    assert "price book" not in end.message


# ---------------------------------------------------------------- glossary

TERMS = (
    "P10, P50, P90",
    "Base case",
    "GPU-hour",
    "LoRA",
    "QLoRA",
    "Full fine-tune",
    "Utilisation",
    "Neocloud",
    "Hyperscaler",
    "FLOPs",
    "BF16",
    "Cost of ownership (TCO)",
    "Break-even",
    "Severity",
)


def test_the_document_has_a_glossary_with_the_terms(examples, book) -> None:
    document = document_of(examples["a"], book)
    glossary = document.split('<section id="glossary"', 1)[1].split("</section>", 1)[0]
    terms = [text_of(term) for term in re.findall(r"<dt>(.*?)</dt>", glossary, re.S)]
    for term in TERMS:
        assert terms.count(term) == 1, term
    meanings = [text_of(meaning) for meaning in re.findall(r"<dd>(.*?)</dd>", glossary, re.S)]
    assert len(meanings) == len(terms) and all(len(m.split()) >= 8 for m in meanings)
    assert "_" not in text_of(glossary)
