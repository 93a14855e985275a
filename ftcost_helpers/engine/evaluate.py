"""One evaluation of the cost model: every range of the plan and the price book resolved by
a picker (base case, a corner, or Monte Carlo draws), then the pure model run over it."""

from __future__ import annotations

from ftcost_helpers.engine.fx import in_currency
from ftcost_helpers.engine.model.run import ModelRun, run_model
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.resolve import Picker, pick_base, resolve
from ftcost_helpers.engine.schema import Params


def evaluate(params: Params, book: PriceBook, picker: Picker = pick_base) -> ModelRun:
    """Run the model with every range resolved by ``picker`` (default: base case), on the
    price book in the plan's currency (:func:`~ftcost_helpers.engine.fx.in_currency`)."""
    book = in_currency(book, params.currency, params.start_date)
    return run_model(resolve(params, picker), resolve(book, picker, "pricebook"))
