"""The price book documents its keys in comments (``#   key: what it means``); every key a
comment names exists in the file, so the documentation cannot drift from the data."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import yaml

from ftcost_helpers.engine.loading import project_root

PRICE_BOOK = project_root() / "params" / "pricebook.yaml"
DOCUMENTED_KEY = re.compile(r"^#\s{2,}([a-z][a-z0-9_]*(?:\s*/\s*[a-z][a-z0-9_]*)*):\s")


def keys(tree: Any) -> Iterator[str]:
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield str(key)
            yield from keys(value)
    elif isinstance(tree, list):
        for item in tree:
            yield from keys(item)


def documented_keys(text: str) -> list[str]:
    names = []
    for line in text.splitlines():
        match = DOCUMENTED_KEY.match(line)
        if match:
            names += [name.strip() for name in match.group(1).split("/")]
    return names


def test_the_comment_pattern_finds_documented_keys():
    text = "#   flops_per_param_token: FLOPs\n#   a_key / other_key: both\n# Training methods.\n"
    assert documented_keys(text) == ["flops_per_param_token", "a_key", "other_key"]


def test_every_key_the_price_book_documents_exists():
    text = PRICE_BOOK.read_text(encoding="utf-8")
    existing = set(keys(yaml.safe_load(text)))
    documented = documented_keys(text)
    assert documented, "the price book documents its keys"
    assert [name for name in documented if name not in existing] == []
