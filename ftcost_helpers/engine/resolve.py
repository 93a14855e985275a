"""Turning ranges into numbers before a run.

A *picker* decides what each :class:`Range` becomes: its base case, its low or high
corner, or an array of Monte Carlo draws. :func:`resolve` walks the parameters and the
price book and replaces every range, so the model only ever sees floats and arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel

from ftcost_helpers.engine.quantities import Number, Range

Picker = Callable[[Range, str], Number]
"""``picker(range, path)`` → the number to use; ``path`` is like ``training.runs``."""

T = TypeVar("T")


def pick_base(value: Range, path: str) -> float:
    """Every range at its base case (mode, or midpoint)."""
    return value.base


def pick_corners(value: Range, path: str) -> np.ndarray:
    """Every range as the array ``[low, base, high]``: one run gives all three corners."""
    return np.array([value.low, value.base, value.high])


def pick_one_input(target: str, end: str) -> Picker:
    """The input at ``target`` at its ``end`` ('low' or 'high'), all others at base."""

    def picker(value: Range, path: str) -> float:
        return getattr(value, end) if path == target else value.base

    return picker


def resolve(tree: T, picker: Picker, path: str = "") -> T:
    """``tree`` (model, dict or list) with every Range replaced by ``picker``: a copy of each
    part that holds a Range, the part itself where none does (the model never mutates its
    inputs, so sharing them is safe, and a base-case run copies far less)."""
    if isinstance(tree, Range):
        return picker(tree, path)  # type: ignore[return-value]
    if isinstance(tree, BaseModel):
        updates = {}
        for name in type(tree).model_fields:
            value = getattr(tree, name)
            resolved = resolve(value, picker, _join(path, name))
            if resolved is not value:
                updates[name] = resolved
        return tree.model_copy(update=updates) if updates else tree
    if isinstance(tree, dict):
        resolved_items = {key: resolve(value, picker, _join(path, str(key))) for key, value in tree.items()}
        changed = any(resolved_items[key] is not value for key, value in tree.items())
        return resolved_items if changed else tree  # type: ignore[return-value]
    if isinstance(tree, list):
        resolved_list = [resolve(value, picker, _join(path, str(i))) for i, value in enumerate(tree)]
        changed = any(new is not old for new, old in zip(resolved_list, tree, strict=True))
        return resolved_list if changed else tree  # type: ignore[return-value]
    return tree


def range_inputs(tree: Any, path: str = "") -> dict[str, Range]:
    """Every Range in ``tree`` by its path, in a stable order."""
    found: dict[str, Range] = {}

    def collect(value: Range, where: str) -> float:
        found[where] = value
        return value.base

    resolve(tree, collect, path)
    return found


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
