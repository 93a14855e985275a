"""Turning ranges into numbers before a run.

A *picker* decides what each :class:`Range` becomes: its base case, its low or high
corner, or an array of Monte Carlo draws. :func:`resolve` walks the parameters and the
price book and replaces every range, so the model only ever sees floats and arrays.

The walk visits only the fields whose declared type can hold a Range
(:func:`range_fields`, worked out once per model class): a count, a flag, a name or a
date is never a Range, so a run does not look at it.
"""

from __future__ import annotations

import datetime as dt
import enum
import types
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import numpy as np
from pydantic import BaseModel

from ftcost_helpers.engine.quantities import Number, Range

Picker = Callable[[Range, str], Number]
"""``picker(range, path)`` → the number to use; ``path`` is like ``training.runs``."""

T = TypeVar("T")

NEVER_A_RANGE: tuple[type, ...] = (bool, int, float, complex, str, bytes, dt.date, dt.time, dt.timedelta, enum.Enum)
"""Declared types whose values cannot hold a Range (``datetime`` is a ``date``)."""

CONTAINERS = (dict, list, tuple, set, frozenset)

SCALARS = frozenset({float, int, bool, str, type(None)})
"""Values :func:`resolve` returns as they are without looking further."""


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


def may_hold_range(annotation: Any) -> bool:
    """Whether a field declared as ``annotation`` can hold a Range, at any depth. Anything
    this cannot read (``Any``, a forward reference, an unknown generic) counts as yes, so
    the walk only ever skips what cannot be a Range."""
    if annotation is None or annotation is type(None):
        return False
    origin = get_origin(annotation)
    if origin is Annotated:
        return may_hold_range(get_args(annotation)[0])
    if origin is Literal:
        return False
    if origin is Union or origin is types.UnionType:
        return any(may_hold_range(arg) for arg in get_args(annotation))
    if origin is not None:
        args = get_args(annotation)
        known = isinstance(origin, type) and issubclass(origin, CONTAINERS)
        return not known or not args or any(may_hold_range(arg) for arg in args if arg is not Ellipsis)
    if not isinstance(annotation, type):
        return True
    if issubclass(annotation, Range):
        return True
    if issubclass(annotation, BaseModel):
        return bool(range_fields(annotation))
    return not issubclass(annotation, NEVER_A_RANGE)


def range_fields(cls: type[BaseModel]) -> tuple[str, ...]:
    """The fields of model class ``cls`` that can hold a Range, in declaration order (the
    order :func:`range_inputs` lists paths in), worked out once per class. While a class is
    being worked out it counts every field as holding one, so a class that refers to itself
    is walked in full."""
    known = _RANGE_FIELDS.get(cls)
    if known is None:
        _RANGE_FIELDS[cls] = tuple(cls.model_fields)
        known = tuple(name for name, info in cls.model_fields.items() if may_hold_range(info.annotation))
        _RANGE_FIELDS[cls] = known
    return known


_RANGE_FIELDS: dict[type, tuple[str, ...]] = {}
"""What :func:`range_fields` has worked out, by class (a memo of facts about classes)."""


def resolve(tree: T, picker: Picker, path: str = "") -> T:
    """``tree`` (model, dict or list) with every Range replaced by ``picker``: a copy of each
    part that holds a Range, the part itself where none does (the model never mutates its
    inputs, so sharing them is safe, and a base-case run copies far less)."""
    if type(tree) in SCALARS:  # most of what the walk meets: a quantity given as one number, an unset option
        return tree
    if isinstance(tree, Range):
        return picker(tree, path)  # type: ignore[return-value]
    if isinstance(tree, BaseModel):
        updates = {}
        for name in range_fields(type(tree)):
            value = getattr(tree, name)
            if type(value) in SCALARS:  # the common cases, without a call
                continue
            where = f"{path}.{name}" if path else name
            resolved = picker(value, where) if type(value) is Range else resolve(value, picker, where)
            if resolved is not value:
                updates[name] = resolved
        return tree.model_copy(update=updates) if updates else tree
    if isinstance(tree, dict):
        changed, resolved_items = False, {}
        for key, value in tree.items():
            if type(value) in SCALARS:
                new = value
            else:
                where = f"{path}.{key}" if path else str(key)
                new = picker(value, where) if type(value) is Range else resolve(value, picker, where)
            changed = changed or new is not value
            resolved_items[key] = new
        return resolved_items if changed else tree  # type: ignore[return-value]
    if isinstance(tree, list):
        resolved_list = [resolve(value, picker, f"{path}.{i}" if path else str(i)) for i, value in enumerate(tree)]
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
