"""API list prices from genai-prices (pydantic's maintained price database).

Only the snapshot bundled with the pinned package is read: the package's updater
(``genai_prices.UpdatePrices``) is never started, so nothing is fetched at run time.
genai-prices takes a few tenths of a second to import, so it is imported here, inside the
functions that read prices, never on the package's import path.

A name or price once looked up is remembered between commands in a small file per
genai-prices version (:func:`cache_path`), so ``validate`` and ``estimate`` after an edit do not
import genai-prices again (about a tenth of a second); the bundled snapshot of one version
never changes, so the file needs no other invalidation. Unknown names are never remembered.

Tiered prices (e.g. a higher rate for prompts above 200k tokens) depend on the size of one
request, so a month's volume is priced through a typical request of
``input_tokens_per_request`` input tokens, not as one million-token request.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import json
import os
import tempfile
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

TOKENS_PER_MILLION = 1_000_000
PACKAGE = "genai-prices"
CACHE_ENV = "FTCOST_CACHE_DIR"
"""Folder of the lookup cache; set to an empty string to remember nothing."""
MAX_REMEMBERED = 2_000
"""Most entries the cache file keeps (a few hundred bytes each); beyond it, nothing new is added."""


class UnknownApiModel(LookupError):
    """genai-prices does not know the model (or the provider). ``str()`` says which and
    lists the closest names; ``key`` is the client key at fault."""

    def __init__(self, message: str, key: str = "model") -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class ApiPrice:
    """USD per 1M tokens of one API model on one date, for requests of a given size."""

    model: str
    provider: str
    on: dt.date
    input_tokens_per_request: int
    input_usd_per_1m: float
    cached_input_usd_per_1m: float | None
    output_usd_per_1m: float

    @property
    def source(self) -> str:
        """The line's citation: package, version, provider, model and the date priced."""
        return (
            f"{PACKAGE} {package_version()}, {self.provider} {self.model} as checked {self.on.isoformat()} "
            f"(requests of {self.input_tokens_per_request:,} input tokens)"
        )


@cache
def package_version() -> str:
    """The installed genai-prices version (the bundled snapshot's)."""
    return metadata.version(PACKAGE)


@cache
def _snapshot() -> Any:
    """The price snapshot bundled with the package (never an auto-updated one)."""
    from genai_prices import data_snapshot

    snapshot = data_snapshot._bundled_snapshot()
    assert not snapshot.from_auto_update
    return snapshot


@cache
def known_models(provider: str | None = None) -> tuple[str, ...]:
    """Every model id genai-prices has (of one provider, if given)."""
    return tuple(
        model.id for p in _snapshot().providers if provider in (None, p.id) for model in p.models if model.prices
    )


def _closest(name: str, known: tuple[str, ...]) -> str:
    """The nearest names, each once (one id may be listed by several providers)."""
    close = difflib.get_close_matches(name.lower(), list(dict.fromkeys(known)), n=5, cutoff=0.5)
    return f" (closest: {', '.join(close)})" if close else ""


RETIRED_MODEL_IDS: dict[str, tuple[str, str]] = {
    "gpt_4o": ("gpt-4o", "openai"),
    "claude_sonnet": ("claude-sonnet-4-5", "anthropic"),
    "claude_haiku": ("claude-3-5-haiku", "anthropic"),
    "claude_opus": ("claude-opus-4-1", "anthropic"),
}
"""API model names of the price book before genai-prices (its ``api_prices_usd_per_1m_tokens``
table, replaced in the commit that brought genai-prices in) and the genai-prices model and
provider each now reads as: the model listed at the same price per 1M tokens (gpt_4o 2.50 in
/ 10.00 out, claude_sonnet 3/15, claude_haiku 0.80/4.00, claude_opus 15/75), so a client file
written then keeps its figures."""


def current_model_id(model: str) -> tuple[str, str] | None:
    """(genai-prices model, provider) a retired name reads as; None for any other name."""
    return RETIRED_MODEL_IDS.get(model.strip().lower())


def _find(model: str, provider: str | None) -> tuple[Any, Any]:
    try:
        return _snapshot().find_provider_model(model, None, provider, None)
    except LookupError:
        pass
    providers = tuple(p.id for p in _snapshot().providers)
    if provider is not None and provider.lower() not in providers:
        message = f"{PACKAGE} knows no provider '{provider}'{_closest(provider, providers)}"
        raise UnknownApiModel(message, key="provider") from None
    where = f" from {provider}" if provider else ""
    raise UnknownApiModel(
        f"{PACKAGE} {package_version()} knows no model '{model}'{where}{_closest(model, known_models(provider))}"
    ) from None


def cache_path() -> Path | None:
    """The lookup cache of this genai-prices version: ``$FTCOST_CACHE_DIR`` (empty: none),
    else ``$XDG_CACHE_HOME/ftcost``, else ``~/.cache/ftcost``."""
    folder = os.environ.get(CACHE_ENV)
    if folder is None:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        folder = str(Path(base) / "ftcost")
    if not folder:
        return None
    return Path(folder) / f"genai-prices-{package_version()}.json"


@cache
def _remembered() -> dict[str, Any]:
    """The cache file's entries (empty when it is missing, unreadable or not ours)."""
    path = cache_path()
    try:
        entries = json.loads(path.read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError):
        return {}
    return entries if isinstance(entries, dict) else {}


def _remember(key: str, value: Any) -> None:
    """Add one entry and rewrite the file atomically; a folder that cannot be written (a
    read-only home, a full disk) only means nothing is remembered."""
    entries, path = _remembered(), cache_path()
    if path is None or entries.get(key) == value or len(entries) >= MAX_REMEMBERED:
        return
    entries[key] = value
    written: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False, encoding="utf-8") as file:
            written = file.name
            json.dump(entries, file)
        os.replace(written, path)
    except OSError:
        if written is not None:
            Path(written).unlink(missing_ok=True)


def _lookup_key(*parts: object) -> str:
    return "|".join("" if part is None else str(part) for part in parts)


def check_model(model: str, provider: str | None = None) -> None:
    """Raise UnknownApiModel if genai-prices cannot price ``model``."""
    key = _lookup_key("model", model, provider)
    if _remembered().get(key) is True:
        return
    _find(model, provider)
    _remember(key, True)


def _price_from_entry(entry: Any) -> ApiPrice | None:
    """A remembered price, or None when the entry is not one (an older or damaged file)."""
    try:
        return ApiPrice(**{**entry, "on": dt.date.fromisoformat(entry["on"])})
    except (TypeError, KeyError, ValueError):
        return None


@cache
def api_price(model: str, provider: str | None, on: dt.date, input_tokens_per_request: int) -> ApiPrice:
    """The list price of ``model`` in force on ``on`` (UTC), at the tier a request of
    ``input_tokens_per_request`` input tokens falls in (genai-prices' own tier rule)."""
    key = _lookup_key("price", model, provider, on.isoformat(), input_tokens_per_request)
    remembered = _price_from_entry(_remembered().get(key))
    if remembered is not None:
        return remembered
    price = _price_from_snapshot(model, provider, on, input_tokens_per_request)
    _remember(key, {**dataclasses.asdict(price), "on": on.isoformat()})
    return price


def _price_from_snapshot(model: str, provider: str | None, on: dt.date, input_tokens_per_request: int) -> ApiPrice:
    """:func:`api_price` read from genai-prices' bundled snapshot."""
    from genai_prices.types import calc_unit_price

    found_provider, info = _find(model, provider)
    prices = info.get_prices(dt.datetime.combine(on, dt.time(), tzinfo=dt.UTC))

    def per_1m(price: Any) -> float | None:
        if price is None:
            return None
        usd = calc_unit_price(price, TOKENS_PER_MILLION, input_tokens_per_request, TOKENS_PER_MILLION)
        return float(usd)

    input_price, output_price = per_1m(prices.input_mtok), per_1m(prices.output_mtok)
    if input_price is None or output_price is None:
        raise UnknownApiModel(f"{PACKAGE} has no per-token input and output price for '{model}'")
    return ApiPrice(
        model=info.id,
        provider=found_provider.id,
        on=on,
        input_tokens_per_request=input_tokens_per_request,
        input_usd_per_1m=input_price,
        cached_input_usd_per_1m=per_1m(prices.cache_read_mtok),
        output_usd_per_1m=output_price,
    )
