"""The model catalogue (``params/models.yaml``) and Hugging Face ``config.json`` files: the
architecture a client file may name instead of typing it.

``base_model: {name: Qwen/Qwen2.5-7B}`` fills every architecture key the file omits from the
catalogue (a key in the file wins); ``base_model: {config_json: path/to/config.json}`` reads
a model's own config offline. Facts only: each catalogue entry names its source.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ftcost_helpers.engine.quantities import MAX_AMOUNT, MAX_COUNT, CalendarDate
from ftcost_helpers.engine.readers import json_kind, json_text, read_json_object

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


STRICT = ConfigDict(extra="forbid", defer_build=True, strict=True, allow_inf_nan=False)
"""Catalogue entries and a client's own GPU: unknown keys refused, types strict (``true`` is
no number and ``1`` no boolean; a count is a whole number), every figure finite."""

Date = Annotated[CalendarDate, Field(strict=False)]
"""A catalogue date: YAML's ``2024-07-23`` or the string ``"2024-07-23"``, never a number."""


class ModelEntry(BaseModel):
    """One open-weights model's published facts (config.json and model card)."""

    model_config = STRICT

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
    released: Date
    end_of_life: Date | None = None
    source: str = Field(min_length=1)

    @property
    def active_billion(self) -> float:
        """Parameters used per token: the active count of a mixture of experts, else all."""
        return self.active_parameters_billion or self.parameters_billion


class ModelCatalogue(BaseModel):
    model_config = STRICT

    as_of: Date
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


CONFIG_JSON_MAX_BYTES = 1_000_000
"""A config.json is a few kilobytes; one above 1 MB is refused unread."""


class ConfigValueError(ValueError):
    """A config.json setting is missing or not what the architecture needs: its ``key`` and
    the ``problem`` (read_config_json names the file)."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key, self.problem = key, problem


def _count(config: Mapping[str, Any], name: str, least: int = 1) -> int:
    """The whole-number setting ``name``: JSON's ``true`` is no count and 28.7 heads are
    not 28, so anything but an integer from ``least`` to ``MAX_COUNT`` is refused."""
    if config.get(name) is None:
        raise ConfigValueError(name, "missing from this config.json")
    value = config[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigValueError(name, f"must be a whole number, got {json_text(value)}")
    if value < least:
        raise ConfigValueError(name, f"must be at least {least}, got {value}")
    if value > MAX_COUNT:
        raise ConfigValueError(name, f"must be at most {MAX_COUNT:,}, got {json_text(value)}")
    return value


def _first(config: Mapping[str, Any], *names: str, least: int = 1) -> int | None:
    """The first of ``names`` the config sets (not null), as a count (None if none is set)."""
    name = next((name for name in names if config.get(name) is not None), None)
    return None if name is None else _count(config, name, least)


def _flag(config: Mapping[str, Any], name: str) -> bool | None:
    """The true/false setting ``name`` (None when absent): a number is no boolean."""
    value = config.get(name)
    if value is not None and not isinstance(value, bool):
        raise ConfigValueError(name, f"must be true or false, got {json_text(value)}")
    return value


def _text_config(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """Multimodal configs (Gemma 3, Llama 4) keep the language model under ``text_config``."""
    text = config.get("text_config")
    return {**config, **text} if isinstance(text, Mapping) else config


def _experts(config: Mapping[str, Any]) -> int:
    """Routed experts per MoE layer (1 for a dense model; 0 in a config means none)."""
    return _first(config, "num_local_experts", "num_experts", "n_routed_experts", least=0) or 1


def parameters_from_config(config: Mapping[str, Any]) -> tuple[float, float]:
    """(total, active) parameters of a decoder-only transformer from its config.json.

    Per layer: attention ``h·(heads·d) + 2·h·(kv·d) + (heads·d)·h`` with ``d`` the head
    dimension, and a gated MLP ``3·h·w`` per expert (routed and shared); the first
    ``first_k_dense_replace`` layers (DeepSeek) are dense with the config's
    ``intermediate_size``. Embeddings ``vocab·h``, twice when untied. Norms, biases and
    routers (<1%) are left out; DeepSeek's latent attention is counted as full attention.
    A count that is missing, not a whole number or below 1 raises :class:`ConfigValueError`."""
    c = _text_config(config)
    h, layers = _count(c, "hidden_size"), _count(c, "num_hidden_layers")
    heads = _count(c, "num_attention_heads")
    kv = _first(c, "num_key_value_heads") or heads
    d = _first(c, "head_dim") or h // heads
    attention = 2 * h * heads * d + 2 * h * kv * d
    experts = _experts(c)
    routed = _first(c, "num_experts_per_tok", "experts_per_token") or 1
    shared = _first(c, "n_shared_experts", least=0) or 0
    width = _expert_width(c, experts > 1)
    dense_layers = (_first(c, "first_k_dense_replace", least=0) or 0) if experts > 1 else 0
    if dense_layers > layers:
        raise ConfigValueError("first_k_dense_replace", f"{dense_layers} is more than num_hidden_layers ({layers})")
    dense_mlp = 3 * h * _count(c, "intermediate_size")
    embeddings = _count(c, "vocab_size") * h * (1 if _tied(c) else 2)

    def count(experts_used: int) -> float:
        moe_mlp = 3 * h * width * (experts_used + shared)
        return layers * attention + dense_layers * dense_mlp + (layers - dense_layers) * moe_mlp + embeddings

    return count(experts), count(routed if experts > 1 else 1)


def _expert_width(config: Mapping[str, Any], moe: bool) -> int:
    """One expert's MLP width (``moe_intermediate_size`` where the config has one), else the MLP's."""
    width = _first(config, "moe_intermediate_size") if moe else None
    return width or _count(config, "intermediate_size")


def _tied(config: Mapping[str, Any]) -> bool:
    """``tie_word_embeddings``; absent, Gemma ties (its config class default) and others do not."""
    tied = _flag(config, "tie_word_embeddings")
    if tied is not None:
        return tied
    return str(config.get("model_type", "")).startswith("gemma")


def sliding_window_from_config(config: Mapping[str, Any]) -> dict[str, int]:
    """``sliding_window`` and ``sliding_window_layers`` from a config.json: the layers
    ``layer_types`` marks ``sliding_attention`` (gpt-oss, Gemma 2/3 in recent Transformers);
    else every layer but each ``sliding_window_pattern``-th (Gemma 3); else every layer when
    the config sets a window and does not switch it off (``use_sliding_window: false``, as
    Qwen2's configs do); none without a window (null or 0)."""
    window = _first(config, "sliding_window", least=0)
    if not window or _flag(config, "use_sliding_window") is False:
        return {}
    layers = _count(config, "num_hidden_layers")
    types = config.get("layer_types")
    if types is not None and not isinstance(types, list):
        raise ConfigValueError("layer_types", f"must be a list of layer kinds, got {json_text(types)}")
    pattern = _first(config, "sliding_window_pattern")
    if isinstance(types, list):
        sliding = sum(1 for kind in types if kind == "sliding_attention")
    elif pattern:
        sliding = layers - layers // pattern
    else:
        sliding = layers
    if sliding > layers:
        raise ConfigValueError("layer_types", f"marks {sliding} sliding layers, more than num_hidden_layers ({layers})")
    return {"sliding_window": window, "sliding_window_layers": sliding} if sliding else {}


def keys_from_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """``base_model`` keys from a Hugging Face config.json (Llama, Qwen, Mistral, Mixtral,
    Gemma, DeepSeek and gpt-oss shapes). Every count must be a whole number of at least 1
    (:class:`ConfigValueError` names the setting otherwise)."""
    c = _text_config(config)
    experts = _experts(c)
    moe = experts > 1
    total, active = parameters_from_config(config)
    heads = _count(c, "num_attention_heads")
    keys: dict[str, Any] = {
        "parameters_billion": round(total / BILLION, 3),
        "layers": _count(c, "num_hidden_layers"),
        "hidden_size": _count(c, "hidden_size"),
        "intermediate_size": _expert_width(c, moe),
        "attention_heads": heads,
        "kv_heads": _first(c, "num_key_value_heads") or heads,
        "vocab_size": _count(c, "vocab_size"),
        "tied_embeddings": _tied(c),
    }
    head_dim = _first(c, "head_dim")
    if head_dim is not None:
        keys["head_dim"] = head_dim
    keys |= sliding_window_from_config(c)
    if moe:
        keys |= {
            "experts": experts,
            "experts_per_token": _first(c, "num_experts_per_tok", "experts_per_token") or 1,
            "active_parameters_billion": round(active / BILLION, 3),
        }
    return keys


CONFIG_JSON_KEY = "base_model.config_json"


def read_config_json(path: Path) -> dict[str, Any]:
    """``base_model`` keys from a config.json on disk (no network), read by the bounded
    reader (:func:`~ftcost_helpers.engine.readers.read_json_object`). Errors are one line
    naming the config.json and the setting at fault."""
    config = read_json_object(path, CONFIG_JSON_MAX_BYTES, CONFIG_JSON_KEY)  # ParamsError if unreadable
    try:
        return keys_from_config(config)
    except ConfigValueError as error:
        raise CatalogueError(path, error.key, error.problem) from None


# --------------------------------------------------------------------------- filling a plan


def config_json_path(value: Any, source: str | Path) -> Path:
    """The file ``base_model.config_json`` names: a non-empty path, read relative to the
    client file's folder (CatalogueError naming the client file otherwise)."""
    if not isinstance(value, str) or not value.strip():
        kinds = {"object": "a mapping", "list": "a list", "number": "a number", "boolean": "true/false"}
        shown = (
            "an empty path"
            if isinstance(value, str)
            else f"{kinds.get(json_kind(value), 'a value')}, {json_text(value)}"
        )
        raise CatalogueError(source, CONFIG_JSON_KEY, f"must be the path of a config.json file, got {shown}")
    path = Path(value)
    if not path.is_absolute() and Path(str(source)).is_file():
        path = Path(str(source)).parent / path
    return path


def fill_base_model(base: Mapping[str, Any], source: str | Path, catalogue: ModelCatalogue) -> dict[str, Any]:
    """``base_model`` with the keys it omits filled from its ``config_json`` (read relative
    to the client file) and then the catalogue entry its ``name`` names; a key given wins.
    An unknown name is an error only when required keys are then still missing."""
    given = dict(base)
    config_path = given.pop("config_json", None)
    filled: dict[str, Any] = {}
    if config_path is not None:
        filled |= schema_keys(read_config_json(config_json_path(config_path, source)))
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


GpuClass = Literal["datacenter_sxm", "datacenter_pcie", "workstation", "consumer"]
"""How a GPU is built and hosted: socketed with NVLink/NVSwitch (SXM, OAM), a data-centre
PCIe card, a workstation card, a consumer card."""


class GpuEntry(BaseModel):
    """One accelerator's datasheet figures (dense peaks, no sparsity)."""

    model_config = STRICT

    label: str = Field(min_length=1)
    memory_gb: float = Field(gt=0)
    memory_bandwidth_gbps: float = Field(gt=0)
    bf16_tflops: float = Field(gt=0)
    fp8_tflops: float | None = Field(default=None, gt=0)
    datasheet: str = Field(min_length=1)
    gpu_class: GpuClass
    gpus_per_node: int = Field(ge=1)
    intra_node_gbps: float = Field(gt=0)
    inter_node_gbps: float = Field(gt=0)
    interconnect: str = Field(min_length=1)


class GpuCatalogue(BaseModel):
    model_config = STRICT

    as_of: Date
    gpus: dict[str, GpuEntry]


class InlineGpu(BaseModel):
    """A GPU a client file describes itself (``training.gpu: {label, memory_gb, ...}``),
    with the same rules as the catalogue's; no datasheet needed. Figures are finite and at
    most :data:`~ftcost_helpers.engine.quantities.MAX_AMOUNT`, like every number of a client file."""

    model_config = STRICT

    label: str = Field(min_length=1, max_length=100)
    memory_gb: float = Field(gt=0, le=MAX_AMOUNT)
    bf16_tflops: float = Field(gt=0, le=MAX_AMOUNT)
    memory_bandwidth_gbps: float | None = Field(default=None, gt=0, le=MAX_AMOUNT)
    fp8_tflops: float | None = Field(default=None, gt=0, le=MAX_AMOUNT)
    gpu_class: GpuClass | None = None
    gpus_per_node: int | None = Field(default=None, ge=1, le=MAX_AMOUNT)
    intra_node_gbps: float | None = Field(default=None, gt=0, le=MAX_AMOUNT)
    inter_node_gbps: float | None = Field(default=None, gt=0, le=MAX_AMOUNT)

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
