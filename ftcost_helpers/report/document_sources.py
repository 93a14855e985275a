"""The client document's assumptions and sources: the plan's choices and every input with
its range and numbered source (the client, the firm's defaults, the price book, the model
catalogue), the exchange rate where prices were converted, and the keys the client file sets."""

from __future__ import annotations

from typing import Any

from ftcost_helpers.engine.fx import plan_rate
from ftcost_helpers.engine.money import plural
from ftcost_helpers.engine.provenance import given_keys, input_provenance
from ftcost_helpers.engine.quantities import Range
from ftcost_helpers.engine.summary import ALTERNATIVE_NAMES
from ftcost_helpers.report.document_markup import escaped as _h
from ftcost_helpers.report.document_markup import nowrap, table_html
from ftcost_helpers.report.document_words import client_text, in_words
from ftcost_helpers.report.figures import ClientFigures
from ftcost_helpers.report.front import long_date
from ftcost_helpers.report.workings import CLIENT_SOURCE, DEFAULT_SOURCE, Workings
from ftcost_helpers.views.tables import TIER_LABELS

SOURCE_KINDS = ("client", "defaults", "price book")


def source_number(source: str) -> int:
    if source == CLIENT_SOURCE:
        return 1
    if source == DEFAULT_SOURCE:
        return 2
    return 3


def assumptions_section(figures: ClientFigures, workings: Workings) -> str:
    """The plan's choices, then every driver in words with its range and source."""
    p, book = figures.params, figures.breakdown.book
    t = p.training
    gpu = book.gpus[t.gpu].label if t.gpu in book.gpus else t.gpu
    method = book.methods[t.method].label if t.method in book.methods else t.method
    serving_gpu = book.gpus[p.serving.gpu].label if p.serving.gpu in book.gpus else p.serving.gpu
    size = f"{base_words(p.base_model.parameters_billion)} billion parameters"
    if catalogue_source(figures):
        size += ", from the model catalogue (source 4)"
    choices = [
        ("Base model", f"{p.base_model.name} ({size})"),
        ("Training method", method),
        ("Training hardware", f"{plural(t.gpus_per_run, 'GPU')}, {gpu}, {TIER_LABELS.get(t.tier, t.tier).lower()}"),
        (
            "Serving hardware",
            f"{plural(p.serving.gpus, 'GPU')}, {serving_gpu}, "
            f"{TIER_LABELS.get(p.serving.tier, p.serving.tier).lower()}",
        ),
        ("Start", long_date(p.start_date) if getattr(p, "start_date", None) else "not given"),
        ("Horizon", plural(p.horizon_months, "month")),
        (
            "What the fine-tune replaces",
            {
                "none": "nothing (the fine-tune is the product)",
                **{k: f"the {v}" for k, v in ALTERNATIVE_NAMES.items()},
            }.get(p.alternative.kind, p.alternative.kind),
        ),
    ]
    choice_rows = [[("", _h(k)), ("", _h(v))] for k, v in choices]
    rows = []
    for item in workings.inputs.values():
        span = ""
        if item.low is not None and item.high is not None:
            span = f"{in_words(item.low, item.unit)} – {in_words(item.high, item.unit)}"
        rows.append(
            [
                ("", _h(item.label)),
                ("num", nowrap(in_words(item.value, item.unit))),
                ("num", _h(span)),
                ("num", f'<a href="#sources">{source_number(item.source)}</a>'),
            ]
        )
    note = (
        '<p class="meta">A range is drawn in the simulation (triangular around its most likely value when one is '
        "given, else uniform); the base case uses the most likely value, or the middle of the range.</p>"
    )
    return (
        table_html([("", "Choice"), ("", "In this plan")], choice_rows, "The plan")
        + table_html(
            [("", "Input"), ("num", "Base case"), ("num", "Range"), ("num", "Source")],
            rows,
            "Every input of the estimate",
        )
        + note
    )


def base_words(value: Any) -> str:
    number = value.base if isinstance(value, Range) else float(value)
    return f"{number:g}"


def sources_section(figures: ClientFigures, workings: Workings) -> str:
    """The numbered sources the inputs table cites (client, firm defaults, price book, and the
    model catalogue when it filled the base model), each with its date, then the documents."""
    book = figures.breakdown.book
    documents = "".join(f"<li>{_h(title)}</li>" for title in book.source_titles.values())
    rates = sorted({i.source for i in workings.inputs.values() if source_number(i.source) == 3})
    used = f" Used here: {_h('; '.join(r.split(': ', 1)[-1] for r in rates))}." if rates else ""
    given = sum(source_number(i.source) == 1 for i in workings.inputs.values())
    catalogue = catalogue_source(figures)
    return (
        '<ol class="sources">'
        f"<li>The client's own figures, given for this estimate ({_h(figures.params.client)}): "
        f"{_h(plural(given, 'input'))} of the {_h(len(workings.inputs))} listed under assumptions.</li>"
        "<li>The firm's default assumptions, used where the client gave no figure: ranges taken from the "
        "documents below where they give one, otherwise stated as assumptions; a cost the plan does not "
        "mention is taken as zero.</li>"
        f"<li>The price book as of {_h(long_date(book.as_of))}: GPU rates by provider tier, API prices and "
        f"rules of thumb, compiled from the documents below.{used} "
        f"Prices from {_h(client_text(str(figures.summary.get('price_sources', '')), book))}.</li>"
        f"{catalogue}{fx_source(figures)}</ol><p>Documents:</p><ul>{documents}</ul>"
    )


def currency_phrase(figures: ClientFigures) -> str:
    """How the document's header names the currency: ``US dollars``, or for a plan in another
    currency ``EUR (price-book prices converted at 0.9341 EUR per USD, the rate of 28 June 2024)``."""
    fx = plan_rate(figures.breakdown.book, figures.params.currency)
    if not fx.converted:
        return "US dollars" if fx.currency == "USD" else fx.currency
    date = long_date(fx.date) if fx.date else "undated"
    rate = f"{fx.per_usd:.4f} {fx.currency} per {fx.base}"
    return f"{fx.currency} (price-book prices converted at {rate}, the rate of {date})"


def fx_source(figures: ClientFigures) -> str:
    """The exchange rate as a source, with its date, when the plan's prices were converted."""
    fx = plan_rate(figures.breakdown.book, figures.params.currency)
    if not fx.converted:
        return ""
    date = long_date(fx.date) if fx.date else "undated"
    return (
        f"<li>The exchange rate: {fx.per_usd:.4f} {_h(fx.currency)} per {_h(fx.base)}, the rate of {_h(date)} "
        f"({_h(fx.source)}). Every price of the price book (in {_h(fx.base)}) is converted at it; the client's own "
        f"figures are in {_h(fx.currency)} as given.</li>"
    )


def catalogue_source(figures: ClientFigures) -> str:
    """The model catalogue as a fourth source, when it filled the base model's figures."""
    origin = input_provenance(
        "base_model.parameters_billion", figures.params, figures.breakdown.book, client_keys(figures)
    )
    if origin.kind != "catalogue" or origin.as_of is None:
        return ""
    return (
        f"<li>The model catalogue as of {_h(long_date(origin.as_of))}: the size and architecture of "
        f"{_h(figures.params.base_model.name)}, from its published model card and configuration, where the "
        "client named the model only.</li>"
    )


def client_keys(figures: ClientFigures) -> frozenset[str]:
    """The dotted keys the client file sets itself, a range of any shape as one key
    (:func:`~ftcost_helpers.engine.provenance.given_keys`); none when the file cannot be read."""
    from ftcost_helpers.engine.loading import ParamsError, read_yaml

    try:
        return given_keys(read_yaml(figures.source))
    except ParamsError:
        return frozenset()
