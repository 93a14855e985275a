"""The numbers of one client's report, computed by the package (never scraped from a
notebook): the estimate, the Monte Carlo range and the ``summary.json`` mapping."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ftcost_helpers.engine.breakdown import Breakdown, estimate
from ftcost_helpers.engine.comparison import Comparison, plan_comparison
from ftcost_helpers.engine.firm import Firm, load_firm
from ftcost_helpers.engine.headline import Headline, plan_headline, resolve_basis
from ftcost_helpers.engine.loading import display_path, load_params
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.scenarios import ScenarioResult, compare_scenarios
from ftcost_helpers.engine.schema import Params
from ftcost_helpers.engine.summary import summarise
from ftcost_helpers.engine.uncertainty import Simulation


@dataclass(frozen=True)
class ClientFigures:
    """One client's validated parameters, estimate, headline and summary, and the firm
    that signs the document."""

    source: Path
    params: Params
    breakdown: Breakdown
    summary: dict[str, Any]
    simulation: Simulation | None = None
    firm: Firm = field(default_factory=Firm)
    stated: Headline | None = None
    """The headline ``summary`` states, when :func:`client_figures` computed it."""
    requote: Any = None
    """``report --previous``: the :class:`~ftcost_helpers.engine.requote.Requote` since the earlier quote."""
    tracking: dict[str, Any] | None = None
    """``report --actuals``: what ``ftcost track`` shows (:func:`~ftcost_helpers.report.track.track_figures`)."""
    comparison: Comparison | None = None
    """The plan and its scenarios compared and drawn once (:mod:`~ftcost_helpers.engine.comparison`),
    when :func:`client_figures` worked it out for the summary."""

    @cached_property
    def scenario_results(self) -> tuple[ScenarioResult, ...]:
        """The plan as filed and each scenario, base case: the comparison the summary read,
        else compared here."""
        if self.comparison is not None:
            return self.comparison.results
        return tuple(compare_scenarios(self.params, self.breakdown.book, self.source))

    @cached_property
    def headline(self) -> Headline:
        """Every headline figure on the plan's basis (the one function every output reads)."""
        if self.stated is not None:
            return self.stated
        basis = self.summary.get("headline", {}).get("basis") or resolve_basis(self.params, self.firm.default_basis)
        if self.simulation is None:
            basis = "base_case"
        return plan_headline(self.breakdown, self.simulation, basis)


def client_figures(
    source: Path, book: PriceBook, today: dt.date, generated_at: str, firm: Firm | None = None
) -> ClientFigures:
    """Load ``source`` and compute everything a report shows, on the client's basis
    (``report.basis``, else the firm's ``default_basis``).

    ``summary`` holds the report contract's keys plus ``source_file``, ``report_date`` and
    ``generated_at`` (the only values that change when a report is re-run unchanged).
    """
    from ftcost_helpers.engine.uncertainty import simulate  # numpy-heavy: imported when a report is written

    firm = firm or load_firm()
    params = load_params(source, book)
    breakdown = estimate(params, book, today=today, source=source)
    simulation = simulate(params, book, source=source)
    headline = plan_headline(breakdown, simulation, resolve_basis(params, firm.default_basis))
    comparison = plan_comparison(params, breakdown.book, simulation, source)  # one pass: summary, document, workbook
    summary = summarise(breakdown, simulation, headline.basis, headline=headline, comparison=comparison, source=source)
    summary.update(source_file=display_path(source), report_date=today.isoformat(), generated_at=generated_at)
    return ClientFigures(source, params, breakdown, summary, simulation, firm, headline, comparison=comparison)


def with_follow_up(
    figures: ClientFigures, follow: Any, price_book: Path | None, rates: Path | None, today: dt.date
) -> ClientFigures:
    """``figures`` with the re-quote since ``follow.previous`` and the spend to date in
    ``follow.actuals`` (:mod:`~ftcost_helpers.report.follow_up`), where asked for, and
    ``summary.json`` with them: ``since_last_quote`` (``diff --json``'s keys) and
    ``spend_to_date`` (``track --json``'s)."""
    if not follow:
        return figures
    from dataclasses import replace

    from ftcost_helpers.report.follow_up import requote_for, tracking_for

    book = figures.breakdown.book
    requote = requote_for(follow, figures.params, book, figures.headline.basis, price_book, today)
    tracking = tracking_for(follow, figures.source, price_book, rates)
    summary = dict(figures.summary)
    if requote is not None:
        summary["since_last_quote"] = requote.as_dict()  # as `ftcost diff --json` gives it
    if tracking is not None:  # as `ftcost track --json`, the files named as people know them
        shown = {"plan": display_path(Path(tracking["plan"])), "actuals": display_path(Path(tracking["actuals"]))}
        summary["spend_to_date"] = tracking | shown
    return replace(figures, requote=requote, tracking=tracking, summary=summary)
