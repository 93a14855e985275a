"""The bounded reader every named file goes through (issue 27, What to build #1).

Regular files only (a folder, a FIFO, a device refused before they are read: on main a FIFO
as ``config_json`` or ``--rates`` blocked for ever and ``config_json: /dev/zero`` read until
memory ran out), at most the cap (a 200 MB config.json was read whole), JSON bounded in depth
and numbers, each refusal one line naming the file that was named, the key and the problem.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from ftcost_helpers.cli import main
from ftcost_helpers.engine.loading import read_yaml
from ftcost_helpers.engine.readers import (
    MAX_FILE_BYTES,
    MAX_JSON_DEPTH,
    MAX_NUMBER_CHARACTERS,
    ParamsError,
    read_bytes,
    read_json,
    read_json_object,
    read_text,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_A = ROOT / "params" / "clients" / "example_a.yaml"
LLAMA_8B = json.loads(
    (Path(__file__).parent / "fixtures" / "configs" / "llama-3.1-8b.json").read_text(encoding="utf-8")
)
"""Llama-3.1-8B's config.json (tests/fixtures/configs)."""
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")


def client_naming(tmp_path: Path, config_json: object) -> Path:
    """Example A (no scenarios) whose base model comes from ``config_json``."""
    data = read_yaml(EXAMPLE_A)
    data.pop("scenarios")
    data["base_model"] = {"name": "our-llama", "config_json": config_json}
    path = tmp_path / "client.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def one_line(capsys, argv: list[str], named: Path | str, *fragments: str) -> str:
    """The CLI exits 1 with one ``error:`` line that names ``named`` first, then the fragments."""
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err[:2000]
    assert lines[0].startswith(f"error: {named}: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def run_cli(*argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The CLI in a child process: a reader that blocked would hit ``timeout`` (and fail)."""
    return subprocess.run(
        [sys.executable, "-m", "ftcost_helpers", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


# --------------------------------------------------------------------------- regular files only


def test_a_folder_is_refused(tmp_path) -> None:
    with pytest.raises(ParamsError, match="is a folder, not a file"):
        read_bytes(tmp_path, 100)


def test_a_device_is_refused_unread() -> None:
    with pytest.raises(ParamsError, match="is a device, not a file"):
        read_bytes("/dev/zero", 100)


@needs_fifo
def test_a_fifo_is_refused_without_blocking(tmp_path) -> None:
    """No writer ever opens this FIFO: opening it for reading without O_NONBLOCK, or reading
    it, would block; the reader refuses it from its stat alone."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(ParamsError, match=r"is a pipe \(FIFO\), not a file"):
        read_bytes(fifo, 100, "base_model.config_json")
    assert time.monotonic() - started < 5


def test_a_missing_file_and_a_nul_in_the_name(tmp_path) -> None:
    with pytest.raises(ParamsError, match="file not found"):
        read_bytes(tmp_path / "none.json", 100)
    with pytest.raises(ParamsError, match="NUL character"):
        read_bytes(str(tmp_path / "a\0b"), 100)


def test_a_symlink_to_a_regular_file_is_read(tmp_path) -> None:
    target = tmp_path / "real.json"
    target.write_text("{}", encoding="utf-8")
    (tmp_path / "link.json").symlink_to(target)
    assert read_json(tmp_path / "link.json", 100) == {}


# --------------------------------------------------------------------------- the cap


def test_the_cap_is_inclusive(tmp_path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10)
    assert read_bytes(path, 10) == b"x" * 10
    with pytest.raises(ParamsError, match="larger than 9 bytes: refused unread"):
        read_bytes(path, 9)


def test_a_huge_sparse_file_is_refused_from_its_size(tmp_path) -> None:
    """200 MB (sparse: no disk used) is refused from fstat's size, before any read."""
    path = tmp_path / "config.json"
    with path.open("wb") as handle:
        handle.truncate(200_000_000)
    with pytest.raises(ParamsError, match="larger than 1 MB"):
        read_bytes(path, MAX_FILE_BYTES)


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="needs Linux /proc")
def test_a_file_whose_size_lies_is_still_read_only_to_the_cap() -> None:
    """/proc files are regular files of size 0 with content: the cap holds on what is read,
    not only on what stat says."""
    assert os.stat("/proc/self/status").st_size == 0
    with pytest.raises(ParamsError, match="larger than 10 bytes"):
        read_bytes("/proc/self/status", 10)


def test_text_must_be_utf8(tmp_path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"ok \xff")
    with pytest.raises(ParamsError, match=r"not UTF-8 text \(byte 3\)"):
        read_text(path, 100)


# --------------------------------------------------------------------------- JSON bounds


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def test_json_nesting_up_to_the_limit_is_read_and_one_more_is_refused(tmp_path) -> None:
    path = tmp_path / "deep.json"
    path.write_text(nested(MAX_JSON_DEPTH), encoding="utf-8")
    assert read_json(path, MAX_FILE_BYTES) is not None
    path.write_text(nested(MAX_JSON_DEPTH + 1), encoding="utf-8")
    with pytest.raises(ParamsError, match=f"nested more than {MAX_JSON_DEPTH} levels"):
        read_json(path, MAX_FILE_BYTES)


def test_brackets_inside_strings_do_not_count_as_nesting(tmp_path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"note": "[" * 100 + '\\"' + "{" * 100}), encoding="utf-8")
    assert read_json(path, MAX_FILE_BYTES)["note"].startswith("[[[")


def test_numbers_up_to_the_limit_are_read(tmp_path) -> None:
    path = tmp_path / "n.json"
    digits = "9" * MAX_NUMBER_CHARACTERS
    path.write_text(f'{{"a": {digits}, "b": 1e308, "c": -2.5}}', encoding="utf-8")
    assert read_json(path, MAX_FILE_BYTES) == {"a": int(digits), "b": 1e308, "c": -2.5}


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ('{"a": {"b": [1, ' + "1" * 5000 + "]}}", "a.b.1", "a number of 5,000 characters"),
        ('{"a": ' + "9" * (MAX_NUMBER_CHARACTERS + 1) + "}", "a", f"more than {MAX_NUMBER_CHARACTERS}"),
        ('{"x": Infinity}', "x", "Infinity is not a number JSON allows"),
        ('{"x": -Infinity}', "x", "-Infinity is not a number JSON allows"),
        ('{"x": NaN}', "x", "NaN is not a number JSON allows"),
        ('{"x": 1e400}', "x", "1e400 is too large for a number"),
    ],
)
def test_a_refused_number_names_its_key(tmp_path, text: str, key: str, problem: str) -> None:
    path = tmp_path / "n.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ParamsError) as caught:
        read_json(path, MAX_FILE_BYTES)
    assert (caught.value.file, caught.value.key) == (str(path), key)
    assert problem in caught.value.problem


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[1, 2]", "expected a JSON object of settings, found a JSON list"),
        ('"text"', "found a JSON string"),
        ("", "the file is empty"),
        ('{"a": 1,}', "not valid JSON"),
    ],
)
def test_a_document_that_is_no_object_is_refused(tmp_path, text: str, problem: str) -> None:
    path = tmp_path / "c.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ParamsError, match=problem):
        read_json_object(path, MAX_FILE_BYTES, "base_model.config_json")


# --------------------------------------------------------------------------- through the CLI: config.json

HOSTILE_CONFIGS = [
    # (case, config.json text, the key the line names, words of the problem)
    ("a list", "[1, 2]", "base_model.config_json", "found a JSON list"),
    ("100,000 deep", nested(100_000), "base_model.config_json", "nested more than 32 levels"),
    ("5,000 digits", json.dumps(LLAMA_8B).replace("128256", "1" * 5000), "vocab_size", "5,000 characters"),
    ("Infinity", json.dumps(LLAMA_8B).replace("128256", "Infinity"), "vocab_size", "Infinity"),
    ("NaN", json.dumps(LLAMA_8B).replace("14336", "NaN"), "intermediate_size", "NaN"),
    ("zero heads", json.dumps({**LLAMA_8B, "num_attention_heads": 0}), "num_attention_heads", "at least 1"),
    ("empty", "", "base_model.config_json", "empty"),
    ("not JSON", "hidden_size: 4096", "base_model.config_json", "not valid JSON"),
]


@pytest.mark.parametrize(("case", "text", "key", "problem"), HOSTILE_CONFIGS, ids=[c[0] for c in HOSTILE_CONFIGS])
def test_a_hostile_config_json_is_one_line_naming_it(tmp_path, capsys, case, text, key, problem) -> None:
    config = tmp_path / "config.json"
    config.write_text(text, encoding="utf-8")
    one_line(capsys, ["validate", str(client_naming(tmp_path, "config.json"))], config, f"{key}: ", problem)


@pytest.mark.parametrize(
    ("value", "problem"),
    [("", "got an empty path"), (["config.json"], "got a list"), (12, "got a number")],
)
def test_a_config_json_that_is_no_path_names_the_client_file(tmp_path, capsys, value, problem) -> None:
    """On main an empty or list ``config_json`` named the folder or "['config.json']"."""
    path = client_naming(tmp_path, value)
    one_line(
        capsys, ["validate", str(path)], path, "base_model.config_json: must be the path of a config.json", problem
    )


def test_a_device_as_config_json(tmp_path, capsys) -> None:
    one_line(capsys, ["validate", str(client_naming(tmp_path, "/dev/zero"))], "/dev/zero", "is a device")


def test_a_folder_as_config_json(tmp_path, capsys) -> None:
    (tmp_path / "models").mkdir()
    path = client_naming(tmp_path, "models")
    one_line(capsys, ["validate", str(path)], tmp_path / "models", "base_model.config_json: is a folder")


def test_a_200_mb_config_json_is_refused_unread(tmp_path, capsys) -> None:
    config = tmp_path / "config.json"
    with config.open("wb") as handle:
        handle.truncate(200_000_000)
    one_line(capsys, ["validate", str(client_naming(tmp_path, "config.json"))], config, "larger than 1 MB")


@needs_fifo
def test_a_fifo_as_config_json_does_not_block(tmp_path) -> None:
    os.mkfifo(tmp_path / "config.json")
    done = run_cli("validate", str(client_naming(tmp_path, "config.json")))
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"error: {tmp_path / 'config.json'}: base_model.config_json: is a pipe (FIFO), not a file: refused unread"
    )


# --------------------------------------------------------------------------- through the CLI: YAML and overlays


@needs_fifo
@pytest.mark.parametrize("option", ["--rates", "--price-book"])
def test_a_fifo_as_an_overlay_or_price_book_does_not_block(tmp_path, option: str) -> None:
    os.mkfifo(tmp_path / "rates.yaml")
    done = run_cli("validate", str(EXAMPLE_A), option, str(tmp_path / "rates.yaml"))
    assert done.returncode == 1
    assert done.stderr.strip() == f"error: {tmp_path / 'rates.yaml'}: is a pipe (FIFO), not a file: refused unread"


@needs_fifo
def test_a_fifo_as_the_client_file_does_not_block(tmp_path) -> None:
    os.mkfifo(tmp_path / "client.yaml")
    done = run_cli("validate", str(tmp_path / "client.yaml"))
    assert done.returncode == 1 and "is a pipe (FIFO)" in done.stderr


def test_an_overlay_over_the_cap_is_refused_unread(tmp_path, capsys) -> None:
    overlay = tmp_path / "rates.yaml"
    with overlay.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    one_line(capsys, ["validate", str(EXAMPLE_A), "--rates", str(overlay)], overlay, "larger than 1 MB")


def test_a_folder_as_the_client_file(tmp_path, capsys) -> None:
    one_line(capsys, ["validate", str(tmp_path)], tmp_path, "is a folder, not a file")
