"""The ``alternative`` block of a client file: what the client would do without the
fine-tune (a frontier API, people, retrieval, or nothing).

Re-exported by :mod:`ftcost_helpers.engine.schema`, where client code imports them from.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import model_validator

from ftcost_helpers.engine.ceilings import (  # each key's own ceiling: see that module
    MAX_HOURLY_RATE,
    MAX_HOURS_PER_MONTH,
    MAX_STAFF,
)
from ftcost_helpers.engine.quantities import (
    Fraction,
    PositiveCount,
    Quantity,
    at_most,
    base_value,
)
from ftcost_helpers.engine.schema_base import (
    AlternativeKind,
    Flag,
    Section,
)


class ApiAlternative(Section):
    """A frontier API doing the same job: a monthly bill, or tokens × price. A ``model`` is any
    model genai-prices knows (``provider`` when the name is ambiguous), priced at the plan's
    start date for requests of ``input_tokens_per_request`` input tokens (None: the price
    book's typical request). Prices given here win over the model's."""

    usd_per_month: Quantity | None = None
    model: str | None = None
    provider: str | None = None
    input_tokens_per_request: PositiveCount | None = None
    input_tokens_million_per_month: Quantity = 0.0
    cached_input_tokens_million_per_month: Quantity = 0.0
    output_tokens_million_per_month: Quantity = 0.0
    input_price_usd_per_1m_tokens: Quantity | None = None
    output_price_usd_per_1m_tokens: Quantity | None = None
    cached_input_price_usd_per_1m_tokens: Quantity | None = None
    input_price_usd_per_1k_tokens: Quantity | None = None
    output_price_usd_per_1k_tokens: Quantity | None = None

    @model_validator(mode="after")
    def _one_way_to_cost(self) -> ApiAlternative:
        """A bill and token volumes would give two monthly costs: refuse rather than pick one."""
        if self.usd_per_month is not None and _has_tokens(self):
            raise ValueError(
                "give usd_per_month or token volumes (input/output_tokens_million_per_month), not both: "
                "they are two figures for one monthly cost (set usd_per_month: null to price the tokens)"
            )
        return self


class LabourAlternative(Section):
    """People's time the fine-tuned model saves."""

    staff: Annotated[Quantity, at_most(MAX_STAFF, "a generous headcount")] = 0.0
    hours_per_staff_per_month: Annotated[Quantity, at_most(MAX_HOURS_PER_MONTH, "the hours in a month")] = 0.0
    time_saved_fraction: Fraction = 0.0
    loaded_rate_usd_per_hour: Annotated[Quantity, at_most(MAX_HOURLY_RATE, "an hourly rate")] = 0.0
    realised: Flag = False
    """True when the time saved becomes cash (fewer hires, contractors let go); false:
    staff time valued at its loaded cost, not cash the business banks."""


class RagAlternative(Section):
    """A retrieval-augmented set-up on a frontier API doing the same job."""

    usd_per_month: Quantity = 0.0


class Alternative(Section):
    """What the fine-tune replaces; its monthly cost is the saving."""

    kind: AlternativeKind
    api: ApiAlternative = ApiAlternative()
    labour: LabourAlternative = LabourAlternative()
    rag: RagAlternative = RagAlternative()

    @model_validator(mode="after")
    def _figures_for_kind(self) -> Alternative:
        """The chosen kind must come with its figures: a silent USD 0/month saving would
        read as "never pays back"."""
        if self.kind in {"labour", "rag"} and self.kind not in self.model_fields_set:
            raise ValueError(f"kind '{self.kind}' needs the alternative.{self.kind} section")
        if self.kind == "api" and not _api_is_priced(self.api):
            raise ValueError(
                "kind 'api' needs alternative.api.usd_per_month, or tokens per month with a model or prices"
            )
        return self


def _api_is_priced(api: ApiAlternative) -> bool:
    """An API alternative has a bill, or tokens and a way to price them."""
    if api.usd_per_month is not None:
        return True
    prices = (
        api.input_price_usd_per_1m_tokens,
        api.output_price_usd_per_1m_tokens,
        api.input_price_usd_per_1k_tokens,
        api.output_price_usd_per_1k_tokens,
    )
    return _has_tokens(api) and (api.model is not None or any(price is not None for price in prices))


def _has_tokens(api: ApiAlternative) -> bool:
    """Token volumes were given (a base case above zero)."""
    return base_value(api.input_tokens_million_per_month) + base_value(api.output_tokens_million_per_month) > 0
