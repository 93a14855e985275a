"""Set-up helpers for the notebooks in ``notebooks/``.

A notebook's ``parameters`` cell holds ``params_file``, ``interactive`` and one variable per
top-level key of the client schema (``None`` unless papermill injected it). One call turns
them into a :class:`NotebookContext`: validated parameters, the price book and the estimate.
Everything here stays free of pandas and matplotlib imports until a function needs them.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from ftcost_helpers import __version__
from ftcost_helpers.engine.breakdown import Breakdown, estimate
from ftcost_helpers.engine.loading import (
    ParamsError,
    client_files,
    display_path,
    load_params,
    load_price_book,
    params_from_mapping,
    project_root,
)
from ftcost_helpers.engine.money import use_currency
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.schema import TOP_LEVEL_KEYS, Params
from ftcost_helpers.engine.summary import params_hash
from ftcost_helpers.views import ahead

INJECTED_SOURCE = "<injected parameters>"
"""The source named in messages when the parameters came from papermill's injection."""

FIGURE_DPI = 96
"""Resolution of inline charts: sharp enough on screen, small enough to commit."""


@dataclass(frozen=True)
class NotebookContext:
    """What every notebook works from after its set-up cell."""

    params: Params
    book: PriceBook
    breakdown: Breakdown
    source: str
    interactive: bool
    path: Path | None = None
    """The client file the parameters came from (None when papermill injected them)."""


def injected_sections(namespace: Mapping[str, Any]) -> dict[str, Any]:
    """The client-schema keys of ``namespace`` that hold a value (papermill injected them)."""
    return {key: namespace[key] for key in TOP_LEVEL_KEYS if namespace.get(key) is not None}


def resolve_params_file(params_file: str | Path) -> Path:
    """An absolute path: a relative ``params_file`` is read from the project root, never the cwd."""
    path = Path(params_file)
    return path if path.is_absolute() else project_root() / path


DASHBOARD_QUERY = "QUERY_STRING"
"""Voilà passes the page's query string to the kernel in this environment variable."""
DASHBOARD_KERNEL = "FTCOST_DASHBOARD"
"""Set in the environment of every kernel the workshop dashboard starts."""

CLIENT_NAME = re.compile(r"[A-Za-z0-9_-]+")
WORKSHOP_CLIENTS = "workshop/clients"
"""Participants' own client files, opened in the dashboard by name (never batch-reported)."""


def dashboard_clients() -> dict[str, Path]:
    """Every client a dashboard address may name: the examples in ``params/clients/``, then
    the participants' files in ``workshop/clients/`` (never taking an example's name)."""
    clients = {path.stem: path for path in client_files()}
    for path in sorted((project_root() / WORKSHOP_CLIENTS).glob("*.yaml")):
        clients.setdefault(path.stem, path)
    return clients


def kept_in(path: Path | None) -> Path | None:
    """The file "Keep as scenario" may write into for a plan read from ``path``: the file
    itself, except on the workshop dashboard (a page with a query string) where only the
    participants' own files in ``workshop/clients/`` are written (the examples are shared by
    the whole room; their panel shows the block to paste instead)."""
    if path is None or not (DASHBOARD_KERNEL in os.environ or DASHBOARD_QUERY in os.environ):
        return path
    own = (project_root() / WORKSHOP_CLIENTS).resolve()
    return path if path.resolve().parent == own else None


def client_from_query(query_string: str | None) -> Path | None:
    """The client file a dashboard address names (``...ipynb?client=example_b``), if any.

    Only the name of a file in ``params/clients/`` or ``workshop/clients/`` is accepted:
    never a path."""
    names = parse_qs(query_string or "").get("client")
    if not names:
        return None
    known = dashboard_clients()
    name = names[-1]
    if not CLIENT_NAME.fullmatch(name) or name not in known:
        raise ParamsError("dashboard address", "client", f"no client file '{name}' (known: {', '.join(sorted(known))})")
    return known[name]


def load_notebook_params(
    params_file: str | Path, namespace: Mapping[str, Any] | None = None, book: PriceBook | None = None
) -> tuple[Params, str]:
    """(Params, source): from the injected sections when there are any, else from the client
    a dashboard address names (``?client=...``), else from ``params_file``."""
    params, source, _path = _notebook_params(params_file, namespace, book)
    return params, source


def _notebook_params(
    params_file: str | Path, namespace: Mapping[str, Any] | None, book: PriceBook | None
) -> tuple[Params, str, Path | None]:
    """(Params, source, client file or None) as :func:`load_notebook_params` chooses them."""
    book = book or load_price_book()
    sections = injected_sections(namespace or {})
    if sections:
        return params_from_mapping(sections, INJECTED_SOURCE, book), INJECTED_SOURCE, None
    path = client_from_query(os.environ.get(DASHBOARD_QUERY)) or resolve_params_file(params_file)
    return load_params(path, book), display_path(path), path


def setup_notebook(
    params_file: str | Path,
    namespace: Mapping[str, Any] | None = None,
    interactive: bool = True,
    today: dt.date | None = None,
) -> NotebookContext:
    """Load and validate a notebook's parameters, run the estimate, and set up inline charts.

    ``namespace`` is the notebook's ``globals()``: its client-schema keys that are not None
    (injected by ``papermill -f client.yaml``) replace ``params_file``. ``today`` (if given)
    also checks the price book's age; notebooks leave it out so that outputs stay the same
    from one day to the next.
    """
    book = load_price_book()
    params, source, path = _notebook_params(params_file, namespace, book)
    _configure_inline_charts()
    use_currency(params.currency)  # every table and chart of this notebook in the plan's currency

    def same_plan(kept: NotebookContext) -> bool:
        asked = (params, book, source, path, bool(interactive))
        return today is None and (kept.params, kept.book, kept.source, kept.path, kept.interactive) == asked

    context = ahead.take_context(same_plan) or NotebookContext(
        params, book, estimate(params, book, today, source), source, bool(interactive), path
    )
    if ahead.is_building():
        ahead.keep_context(context)
    return context


def _configure_inline_charts() -> None:
    """Inline PNG charts at a fixed size and resolution (only inside an IPython kernel)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the notebook stack
        return
    shell = get_ipython()
    if shell is None:
        return
    shell.run_line_magic("matplotlib", "inline")
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    set_matplotlib_formats("png")
    import matplotlib

    matplotlib.rcParams.update({"figure.dpi": FIGURE_DPI, "savefig.dpi": FIGURE_DPI})


def with_changes(params: Params, changes: Mapping[str, Any], book: PriceBook | None = None) -> Params:
    """A validated copy of ``params`` with values set at dotted paths (``training.runs``).

    The copy is checked against the schema and the price book exactly as a client file
    is, so an impossible combination (a tier the GPU is not offered on) is a ParamsError.
    """
    data = params.model_dump(mode="python")
    for path, value in changes.items():
        _set_path(data, path, value)
    return params_from_mapping(data, "<changed parameters>", book)


def _set_path(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node = data
    for part in parents:
        if not isinstance(node.get(part), dict):
            raise ParamsError("<changed parameters>", path, "is not a section of the client schema")
        node = node[part]
    node[leaf] = value


def findings_for(breakdown: Breakdown, areas: Iterable[str] | None = None) -> list[Any]:
    """The audit's warnings that concern any of ``areas`` (compute, dataset, eval, ...; all when None)."""
    if areas is None:
        return list(breakdown.warnings)
    wanted = set(areas)
    return [finding for finding in breakdown.warnings if finding.area in wanted]


MARKDOWN_ACTIVE = re.compile(r"([\\`*_\[\]<>&$~|])")
"""Characters Markdown, HTML or the LaTeX spans of a page would read in client text."""

BARE_LINK = re.compile(r"(?<=[A-Za-z]):(?=//)|(?<=\bwww)\.", re.IGNORECASE)
"""What makes a bare ``http://...`` or ``www....`` a link (the renderer's autolinks)."""


def markdown_text(text: str) -> str:
    """Client text (a name, an audit message quoting one) for a Markdown string: each character
    Markdown, inline HTML or a ``$...$`` span would act on is backslash-escaped, so it shows as
    written, e.g. ``markdown_text("[pay](javascript:x)")`` → ``\\[pay\\](javascript:x)``."""
    escaped = MARKDOWN_ACTIVE.sub(r"\\\1", text)
    return BARE_LINK.sub(lambda match: "\\" + match.group(0), escaped)


def warnings_markdown(breakdown: Breakdown, areas: Iterable[str] | None = None) -> str:
    """The audit's warnings for ``areas`` (all when None) as a Markdown list, or a line saying
    there are none."""
    findings = findings_for(breakdown, areas)
    about = "this plan" if areas is None else _and_list(list(areas)) + " in this plan"
    if not findings:
        return f"The audit raises no warning about {about}."
    header = f"The audit raises {len(findings)} warning{'s' if len(findings) > 1 else ''} about {about}:"
    return "\n".join([header, "", *(f"- **{f.code}** — {markdown_text(f.message)}" for f in findings)])


def _and_list(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def provenance_markdown(ctx: NotebookContext) -> str:
    """The footer: package version, price book as-of date and the parameters' hash."""
    return (
        f"*Provenance* — ftcost_helpers {__version__}; prices from {ctx.book.provenance()}; "
        f"parameters from `{ctx.source}`, "
        f"hash `{params_hash(ctx.params)[:16]}`."
    )


def markdown(text: str) -> Any:
    """``text`` as rendered Markdown in a notebook (an IPython display object)."""
    from IPython.display import Markdown

    return Markdown(text)


def show(*objects: Any) -> None:
    """Display tables, figures or Markdown (figures as PNG, never as ``<Figure ...>`` text)."""
    from IPython.display import display

    display(*objects)


def show_panel(panel_factory: Any, ctx: NotebookContext, intro: str = "") -> Any:
    """Build and display a widget panel (after an ``intro`` in Markdown), only when the
    notebook runs interactively. (The notebooks show theirs with
    :func:`ftcost_helpers.views.picker.show_panel`, which adds the client picker and the charts
    that follow the panel.)

    In a headless run (``interactive`` false) nothing is built and nothing is displayed, so
    no widget placeholder and no orphan heading reach an exported page. Returns the panel,
    or None.
    """
    if not ctx.interactive:
        return None
    panel = panel_factory(ctx.params, ctx.book)
    panel.client_file = kept_in(ctx.path)
    if intro:
        show(markdown(intro))
    show(panel.widget)
    return panel
