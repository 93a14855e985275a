"""Which option wins, and how often: the compared plans' cost of ownership over the Monte
Carlo draws and their chance of being the cheapest (:mod:`~ftcost_helpers.engine.cheapest`),
as a table and a sentence."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ftcost_helpers.engine.cheapest import OptionOdds
from ftcost_helpers.views.tables import Table, percent, usd

CHANCE = "Chance of being the cheapest"


def odds_table(odds: Sequence[OptionOdds], horizon_months: int, draws: int) -> Table:
    """One row per plan: its P10/P50/P90 cost of ownership and its chance of being the
    cheapest that can run, over ``draws`` draws on shared random streams."""
    frame = pd.DataFrame(
        [
            {
                "Plan": o.name if o.can_run else f"{o.name} (cannot run as specified)",
                "P10": o.tco_p10_usd,
                "P50": o.tco_p50_usd,
                "P90": o.tco_p90_usd,
                CHANCE: o.probability_cheapest,
            }
            for o in odds
        ]
    )
    formats = {"P10": usd, "P50": usd, "P90": usd, CHANCE: percent}
    title = f"Cost of ownership over {horizon_months} months and the chance of being the cheapest ({draws:,} draws)"
    note = "Every plan drawn on the same random streams; a tie splits its draw; a plan that cannot run never wins."
    return Table(frame, formats, title, note, ("Plan",))


def odds_sentence(names: Sequence[str], shares: Sequence[float | None], horizon_months: int) -> str:
    """The plans by their chance of being the cheapest, likeliest first ("" without chances):
    "Over 24 months the cheapest is Plan B in 62% of the draws, Plan A in 38%, ..."."""
    ranked = sorted(
        ((share, name) for name, share in zip(names, shares, strict=True) if share is not None and share > 0),
        key=lambda item: -item[0],
    )
    if not ranked:
        return ""
    first, *rest = ranked
    text = f"Over {horizon_months} months the cheapest plan is {first[1]} in {percent(first[0])} of the draws"
    text += "".join(f", {name} in {percent(share)}" for share, name in rest)
    never = [name for name, share in zip(names, shares, strict=True) if share == 0]
    if never:
        text += f"; {', '.join(never)} {'is' if len(never) == 1 else 'are'} never the cheapest"
    return text + " (every plan drawn on the same random streams)."
