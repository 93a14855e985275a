"""The package's layers, read from its import statements (every import, deferred ones too).

* ``ftcost_helpers.engine`` imports nothing from ``ftcost_helpers.views`` or the faces
  (``cli``, ``report``, ``dashboard``, ``pdf``, ``__main__``);
* ``ftcost_helpers.views`` imports nothing from the faces;
* no module imports another that imports it back, directly or through others.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ftcost_helpers"
FACES = ("cli", "report", "dashboard", "pdf", "lab", "__main__")


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = ["ftcost_helpers", *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, known: set[str], root: Path = PACKAGE) -> set[str]:
    """The package's own modules that ``path`` imports (``from x import y`` counts ``x.y`` when
    ``x.y`` is a module, else ``x``)."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join([*base, node.module] if node.module else base)
            else:
                origin = node.module or ""
            for alias in node.names:
                candidate = f"{origin}.{alias.name}"
                found.add(candidate if candidate in known else origin)
    return {module for module in found if module in known}


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    paths = [path for path in root.rglob("*.py") if ".ipynb_checkpoints" not in path.parts]
    known = {module_name(path, root) for path in paths}
    return {module_name(path, root): imported_modules(path, known, root) for path in paths}


def layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "package"
    if parts[1] in ("engine", "views"):
        return parts[1]
    if parts[1] in FACES:
        return "faces"
    raise AssertionError(f"{module} sits outside the layers: put it in engine/, views/ or the faces")


ALLOWED = {
    "package": {"package"},
    "engine": {"package", "engine"},
    "views": {"package", "engine", "views"},
    "faces": {"package", "engine", "views", "faces"},
}


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    return [
        f"{module} ({layer(module)}) imports {target} ({layer(target)})"
        for module, targets in sorted(graph.items())
        for target in sorted(targets)
        if layer(target) not in ALLOWED[layer(module)]
    ]


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), and self-imports.
    A package's ``__init__`` importing its own submodules is not a cycle of interest, so edges
    from a package to its own children are left out."""
    edges = {
        module: {t for t in targets if not t.startswith(module + ".") and t != module}
        for module, targets in graph.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def test_every_module_is_in_a_layer():
    graph = import_graph()
    assert "ftcost_helpers.engine.breakdown" in graph and "ftcost_helpers.views.tables" in graph
    for module in graph:
        layer(module)


def test_engine_and_views_never_import_upwards():
    assert layer_violations(import_graph()) == []


def test_no_import_cycles():
    assert import_cycles(import_graph()) == []


def _write(root: Path, files: dict[str, str]) -> Path:
    package = root / "ftcost_helpers"
    for relative, source in files.items():
        path = package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return package


@pytest.fixture
def fake_package(tmp_path):
    return _write(
        tmp_path,
        {
            "__init__.py": "",
            "engine/__init__.py": "",
            "engine/model.py": "def f():\n    from ftcost_helpers.views import tables\n",
            "views/__init__.py": "",
            "views/tables.py": "from ..engine import model\n",
            "cli.py": "from ftcost_helpers.views.tables import x\n",
        },
    )


def test_the_check_catches_an_engine_module_importing_a_view(fake_package):
    graph = import_graph(fake_package)
    assert graph["ftcost_helpers.engine.model"] == {"ftcost_helpers.views.tables"}
    assert layer_violations(graph) == [
        "ftcost_helpers.engine.model (engine) imports ftcost_helpers.views.tables (views)"
    ]
    assert import_cycles(graph) == [["ftcost_helpers.engine.model", "ftcost_helpers.views.tables"]]
