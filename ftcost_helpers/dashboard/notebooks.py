"""The dashboard's notebooks: the six stored notebooks, their *dashboard copies* (the panel
first, the teaching text after) and :func:`open_page`, the first cell of every page, which runs
in the page's kernel."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ftcost_helpers.dashboard.pages import NotebookEntry, broken_file_html, client_problems, refusal_html
from ftcost_helpers.engine.loading import ParamsError, project_root

NOTEBOOKS = ("01_compute", "02_dataset", "03_eval", "04_maintenance", "05_roi", "06_tracking")
PAGE_MAGIC = "ftcost_page"
"""The cell magic the dashboard copies put on every code cell after :func:`open_page`."""


class DashboardError(RuntimeError):
    """The dashboard cannot start; ``str()`` is one line for the user."""


# ---------------------------------------------------------------- the notebooks


def notebooks_dir() -> Path:
    """The folder of the stored notebooks: the project's ``notebooks/``."""
    return project_root() / "notebooks"


def check_notebooks(folder: Path | None = None) -> list[Path]:
    """The six notebooks, or a :class:`DashboardError` naming the missing ones."""
    folder = folder or notebooks_dir()
    paths = [folder / f"{name}.ipynb" for name in NOTEBOOKS]
    missing = [path.name for path in paths if not path.is_file()]
    if missing:
        raise DashboardError(f"{folder}: missing notebook(s) {', '.join(missing)}")
    return paths


def notebook_entries(folder: Path | None = None) -> list[NotebookEntry]:
    """Each notebook's title (its first heading) and question (its "**The question.**" line)."""
    import nbformat

    entries = []
    for path in check_notebooks(folder):
        cells = nbformat.read(path, as_version=4).cells
        text = next((c.source for c in cells if c.cell_type == "markdown"), "")
        lines = [line.strip() for line in text.splitlines()]
        title = next((line.lstrip("# ") for line in lines if line.startswith("# ")), path.stem)
        question = next((line.split("**", 2)[-1].strip() for line in lines if line.startswith("**The question")), "")
        entries.append(NotebookEntry(path.stem, title, question))
    return entries


READING_NOTE = (
    "---\n\n*The panel above is live: its figures and charts follow every move. Below, the notebook's explanation "
    "of the figures. The notebook with every static table and chart opens in JupyterLab as "
    "`notebooks/{name}.ipynb`, and for every client as a report (`make reports`).*"
)


def dashboard_notebook(nb: Any, name: str = "") -> Any:
    """The dashboard copy of a notebook: :func:`open_page` first, then the parameters, the
    set-up cell and the panel, then the teaching text (the Markdown cells, in their order).

    The static cells stay out: Voilà makes a page's widgets live only once every cell has
    run, and the heavy ones (10,000 Monte Carlo draws, the tornado's 2·n estimates) would
    hold the panel back by seconds. Every code cell after the first runs under the page
    magic, which skips it when the page was refused (an unknown client)."""
    import nbformat

    cells = list(nb.cells)
    parameters = [c for c in cells if "parameters" in c.metadata.get("tags", [])]
    setup = [c for c in cells if c.cell_type == "code" and "setup_notebook(" in c.source][:1]
    panel = [c for c in cells if "panel" in c.metadata.get("tags", [])]
    first = parameters + setup + panel
    teaching = [c for c in cells if c.cell_type == "markdown"]
    copy = nbformat.v4.new_notebook(metadata=nb.metadata)
    ahead = tuple(c.source for c in first if c.cell_type == "code")
    opening = nbformat.v4.new_code_cell(f"from ftcost_helpers.dashboard import open_page\n\nopen_page(ahead={ahead!r})")
    note = nbformat.v4.new_markdown_cell(READING_NOTE.format(name=name or "NN_name"))
    copy.cells = [opening] + [_under_page_magic(c) for c in first] + [note] + teaching
    return copy


def _under_page_magic(cell: Any) -> Any:
    if cell.cell_type != "code":
        return cell
    copied = cell.copy()
    copied.source = f"%%{PAGE_MAGIC}\n{cell.source}"
    copied.outputs = []
    return copied


def write_dashboard_notebooks(source: Path, target: Path) -> list[Path]:
    """The dashboard copy of each notebook of ``source``, written to ``target``."""
    import nbformat

    written = []
    for path in check_notebooks(source):
        copy = dashboard_notebook(nbformat.read(path, as_version=4), path.stem)
        nbformat.write(copy, target / path.name)
        written.append(target / path.name)
    return written


# ---------------------------------------------------------------- the page's kernel


class _Page:
    """What :func:`open_page` decided for this kernel's page."""

    refused: str | None = None


def open_page(ahead: tuple[str, ...] = ()) -> None:
    """The first cell of every dashboard page. In a pooled kernel: import the model and run
    the page's cells ``ahead`` (the parameters, set-up and panel cells) on the notebook's own
    client while the kernel waits for its page, keeping what they build
    (:mod:`~ftcost_helpers.views.ahead`), then wait for the request and read its
    ``?client=``. An unknown client shows the list of clients, a client file that does not
    validate its problems (one line each: file, key, problem), and the page's other cells are
    skipped (no traceback, on the page or in the leader's terminal)."""
    _warm_up()
    _build_ahead(ahead)
    from voila.utils import wait_for_request

    wait_for_request()
    _register_page_magic()
    from IPython.display import HTML, display

    from ftcost_helpers.views.notebook import DASHBOARD_QUERY, client_from_query

    try:
        path = client_from_query(os.environ.get(DASHBOARD_QUERY))
    except ParamsError as error:
        _Page.refused = error.problem
        display(HTML(refusal_html(error.problem)))
        return
    problems = client_problems(path) if path else ()
    if problems:
        _Page.refused = problems[0]
        display(HTML(broken_file_html(problems)))


def _warm_up() -> None:
    """Import what every notebook imports and load the price book (about 2 s a kernel)."""
    import matplotlib.pyplot  # noqa: F401

    from ftcost_helpers.engine import scenarios, sensitivity, uncertainty  # noqa: F401
    from ftcost_helpers.engine.loading import load_price_book
    from ftcost_helpers.views import charts, charts_extra, picker, readings, tables, widgets  # noqa: F401

    load_price_book()


def _build_ahead(sources: tuple[str, ...]) -> None:
    """Run the page's cells in a scratch namespace (the page's own stays untouched) with their
    displays dropped, so that the set-up and the panel keep what they build for the page. A
    cell that fails here is left for the page to run and report as it would anyway."""
    from IPython import get_ipython
    from IPython.utils.capture import capture_output

    from ftcost_helpers.views import ahead

    shell = get_ipython()
    if shell is None or not sources:
        return
    scratch: dict[str, Any] = {"__name__": "__main__"}
    with ahead.building_ahead(), capture_output():
        try:
            for source in sources:
                exec(compile(shell.transform_cell(source), "<ahead>", "exec"), scratch)  # the page's own cells
        except Exception:  # the page runs the cell again and shows its error
            ahead.discard_panels()


def _register_page_magic() -> None:
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:  # pragma: no cover - only ever run inside a kernel
        return

    def page_cell(line: str, cell: str) -> None:
        if _Page.refused is None:
            shell.run_cell(cell, store_history=False)

    shell.register_magic_function(page_cell, "cell", PAGE_MAGIC)
