"""What a workbook formula computes, worked out before the file is written, so each formula
cell carries its result as the cached value every reader shows until it recalculates
(LibreOffice by default, file previews, openpyxl's ``data_only=True``, pandas).

The grammar is the small part of spreadsheet syntax the workbook writes: numbers, ``"text"``,
``TRUE``/``FALSE``, cells and ranges (``B5``, ``$L$45:$P$45``, ``'Line items'!$D$3``), the
operators ``+ - * /`` and ``= <> < <= > >=`` with Excel's precedence (unary minus binds
tightest, comparison loosest), and the functions ``IF``, ``AND``, ``SUM``, ``SUMPRODUCT``,
``COUNT``, ``MIN`` and ``MAX`` with Excel's rules for text, blanks and booleans in ranges
(ECMA-376 Part 1, §18.17.7). Anything else is refused when the workbook is written, never
guessed. A division by zero gives the error value ``#DIV/0!`` as the spreadsheet would.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from xlsxwriter.utility import xl_cell_to_rowcol

Value = float | bool | str | None
"""A cell's value: a number, a boolean, text, or None for a blank cell."""
CellKey = tuple[str, int, int]
"""A cell by its sheet name, 0-based row and 0-based column."""
Lookup = Callable[[CellKey], Value]

TOKEN = re.compile(
    r"""\s*(?:
    (?P<string>"(?:[^"]|"")*")
    |(?P<function>[A-Z][A-Z0-9.]*)\(
    |(?P<range>(?:(?:'(?:[^']|'')+'|[A-Za-z_][\w.]*)!)?\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?)
    |(?P<boolean>TRUE|FALSE)\b
    |(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    |(?P<operator><=|>=|<>|[-+*/=<>(),])
    )""",
    re.VERBOSE,
)


class CellError(Exception):
    """A spreadsheet error value (``#DIV/0!``, ``#VALUE!``) met while evaluating."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Cells:
    """A block of cells (one cell or a range) on ``sheet``, corners inclusive and 0-based."""

    sheet: str
    top: int
    left: int
    bottom: int
    right: int

    def cells(self) -> list[CellKey]:
        """The cells row by row."""
        return [
            (self.sheet, row, column)
            for row in range(self.top, self.bottom + 1)
            for column in range(self.left, self.right + 1)
        ]


def parse(formula: str, sheet: str) -> Any:
    """``formula`` (with or without its leading ``=``) as a tree: a number, a bool, a str,
    a :class:`Cells`, ``("call", NAME, args)``, ``("neg", x)`` or ``(operator, a, b)``;
    bare cells belong to ``sheet``."""
    tokens = _tokens(formula.removeprefix("="))
    parser = _Parser(tokens, sheet)
    tree = parser.comparison()
    if parser.position != len(tokens):
        raise ValueError(f"cannot read the formula {formula!r} past token {parser.position}")
    return tree


def _tokens(text: str) -> list[tuple[str, str]]:
    found, position = [], 0
    while position < len(text.rstrip()):
        match = TOKEN.match(text, position)
        if match is None:
            raise ValueError(f"cannot read the formula {text!r} at {text[position:]!r}")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


class _Parser:
    """Recursive descent, one method per precedence level, loosest first."""

    def __init__(self, tokens: list[tuple[str, str]], sheet: str) -> None:
        self.tokens, self.sheet, self.position = tokens, sheet, 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.position] if self.position < len(self.tokens) else ("end", "")

    def take(self, text: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token[0] == "end" or (text is not None and token[1] != text):
            raise ValueError(f"expected {text or 'more'} at token {self.position}, found {token[1]!r}")
        self.position += 1
        return token

    def binary(self, operators: tuple[str, ...], operand: Callable[[], Any]) -> Any:
        tree = operand()
        while self.peek()[0] == "operator" and self.peek()[1] in operators:
            operator = self.take()[1]
            tree = (operator, tree, operand())
        return tree

    def comparison(self) -> Any:
        return self.binary(("=", "<>", "<", "<=", ">", ">="), self.sum)

    def sum(self) -> Any:
        return self.binary(("+", "-"), self.product)

    def product(self) -> Any:
        return self.binary(("*", "/"), self.unary)

    def unary(self) -> Any:
        if self.peek() in (("operator", "-"), ("operator", "+")):
            sign = self.take()[1]
            operand = self.unary()
            return ("neg", operand) if sign == "-" else ("pos", operand)
        return self.primary()

    def primary(self) -> Any:
        kind, text = self.take()
        if kind == "number":
            return float(text)
        if kind == "string":
            return text[1:-1].replace('""', '"')
        if kind == "boolean":
            return text == "TRUE"
        if kind == "range":
            return _cells(text, self.sheet)
        if kind == "function":
            args = []
            if self.peek() != ("operator", ")"):
                args.append(self.comparison())
                while self.peek() == ("operator", ","):
                    self.take(",")
                    args.append(self.comparison())
            self.take(")")
            return ("call", text, args)
        if text == "(":
            tree = self.comparison()
            self.take(")")
            return tree
        raise ValueError(f"unexpected {text!r} in a formula")


def _cells(text: str, sheet: str) -> Cells:
    """``'Line items'!$D$2:$D$5`` (or a bare ``B5`` on ``sheet``) as :class:`Cells`."""
    if "!" in text:
        named, text = text.rsplit("!", 1)
        sheet = named[1:-1].replace("''", "'") if named.startswith("'") else named
    first, _, last = text.partition(":")
    top, left = xl_cell_to_rowcol(first)
    bottom, right = xl_cell_to_rowcol(last or first)
    return Cells(sheet, min(top, bottom), min(left, right), max(top, bottom), max(left, right))


# --------------------------------------------------------------------------- evaluation


def evaluate(tree: Any, lookup: Lookup) -> Value:
    """The value of a parsed formula; ``lookup`` gives a cell's value (working out any
    formula it holds). Raises :class:`CellError` for a spreadsheet error value."""
    if isinstance(tree, Cells):
        keys = tree.cells()
        if len(keys) != 1:
            raise CellError("#VALUE!")  # a range outside a function that takes one
        return lookup(keys[0])
    if not isinstance(tree, tuple):
        return tree
    if tree[0] == "call":
        return _call(tree[1], tree[2], lookup)
    if tree[0] in ("neg", "pos"):
        number = _number(evaluate(tree[1], lookup))
        return -number if tree[0] == "neg" else number
    operator, left, right = tree
    a, b = evaluate(left, lookup), evaluate(right, lookup)
    if operator in ARITHMETIC:
        return ARITHMETIC[operator](_number(a), _number(b))
    return COMPARISON[operator](_compare(a, b))


def _divide(a: float, b: float) -> float:
    if b == 0:
        raise CellError("#DIV/0!")
    return a / b


ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _divide,
}
COMPARISON: dict[str, Callable[[int], bool]] = {
    "=": lambda order: order == 0,
    "<>": lambda order: order != 0,
    "<": lambda order: order < 0,
    "<=": lambda order: order <= 0,
    ">": lambda order: order > 0,
    ">=": lambda order: order >= 0,
}


def _number(value: Value) -> float:
    """A value in arithmetic: a blank is 0, TRUE 1, numeric text its number (Excel's coercion)."""
    if value is None:
        return 0.0
    if isinstance(value, bool | int | float):
        return float(value)
    try:
        return float(value)
    except ValueError:
        raise CellError("#VALUE!") from None


def _compare(a: Value, b: Value) -> int:
    """−1, 0 or 1 by Excel's order: numbers < text < booleans; a blank is 0, "" or FALSE
    as the other side needs; text compares without case."""
    blank_as = {bool: False, str: ""}
    if a is None:
        a = blank_as.get(type(b), 0.0)
    if b is None:
        b = blank_as.get(type(a), 0.0)
    rank = {bool: 2, str: 1}
    ra, rb = rank.get(type(a), 0), rank.get(type(b), 0)
    if ra != rb:
        return -1 if ra < rb else 1
    if isinstance(a, str) and isinstance(b, str):
        a, b = a.lower(), b.lower()
    return (a > b) - (a < b)  # type: ignore[operator]


def _call(name: str, args: list[Any], lookup: Lookup) -> Value:
    if name == "IF":
        condition = evaluate(args[0], lookup)
        if isinstance(condition, str):
            raise CellError("#VALUE!")
        chosen = args[1] if _number(condition) != 0 else (args[2] if len(args) > 2 else False)
        return evaluate(chosen, lookup)
    if name in AGGREGATES:
        return AGGREGATES[name]([_arguments(arg, lookup) for arg in args])
    raise ValueError(f"the workbook's formulas do not use {name}()")


def _arguments(arg: Any, lookup: Lookup) -> tuple[bool, list[Value]]:
    """An aggregate's argument: (whether it was a range, its values)."""
    if isinstance(arg, Cells):
        return True, [lookup(key) for key in arg.cells()]
    return False, [evaluate(arg, lookup)]


def _numbers(arguments: list[tuple[bool, list[Value]]]) -> list[float]:
    """The numbers SUM, MIN, MAX and COUNT read: in a range only numbers (text, booleans and
    blanks are skipped); a direct argument is coerced (TRUE is 1)."""
    found: list[float] = []
    for from_range, values in arguments:
        for value in values:
            if from_range:
                if isinstance(value, int | float) and not isinstance(value, bool):
                    found.append(float(value))
            elif not (isinstance(value, str) and _is_text(value)):
                found.append(_number(value))
    return found


def _is_text(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return True
    return False


def _and(arguments: list[tuple[bool, list[Value]]]) -> bool:
    values = [v for from_range, vs in arguments for v in vs if not (from_range and (v is None or isinstance(v, str)))]
    if any(isinstance(v, str) for v in values) or not values:
        raise CellError("#VALUE!")
    return all(_number(v) != 0 for v in values)


def _sumproduct(arguments: list[tuple[bool, list[Value]]]) -> float:
    """Σ of the products of matching cells; anything not a number counts as 0."""
    columns = [values for _, values in arguments]
    if len({len(values) for values in columns}) != 1:
        raise CellError("#VALUE!")
    as_number = [
        [float(v) if isinstance(v, int | float) and not isinstance(v, bool) else 0.0 for v in values]
        for values in columns
    ]
    return math.fsum(math.prod(cells) for cells in zip(*as_number, strict=True))


AGGREGATES: dict[str, Callable[[list[tuple[bool, list[Value]]]], Value]] = {
    "SUM": lambda arguments: math.fsum(_numbers(arguments)),
    "COUNT": lambda arguments: float(len(_numbers(arguments))),
    "MIN": lambda arguments: min(_numbers(arguments), default=0.0),
    "MAX": lambda arguments: max(_numbers(arguments), default=0.0),
    "AND": _and,
    "SUMPRODUCT": _sumproduct,
}
