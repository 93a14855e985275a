"""Mutation testing: does the suite notice when a number in the engine is wrong?

Each mutant is one small change to one module (an operator swapped, a comparison's boundary
moved, a constant changed, a term dropped, a condition negated); the fast part of the suite
runs against it (no browser, no nbval, no notebooks; ``pytest -x``). A mutant the tests
notice is *killed*; one they do not is a *survivor*: either a test is missing or the change
is equivalent (it cannot alter any result). The score is killed ÷ mutants.

The working tree is never touched: the project is copied into a temporary folder (one copy
per job), each mutant is written there, tested and undone, and the folders are removed at the
end. The copies are imported through ``PYTHONPATH`` (checked before the first mutant).

    python tools/mutation.py                      # a sample of 150 mutants, 2 jobs
    python tools/mutation.py --max 0              # every mutant (slow: ~1,000 mutants)
    python tools/mutation.py --list               # list the mutants, run nothing
    python tools/mutation.py --files ftcost_helpers/report/slug.py --max 0

The sample is drawn with ``--seed`` (default 13), so a run can be repeated; ``--max 0`` runs
all of them. On 2 cores a mutant takes 3–20 s (a killed one stops at the first failing test).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import json
import math
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TARGETS = (
    "ftcost_helpers/engine/model/*.py",
    "ftcost_helpers/engine/resolve.py",
    "ftcost_helpers/engine/uncertainty.py",
    "ftcost_helpers/engine/sensitivity.py",
    "ftcost_helpers/engine/audit.py",
    "ftcost_helpers/engine/audit_[cdfpr]*.py",
    "ftcost_helpers/engine/scenarios.py",
    "ftcost_helpers/engine/overrides.py",
    "ftcost_helpers/engine/schema*.py",
    "ftcost_helpers/report/slug.py",
    "ftcost_helpers/report/sanitize.py",
    "ftcost_helpers/views/escape.py",
    "ftcost_helpers/engine/text.py",
)
"""Modules to mutate (globs; a path that does not exist is skipped): the model, resolve,
uncertainty, sensitivity, audit, scenarios and overrides, the schema, the slug and the
escaping helpers."""

PLAN, RULES = "tests/test_hand_derived_plan.py", "tests/test_hand_derived_rules.py"
AUDIT, SCENARIOS = "tests/test_hand_derived_audit.py", "tests/test_hand_derived_scenarios.py"
WORKED, AREAS = "tests/test_worked_examples.py", "tests/test_model_areas.py"
SANITISER = "tests/test_hostile.py::test_sanitiser_leaves_nothing_active"
ESCAPING = (
    SANITISER,
    "tests/test_hostile.py::test_sanitiser_keeps_what_a_report_needs",
    "tests/test_hostile.py::test_finalised_page_has_the_policy_and_its_own_style_only",
    "tests/test_escap*.py",
    "tests/test_sanitiz*.py",
    "tests/test_report_html.py",
)
"""The escaping and sanitiser tests that run no notebook (the whole-report ones take minutes)."""

TESTS_BY_MODULE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ftcost_helpers/engine/model/communication.py", ("tests/test_communication_parallel.py",
                                                      "tests/test_communication.py", PLAN)),
    ("ftcost_helpers/engine/model/offload.py", ("tests/test_offload.py", PLAN, "tests/test_expert_parallel_fit.py")),
    (
        "ftcost_helpers/engine/model/",
        (PLAN, RULES, AUDIT, SCENARIOS, WORKED, AREAS, "tests/test_training_physics.py", "tests/test_time_physics.py",
         "tests/test_scenarios.py", "tests/test_audit.py", "tests/test_sensitivity.py", "tests/test_uncertainty.py",
         "tests/test_properties.py", "tests/test_window_compile_physics.py"),
    ),
    ("ftcost_helpers/engine/catalogue.py", ("tests/test_catalogue.py", "tests/test_window_compile_physics.py", RULES)),
    ("ftcost_helpers/engine/resolve.py", (RULES, SCENARIOS, WORKED, "tests/test_uncertainty.py",
                                          "tests/test_sensitivity.py")),
    ("ftcost_helpers/engine/uncertainty.py", (RULES, "tests/test_uncertainty.py", "tests/test_properties.py")),
    ("ftcost_helpers/engine/sensitivity.py", (SCENARIOS, RULES, "tests/test_sensitivity.py")),
    ("ftcost_helpers/engine/audit", (AUDIT, PLAN, RULES, "tests/test_audit.py", WORKED)),
    ("ftcost_helpers/engine/scenarios.py", (SCENARIOS, RULES, "tests/test_scenarios.py", "tests/test_audit.py")),
    ("ftcost_helpers/engine/overrides.py", (SCENARIOS, RULES, "tests/test_scenarios.py", "tests/test_audit.py",
                                            "tests/test_bad_input.py")),
    (
        "ftcost_helpers/engine/schema",  # schema.py and its schema_*.py blocks
        (RULES, PLAN, WORKED, "tests/test_bad_input.py", "tests/test_hostile_input.py", "tests/test_scenarios.py",
         "tests/test_build_period.py"),
    ),
    ("ftcost_helpers/engine/api_prices.py", ("tests/test_api_prices.py", RULES)),
    ("ftcost_helpers/engine/template.py", ("tests/test_cli_first_use.py",)),
    ("ftcost_helpers/engine/loading.py", ("tests/test_cli_first_use.py", "tests/test_bad_input.py",
                                          "tests/test_hostile_input.py", RULES, "tests/test_price_book.py")),
    ("ftcost_helpers/engine/pricebook.py", ("tests/test_price_book.py", RULES)),
    ("ftcost_helpers/report/slug.py", (SCENARIOS, "tests/test_slug.py")),
    ("ftcost_helpers/report/sanitize.py", (*ESCAPING, RULES)),
    ("ftcost_helpers/", (RULES, *ESCAPING)),
)  # fmt: skip
"""The fast tests that exercise each module (first prefix that matches), quickest killers
first; no browser, no nbval, no notebook runs. A test file that does not exist is skipped;
globs name the escaping tests, whoever writes them."""

COPIED = ("ftcost_helpers", "params", "tests", "notebooks", "pyproject.toml")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".hypothesis", "browser")

NUMBER_SWAPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
}
COMPARE_SWAPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
NAME_SWAPS = {
    "max": "min",
    "min": "max",
    "maximum": "minimum",
    "minimum": "maximum",
    "ceil": "floor",
    "floor": "ceil",
    "any": "all",
    "all": "any",
}
"""Function names swapped when called (``np.maximum`` → ``np.minimum``, ``max`` → ``min``)."""
PLUMBING = frozenset({"repr", "compare", "init", "eq", "kw_only", "frozen", "strict"})
"""Keyword arguments that configure objects (``field(repr=False)``, ``zip(strict=True)``) and
compute nothing: their values are not mutated."""


@dataclass(frozen=True)
class Mutant:
    """One change: the ``index``-th mutation point of ``path``."""

    path: str
    index: int
    line: int
    change: str
    source: str = ""

    @property
    def key(self) -> str:
        return f"{self.path}#{self.index}"


def _number_change(value: int | float) -> int | float:
    if isinstance(value, int):
        return value + 1
    return 1.0 if value == 0 else value * 2


class Mutator(ast.NodeTransformer):
    """Walks a module in a fixed order, numbering each possible mutation; with ``target``
    set, applies the mutation of that number and leaves every other node as it is."""

    def __init__(self, target: int = -1) -> None:
        self.target = target
        self.count = 0
        self.found: list[tuple[int, str]] = []

    def _point(self, node: ast.AST, change: str, make: Callable[[], ast.AST]) -> ast.AST | None:
        """Number one mutation; the mutated node if it is the target, else None."""
        index = self.count
        self.count += 1
        self.found.append((getattr(node, "lineno", 0), change))
        return make() if index == self.target else None

    # annotations and docstrings are not code that computes anything
    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.decorator_list = [self.visit(d) for d in node.decorator_list]
        node.args.defaults = [self.visit(d) for d in node.args.defaults]
        node.args.kw_defaults = [self.visit(d) if d is not None else None for d in node.args.kw_defaults]
        node.body = self._body(node.body)
        return node

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        node.body = self._body(node.body)
        return node

    def visit_Module(self, node: ast.Module) -> ast.AST:
        node.body = self._body(node.body)
        return node

    def _body(self, body: list[ast.stmt]) -> list[ast.stmt]:
        kept = []
        for statement in body:
            if isinstance(statement, ast.ImportFrom | ast.Import):
                kept.append(statement)
                continue
            if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                kept.append(statement)  # a docstring
                continue
            result = self.visit(statement)
            if isinstance(result, list):
                kept.extend(result)
            elif result is not None:
                kept.append(result)
        return kept

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        if node.value is not None:
            node.value = self.visit(node.value)
        return node

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return node
        return self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        swap = NUMBER_SWAPS.get(type(node.op))
        if swap is not None:
            new = self._point(node, f"{_op(node.op)} → {_op(swap())}", lambda: ast.BinOp(node.left, swap(), node.right))
            if new is not None:
                return new
        if isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div):
            new = self._point(node, f"drop the right operand of {_op(node.op)}", lambda: node.left)
            if new is not None:
                return new
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        for i, op in enumerate(node.ops):
            swap = COMPARE_SWAPS.get(type(op))
            if swap is None:
                continue

            def make(i: int = i, swap: type[ast.cmpop] = swap) -> ast.AST:
                ops = list(node.ops)
                ops[i] = swap()
                return ast.Compare(node.left, ops, node.comparators)

            new = self._point(node, f"{_op(op)} → {_op(swap())}", make)
            if new is not None:
                return new
        return node

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        swap = ast.Or if isinstance(node.op, ast.And) else ast.And
        new = self._point(node, f"{_op(node.op)} → {_op(swap())}", lambda: ast.BoolOp(swap(), node.values))
        return new if new is not None else node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Not | ast.USub):
            new = self._point(node, f"drop {_op(node.op)}", lambda: node.operand)
            if new is not None:
                return new
        return node

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        self.generic_visit(node)
        new = self._point(
            node, "swap the branches of an if-expression", lambda: ast.IfExp(node.test, node.orelse, node.body)
        )
        return new if new is not None else node

    def visit_If(self, node: ast.If) -> ast.AST:
        node.test = self.visit(node.test)
        node.body = self._body(node.body)
        node.orelse = self._body(node.orelse)
        new = self._point(
            node, "negate an if condition", lambda: ast.If(ast.UnaryOp(ast.Not(), node.test), node.body, node.orelse)
        )
        return new if new is not None else node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        value = node.value
        if isinstance(value, bool):
            new = self._point(node, f"{value} → {not value}", lambda: ast.Constant(not value))
        elif isinstance(value, int | float) and not isinstance(value, complex):
            changed = _number_change(value)
            new = self._point(node, f"{value!r} → {changed!r}", lambda: ast.Constant(changed))
        else:
            new = None
        return new if new is not None else node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        node.func = self.visit(node.func)
        node.args = [self.visit(arg) for arg in node.args]
        for keyword in node.keywords:
            if keyword.arg not in PLUMBING:
                keyword.value = self.visit(keyword.value)
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        swap = NAME_SWAPS.get(name or "")
        if swap is None:
            return node

        def make() -> ast.AST:
            renamed = copy.copy(func)
            if isinstance(renamed, ast.Attribute):
                renamed.attr = swap
            else:
                renamed.id = swap
            return ast.Call(renamed, node.args, node.keywords)

        new = self._point(node, f"{name}() → {swap}()", make)
        return new if new is not None else node


def _op(op: ast.AST) -> str:
    symbols = {
        ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**",
        ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=", ast.In: "in",
        ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not", ast.And: "and", ast.Or: "or", ast.Not: "not",
        ast.USub: "unary -",
    }  # fmt: skip
    return symbols.get(type(op), type(op).__name__)


def target_files(patterns: tuple[str, ...]) -> list[str]:
    """Existing files matching ``patterns``, relative to the project root, in order."""
    found: dict[str, None] = {}
    for pattern in patterns:
        for path in sorted(ROOT.glob(pattern)):
            if path.name != "__init__.py" and path.suffix == ".py":
                found[path.relative_to(ROOT).as_posix()] = None
    return list(found)


def mutants_of(path: str) -> list[Mutant]:
    """Every mutation point of one module."""
    text = (ROOT / path).read_text(encoding="utf-8")
    lines = text.splitlines()
    counter = Mutator()
    counter.visit(ast.parse(text))
    return [
        Mutant(path, i, line, change, lines[line - 1].strip() if 0 < line <= len(lines) else "")
        for i, (line, change) in enumerate(counter.found)
        if "# pragma: no mutate" not in (lines[line - 1] if 0 < line <= len(lines) else "")
    ]


def mutated_source(mutant: Mutant) -> str:
    tree = ast.parse((ROOT / mutant.path).read_text(encoding="utf-8"))
    mutator = Mutator(mutant.index)
    tree = ast.fix_missing_locations(mutator.visit(tree))
    return ast.unparse(tree) + "\n"


# ---------------------------------------------------------------- running

PRELOADED = ("numpy", "pandas", "pydantic", "yaml", "pytest", "hypothesis", "bleach", "nh3")
"""Imported once by this process, before any child is forked: a child then only imports the
project (from its copy) and the tests. This process never imports ``ftcost_helpers``."""


@dataclass(frozen=True)
class Outcome:
    mutant: Mutant
    killed: bool
    seconds: float
    how: str
    """'tests failed', 'timeout', 'does not compile' (killed) or 'survived'."""


def make_copy() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="ftcost-mutation-"))
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=IGNORED)
        elif source.exists():
            shutil.copy2(source, folder / name)
    return folder


def _environment(copy_root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("FTCOST_ROOT", None)
    env["PYTHONPATH"] = str(copy_root)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def pytest_arguments(tests: list[str]) -> list[str]:
    return [
        "-x", "-q", "--no-header", "-p", "no:cacheprovider", "-p", "no:nbval", "-p", "no:xdist", "-o", "addopts=",
        *tests,
    ]  # fmt: skip


def preload() -> None:
    import importlib

    for name in PRELOADED:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def fork_tests(copy_root: Path, tests: list[str], log: Path | None = None) -> int:
    """Run the tests on ``copy_root`` in a forked child; its pid (exit code: pytest's)."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    code = 3
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.setpgid(0, 0)
        os.environ.clear()
        os.environ.update(_environment(copy_root))
        os.chdir(copy_root)
        sys.path.insert(0, str(copy_root))
        sys.dont_write_bytecode = True
        out = os.open(log or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(out, 1)
        os.dup2(out, 2)
        import pytest

        import ftcost_helpers

        if not Path(ftcost_helpers.__file__).resolve().is_relative_to(copy_root.resolve()):
            print(f"mutation: imported {ftcost_helpers.__file__}, not the copy")
            code = 4
        else:
            code = int(pytest.main(pytest_arguments(tests)))
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def wait_for(pid: int, timeout: float) -> int | None:
    """The child's exit code, or None when it ran past ``timeout`` seconds (then killed)."""
    limit = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > limit:
            _kill(pid)
            return None
        time.sleep(0.05)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


class Runner:
    """Tests mutants on ``jobs`` copies of the tree at once (forked children)."""

    def __init__(self, copies: list[Path], tests: Callable[[str], list[str]], timeout: float) -> None:
        self.free = list(copies)
        self.tests = tests
        self.timeout = timeout
        self.running: dict[int, tuple[Mutant, Path, str, float]] = {}

    def start(self, mutant: Mutant) -> Outcome | None:
        """Start one mutant; an Outcome at once if it does not compile."""
        source = mutated_source(mutant)
        try:
            compile(source, mutant.path, "exec")
        except SyntaxError:
            return Outcome(mutant, True, 0.0, "does not compile")
        copy_root = self.free.pop()
        target = copy_root / mutant.path
        original = target.read_text(encoding="utf-8")
        target.write_text(source, encoding="utf-8")
        pid = fork_tests(copy_root, self.tests(mutant.path))
        self.running[pid] = (mutant, copy_root, original, time.monotonic())
        return None

    def reap(self) -> list[Outcome]:
        """Outcomes of the children that have finished (or timed out) since the last call."""
        finished = []
        for pid, (mutant, copy_root, original, started) in list(self.running.items()):
            done, status = os.waitpid(pid, os.WNOHANG)
            seconds = time.monotonic() - started
            if done:
                code = os.waitstatus_to_exitcode(status)
                how = "tests failed" if code != 0 else "survived"
                outcome = Outcome(mutant, code != 0, seconds, how)
            elif seconds > self.timeout:
                _kill(pid)
                outcome = Outcome(mutant, True, seconds, "timeout")
            else:
                continue
            (copy_root / mutant.path).write_text(original, encoding="utf-8")
            del self.running[pid]
            self.free.append(copy_root)
            finished.append(outcome)
        return finished

    def run(self, mutants: list[Mutant], deadline: float = math.inf) -> Iterator[Outcome]:
        """Outcomes as they come; no mutant is started after ``deadline`` (monotonic s)."""
        pending = list(reversed(mutants))
        while pending or self.running:
            if time.monotonic() > deadline:
                pending.clear()
            while pending and self.free:
                immediate = self.start(pending.pop())
                if immediate is not None:
                    yield immediate
            yield from self.reap()
            time.sleep(0.05)

    def stop(self) -> None:
        for pid, (mutant, copy_root, original, _) in list(self.running.items()):
            _kill(pid)
            (copy_root / mutant.path).write_text(original, encoding="utf-8")
        self.running.clear()


def tests_for(path: str, given: list[str] | None = None) -> list[str]:
    """The test files run against a mutant of ``path`` (``given`` overrides the map)."""
    if given:
        patterns: tuple[str, ...] = tuple(given)
    else:
        patterns = next(tests for prefix, tests in TESTS_BY_MODULE if path.startswith(prefix))
    found: dict[str, None] = {}
    for pattern in patterns:
        if "::" in pattern:  # one test of a file, as pytest names it
            if (ROOT / pattern.split("::")[0]).exists():
                found[pattern] = None
            continue
        for match in sorted(ROOT.glob(pattern)):
            found[match.relative_to(ROOT).as_posix()] = None
    return list(found)


def choose(mutants: list[Mutant], most: int, seed: int) -> list[Mutant]:
    if most <= 0 or most >= len(mutants):
        return mutants
    chosen = random.Random(seed).sample(mutants, most)
    return sorted(chosen, key=lambda m: (m.path, m.index))


def report(outcomes: list[Outcome], total_points: int, say: Callable[[str], None]) -> float:
    killed = sum(o.killed for o in outcomes)
    score = 100.0 * killed / len(outcomes) if outcomes else 100.0
    say("")
    say("by module (killed / mutants):")
    for path in sorted({o.mutant.path for o in outcomes}):
        mine = [o for o in outcomes if o.mutant.path == path]
        say(f"  {path}: {sum(o.killed for o in mine)} / {len(mine)}")
    survivors = [o.mutant for o in outcomes if not o.killed]
    if survivors:
        say("")
        say("survivors:")
        for m in survivors:
            say(f"  {m.path}:{m.line} [{m.key}] {m.change}    | {m.source}")
    say("")
    say(
        f"mutation score: {killed} killed of {len(outcomes)} mutants = {score:.1f} % "
        f"({len(outcomes)} tested of {total_points} mutation points)"
    )
    return score


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=150, help="test a seeded sample of this many mutants (0: all)")
    parser.add_argument("--seed", type=int, default=13, help="seed of the sample")
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once (one tree copy each)")
    parser.add_argument("--files", nargs="*", help="modules to mutate (default: the engine's targets)")
    parser.add_argument("--tests", nargs="*", help="test files to run (default: the module's, TESTS_BY_MODULE)")
    parser.add_argument("--budget-minutes", type=float, default=0, help="start no mutant after this long (0: none)")
    parser.add_argument("--min-score", type=float, default=90.0, help="exit 1 below this percentage")
    parser.add_argument("--json", type=Path, help="write every outcome to this file")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument("--only", nargs="*", help="test only these mutants (keys as listed: path#index)")
    args = parser.parse_args(argv)

    files = target_files(tuple(args.files) if args.files else TARGETS)
    everything = [m for path in files for m in mutants_of(path)]
    if args.only:
        wanted = set(args.only)
        chosen = [m for m in everything if m.key in wanted]
    else:
        chosen = choose(everything, args.max, args.seed)
    if args.list:
        for m in chosen:
            print(f"{m.path}:{m.line} [{m.key}] {m.change}    | {m.source}")
        print(f"{len(chosen)} of {len(everything)} mutation points")
        return 0

    def tests(path: str) -> list[str]:
        return tests_for(path, args.tests)

    every_test = list(dict.fromkeys(t for path in {m.path for m in chosen} for t in tests(path)))
    say = lambda line: print(line, flush=True)  # noqa: E731
    say(f"mutation: {len(chosen)} of {len(everything)} mutants in {len(files)} modules; tests: {' '.join(every_test)}")

    preload()
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    folders = [make_copy() for _ in range(max(1, args.jobs))]
    runner = Runner(folders, tests, timeout=0.0)
    outcomes: list[Outcome] = []
    try:
        log = folders[0] / "baseline.log"
        started = time.monotonic()
        code = wait_for(fork_tests(folders[0], every_test, log), timeout=1800)
        baseline = time.monotonic() - started
        if code != 0:
            tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:])
            say(f"mutation: the unmutated copy fails its tests (exit {code}), nothing to measure:\n{tail}")
            return 2
        runner.timeout = max(60.0, 3 * baseline)
        say(f"baseline: the tests pass in {baseline:.0f} s; a mutant times out after {runner.timeout:.0f} s")
        deadline = time.monotonic() + 60 * args.budget_minutes if args.budget_minutes > 0 else math.inf
        for n, outcome in enumerate(runner.run(chosen, deadline), 1):
            outcomes.append(outcome)
            mark = "killed  " if outcome.killed else "SURVIVED"
            m = outcome.mutant
            say(f"[{n}/{len(chosen)}] {mark} {m.path}:{m.line} {m.change} ({outcome.seconds:.0f} s, {outcome.how})")
    finally:
        runner.stop()
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
    score = report(outcomes, len(everything), say)
    if args.json:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=1, default=str), encoding="utf-8")
    return 0 if score >= args.min_score else 1


if __name__ == "__main__":
    sys.exit(main())
