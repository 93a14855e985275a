"""Client slugs: safe folder names that cannot escape the reports folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftcost_helpers.report.slug import MAX_LENGTH, SAFE, client_dir, slugify, source_id


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Example A: LoRA on Qwen2.5-7B, legal extraction", "example-a-lora-on-qwen2-5-7b-legal-extraction"),
        ("../../etc/passwd", "etc-passwd"),
        ("a/b\\c", "a-b-c"),
        ("..", "client"),
        ("", "client"),
        ("_failed", "failed"),
        (".staging-1-x", "staging-1-x"),
        ("Crème Brûlée GmbH", "creme-brulee-gmbh"),
        ('<script>alert("x")</script>', "script-alert-x-script"),
        ("日本語", "client"),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug
    assert SAFE.fullmatch(slugify(name))


def test_long_names_are_cut_at_a_hyphen() -> None:
    slug = slugify("word " * 40)
    assert len(slug) <= MAX_LENGTH
    assert slug.endswith("word")


def test_a_client_file_is_known_by_its_resolved_path(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    here = tmp_path / "a" / "acme.yaml"
    assert source_id(here) == source_id(tmp_path / "a" / ".." / "a" / "acme.yaml")
    assert source_id(here) != source_id(tmp_path / "acme.yaml")
    assert str(tmp_path) not in source_id(here) and len(source_id(here)) == 64


@pytest.mark.parametrize("bad", ["../x", "..", ".", "a/b", "_failed", ".staging-1-a", "", "A", "a--b"])
def test_client_dir_refuses_anything_but_a_plain_slug(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError):
        client_dir(tmp_path, bad)


def test_client_dir_is_a_direct_child(tmp_path: Path) -> None:
    assert client_dir(tmp_path, "acme-2") == (tmp_path / "acme-2").resolve()
