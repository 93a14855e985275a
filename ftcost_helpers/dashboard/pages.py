"""The dashboard's own pages (landing page, guide, a client that cannot be opened) and the
check of the client files they list. Every piece of client text is escaped."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ftcost_helpers.engine.loading import ParamsError, display_path, load_params, project_root
from ftcost_helpers.views.notebook import WORKSHOP_CLIENTS, dashboard_clients

GUIDE = "docs/workshop.md"
GUIDE_ADDRESS = "http://127.0.0.1:8866/"
"""The address the guide's text gives for the dashboard; the served guide shows the address
the reader's browser actually reached instead (another ``--port`` or ``--host``)."""
GUIDE_LAN_ADDRESS = "http://<name>:8866/"
EXERCISE_BLOCK = re.compile(r"^```yaml exercise\n.*?^```\n?", re.MULTILINE | re.DOTALL)
"""The machine-readable block of each answer (read by tests/test_workshop_guide.py), left
out of the page the room reads."""


@dataclass(frozen=True)
class NotebookEntry:
    """A notebook as the landing page lists it."""

    name: str
    title: str
    question: str


# ---------------------------------------------------------------- client files


_CHECKED: dict[tuple[Path, int], tuple[str, ...]] = {}
"""Problems found per (file, modification time): a file is read again only once it changes."""


def client_problems(path: Path) -> tuple[str, ...]:
    """One line per problem of client file ``path`` (``file: key: problem``), none when it is
    valid. The file is named as people see it (relative to the project)."""
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return (f"{display_path(path)}: cannot be read",)
    if (path, stamp) not in _CHECKED:
        _CHECKED[(path, stamp)] = _problems_now(path)
    return _CHECKED[(path, stamp)]


def _problems_now(path: Path) -> tuple[str, ...]:
    try:
        load_params(path)
    except ParamsError as error:
        error.file = display_path(path)
        return tuple(error.lines())
    return ()


def broken_clients(clients: dict[str, Path]) -> dict[str, str]:
    """{client name: its first problem} for each client file that does not validate."""
    broken = {}
    for name, path in clients.items():
        problems = client_problems(path)
        if problems:
            broken[name] = problems[0]
    return broken


def where(path: Path) -> str:
    """The folder of a client file as the pages show it: ``params/clients/`` or ``workshop/clients/``."""
    try:
        return path.resolve().relative_to(project_root().resolve()).parent.as_posix() + "/"
    except ValueError:
        return path.parent.name + "/"


# ---------------------------------------------------------------- pages


PAGE_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 960px; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.45; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; vertical-align: top; padding: .5rem; border-bottom: 1px solid #ddd; }
a.notebook { font-weight: 600; }
label { font-weight: 600; margin-right: .5rem; }
select { font-size: 1rem; padding: .2rem; }
code, pre { background: #f4f4f4; }
pre { padding: .6rem; overflow-x: auto; }
.broken { color: #8a1c1c; }
details { margin: .5rem 0 1rem; }
summary { cursor: pointer; font-weight: 600; }
@media (max-width: 600px) { td, th { display: block; } }
"""


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'><link rel='icon' href='data:,'>"
        f"<title>{html.escape(title)}</title><style>{PAGE_STYLE}</style></head>\n<body>{body}</body></html>\n"
    )


def refusal_html(problem: str) -> str:
    """The page for an address naming no client file: the problem and the clients there are."""
    items = "".join(
        f"<li><a href='?client={html.escape(name)}'>{html.escape(name)}</a> "
        f"<small>({html.escape(where(path))})</small></li>"
        for name, path in dashboard_clients().items()
    )
    return (
        f"<div class='ftcost-refusal'><h3>No such client</h3><p>{html.escape(problem)}.</p>"
        f"<p>Open one of these, or put your own file in <code>{WORKSHOP_CLIENTS}/</code>"
        f" and open it by its name:</p><ul>{items}</ul><p><a href='/'>Back to the notebooks</a></p></div>"
    )


def broken_file_html(problems: Sequence[str]) -> str:
    """The panel's place when the client file does not validate: each problem on its line."""
    lines = "".join(f"<li><code>{html.escape(line)}</code></li>" for line in problems)
    return (
        "<div class='ftcost-broken-file'><h3>This client file cannot be opened</h3>"
        f"<ul>{lines}</ul><p>Correct the file (each line names its file, the key and the problem), "
        "save it and reload this page; <code>python -m ftcost_helpers validate FILE</code> checks it "
        "from a terminal.</p><p><a href='/'>Back to the notebooks</a></p></div>"
    )


def broken_file_page(problems: Sequence[str]) -> str:
    """A whole page holding :func:`broken_file_html` (served without starting a kernel)."""
    return _page("ftcost workshop: a client file cannot be opened", broken_file_html(problems))


def landing_html(
    entries: Sequence[NotebookEntry], clients: dict[str, Path], chosen: str = "", broken: dict[str, str] | None = None
) -> str:
    """The landing page: the notebooks, the client picker (a file that does not validate is
    marked broken, its problem listed under the picker) and the guide."""
    broken = broken or {}
    chosen = chosen if chosen in clients else next(iter(clients), "")
    options = []
    for folder in sorted({where(path) for path in clients.values()}, key=lambda f: f != "params/clients/"):
        names = [name for name, path in clients.items() if where(path) == folder]
        items = "".join(
            f"<option value='{html.escape(n)}'{' selected' if n == chosen else ''}"
            f"{' data-broken=yes' if n in broken else ''}>"
            f"{html.escape(n)}{' (broken)' if n in broken else ''}</option>"
            for n in names
        )
        options.append(f"<optgroup label='{html.escape(folder)}'>{items}</optgroup>")
    problems = "".join(
        f"<li class='broken' data-client='{html.escape(name)}'><strong>{html.escape(name)}</strong> is broken: "
        f"<code>{html.escape(line)}</code></li>"
        for name, line in broken.items()
    )
    problem_list = f"<ul id='broken-clients'>{problems}</ul>" if problems else ""
    rows = "".join(
        f"<tr><td><a class='notebook' data-notebook='{html.escape(e.name)}' "
        f"href='voila/render/{html.escape(e.name)}.ipynb?client={html.escape(chosen)}'>{html.escape(e.title)}</a>"
        f"</td><td>{html.escape(e.question)}</td></tr>"
        for e in entries
    )
    body = f"""
<h1>What does fine-tuning an LLM really cost?</h1>
<p>Five notebooks, one cost area each. Pick a client, open a notebook: its panel comes first,
the explanation follows. The exercises are in the <a id="guide" href="guide">workshop guide</a>.</p>
<p><label for="client">Client</label><select id="client">{"".join(options)}</select>
<small>Your own file: copy an example to <code>{WORKSHOP_CLIENTS}/your_name.yaml</code>, reload this page.</small></p>
{problem_list}
<table><thead><tr><th>Notebook</th><th>The question it answers</th></tr></thead><tbody>{rows}</tbody></table>
<script>
document.getElementById("client").addEventListener("change", function (event) {{
  var client = encodeURIComponent(event.target.value);
  document.querySelectorAll("a.notebook").forEach(function (link) {{
    link.href = "voila/render/" + link.dataset.notebook + ".ipynb?client=" + client;
  }});
  history.replaceState(null, "", "?client=" + client);
}});
</script>
"""
    return _page("ftcost workshop", body)


def guide_markdown(text: str, address: str) -> str:
    """The guide's Markdown as the room reads it: the dashboard's address as the reader
    reached it (``address``, e.g. ``http://room-pc:8870/``) and no machine-readable blocks."""
    text = text.replace(GUIDE_ADDRESS, address).replace(GUIDE_LAN_ADDRESS, address)
    return EXERCISE_BLOCK.sub("", text)


def guide_html(address: str = GUIDE_ADDRESS) -> str:
    """The workshop guide (``docs/workshop.md``, the project's own text) as a page, its
    answers folded away (``<details>``) and its links to the dashboard at ``address``."""
    from markdown_it import MarkdownIt

    text = guide_markdown((project_root() / GUIDE).read_text(encoding="utf-8"), address)
    body = MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    return _page("ftcost workshop guide", f"<p><a href='./'>← The notebooks</a></p>{body}")
