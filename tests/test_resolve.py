"""Resolving ranges: the walk skips only fields whose declared type cannot hold a Range, and
finds every Range a full walk of every field finds, in the same order."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel

from ftcost_helpers.engine.overrides import scenario_params
from ftcost_helpers.engine.quantities import Quantity, Range
from ftcost_helpers.engine.resolve import may_hold_range, pick_base, range_fields, range_inputs, resolve


class Leaf(BaseModel):
    name: str
    count: int
    amount: Quantity


class Plain(BaseModel):
    name: str
    share: float
    flags: dict[str, bool]


class Tree(BaseModel):
    label: str
    leaf: Leaf
    plain: Plain
    leaves: list[Leaf]
    rates: dict[str, dict[str, Range]]
    anything: Any = None


@pytest.mark.parametrize(
    ("annotation", "holds"),
    [
        (float, False),
        (int | None, False),
        (Literal["a", "b"], False),
        (dict[str, float], False),
        (Plain, False),
        (Range, True),
        (float | Range, True),
        (Quantity, True),
        (Annotated[float | Range, "x"], True),
        (dict[str, dict[str, Range]], True),
        (list[Leaf], True),
        (tuple[int, ...], False),
        (Any, True),  # unreadable: walked, never skipped
    ],
)
def test_which_declared_types_can_hold_a_range(annotation, holds):
    assert may_hold_range(annotation) is holds


def test_range_fields_keep_declaration_order_and_drop_only_what_cannot_hold_a_range():
    # label (str) and plain (no Range in any of its fields) cannot hold one; the rest can.
    assert range_fields(Tree) == ("leaf", "leaves", "rates", "anything")
    assert range_fields(Plain) == ()


def test_resolving_a_small_tree():
    tree = Tree(
        label="t",
        leaf=Leaf(name="a", count=1, amount=Range(low=1, high=3)),
        plain=Plain(name="p", share=0.5, flags={"x": True}),
        leaves=[Leaf(name="b", count=2, amount=4.0), Leaf(name="c", count=3, amount=Range(low=0, high=10, mode=2))],
        rates={"h100": {"spot": Range(low=2, high=4)}},
        anything=Range(low=5, high=7),
    )
    # Paths in declaration order; base cases: midpoint (1+3)/2 = 2, the mode 2, (2+4)/2 = 3, (5+7)/2 = 6.
    assert list(range_inputs(tree)) == ["leaf.amount", "leaves.1.amount", "rates.h100.spot", "anything"]
    resolved = resolve(tree, pick_base)
    assert (resolved.leaf.amount, resolved.leaves[1].amount) == (2.0, 2.0)
    assert (resolved.rates["h100"]["spot"], resolved.anything) == (3.0, 6.0)
    assert resolved.plain is tree.plain and resolved.leaves[0] is tree.leaves[0]  # no Range: shared, not copied


def _every_range(tree: Any, path: str = "") -> dict[str, Range]:
    """A walk of every field of every model, by path (no skipping): the oracle."""
    if isinstance(tree, Range):
        return {path: tree}
    found: dict[str, Range] = {}
    if isinstance(tree, BaseModel):
        items = [(name, getattr(tree, name)) for name in type(tree).model_fields]
    elif isinstance(tree, dict):
        items = list(tree.items())
    elif isinstance(tree, list):
        items = list(enumerate(tree))
    else:
        return found
    for key, value in items:
        found |= _every_range(value, f"{path}.{key}" if path else str(key))
    return found


def test_the_price_book_walk_finds_every_range_in_order(book):
    assert list(range_inputs(book, "pricebook").items()) == list(_every_range(book, "pricebook").items())


@pytest.mark.parametrize("name", "abc")
def test_each_example_and_its_scenarios_walk_finds_every_range_in_order(examples, book, name):
    params = examples[name]
    plans = [params, *(scenario_params(params, book, s, i) for i, s in enumerate(params.scenarios))]
    for plan in plans:
        assert list(range_inputs(plan).items()) == list(_every_range(plan).items())
        assert _every_range(resolve(plan, pick_base)) == {}
