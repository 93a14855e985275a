"""The client document's words, shared with the workbook: an input's value as a reader writes
it, a formula's drivers in words, an uncertain input named in words, an engine sentence made
fit for the client (no file names, paths, ISO dates or snake_case keys), and a warning's title
and what fixing it saves."""

from __future__ import annotations

import datetime as dt
import html
import re

from ftcost_helpers.engine.audit import TITLES, Finding, generic_title
from ftcost_helpers.engine.money import plural, usd, usd_cents
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.report.document_markup import escaped as _h
from ftcost_helpers.report.document_markup import nowrap
from ftcost_helpers.report.figures import ClientFigures
from ftcost_helpers.report.front import long_date
from ftcost_helpers.report.workings import Formula, Ref, Workings
from ftcost_helpers.views.tables import TIER_LABELS

SINGULAR = {"people": "person", "GPUs": "GPU", "hours": "hour", "runs": "run", "pairs": "pair", "trials": "trial"}


def in_words(value: float | bool, unit: str) -> str:
    """An input's value as a reader writes it: ``USD 1.71 per GPU-hour``, ``40%``,
    ``8 GPUs``, ``yes``, ``month 7``."""
    if isinstance(value, bool) or unit == "yes/no":
        return "yes" if value else "no"
    if unit == "share":
        return f"{100 * value:.3g}%"
    if unit == "month":
        return f"month {value:g}"
    if unit.startswith("USD/"):
        per = unit.removeprefix("USD/")
        amount = usd(value) if per in {"month", "quarter"} or value >= 100 else usd_cents(value)
        return f"{amount} per {per}"
    if unit == "USD":
        return usd(value) if float(value).is_integer() or value >= 100 else usd_cents(value)
    if unit.startswith("per "):
        return f"{value:g} {unit}"
    if unit == "million tokens":
        return f"{value:,.4g} million tokens"
    singular = SINGULAR.get(unit, unit.removesuffix("s"))
    return plural(value, singular, unit)


def describe_text(formula: Formula, workings: Workings, values: dict[str, float]) -> str:
    """The drivers of a formula in words, as plain text."""
    return html.unescape(re.sub(r"<[^>]+>", "", describe(formula, workings, values)))


def describe(formula: Formula, workings: Workings, values: dict[str, float]) -> str:
    """The drivers of a formula in words, as HTML (each factor kept on one line):
    ``8 GPUs × 6 hours × 14 runs × USD 1.71 per GPU-hour``."""
    if isinstance(formula, str):
        item = workings.inputs[formula]
        return nowrap(in_words(item.value, item.unit))
    if isinstance(formula, Ref):
        named = {i.id: i.label for i in [*workings.lines, *workings.running]}
        return _h(named.get(formula.name, formula.name).lower())
    if isinstance(formula, int | float):
        return _h(f"{formula:g}")
    op, *args = formula
    if op == "if":
        condition, then, otherwise = args
        return describe(then if values.get(condition, 0) else otherwise, workings, values)
    symbol = {"*": " × ", "/": " ÷ ", "+": " + ", "-": " − "}[op]
    parts = [describe(arg, workings, values) for arg in args if not (op == "*" and arg == 1)]
    text = symbol.join(part for part in parts if part)
    return f"({text})" if op in "+-" and len(parts) > 1 else text


def input_words(path: str, swing_label: str, workings: Workings, figures: ClientFigures) -> str:
    """An uncertain input named in words (a price-book rate by its GPU and tier)."""
    if path in workings.inputs:
        return workings.inputs[path].label
    parts = path.split(".")
    book = figures.breakdown.book
    if parts[:2] == ["pricebook", "gpu_rates_usd_per_gpu_hour"] and len(parts) == 4:
        gpu = book.gpus[parts[2]].label if parts[2] in book.gpus else parts[2]
        return f"Price book rate: {gpu}, {TIER_LABELS.get(parts[3], parts[3]).lower()}"
    return swing_label.replace("_", " ")


ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
SEED_FILE = re.compile(r"\b\d{3}_[0-9a-f]{16}\.txt\b")
SNAKE = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")
YAML_FILE = re.compile(r"\b[\w./-]+\.ya?ml\b")


def client_text(text: str, book: PriceBook) -> str:
    """A sentence from the engine made fit for the client: no file names, paths, ISO
    dates or snake_case keys (tiers, GPUs and methods by their names)."""

    def date(match: re.Match[str]) -> str:
        try:
            return long_date(dt.date(*map(int, match.groups())))
        except ValueError:
            return match.group(0)

    files = {name: book.source_titles.get(key, "the source").split(",")[0] for key, name in book.sources.items()}
    text = SEED_FILE.sub(lambda m: files.get(m.group(0), "the source"), text)
    text = text.replace("params/pricebook.yaml", "the price book").replace("params/defaults.yaml", "the defaults")
    text = YAML_FILE.sub("the rates file", text)
    text = ISO_DATE.sub(date, text)
    names = {key: label.lower() for key, label in TIER_LABELS.items()}
    names |= {key: gpu.label for key, gpu in book.gpus.items()}
    names |= {key: method.label for key, method in book.methods.items()}
    return SNAKE.sub(lambda m: names.get(m.group(0), m.group(0).replace("_", " ")), text)


def saving_words(saving_usd: float | None, horizon_months: int) -> str:
    """What fixing a warning saves, as a reader says it: "Fixing it saves USD 13,140 over
    12 months." A negative saving is money the estimate leaves out (or a saving it overstates)."""
    span = plural(horizon_months, "month")
    if saving_usd is None:
        return "Not counted in the estimate's figures."
    if round(saving_usd) > 0:
        return f"Fixing it saves {usd(saving_usd)} over {span}."
    if round(saving_usd) < 0:
        return (
            f"Fixing it lowers the cash position after {span} by {usd(-saving_usd)}: the estimate is too "
            "optimistic by that much."
        )
    return f"Fixing it changes nothing in the cost over {span}."


def warning_title(warning: Finding | str) -> str:
    """A warning's title in plain words: a finding's own (:attr:`Finding.title`, naming training
    or serving where its rule checks both); for a bare code, its title without the section
    (:data:`~ftcost_helpers.engine.audit.TITLES`); a code the audit does not know, in words."""
    if isinstance(warning, Finding):
        return warning.title
    return generic_title(warning) if warning in TITLES else warning.replace("_", " ").lower().capitalize()
