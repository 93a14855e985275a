"""Where each input of a plan comes from: the client's own file, the firm's defaults, the
price book (with its as-of date) or a catalogue (models or GPUs).

A client file gives a value in one of three shapes: a number (or a word, a yes/no), a range
``{low, high}`` or a range with its most likely value ``{low, mode, high}``. Each is one
input: :func:`given_keys` lists the dotted keys a file sets, a range of either shape as
the key that holds it (never its ``low`` or ``mode``). :func:`input_provenance` then says,
for one dotted key of the validated plan, which of the four sources its value comes from:

1. **price book**: a GPU rate the plan does not book (``training.rate_usd_per_gpu_hour``
   absent: the price book's range for the GPU and tier, dated by the file that set it)
   and a utilisation the plan does not give (the book's default for the method and size);
2. **client**: a key the client file sets (a scenario's overrides count as the client's);
3. **catalogue**: a ``base_model`` key the client left out that the model catalogue
   (``params/models.yaml``) fills from the model's name (unless the client names the
   model's ``config_json``, whose figures are the client's);
4. **firm default**: everything else: ``params/defaults.yaml``, or the schema's own
   default where that file is silent too (mostly zero: a cost the plan does not include).

The function reads only the plan, the price book and the key sets: the report, the
workbook and the audit ask it the same question and get the same answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.schema import LEGACY_TRAINING_KEYS, Params

CLIENT = "client"
FIRM_DEFAULT = "firm default"
PRICE_BOOK = "price book"
CATALOGUE = "catalogue"
KINDS: tuple[str, ...] = (CLIENT, FIRM_DEFAULT, PRICE_BOOK, CATALOGUE)
"""The four sources of an input, in the order a document numbers them."""

RANGE_KEYS = frozenset({"low", "mode", "high"})
RATE_KEYS = ("training.rate_usd_per_gpu_hour", "serving.rate_usd_per_gpu_hour")
UTILISATION_KEY = "training.utilisation"
BASE_MODEL = "base_model."
CONFIG_JSON = "base_model.config_json"
"""A config.json the client names: the model's figures it holds are the client's."""


@dataclass(frozen=True)
class Provenance:
    """Where one input's value comes from: ``kind`` (one of :data:`KINDS`), the source in
    words (``detail``) and, for the price book and the catalogues, their as-of date."""

    kind: str
    detail: str
    as_of: dt.date | None = None

    @property
    def is_client(self) -> bool:
        return self.kind == CLIENT


# --------------------------------------------------------------------------- key sets


def is_range(node: Any) -> bool:
    """Whether a file's value is a range: ``{low, high}`` or ``{low, mode, high}``."""
    return isinstance(node, Mapping) and bool(node) and set(node) <= RANGE_KEYS


def given_keys(mapping: Mapping[str, Any] | None) -> frozenset[str]:
    """The dotted keys a parameter mapping (a client file, a scenario's overrides,
    ``params/defaults.yaml``) sets: every leaf, a range of any shape as one key, a list
    as one key, an old training key under its new name (``training.sharded`` is
    ``training.sharding``)."""
    keys: set[str] = set()
    renamed = {f"training.{old}": f"training.{new}" for old, (new, _) in LEGACY_TRAINING_KEYS.items()}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, Mapping) and not is_range(node):
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else str(key))
        elif path:
            keys.add(renamed.get(path, path))

    walk(mapping or {}, "")
    return frozenset(keys)


def is_given(key: str, keys: Iterable[str]) -> bool:
    """Whether ``key`` is set in ``keys``: itself, a mapping above it given whole (an inline
    GPU, a list), or a key inside it (a section's own keys)."""
    parts = key.split(".")
    above = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
    return any(k in above or k.startswith(key + ".") for k in keys)


def scenario_keys(client: Iterable[str], overrides: Mapping[str, Any], plan: Params | None = None) -> frozenset[str]:
    """The keys a scenario's plan owes to the client: the plan's own and the overrides'. A
    scenario that names another model (``plan`` given) keeps none of the plan's ``base_model``
    keys: that model's figures are the scenario's, its config.json's or the catalogue's
    (:func:`~ftcost_helpers.engine.overrides.names_another_model`)."""
    kept = frozenset(client)
    if plan is not None:
        from ftcost_helpers.engine.overrides import names_another_model

        if names_another_model(plan.base_model.model_dump(), overrides.get("base_model")):
            kept = frozenset(key for key in kept if not key.startswith(BASE_MODEL))
    return kept | given_keys(overrides)


# --------------------------------------------------------------------------- one input


def input_provenance(
    key: str,
    params: Params,
    book: PriceBook,
    client_keys: Iterable[str],
    default_keys: Iterable[str] | None = None,
) -> Provenance:
    """Where the value of ``params`` at the dotted ``key`` comes from (see the module's
    order). ``client_keys``: :func:`given_keys` of the client file (and a scenario's
    overrides); ``default_keys``: of ``params/defaults.yaml`` (read when not given)."""
    priced = _from_price_book(key, params, book)
    if priced is not None:
        return priced
    client = frozenset(client_keys)
    if is_given(key, client):
        return Provenance(CLIENT, "client file")
    if key.startswith(BASE_MODEL) and CONFIG_JSON in client:
        return Provenance(CLIENT, "client file (the model's config.json)")
    if key.startswith(BASE_MODEL):
        listed = _from_catalogue(key, params)
        if listed is not None:
            return listed
    defaults = default_keys if default_keys is not None else firm_default_keys()
    if is_given(key, defaults):
        return Provenance(FIRM_DEFAULT, "firm defaults")
    return Provenance(FIRM_DEFAULT, "firm defaults (not in the plan)")


def plan_provenance(
    keys: Iterable[str],
    params: Params,
    book: PriceBook,
    client_keys: Iterable[str],
    default_keys: Iterable[str] | None = None,
) -> dict[str, Provenance]:
    """:func:`input_provenance` of each of ``keys``, by key (the defaults file read once)."""
    client = frozenset(client_keys)
    defaults = frozenset(default_keys) if default_keys is not None else firm_default_keys()
    return {key: input_provenance(key, params, book, client, defaults) for key in keys}


def firm_default_keys() -> frozenset[str]:
    """The keys ``params/defaults.yaml`` sets."""
    from ftcost_helpers.engine.loading import load_defaults

    return given_keys(load_defaults())


def _value_at(params: Params, key: str) -> Any:
    node: Any = params
    for part in key.split("."):
        node = getattr(node, part, None)
    return node


STORAGE_PRICE_KEYS = ("storage.usd_per_tb_month", "storage.egress_usd_per_tb")
"""Storage and egress prices a plan does not give: the price book's (issue 24)."""


def _from_price_book(key: str, params: Params, book: PriceBook) -> Provenance | None:
    """A rate the plan does not book, or a utilisation it does not give: the price book's."""
    if key in RATE_KEYS and _value_at(params, key) is None:
        plan = getattr(params, key.split(".")[0])
        origin = book.rate_origin(plan.gpu, plan.tier)
        gpu = book.gpus[plan.gpu].label if plan.gpu in book.gpus else plan.gpu
        return Provenance(
            PRICE_BOOK, f"price book of {_day(origin.as_of)}: {gpu}, {plan.tier.replace('_', ' ')}", origin.as_of
        )
    if key in STORAGE_PRICE_KEYS and _value_at(params, key) is None:  # issue 24: storage and egress
        return Provenance(PRICE_BOOK, f"price book of {_day(book.as_of)}: storage and egress prices", book.as_of)
    if key == UTILISATION_KEY and params.training.utilisation is None:
        return Provenance(PRICE_BOOK, f"price book of {_day(book.as_of)}: default utilisation", book.as_of)
    return None


def _from_catalogue(key: str, params: Params) -> Provenance | None:
    """A ``base_model`` key the model catalogue holds for the plan's model."""
    from ftcost_helpers.engine.catalogue import entry_keys, find_model
    from ftcost_helpers.engine.loading import load_models

    catalogue = load_models()
    found = find_model(params.base_model.name, catalogue)
    if found is None or key.removeprefix(BASE_MODEL) not in entry_keys(found[1]):
        return None
    return Provenance(CATALOGUE, f"model catalogue of {_day(catalogue.as_of)}", catalogue.as_of)


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def uses_default_utilisation(params: Params, book: PriceBook) -> bool:
    """Whether the plan's utilisation is the price book's default (the plan gives none)."""
    return _from_price_book(UTILISATION_KEY, params, book) is not None
