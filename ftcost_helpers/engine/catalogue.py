"""The model catalogue (``params/models.yaml``) and Hugging Face ``config.json`` files: the
architecture a client file may name instead of typing it.

``base_model: {name: Qwen/Qwen2.5-7B}`` fills every architecture key the file omits from the
catalogue (a key in the file wins); ``base_model: {config_json: path/to/config.json}`` reads
a model's own config offline. Facts only: each catalogue entry names its source.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

BILLION = 1e9
ARCHITECTURE_KEYS = (
    "parameters_billion",
    "active_parameters_billion",
    "layers",
    "hidden_size",
    "intermediate_size",
    "attention_heads",
    "kv_heads",
    "head_dim",
    "vocab_size",
    "tied_embeddings",
    "experts",
    "experts_per_token",
    "sliding_window",
    "sliding_window_layers",
    "end_of_life",
)
"""The ``base_model`` keys a catalogue entry or a config.json can fill (those the schema has)."""


class CatalogueError(Exception):
    """A catalogue, config.json or named model is wrong: ``file``, ``key`` and ``problem``
    (the loader turns it into its one-line ParamsError)."""

    def __init__(self, file: str | Path, key: str, problem: str) -> None:
        super().__init__(f"{file}: {key}: {problem}")
        self.file, self.key, self.problem = str(file), key, problem


REQUIRED_KEYS = ("parameters_billion", "layers", "hidden_size", "attention_heads", "vocab_size")
"""Keys a plan cannot do without: a name the catalogue does not know must come with them."""


class ModelEntry(BaseModel):
    """One open-weights model's published facts (config.json and model card)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    parameters_billion: float = Field(gt=0)
    active_parameters_billion: float | None = Field(default=None, gt=0)
    layers: int = Field(ge=1)
    hidden_size: int = Field(ge=1)
    intermediate_size: int = Field(ge=1)
    attention_heads: int = Field(ge=1)
    kv_heads: int = Field(ge=1)
    head_dim: int | None = Field(default=None, ge=1)
    vocab_size: int = Field(ge=1)
    tied_embeddings: bool
    experts: int | None = Field(default=None, ge=2)
    experts_per_token: int | None = Field(default=None, ge=1)
    sliding_window: int | None = Field(default=None, ge=1)
    sliding_window_layers: int | None = Field(default=None, ge=0)
    context_length: int = Field(ge=1)
    licence: str
    released: dt.date
    end_of_life: dt.date | None = None
    source: str = Field(min_length=1)

    @property
    def active_billion(self) -> float:
        """Parameters used per token: the active count of a mixture of experts, else all."""
        return self.active_parameters_billion or self.parameters_billion


class ModelCatalogue(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    as_of: dt.date
    models: dict[str, ModelEntry]


def read_models(data: Mapping[str, Any], file: str | Path) -> ModelCatalogue:
    """The model catalogue from its YAML mapping (errors name the file, the model and the key)."""
    return _validated(ModelCatalogue, data, file)


def _validated(model: Any, data: Mapping[str, Any], file: str | Path) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"])
        raise CatalogueError(file, key, f"{error['msg']}, got {error.get('input')!r}") from None


def find_model(name: str, catalogue: ModelCatalogue) -> tuple[str, ModelEntry] | None:
    """The entry named ``name``: its full id (``Qwen/Qwen2.5-7B``, any case), or the part
    after the organisation when only one model has it (``Qwen2.5-7B``)."""
    models = catalogue.models
    wanted = name.strip().casefold()
    for model_id, entry in models.items():
        if model_id.casefold() == wanted:
            return model_id, entry
    short = [(model_id, entry) for model_id, entry in models.items() if model_id.split("/")[-1].casefold() == wanted]
    return short[0] if len(short) == 1 else None


def closest_models(name: str, catalogue: ModelCatalogue, n: int = 5) -> list[str]:
    """Catalogue ids nearest to ``name`` (by the whole id or the part after the organisation)."""
    models = list(catalogue.models)
    by_short = {model_id.split("/")[-1].casefold(): model_id for model_id in models}
    wanted = name.strip().casefold()
    close = difflib.get_close_matches(wanted, [m.casefold() for m in models], n=n, cutoff=0.5)
    close += difflib.get_close_matches(wanted.split("/")[-1], list(by_short), n=n, cutoff=0.5)
    lowered = {m.casefold(): m for m in models} | by_short
    names = list(dict.fromkeys(lowered[c] for c in close))
    return names[:n]


def search_models(catalogue: ModelCatalogue, query: str | None = None) -> dict[str, ModelEntry]:
    """Entries whose id or licence contains every word of ``query`` (all without one)."""
    models = catalogue.models
    words = (query or "").casefold().split()
    return {
        model_id: entry
        for model_id, entry in models.items()
        if all(word in f"{model_id} {entry.licence}".casefold() for word in words)
    }


def schema_keys(keys: Mapping[str, Any]) -> dict[str, Any]:
    """Only the keys ``base_model`` has in the schema, without absent values."""
    from ftcost_helpers.engine.schema import BaseModelSpec

    return {key: value for key, value in keys.items() if key in BaseModelSpec.model_fields and value is not None}


def entry_keys(entry: ModelEntry) -> dict[str, Any]:
    """The entry's values for the ``base_model`` keys the schema has (absent ones left out)."""
    return schema_keys({key: getattr(entry, key) for key in ARCHITECTURE_KEYS})


# --------------------------------------------------------------------------- config.json


def _first(config: Mapping[str, Any], *names: str) -> Any:
    return next((config[name] for name in names if config.get(name) is not None), None)


def _text_config(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """Multimodal configs (Gemma 3, Llama 4) keep the language model under ``text_config``."""
    text = config.get("text_config")
    return {**config, **text} if isinstance(text, Mapping) else config


def parameters_from_config(config: Mapping[str, Any]) -> tuple[float, float]:
    """(total, active) parameters of a decoder-only transformer from its config.json.

    Per layer: attention ``h·(heads·d) + 2·h·(kv·d) + (heads·d)·h`` with ``d`` the head
    dimension, and a gated MLP ``3·h·w`` per expert (routed and shared); the first
    ``first_k_dense_replace`` layers (DeepSeek) are dense with the config's
    ``intermediate_size``. Embeddings ``vocab·h``, twice when untied. Norms, biases and
    routers (<1%) are left out; DeepSeek's latent attention is counted as full attention."""
    c = _text_config(config)
    h, layers = int(c["hidden_size"]), int(c["num_hidden_layers"])
    heads = int(c["num_attention_heads"])
    kv = int(_first(c, "num_key_value_heads") or heads)
    d = int(_first(c, "head_dim") or h // heads)
    attention = 2 * h * heads * d + 2 * h * kv * d
    experts = int(_first(c, "num_local_experts", "num_experts", "n_routed_experts") or 1)
    routed = int(_first(c, "num_experts_per_tok", "experts_per_token") or 1)
    shared = int(_first(c, "n_shared_experts") or 0)
    width = _expert_width(c, experts > 1)
    dense_layers = int(_first(c, "first_k_dense_replace") or 0) if experts > 1 else 0
    dense_mlp = 3 * h * int(c["intermediate_size"])
    embeddings = int(c["vocab_size"]) * h * (1 if _tied(c) else 2)

    def count(experts_used: int) -> float:
        moe_mlp = 3 * h * width * (experts_used + shared)
        return layers * attention + dense_layers * dense_mlp + (layers - dense_layers) * moe_mlp + embeddings

    return count(experts), count(routed if experts > 1 else 1)


def _expert_width(config: Mapping[str, Any], moe: bool) -> int:
    """One expert's MLP width (``moe_intermediate_size`` where the config has one), else the MLP's."""
    width = _first(config, "moe_intermediate_size") if moe else None
    return int(width or config["intermediate_size"])


def _tied(config: Mapping[str, Any]) -> bool:
    """``tie_word_embeddings``; absent, Gemma ties (its config class default) and others do not."""
    if "tie_word_embeddings" in config:
        return bool(config["tie_word_embeddings"])
    return str(config.get("model_type", "")).startswith("gemma")


def sliding_window_from_config(config: Mapping[str, Any]) -> dict[str, int]:
    """``sliding_window`` and ``sliding_window_layers`` from a config.json: the layers
    ``layer_types`` marks ``sliding_attention`` (gpt-oss, Gemma 2/3 in recent Transformers);
    else every layer but each ``sliding_window_pattern``-th (Gemma 3); else every layer when
    the config sets a window and does not switch it off (``use_sliding_window: false``, as
    Qwen2's configs do); none without a window."""
    window = config.get("sliding_window")
    if not window or config.get("use_sliding_window") is False:
        return {}
    layers = int(config["num_hidden_layers"])
    types = config.get("layer_types")
    if isinstance(types, list):
        sliding = sum(1 for kind in types if kind == "sliding_attention")
    elif config.get("sliding_window_pattern"):
        sliding = layers - layers // int(config["sliding_window_pattern"])
    else:
        sliding = layers
    return {"sliding_window": int(window), "sliding_window_layers": sliding} if sliding else {}


def keys_from_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """``base_model`` keys from a Hugging Face config.json (Llama, Qwen, Mistral, Mixtral,
    Gemma, DeepSeek and gpt-oss shapes)."""
    c = _text_config(config)
    experts = _first(c, "num_local_experts", "num_experts", "n_routed_experts")
    moe = experts is not None and int(experts) > 1
    total, active = parameters_from_config(config)
    keys: dict[str, Any] = {
        "parameters_billion": round(total / BILLION, 3),
        "layers": int(c["num_hidden_layers"]),
        "hidden_size": int(c["hidden_size"]),
        "intermediate_size": _expert_width(c, moe),
        "attention_heads": int(c["num_attention_heads"]),
        "kv_heads": int(_first(c, "num_key_value_heads") or c["num_attention_heads"]),
        "vocab_size": int(c["vocab_size"]),
        "tied_embeddings": _tied(c),
    }
    if _first(c, "head_dim") is not None:
        keys["head_dim"] = int(c["head_dim"])
    keys |= sliding_window_from_config(c)
    if moe:
        keys |= {
            "experts": int(experts),
            "experts_per_token": int(_first(c, "num_experts_per_tok", "experts_per_token") or 1),
            "active_parameters_billion": round(active / BILLION, 3),
        }
    return keys


def read_config_json(path: Path) -> dict[str, Any]:
    """``base_model`` keys from a config.json on disk (no network). Errors are one line."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogueError(path, "base_model.config_json", "file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CatalogueError(path, "base_model.config_json", f"not a readable JSON config ({exc})") from None
    try:
        return keys_from_config(config)
    except (KeyError, TypeError, ValueError) as exc:
        raise CatalogueError(path, str(exc).strip("'"), "missing or not a number in this config.json") from None


# --------------------------------------------------------------------------- filling a plan


def fill_base_model(base: Mapping[str, Any], source: str | Path, catalogue: ModelCatalogue) -> dict[str, Any]:
    """``base_model`` with the keys it omits filled from its ``config_json`` (read relative
    to the client file) and then the catalogue entry its ``name`` names; a key given wins.
    An unknown name is an error only when required keys are then still missing."""
    given = dict(base)
    config_path = given.pop("config_json", None)
    filled: dict[str, Any] = {}
    if config_path is not None:
        path = Path(str(config_path))
        if not path.is_absolute() and Path(str(source)).is_file():
            path = Path(str(source)).parent / path
        filled |= schema_keys(read_config_json(path))
    name = given.get("name")
    found = find_model(str(name), catalogue) if isinstance(name, str) else None
    if found is not None:
        filled = entry_keys(found[1]) | filled
    merged = filled | given
    missing = [key for key in REQUIRED_KEYS if key not in merged]
    if missing and isinstance(name, str) and found is None and config_path is None:
        close = closest_models(name, catalogue)
        hint = f"closest: {', '.join(close)}; " if close else ""
        raise CatalogueError(
            source,
            "base_model.name",
            f"'{name}' is not in the model catalogue ({hint}see `python -m ftcost_helpers models`), "
            f"so {', '.join('base_model.' + key for key in missing)} must be given, or base_model.config_json",
        )
    return merged


# --------------------------------------------------------------------------- GPUs


class GpuEntry(BaseModel):
    """One accelerator's datasheet figures (dense peaks, no sparsity)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    label: str = Field(min_length=1)
    memory_gb: float = Field(gt=0)
    memory_bandwidth_gbps: float = Field(gt=0)
    bf16_tflops: float = Field(gt=0)
    fp8_tflops: float | None = Field(default=None, gt=0)
    datasheet: str = Field(min_length=1)


class GpuCatalogue(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    as_of: dt.date
    gpus: dict[str, GpuEntry]


class InlineGpu(BaseModel):
    """A GPU a client file describes itself (``training.gpu: {label, memory_gb, ...}``),
    with the same rules as the catalogue's; no datasheet needed."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    label: str = Field(min_length=1, max_length=100)
    memory_gb: float = Field(gt=0)
    bf16_tflops: float = Field(gt=0)
    memory_bandwidth_gbps: float | None = Field(default=None, gt=0)
    fp8_tflops: float | None = Field(default=None, gt=0)

    @property
    def key(self) -> str:
        """The name the plan's GPU goes by in the book: ``own_`` and the label's letters."""
        return "own_" + "_".join("".join(c if c.isalnum() else " " for c in self.label.lower()).split())


def read_gpus(data: Mapping[str, Any], file: str | Path) -> GpuCatalogue:
    """The GPU catalogue from its YAML mapping (errors name the file, the GPU and the key)."""
    return _validated(GpuCatalogue, data, file)


def gpu_specs(catalogue: GpuCatalogue, fields: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Every catalogue GPU as a price-book spec: only ``fields`` (the price book's GpuSpec
    keys), without absent values."""
    return {
        key: {name: value for name, value in entry.model_dump().items() if name in fields and value is not None}
        for key, entry in catalogue.gpus.items()
    }
