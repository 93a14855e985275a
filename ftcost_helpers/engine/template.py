"""A commented client file to start from (``python -m ftcost_helpers init``).

The text is ``params/templates/client.yaml`` with the client's name, base model and GPU
filled in. A base model's architecture comes from the model catalogue (``params/models.yaml``,
``python -m ftcost_helpers models``): the file names the model by its catalogue id and shows
the main keys, and the keys it leaves out (key/value heads, MLP width, experts...) are filled
from the catalogue when the file is read. A model the catalogue lacks may still come from a
client file that already describes it; any other name is refused (with the closest catalogue
ids) rather than filled with another model's figures. The rendered text is validated like any
client file before anyone writes it.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from pathlib import Path
from typing import Any

import yaml

from ftcost_helpers.engine.catalogue import closest_models, entry_keys, find_model
from ftcost_helpers.engine.loading import (
    ParamsError,
    client_files,
    load_models,
    params_dir,
    params_from_mapping,
    project_root,
    read_yaml,
)
from ftcost_helpers.engine.pricebook import PriceBook

DEFAULT_MODEL = "Qwen/Qwen2.5-7B"
"""Base model of a template without ``--model`` (worked example A's)."""
DEFAULT_GPU = "h100_sxm"
TRAINING_TIERS = ("neocloud_spot", "neocloud_on_demand")
"""Preferred tiers for training (cheapest first); else the first the GPU is offered on."""
SERVING_TIERS = ("neocloud_on_demand", "hyperscaler_on_demand")
"""Preferred tiers for always-on serving (spot can be taken away); else the first offered."""
CLIENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
"""A client file's name: letters, digits, ``_`` and ``-`` (it becomes ``NAME.yaml``)."""
ARCHITECTURE_KEYS = ("parameters_billion", "layers", "hidden_size", "attention_heads", "vocab_size")


def template_path() -> Path:
    return params_dir() / "templates" / "client.yaml"


def _model_key(name: str) -> str:
    """``Qwen/Qwen2.5-7B`` and ``qwen2.5-7b`` name the same model: no organisation, any case."""
    return name.rsplit("/", 1)[-1].strip().lower()


def known_models() -> dict[str, dict[str, Any]]:
    """Base-model blocks the project's client files describe, by :func:`_model_key`."""
    models = {}
    for path in client_files():
        block = read_yaml(path).get("base_model")
        if isinstance(block, dict) and isinstance(block.get("name"), str):
            models.setdefault(_model_key(block["name"]), block)
    return models


def _architecture(model: str) -> dict[str, Any]:
    """The template's base-model fields: the catalogue entry's, else a client file's block."""
    catalogue = load_models()
    found = find_model(model, catalogue)
    if found is not None:
        model_id, entry = found
        keys = entry_keys(entry)
        return {key: keys[key] for key in ARCHITECTURE_KEYS} | {"model_name": model_id}
    block = known_models().get(_model_key(model))
    if block is None or any(key not in block for key in ARCHITECTURE_KEYS):
        close = closest_models(model, catalogue)
        hint = f"closest: {', '.join(close)}; " if close else ""
        raise ParamsError(
            "init",
            "--model",
            f"'{model}' is not in the model catalogue ({hint}see `python -m ftcost_helpers models`); start "
            "without --model and set the base_model keys from the model's config.json",
        )
    return {key: block[key] for key in ARCHITECTURE_KEYS} | {"model_name": model.rsplit("/", 1)[-1]}


def _shown(path: Path) -> str:
    """The path as the analyst types it: relative to the checkout when inside it."""
    try:
        return path.resolve().relative_to(project_root().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _tier(book: PriceBook, gpu: str, preferred: tuple[str, ...]) -> str:
    offered = list(book.gpu_rates_usd_per_gpu_hour.get(gpu, {}))
    return next((tier for tier in preferred if tier in offered), offered[0] if offered else preferred[0])


def render_client(client: str, path: Path, book: PriceBook, model: str | None = None, gpu: str | None = None) -> str:
    """The template's text for ``client``, validated as ``path`` would be (ParamsError if not)."""
    if not CLIENT_NAME.fullmatch(client):
        raise ParamsError("init", "NAME", f"use letters, digits, '_' and '-' only (it names the file), got {client!r}")
    gpu = gpu or DEFAULT_GPU
    if gpu not in book.gpus:
        raise ParamsError("init", "--gpu", f"unknown GPU '{gpu}' (known: {', '.join(book.gpus)})")
    fields = _architecture(model or DEFAULT_MODEL) | {
        "client": client,
        "path": _shown(path),
        "start_date": dt.date.today().replace(day=1).isoformat(),
        "gpu": gpu,
        "training_tier": _tier(book, gpu, TRAINING_TIERS),
        "serving_tier": _tier(book, gpu, SERVING_TIERS),
    }
    text = string.Template(template_path().read_text(encoding="utf-8")).substitute(fields)
    params_from_mapping(yaml.safe_load(text), path, book)
    return text
