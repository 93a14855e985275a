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

from ftcost_helpers.engine.model import blocks
from ftcost_helpers.engine.quantities import MAX_AMOUNT, MAX_COUNT, CalendarDate, FiniteAmount
from ftcost_helpers.engine.readers import json_kind, json_text, read_json_object

BILLION = 1e9
BLOCK_KEYS = (
    "mlp",
    "parallel_attention",
    "biases",
    "encoder_layers",
    "shared_experts",
    "first_dense_layers",
    "dense_intermediate_size",
    "kv_lora_rank",
    "q_lora_rank",
    "qk_rope_head_dim",
    "v_head_dim",
)
"""The ``base_model`` keys that set a model's blocks apart from the Llama block
(:func:`~ftcost_helpers.engine.model.blocks.blocks_from_keys`)."""
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
    *BLOCK_KEYS,
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
    mlp: Literal["gated", "dense"] | None = None
    parallel_attention: bool | None = None
    biases: bool | None = None
    encoder_layers: int | None = Field(default=None, ge=1)
    shared_experts: int | None = Field(default=None, ge=0)
    first_dense_layers: int | None = Field(default=None, ge=0)
    dense_intermediate_size: int | None = Field(default=None, ge=1)
    kv_lora_rank: int | None = Field(default=None, ge=1)
    q_lora_rank: int | None = Field(default=None, ge=1)
    qk_rope_head_dim: int | None = Field(default=None, ge=0)
    v_head_dim: int | None = Field(default=None, ge=1)

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
    """(total, active) parameters of a transformer from its config.json: the architecture
    keys it sets (:func:`architecture_keys`) counted by
    :func:`~ftcost_helpers.engine.model.blocks.total_parameters` and
    :func:`~ftcost_helpers.engine.model.blocks.active_parameters`: attention (or latent
    attention), a gated or dense MLP per expert (routed and shared; the first
    ``first_k_dense_replace`` layers of DeepSeek's mixture dense at ``intermediate_size``),
    an encoder and cross-attention when the model has one, biases where it has them, the
    embeddings (twice when untied). Norms and routers (< 1 %) are left out. A count that is
    missing, not a whole number or below 1 raises :class:`ConfigValueError`."""
    keys = architecture_keys(config)
    return _counted(keys, keys.get("experts", 1)), _counted(keys, keys.get("experts_per_token", 1))


def _counted(keys: Mapping[str, Any], experts_used: int) -> float:
    """Parameters of the model ``keys`` describe with ``experts_used`` experts per MoE layer."""
    shape = (keys["layers"], keys["hidden_size"], keys["attention_heads"], keys["kv_heads"])
    width, vocab, tied = keys["intermediate_size"], keys["vocab_size"], keys["tied_embeddings"]
    kind = blocks.blocks_from_keys(keys)
    if experts_used == keys.get("experts", 1):
        return float(blocks.total_parameters(*shape, width, vocab, tied, experts_used, keys.get("head_dim"), kind))
    return float(blocks.active_parameters(*shape, width, vocab, tied, experts_used, keys.get("head_dim"), kind))


DENSE_MLP_MODELS = ("gpt2", "gpt_neox", "gptj", "gpt_bigcode", "bloom", "falcon", "mpt", "opt", "phi", "t5")
"""``model_type``s whose MLP is dense (up, activation, down; no gate): GPT-2, GPT-NeoX,
GPT-J, StarCoder, BLOOM, Falcon, MPT, OPT, Phi-1/2, T5 v1.0 (``feed_forward_proj: relu``;
T5 v1.1, mT5 and mT0 set ``gated-gelu``: gated)."""

BIASED_MODELS = ("gpt2", "gpt_neox", "gptj", "gpt_bigcode", "bloom", "opt", "phi")
"""``model_type``s whose linear layers carry biases (Falcon says so in its ``bias`` key)."""

TIED_BY_DEFAULT = ("gemma", "gpt2", "bloom", "falcon", "t5", "mt5", "mpt")
"""``model_type``s whose configuration class ties the embeddings when config.json does not
say (``PretrainedConfig``'s ``tie_word_embeddings=True``; Llama-style configs write false)."""


def _mlp_kind(c: Mapping[str, Any]) -> str:
    """``dense`` or ``gated``: T5's ``feed_forward_proj`` (``gated-…`` is gated), else the
    model type (:data:`DENSE_MLP_MODELS`)."""
    projection = c.get("feed_forward_proj")
    if isinstance(projection, str):
        return "gated" if projection.startswith("gated") else "dense"
    return "dense" if str(c.get("model_type", "")) in DENSE_MLP_MODELS else "gated"


def _kv_heads(c: Mapping[str, Any], heads: int) -> int:
    """Key/value heads: ``num_key_value_heads`` (Falcon's new architecture: ``num_kv_heads``);
    Falcon-7B's ``multi_query: true`` is one; else every head."""
    kv = _first(c, "num_key_value_heads")
    if kv is None and c.get("new_decoder_architecture"):
        kv = _first(c, "num_kv_heads")
    if kv is None and _flag(c, "multi_query"):
        kv = 1
    return kv or heads


def _block_keys(c: Mapping[str, Any], moe: bool) -> dict[str, Any]:
    """The :data:`BLOCK_KEYS` a config.json sets (absent when it is the Llama block's)."""
    model_type = str(c.get("model_type", ""))
    keys: dict[str, Any] = {"mlp": _mlp_kind(c)}
    parallel = _flag(c, "parallel_attn") if model_type == "falcon" else _flag(c, "use_parallel_residual")
    if model_type == "falcon" and parallel is None:
        parallel = True  # FalconConfig's default
    keys["parallel_attention"] = bool(parallel) or model_type == "gptj"
    bias = _flag(c, "bias")
    keys["biases"] = bool(bias) if bias is not None else model_type in BIASED_MODELS
    if _flag(c, "is_encoder_decoder"):
        keys["encoder_layers"] = _count(c, "num_layers")
    if moe:
        keys["shared_experts"] = _first(c, "n_shared_experts", least=0) or 0
        dense = _first(c, "first_k_dense_replace", least=0) or 0
        keys["first_dense_layers"] = dense
        if dense and _first(c, "moe_intermediate_size"):
            keys["dense_intermediate_size"] = _count(c, "intermediate_size")
    if _first(c, "kv_lora_rank") is not None:
        keys |= {
            "kv_lora_rank": _count(c, "kv_lora_rank"),
            "q_lora_rank": _first(c, "q_lora_rank"),
            "qk_rope_head_dim": _first(c, "qk_rope_head_dim", least=0) or 0,
            "v_head_dim": _first(c, "v_head_dim"),
            "head_dim": _first(c, "qk_nope_head_dim"),
        }
    return {key: value for key, value in keys.items() if value not in (None, False, 0, "gated")}


def _layers(c: Mapping[str, Any]) -> int:
    """Decoder layers: ``num_hidden_layers`` (GPT-2 and BLOOM: ``n_layer``); an
    encoder-decoder's ``num_decoder_layers`` (T5: ``num_layers`` when absent)."""
    if _flag(c, "is_encoder_decoder"):
        return _first(c, "num_decoder_layers") or _count(c, "num_layers")
    name = next(
        (n for n in ("num_hidden_layers", "n_layer", "num_layers") if c.get(n) is not None), "num_hidden_layers"
    )
    return _count(c, name)


def _named(c: Mapping[str, Any], *names: str) -> int:
    """The first of ``names`` the config sets, as a count (the first name is reported when
    none is set)."""
    return _first(c, *names) or _count(c, names[0])


def architecture_keys(config: Mapping[str, Any]) -> dict[str, Any]:
    """``base_model`` architecture keys from a config.json, without the parameter counts:
    Llama/Qwen/Mistral/Mixtral/Gemma/gpt-oss names, GPT-2's and BLOOM's (``n_layer``,
    ``n_embd``/``n_embed``, ``n_head``, ``n_inner`` or 4h), Falcon's (``multi_query``,
    ``parallel_attn``, ``bias``; MLP 4h), T5's (``d_model``, ``d_ff``, ``num_heads``,
    ``d_kv``, ``num_layers``, ``num_decoder_layers``) and DeepSeek's (MLA, shared experts,
    dense first layers)."""
    c = _text_config(config)
    experts = _experts(c)
    moe = experts > 1
    hidden = _named(c, "hidden_size", "n_embd", "n_embed", "d_model")
    heads = _named(c, "num_attention_heads", "n_head", "num_heads")
    width = _first(c, "moe_intermediate_size") if moe else None
    width = width or _first(c, "intermediate_size", "n_inner", "ffn_hidden_size", "d_ff") or 4 * hidden
    keys: dict[str, Any] = {
        "layers": _layers(c),
        "hidden_size": hidden,
        "intermediate_size": width,
        "attention_heads": heads,
        "kv_heads": _kv_heads(c, heads),
        "vocab_size": _count(c, "vocab_size"),
        "tied_embeddings": _tied(c),
    }
    head_dim = _first(c, "head_dim", "d_kv")
    if head_dim is not None:
        keys["head_dim"] = head_dim
    dense_layers = _first(c, "first_k_dense_replace", least=0) if moe else None
    if dense_layers and dense_layers > keys["layers"]:
        raise ConfigValueError(
            "first_k_dense_replace", f"{dense_layers} is more than num_hidden_layers ({keys['layers']})"
        )
    if moe:
        keys["experts"] = experts
        keys["experts_per_token"] = _first(c, "num_experts_per_tok", "experts_per_token") or 1
    return keys | _block_keys(c, moe)


def _tied(config: Mapping[str, Any]) -> bool:
    """``tie_word_embeddings``; absent, the model types whose configuration class ties them
    (:data:`TIED_BY_DEFAULT`: Gemma, GPT-2, BLOOM, Falcon, T5, MPT) and no others."""
    tied = _flag(config, "tie_word_embeddings")
    if tied is not None:
        return tied
    return str(config.get("model_type", "")).startswith(TIED_BY_DEFAULT)


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
    """``base_model`` keys from a Hugging Face config.json (the shapes
    :func:`architecture_keys` reads), with the parameter counts and sliding windows. Every
    count must be a whole number of at least 1 (:class:`ConfigValueError` names the setting
    otherwise)."""
    keys = architecture_keys(config)
    total, active = parameters_from_config(config)
    keys["parameters_billion"] = round(total / BILLION, 3)
    if "experts" in keys:
        keys["active_parameters_billion"] = round(active / BILLION, 3)
    return keys | sliding_window_from_config(_text_config(config))


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
    ecc_reserved_share: float = Field(default=0.0, ge=0, lt=1)
    gpu_class: GpuClass
    gpus_per_node: int = Field(ge=1)
    intra_node_gbps: float = Field(gt=0)
    inter_node_gbps: float = Field(gt=0)
    interconnect: str = Field(min_length=1)
    host_link_gbps: float | None = Field(default=None, gt=0)


class GpuCatalogue(BaseModel):
    model_config = STRICT

    as_of: Date
    gpus: dict[str, GpuEntry]


SpecFigure = Annotated[FiniteAmount, Field(gt=0)]
"""A figure of a GPU a client file describes: above zero, from MIN_AMOUNT to MAX_AMOUNT."""


class InlineGpu(BaseModel):
    """A GPU a client file describes itself (``training.gpu: {label, memory_gb, ...}``),
    with the same rules as the catalogue's; no datasheet needed. Figures are finite and at
    most :data:`~ftcost_helpers.engine.quantities.MAX_AMOUNT` and at least
    :data:`~ftcost_helpers.engine.quantities.MIN_AMOUNT`, like every number of a client file."""

    model_config = STRICT

    label: str = Field(min_length=1, max_length=100)
    memory_gb: SpecFigure
    bf16_tflops: SpecFigure
    memory_bandwidth_gbps: SpecFigure | None = None
    fp8_tflops: SpecFigure | None = None
    gpu_class: GpuClass | None = None
    gpus_per_node: int | None = Field(default=None, ge=1, le=MAX_AMOUNT)
    intra_node_gbps: SpecFigure | None = None
    inter_node_gbps: SpecFigure | None = None
    host_link_gbps: SpecFigure | None = None

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
