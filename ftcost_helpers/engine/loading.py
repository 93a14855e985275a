"""Reading parameter files and the price book: defaults, typed validation and errors that
name the file, the key and the problem (with the closest valid key). Every file is read by
the bounded readers of :mod:`ftcost_helpers.engine.readers` (``ParamsError``, ``read_yaml``
and the limits are theirs, named here too for the callers that import them from here)."""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from ftcost_helpers.engine.catalogue import (
    CatalogueError,
    GpuCatalogue,
    InlineGpu,
    ModelCatalogue,
    fill_base_model,
    gpu_specs,
    read_gpus,
    read_models,
)
from ftcost_helpers.engine.pricebook import BookOrigin, GpuSpec, PriceBook, book_problems
from ftcost_helpers.engine.quantities import CalendarDate, Range
from ftcost_helpers.engine.readers import MAX_FILE_BYTES as MAX_FILE_BYTES
from ftcost_helpers.engine.readers import MAX_PROBLEMS_SHOWN as MAX_PROBLEMS_SHOWN
from ftcost_helpers.engine.readers import ParamsError, quoted, read_yaml
from ftcost_helpers.engine.schema import (
    Method,
    Params,
    configuration_problems,
    legacy_key_clashes,
    legacy_key_notices,
)


def project_root() -> Path:
    """The checkout holding ``params/`` (override with ``FTCOST_ROOT``)."""
    override = os.environ.get("FTCOST_ROOT")
    return Path(override) if override else Path(__file__).resolve().parents[2]


def display_path(path: Path) -> str:
    """A file as shown to people: relative to the project root when inside it, else its name
    (no absolute paths in outputs or reports)."""
    try:
        return path.resolve().relative_to(project_root().resolve()).as_posix()
    except ValueError:
        return path.name


def params_dir() -> Path:
    return project_root() / "params"


def client_files() -> list[Path]:
    """Every client parameter file in ``params/clients/``, sorted by name."""
    return sorted((params_dir() / "clients").glob("*.yaml"))


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` on top of ``base``; nested mappings merge, everything else replaces."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _model_at(model: type[BaseModel], path: tuple[Any, ...]) -> type[BaseModel] | None:
    """The schema class reached by following ``path`` from ``model`` (None if not a model)."""
    for part in path:
        field = model.model_fields.get(str(part)) if isinstance(part, str) else None
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def closest_key(model: type[BaseModel], path: tuple[Any, ...], key: str) -> str | None:
    """The valid key nearest to a misspelt ``key`` at ``path``, if one is close."""
    parent = _model_at(model, path)
    if parent is None:
        return None
    matches = difflib.get_close_matches(key, list(parent.model_fields), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _describe(error: Mapping[str, Any], schema: type[BaseModel]) -> tuple[str, str]:
    """(key path, problem) for one pydantic error, in the user's words."""
    location = tuple(part for part in error["loc"] if not _is_union_tag(part))
    key = ".".join(str(part) for part in location)
    kind = error["type"]
    if kind == "extra_forbidden":
        parent = Range if _in_range_branch(error) else schema
        suggestion = closest_key(parent, () if parent is Range else location[:-1], str(location[-1]))
        hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
        return key, f"unknown key{hint}"
    if kind == "missing":
        return key, "required key is missing"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "bool_type":
        message = "must be true or false (a number or a word such as 'yes' is no boolean)"
    elif kind in {"int_from_float", "int_type", "int_parsing"}:
        message = "must be a whole number"
    bound = error.get("ctx") or {}
    if kind == "greater_than" and bound.get("gt") == 0:  # 0 itself is refused: "negative" would mislead
        message = f"must be greater than 0, got {quoted(error.get('input'))}"
    elif kind in {"greater_than_equal", "greater_than"} and "0" in message:
        message = f"must not be negative ({message}), got {quoted(error.get('input'))}"
    elif "input" in error and not isinstance(error["input"], Mapping) and "got " not in message:
        message = f"{message}, got {quoted(error['input'])}"
    return key, message


def _is_union_tag(part: Any) -> bool:
    """pydantic adds union member names (``float``, ``Range``) to error locations."""
    return isinstance(part, str) and (
        part in {"float", "Range", "int", "str", "bool", "date"}
        or part.startswith(("constrained-", "function-after", "json-or-python", "literal[", "dict["))
    )


def _in_range_branch(error: Mapping[str, Any]) -> bool:
    return any(_is_union_tag(part) and "Range" in str(part) for part in error["loc"])


def _in_mapping_branch(error: Mapping[str, Any]) -> bool:
    """The error is the union member that takes a mapping: a range, or a per-key table
    (``spend_profile: {dataset: [1]}``)."""
    return any(_is_union_tag(part) and ("Range" in str(part) or str(part).startswith("dict[")) for part in error["loc"])


def _best_errors(errors: list[Any]) -> list[Any]:
    """One error per key. For a value that may be a number or a range, report the branch
    the user evidently meant: a mapping means a range, anything else a number."""
    by_field: dict[tuple[Any, ...], list[Any]] = {}
    for error in errors:
        loc = error["loc"]
        branch = next((i for i, part in enumerate(loc) if _is_union_tag(part)), len(loc))
        by_field.setdefault(tuple(loc[:branch]), []).append(error)
    chosen = []
    for field_errors in by_field.values():
        scalar = [e for e in field_errors if not _in_mapping_branch(e)]
        ranged = sorted(
            (e for e in field_errors if _in_mapping_branch(e)), key=lambda e: e["type"] != "extra_forbidden"
        )
        meant_range = not scalar or isinstance(scalar[0].get("input"), Mapping)
        chosen.append((ranged or scalar)[0] if meant_range else scalar[0])
    return chosen


def validate_params(data: Mapping[str, Any], source: str | Path, book: PriceBook) -> Params:
    """Typed :class:`Params` from merged data, or a ParamsError listing every problem the
    schema finds (unknown keys first); once the schema is satisfied, the names the price book
    does not know. A ``base_model`` that names a catalogue model or a config.json gets the
    keys it omits."""
    data, notices = with_current_api_model(data)
    data = with_inline_gpus(with_named_model(data, source), source, book)
    try:
        params = Params.model_validate(data)
    except ValidationError as exc:
        errors = _best_errors(exc.errors())
        errors.sort(key=lambda e: e["type"] != "extra_forbidden")
        raise ParamsError.several(source, [_describe(error, Params) for error in errors]) from None
    problems = name_problems(params, book) + training_configuration_problems(params, book)
    if not problems:
        from ftcost_helpers.engine.model.serving_plan import service_problems  # managed services, shapes

        problems = service_problems(params, book)
    if problems:
        raise ParamsError.several(source, problems)
    return params.with_notices(notices)


def with_current_api_model(data: Mapping[str, Any]) -> tuple[Mapping[str, Any], list[tuple[str, str]]]:
    """``data`` with an API model name from before genai-prices (``gpt_4o``: see
    :data:`~ftcost_helpers.engine.api_prices.RETIRED_MODEL_IDS`) read as its genai-prices
    model and provider (a provider the file gives wins), and a note saying so."""
    from ftcost_helpers.engine.api_prices import current_model_id

    alternative = data.get("alternative")
    api = alternative.get("api") if isinstance(alternative, Mapping) else None
    model = api.get("model") if isinstance(api, Mapping) else None
    current = current_model_id(model) if isinstance(model, str) else None
    if current is None:
        return data, []
    new_model, provider = current
    new_api = {**api, "model": new_model, "provider": api.get("provider") or provider}
    note = (
        f"{quoted(model)} is the price book's name from before genai-prices, "
        f"read as '{new_model}' ({provider}); write that instead"
    )
    return {**data, "alternative": {**alternative, "api": new_api}}, [("alternative.api.model", note)]


def with_named_model(data: Mapping[str, Any], source: str | Path) -> Mapping[str, Any]:
    """``data`` with ``base_model`` filled from the model catalogue or its config.json."""
    base = data.get("base_model")
    if not isinstance(base, Mapping):
        return data
    try:
        return {**data, "base_model": fill_base_model(base, source, load_models())}
    except CatalogueError as error:
        raise ParamsError(error.file, error.key, error.problem) from None


def with_inline_gpus(data: Mapping[str, Any], source: str | Path, book: PriceBook) -> Mapping[str, Any]:
    """A GPU the file describes (``training.gpu: {label, memory_gb, bf16_tflops, ...}``) is
    validated like the catalogue's and joins the book's specs as ``own_<label>``; the plan
    then names it by that key (and needs its own rate: the price book has none). One label
    names one GPU in a file: training, serving and every scenario may describe it again only
    with the same figures (else one spec would silently replace the other)."""
    for section in ("training", "serving"):
        part = data.get(section)
        gpu = part.get("gpu") if isinstance(part, Mapping) else None
        if not isinstance(gpu, Mapping):
            continue
        try:
            own = InlineGpu.model_validate(gpu)
            spec = GpuSpec.model_validate(
                {k: v for k, v in own.model_dump().items() if v is not None and k in GpuSpec.model_fields}
            )
        except ValidationError as exc:
            key, problem = _describe(exc.errors()[0], InlineGpu)
            raise ParamsError(source, f"{section}.gpu.{key}", problem) from None
        clash = _own_gpu_clash(own, spec, book)
        if clash:
            raise ParamsError(source, f"{section}.gpu.label", clash)
        book.add_own_gpu(own.key, spec)
        data = {**data, section: {**part, "gpu": own.key}}
    return data


def _own_gpu_clash(own: InlineGpu, spec: GpuSpec, book: PriceBook) -> str | None:
    """Why ``own`` cannot join the book under its key (None when it can): the key is a
    price-book GPU's, or this file described a GPU of that label with other figures."""
    known = book.gpus.get(own.key)
    if known is None or (known == spec and book.is_own_gpu(own.key)):
        return None
    if not book.is_own_gpu(own.key):
        return (
            f"{quoted(own.label)} gives the name '{own.key}', which the price book already uses; choose another label"
        )
    return (
        f"{quoted(own.label)} already names a GPU with other figures in this file "
        f"({known.memory_gb:g} GB, {known.bf16_tflops:g} TFLOPS); give each GPU its own label"
    )


@functools.cache
def _catalogue(kind: str, path: str, modified: float) -> ModelCatalogue | GpuCatalogue:
    """A catalogue file read once per version of the file (``modified``: its mtime)."""
    reader = read_models if kind == "models" else read_gpus
    try:
        return reader(read_yaml(path), path)
    except CatalogueError as error:
        raise ParamsError(error.file, error.key, error.problem) from None


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0  # read_yaml then says the file is missing


def load_models(path: str | Path | None = None) -> ModelCatalogue:
    """The model catalogue (default ``params/models.yaml``), validated."""
    file = Path(path) if path else params_dir() / "models.yaml"
    return _catalogue("models", str(file), _modified(file))  # type: ignore[return-value]


def load_gpus(path: str | Path | None = None) -> GpuCatalogue:
    """The GPU catalogue (default ``params/gpus.yaml``), validated."""
    file = Path(path) if path else params_dir() / "gpus.yaml"
    return _catalogue("gpus", str(file), _modified(file))  # type: ignore[return-value]


def training_configuration_problems(params: Params, book: PriceBook) -> list[tuple[str, str]]:
    """(key, problem) of a training set-up that cannot run (see :func:`configuration_problems`),
    the GPU's FP8 support included when the price book knows the GPU."""
    problems = configuration_problems(params)
    gpu = book.gpus.get(params.training.gpu)
    if params.training.precision == "fp8" and gpu is not None and gpu.fp8_tflops is None:
        problems.append(("training.precision", f"the {gpu.label} has no FP8 tensor cores (price book: no fp8_tflops)"))
    return problems


def _unknown(key: str, value: str, known: list[str], what: str) -> tuple[str, str]:
    close = difflib.get_close_matches(value, known, n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return key, f"unknown {what} {quoted(value)} ({hint}known: {', '.join(known)})"


def _hardware_problems(params: Params, section: str, book: PriceBook) -> list[tuple[str, str]]:
    """The GPU and tier of ``training`` or ``serving``: known names, a BAA tier when the plan
    carries PHI, and a price for that GPU on that tier (or a rate of the plan's own)."""
    part = getattr(params, section)
    problems = []
    if part.gpu not in book.gpus:
        problems.append(_unknown(f"{section}.gpu", part.gpu, list(book.gpus), "GPU"))
    if part.tier not in book.tiers:
        return [*problems, _unknown(f"{section}.tier", part.tier, book.tiers, "tier")]
    if params.compliance.hipaa and part.tier not in book.hipaa_eligible_tiers:
        baa_tiers = ", ".join(book.hipaa_eligible_tiers)
        problems.append(
            (
                f"{section}.tier",
                f"compliance.hipaa is true, so PHI may only go to tiers that sign a BAA ({baa_tiers}); "
                f"'{part.tier}' does not",
            )
        )
    offered = book.gpu_rates_usd_per_gpu_hour.get(part.gpu, {})
    if part.gpu in book.gpus and part.tier not in offered and part.rate_usd_per_gpu_hour is None:
        listed = f"offered: {', '.join(offered)}" if offered else "it lists no rate for this GPU"
        problems.append(
            (
                f"{section}.tier",
                f"the price book has no '{part.tier}' price for {part.gpu} ({listed}); "
                f"give {section}.rate_usd_per_gpu_hour (the rate you pay) or another tier",
            )
        )
    return problems


def api_model_problems(params: Params) -> list[tuple[str, str]]:
    """A named API model must be one genai-prices can price (checked only when it is named)."""
    from ftcost_helpers.engine.api_prices import UnknownApiModel, check_model

    named = [("alternative.api", params.alternative.api)]
    rl = params.training.rl
    if params.training.method == "rl" and rl is not None and rl.reward == "model_grader" and rl.grader is not None:
        named.append(("training.rl.grader", rl.grader))  # an RL plan's model grader (issue 24)
    problems: list[tuple[str, str]] = []
    for where, part in named:
        if part.model is None:
            continue
        try:
            check_model(part.model, part.provider)
        except UnknownApiModel as error:
            problems.append((f"{where}.{error.key}", str(error)))
    return problems


def name_problems(params: Params, book: PriceBook) -> list[tuple[str, str]]:
    """(key, problem) of every GPU, tier and API model name the price book or genai-prices
    does not know, as a combination too (training, serving, then the alternative)."""
    return [
        *_hardware_problems(params, "training", book),
        *_hardware_problems(params, "serving", book),
        *api_model_problems(params),
        *currency_problems(params, book),
        *_ownership_problems(params, book),
        *_commitment_problems(params, book),
    ]


def _commitment_problems(params: Params, book: PriceBook) -> list[tuple[str, str]]:
    """A committed-use term must be one the price book lists (issue 24)."""
    term = params.serving.commitment
    if term is None or term in book.committed_use:
        return []
    return [_unknown("serving.commitment", term, list(book.committed_use), "committed-use term")]


def _ownership_problems(params: Params, book: PriceBook) -> list[tuple[str, str]]:
    from ftcost_helpers.engine.model.ownership import ownership_problems

    return ownership_problems(params, book)


def currency_problems(params: Params, book: PriceBook) -> list[tuple[str, str]]:
    """A currency other than the price book's needs an exchange rate in it (or the overlay)."""
    from ftcost_helpers.engine.fx import NoFxRate, rate_at

    try:
        rate_at(book, params.currency, params.start_date)
    except NoFxRate as error:
        return [("currency", str(error))]
    return []


PRICE_BOOK_ENV, RATES_ENV = "FTCOST_PRICE_BOOK", "FTCOST_RATES"
"""Environment variables naming the price book and rates overlay: how a batch hands the
same book to its workers and the notebooks' kernels."""

OVERLAY_DATE_KEYS = ("as_of", "source")
"""A rates overlay's own keys: its date and where its figures come from."""


def price_book_files(path: str | Path | None = None, rates: str | Path | None = None) -> tuple[Path, Path | None]:
    """(price book, rates overlay or None): the arguments, else the environment, else the default."""
    book = path or os.environ.get(PRICE_BOOK_ENV) or params_dir() / "pricebook.yaml"
    overlay = rates or os.environ.get(RATES_ENV) or None
    return Path(book), Path(overlay) if overlay else None


def price_book_environment(path: str | Path | None, rates: str | Path | None) -> dict[str, str]:
    """The environment variables that make :func:`load_price_book` read these files."""
    book, overlay = price_book_files(path, rates)
    env = {PRICE_BOOK_ENV: str(book.resolve())}
    if overlay is not None:
        env[RATES_ENV] = str(overlay.resolve())
    return env


def load_price_book(
    path: str | Path | None = None, rates: str | Path | None = None, today: dt.date | None = None
) -> PriceBook:
    """The price book (default ``params/pricebook.yaml``) with any rates overlay merged over
    it, validated and checked (:func:`check_price_book`). Every problem names the file it
    is in: the overlay's when the overlay set the key."""
    book_path, rates_path = price_book_files(path, rates)
    data = with_catalogue_gpus(read_yaml(book_path))
    book = _validated_book(data, book_path)
    check_price_book(book, book_path, today)
    origins = (_origin(book_path, data, book),)
    if rates_path is None:
        book.with_origins(origins, {})
        return book
    overlay = read_yaml(rates_path)
    dated = _overlay_date(overlay, rates_path)
    merged_data = deep_merge(data, {k: v for k, v in overlay.items() if k not in OVERLAY_DATE_KEYS})
    merged = _validated_book(merged_data, book_path, overlay, rates_path)
    check_price_book(merged, book_path, today, overlay, rates_path)
    rate_origins = {
        (gpu, tier): dated
        for gpu, by_tier in (overlay.get("gpu_rates_usd_per_gpu_hour") or {}).items()
        for tier in (by_tier or {})
    }
    merged.with_origins((*origins, dated), rate_origins)
    return merged


def with_catalogue_gpus(data: Mapping[str, Any]) -> dict[str, Any]:
    """The price book's data with every GPU of ``params/gpus.yaml`` among its specs (a GPU
    the price book itself describes keeps the price book's figures, key by key, and the
    catalogue's for the keys it leaves out, such as the links). A ``gpus`` that is no
    mapping is left as it is, for the validation to refuse, not dropped."""
    own = data.get("gpus")
    if own is not None and not isinstance(own, Mapping):
        return dict(data)
    specs = gpu_specs(load_gpus(), tuple(GpuSpec.model_fields))
    for key, spec in dict(own or {}).items():  # the price book's keys win, one by one
        specs[key] = {**specs.get(key, {}), **spec} if isinstance(spec, Mapping) else spec
    return {**data, "gpus": specs}


def _origin(path: Path, data: Mapping[str, Any], book: PriceBook) -> BookOrigin:
    source = book.sources.get("seed_market") or ", ".join(sorted(book.sources.values()))
    return BookOrigin(display_path(path), book.as_of, source)


class _OverlayDate(BaseModel):
    model_config = {"extra": "ignore"}
    as_of: CalendarDate
    source: str


def _overlay_date(overlay: Mapping[str, Any], path: Path) -> BookOrigin:
    """The overlay's own date and source (both required: an undated rate cannot be aged)."""
    unknown = [key for key in overlay if key not in OVERLAY_DATE_KEYS and key not in PriceBook.model_fields]
    if unknown:
        close = difflib.get_close_matches(unknown[0], list(PriceBook.model_fields), n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ParamsError(path, unknown[0], f"not a price-book key{hint}")
    try:
        dated = _OverlayDate.model_validate(overlay)
    except ValidationError as exc:
        key, problem = _describe(exc.errors()[0], _OverlayDate)
        raise ParamsError(path, key, problem) from None
    return BookOrigin(display_path(path), dated.as_of, dated.source)


def _set_in(overlay: Mapping[str, Any] | None, key: str) -> bool:
    """Whether the dotted ``key`` (or its parent) is one the overlay sets."""
    node: Any = overlay
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def _blame(key: str, book_path: Path, overlay: Mapping[str, Any] | None, rates_path: Path | None) -> Path:
    parts = key.split(".")
    in_overlay = any(_set_in(overlay, ".".join(parts[: i + 1])) for i in range(len(parts)))
    return rates_path if in_overlay and rates_path is not None else book_path


def _validated_book(
    data: Mapping[str, Any],
    book_path: Path,
    overlay: Mapping[str, Any] | None = None,
    rates_path: Path | None = None,
) -> PriceBook:
    try:
        return PriceBook.model_validate(data)
    except ValidationError as exc:
        key, problem = _describe(_best_errors(exc.errors())[0], PriceBook)
        raise ParamsError(_blame(key, book_path, overlay, rates_path), key, problem) from None


def check_price_book(
    book: PriceBook,
    book_path: Path,
    today: dt.date | None = None,
    overlay: Mapping[str, Any] | None = None,
    rates_path: Path | None = None,
) -> None:
    """The first problem :func:`~ftcost_helpers.engine.pricebook.book_problems` finds, as a
    ParamsError naming the file (the overlay's for a key it set) and the key."""
    problems = book_problems(book, today or dt.date.today(), get_args(Method))
    if overlay is not None and rates_path is not None:
        dated = _overlay_date(overlay, rates_path)
        if dated.as_of > (today or dt.date.today()):
            raise ParamsError(rates_path, "as_of", f"{dated.as_of.isoformat()} is in the future")
        problems = [(key, problem) for key, problem in problems if key != "as_of"]
    if problems:
        key, problem = problems[0]
        raise ParamsError(_blame(key, book_path, overlay, rates_path), key, problem)


def load_defaults() -> dict[str, Any]:
    return read_yaml(params_dir() / "defaults.yaml")


def params_from_mapping(
    data: Mapping[str, Any], source: str | Path = "<parameters>", book: PriceBook | None = None
) -> Params:
    """Validated Params from a client mapping merged over ``params/defaults.yaml``; an old
    key given beside its replacement is refused too (:func:`legacy_key_clashes`, which looks
    at the mapping before the merge), with any other problem the file has."""
    clashes = legacy_key_clashes(data.get("training"))
    book = book or load_price_book()
    try:
        params = validate_params(deep_merge(load_defaults(), data), source, book)
    except ParamsError as error:
        if clashes and error.file == str(source):  # the same file's problems: one list
            raise ParamsError.several(source, [*clashes, *error.problems]) from None
        raise
    if clashes:
        raise ParamsError.several(source, clashes)
    return params.with_notices(legacy_key_notices(data.get("training")))


def notice_lines(params: Params, source: str | Path) -> list[str]:
    """One ``file: key: note`` line per notice of a loaded plan (see ``Params.notices``)."""
    return [f"{source}: {key}: {note}" for key, note in params.notices]


def load_params(path: str | Path, book: PriceBook | None = None) -> Params:
    """Validated Params from a client file merged over ``params/defaults.yaml``. The GPUs an
    earlier file described are dropped from ``book`` first: a file names only the GPUs of
    the price book and its own (``validate A B`` must not let B use a GPU only A defines)."""
    book = book or load_price_book()
    book.forget_own_gpus()
    return params_from_mapping(read_yaml(path), path, book)
