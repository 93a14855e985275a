"""Reading parameter files and the price book: safe YAML, defaults, typed validation and
errors that name the file, the key and the problem (with the closest valid key)."""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_args

import yaml
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
from ftcost_helpers.engine.quantities import Range
from ftcost_helpers.engine.schema import Method, Params, configuration_problems, legacy_key_clashes

MAX_PROBLEMS_SHOWN = 40
"""A file with more problems than this lists the first ones and says how many more."""


class ParamsError(Exception):
    """A parameter file is wrong: one problem or several (see :meth:`several`).

    ``str()`` is the message for the user, one line ``file: key: problem`` per problem;
    ``key`` and ``problem`` are the first problem's, ``problems`` holds them all."""

    def __init__(self, file: str | Path, key: str, problem: str) -> None:
        self.file, self.key, self.problem = str(file), key, problem
        self.problems: list[tuple[str, str]] = [(key, problem)]
        super().__init__(self._line(key, problem))

    @classmethod
    def several(cls, file: str | Path, problems: list[tuple[str, str]]) -> ParamsError:
        """One error carrying every (key, problem) of a file, in the order found."""
        error = cls(file, *problems[0])
        error.problems = list(problems)
        error.args = ("\n".join(error.lines()),)
        return error

    def _line(self, key: str, problem: str) -> str:
        return f"{self.file}: {key}: {problem}" if key else f"{self.file}: {problem}"

    def lines(self) -> list[str]:
        """One line per problem, at most :data:`MAX_PROBLEMS_SHOWN`, then how many more."""
        shown = [self._line(key, problem) for key, problem in self.problems[:MAX_PROBLEMS_SHOWN]]
        hidden = len(self.problems) - len(shown)
        return shown + ([f"{self.file}: ... and {hidden} more problem{'s' if hidden > 1 else ''}"] if hidden else [])


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


MAX_FILE_BYTES = 1_000_000
"""A client file or price book is a few kilobytes; anything above 1 MB is refused unread."""

MAX_DEPTH = 32
"""Deepest nesting of mappings and lists (a client file nests three levels)."""

MAX_VALUES = 100_000
"""Most values a file may hold once its aliases are expanded (an alias bomb is refused
before it is built: a nine-level one of 418 bytes would expand to 10^9 values)."""

MAX_QUOTED = 60
"""Characters of a value a message quotes before cutting it short."""

MERGE_TAG = "tag:yaml.org,2002:merge"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


def quoted(value: Any, limit: int = MAX_QUOTED) -> str:
    """``repr(value)`` for a message: control characters escaped, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text):,} characters)"


_SAFE_LOADER: type = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
"""PyYAML's safe loader on libyaml's C parser when it is built in (about 10× faster to parse
than the pure-Python one); the Python one otherwise."""


class _StrictSafeLoader(_SAFE_LOADER):  # type: ignore[misc,valid-type]
    """PyYAML's safe loader that also refuses a key given twice in one mapping, a key that is
    not a plain scalar, and an unquoted date that is no date (naming the key and line)."""


def _mapping_without_duplicates(loader: _StrictSafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain name, not a list or mapping", key_node.start_mark
            )
        if key_node.tag == MERGE_TAG:
            continue
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {quoted(key)}", key_node.start_mark)
        seen.add(key)
        if value_node.tag == TIMESTAMP_TAG:
            _check_date(loader, key, value_node)
    loader.flatten_mapping(node)  # merge keys (<<: *anchor): the mapping's own keys win
    return loader.construct_mapping(node, deep=True)


class _NotADate(Exception):
    """An unquoted value shaped like a date that is none (``2026-02-30``)."""

    def __init__(self, key: Any, node: yaml.ScalarNode, reason: str) -> None:
        self.key, self.line = key, node.start_mark.line + 1
        super().__init__(f"{node.value} is not a date ({reason})")


def _check_date(loader: _StrictSafeLoader, key: Any, node: yaml.ScalarNode) -> None:
    try:
        loader.construct_yaml_timestamp(node)
    except ValueError as exc:
        raise _NotADate(key, node, str(exc)) from None


_StrictSafeLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


class _TooBig(Exception):
    """The YAML is over one of the limits; ``str()`` says which, ``line`` where."""

    def __init__(self, problem: str, line: int | None = None) -> None:
        self.line = line
        super().__init__(problem)


def _check_depth(text: str) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH` from the event stream (no tree built, no
    recursion), before the composer's recursion could overflow."""
    depth = 0
    for event in yaml.parse(text, Loader=_StrictSafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _TooBig(f"nested more than {MAX_DEPTH} levels deep", event.start_mark.line + 1)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _check_expanded_size(root: yaml.Node) -> None:
    """Refuse a document whose aliases expand to more than :data:`MAX_VALUES` values, counting
    each shared node once (memoised, so the count itself is linear in the file)."""
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()

    def size(node: yaml.Node) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in in_progress:
            raise _TooBig("an alias refers to the value that contains it", node.start_mark.line + 1)
        in_progress.add(id(node))
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        total = 1 + sum(size(child) for child in children)
        in_progress.discard(id(node))
        if total > MAX_VALUES:
            raise _TooBig(f"aliases expand to more than {MAX_VALUES:,} values", node.start_mark.line + 1)
        sizes[id(node)] = total
        return total

    size(root)


def _parse(text: str) -> Any:
    """The YAML document in ``text``, within the depth and size limits."""
    _check_depth(text)
    loader = _StrictSafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        _check_expanded_size(root)
        return loader.construct_document(root)
    finally:
        loader.dispose()


def _read_text(path: Path) -> str:
    """The file's text, refusing more than :data:`MAX_FILE_BYTES` (read no further)."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ParamsError(path, "", "file not found") from None
    except IsADirectoryError:
        raise ParamsError(path, "", "is a folder, not a file") from None
    except OSError as exc:
        raise ParamsError(path, "", f"cannot be read ({exc.strerror})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ParamsError(path, "", f"larger than {MAX_FILE_BYTES // 1_000_000} MB: not a parameter file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParamsError(path, "", f"not UTF-8 text (byte {exc.start})") from None


def read_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML mapping read with the safe loader, within the size, depth and alias limits
    above; errors say the file and the line, and quote at most :data:`MAX_QUOTED` characters."""
    path = Path(path)
    text = _read_text(path)
    try:
        data = _parse(text)
    except _NotADate as exc:
        raise ParamsError(path, f"{exc.key} (line {exc.line})", str(exc)) from None
    except _TooBig as exc:
        raise ParamsError(path, f"line {exc.line}" if exc.line else "", f"refused: {exc}") from None
    except ValueError as exc:  # PyYAML's own constructors
        raise ParamsError(path, "", f"malformed YAML value: {quoted(str(exc))}") from None
    except RecursionError:
        raise ParamsError(path, "", f"refused: nested more than {MAX_DEPTH} levels deep") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}" if mark is not None else "YAML"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ParamsError(path, line, f"malformed YAML: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParamsError(path, "", f"expected a mapping of keys, found {type(data).__name__}")
    return data


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
    if kind in {"greater_than_equal", "greater_than"} and "0" in message:
        message = f"must not be negative ({message}), got {quoted(error.get('input'))}"
    elif "input" in error and not isinstance(error["input"], Mapping) and "got " not in message:
        message = f"{message}, got {quoted(error['input'])}"
    return key, message


def _is_union_tag(part: Any) -> bool:
    """pydantic adds union member names (``float``, ``Range``) to error locations."""
    return isinstance(part, str) and (
        part in {"float", "Range", "int", "str", "bool", "date"}
        or part.startswith(("constrained-", "function-after", "json-or-python"))
    )


def _in_range_branch(error: Mapping[str, Any]) -> bool:
    return any(_is_union_tag(part) and "Range" in str(part) for part in error["loc"])


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
        scalar = [e for e in field_errors if not _in_range_branch(e)]
        ranged = sorted((e for e in field_errors if _in_range_branch(e)), key=lambda e: e["type"] != "extra_forbidden")
        meant_range = not scalar or isinstance(scalar[0].get("input"), Mapping)
        chosen.append((ranged or scalar)[0] if meant_range else scalar[0])
    return chosen


def validate_params(data: Mapping[str, Any], source: str | Path, book: PriceBook) -> Params:
    """Typed :class:`Params` from merged data, or a ParamsError listing every problem the
    schema finds (unknown keys first); once the schema is satisfied, the names the price book
    does not know. A ``base_model`` that names a catalogue model or a config.json gets the
    keys it omits."""
    data = with_inline_gpus(with_named_model(data, source), source, book)
    try:
        params = Params.model_validate(data)
    except ValidationError as exc:
        errors = _best_errors(exc.errors())
        errors.sort(key=lambda e: e["type"] != "extra_forbidden")
        raise ParamsError.several(source, [_describe(error, Params) for error in errors]) from None
    problems = name_problems(params, book) + training_configuration_problems(params, book)
    if problems:
        raise ParamsError.several(source, problems)
    return params


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
    then names it by that key (and needs its own rate: the price book has none)."""
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
        book.gpus[own.key] = spec
        data = {**data, section: {**part, "gpu": own.key}}
    return data


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
    api = params.alternative.api
    if api.model is None:
        return []
    from ftcost_helpers.engine.api_prices import UnknownApiModel, check_model

    try:
        check_model(api.model, api.provider)
    except UnknownApiModel as error:
        return [(f"alternative.api.{error.key}", str(error))]
    return []


def name_problems(params: Params, book: PriceBook) -> list[tuple[str, str]]:
    """(key, problem) of every GPU, tier and API model name the price book or genai-prices
    does not know, as a combination too (training, serving, then the alternative)."""
    return [
        *_hardware_problems(params, "training", book),
        *_hardware_problems(params, "serving", book),
        *api_model_problems(params),
    ]


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
    the price book itself describes keeps the price book's figures)."""
    own = data.get("gpus")
    specs = gpu_specs(load_gpus(), tuple(GpuSpec.model_fields)) | (dict(own) if isinstance(own, Mapping) else {})
    return {**data, "gpus": specs}


def _origin(path: Path, data: Mapping[str, Any], book: PriceBook) -> BookOrigin:
    source = book.sources.get("seed_market") or ", ".join(sorted(book.sources.values()))
    return BookOrigin(display_path(path), book.as_of, source)


class _OverlayDate(BaseModel):
    model_config = {"extra": "ignore"}
    as_of: dt.date
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
    return params


def load_params(path: str | Path, book: PriceBook | None = None) -> Params:
    """Validated Params from a client file merged over ``params/defaults.yaml``."""
    return params_from_mapping(read_yaml(path), path, book)
