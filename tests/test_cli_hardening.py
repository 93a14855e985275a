"""The command line against a hostile user (issue 27, findings 3 and 6): ``init`` on a
missing, file or read-only ``params/clients``, names echoed short and without control
characters, a closed output pipe, accepted plans whose arithmetic overflows, and operating
system errors — each one clean line and a non-zero exit (or finite figures), never a
traceback. Each case runs the real command in a subprocess."""

from __future__ import annotations

import copy
import errno
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ftcost_helpers.cli import EXIT_CLOSED_PIPE, catalogues, main, non_finite_keys
from ftcost_helpers.engine.loading import project_root
from ftcost_helpers.report.messages import one_line

ROOT = project_root()
EXAMPLE_A = ROOT / "params" / "clients" / "example_a.yaml"


def ftcost(*args: str, env: dict[str, str] | None = None, **options) -> subprocess.CompletedProcess:
    """``python -m ftcost_helpers ARGS`` from the project root, its output captured as text."""
    options.setdefault("stdout", subprocess.PIPE)
    return subprocess.run(
        [sys.executable, "-m", "ftcost_helpers", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stderr=subprocess.PIPE,
        text=True,
        timeout=180,
        check=False,
        **options,
    )


def one_error_line(done: subprocess.CompletedProcess) -> str:
    """The single ``error:`` line of a refused command (exit 1, nothing else on stderr)."""
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1, (done.returncode, done.stderr)
    (line,) = done.stderr.splitlines()
    assert line.startswith("error: ")
    return line


# --------------------------------------------------------------------------- init


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of params/ without the client files; FTCOST_ROOT points init at it."""
    params = tmp_path / "params"
    shutil.copytree(ROOT / "params", params, ignore=shutil.ignore_patterns("clients"))
    return tmp_path


def init(project: Path, *args: str) -> subprocess.CompletedProcess:
    return ftcost("init", *args, env={"FTCOST_ROOT": str(project)})


def test_init_without_a_clients_folder_is_one_line(project: Path) -> None:
    line = one_error_line(init(project, "acme"))
    assert line == f"error: '{project / 'params' / 'clients'}': no such folder (init writes client files there; " + (
        "make it, or run init from the project)"
    )
    assert not (project / "params" / "clients").exists()


def test_init_when_clients_is_a_file_is_one_line(project: Path) -> None:
    clients = project / "params" / "clients"
    clients.write_bytes(b"not a folder\n")
    line = one_error_line(init(project, "acme"))
    assert line.startswith(f"error: '{clients}': is not a folder")
    assert clients.read_bytes() == b"not a folder\n"


@pytest.fixture
def read_only_clients(project: Path):
    """``params/clients`` that cannot be written: a read-only tmpfs for root (whom file modes
    do not stop), mode 0555 for anyone else."""
    clients = project / "params" / "clients"
    clients.mkdir()
    if os.geteuid() != 0:
        clients.chmod(0o555)
        yield clients
        clients.chmod(0o755)
        return
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(clients)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield clients
    subprocess.run(["umount", "-l", str(clients)], check=False)


def test_init_into_a_read_only_clients_folder_is_one_line(project: Path, read_only_clients: Path) -> None:
    line = one_error_line(init(project, "acme"))
    assert line == f"error: '{read_only_clients}': cannot write in this folder (read-only)"
    assert list(read_only_clients.iterdir()) == []


def test_init_echoes_a_long_name_cut_short(project: Path) -> None:
    (project / "params" / "clients").mkdir()
    line = one_error_line(init(project, "a" * 10_000))
    # The name is quoted: 10,000 letters and two quotes are 10,002 characters, cut to 60.
    assert line.endswith("got 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa… (10,002 characters)")
    assert len(line) < 200


@pytest.mark.parametrize("args", [("a\x1b[31mb",), ("acme", "--gpu", "h100\x1b]0;owned\x07"), ("a\nb",)])
def test_init_echoes_no_control_character(project: Path, args: tuple[str, ...]) -> None:
    (project / "params" / "clients").mkdir()
    line = one_error_line(init(project, *args))
    assert not re.search(r"[\x00-\x1f\x7f]", line), repr(line)
    assert "\\x1b" in line or "\\n" in line
    assert list((project / "params" / "clients").iterdir()) == []


# --------------------------------------------------------------------------- a closed pipe


def into_a_closed_pipe(*args: str) -> subprocess.CompletedProcess:
    """The command with its stdout a pipe nobody reads any more (its reader has exited)."""
    read, write = os.pipe()
    os.close(read)
    try:
        return ftcost(*args, stdout=write)
    finally:
        os.close(write)


@pytest.mark.parametrize("args", [("estimate", str(EXAMPLE_A)), ("estimate", str(EXAMPLE_A), "--json"), ("gpus",)])
def test_a_closed_pipe_ends_quietly_with_141(args: tuple[str, ...]) -> None:
    done = into_a_closed_pipe(*args)
    assert done.stderr == ""
    assert done.returncode == EXIT_CLOSED_PIPE == 128 + 13  # as if killed by SIGPIPE (13)


def test_estimate_into_head_says_nothing_on_stderr() -> None:
    """The issue's own case; whether the pipe is closed before the output is all written
    depends on timing, so both endings are accepted, but never a word on stderr."""
    command = f"{sys.executable} -m ftcost_helpers estimate {EXAMPLE_A} | head -1"
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=180, check=False
    )
    assert done.stderr == ""
    assert done.returncode in (0, EXIT_CLOSED_PIPE)
    assert done.stdout == "Headline, on the P50, the median of the simulated programmes:\n"


# --------------------------------------------------------------------------- overflowing plans


def plan_file(folder: Path, name: str, change) -> Path:
    """Example A, changed by ``change(data)``, written as ``folder/name.yaml``."""
    data = copy.deepcopy(yaml.safe_load(EXAMPLE_A.read_text(encoding="utf-8")))
    change(data)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def token_volumes(data: dict) -> None:
    """Price the alternative from token volumes instead of the bill (so serving is sized from them)."""
    data["alternative"]["api"].update(
        usd_per_month=None, input_tokens_million_per_month=500, output_tokens_million_per_month=100
    )


def own_gpu_with_infinite_memory(data: dict) -> None:
    data["training"].update(
        gpu={"label": "ours", "memory_gb": math.inf, "bf16_tflops": 1000, "memory_bandwidth_gbps": 3000},
        tier="local_owned",
        rate_usd_per_gpu_hour=2,
    )
    del data["scenarios"]  # they swap the GPU's tier for ones an own GPU has no price on


TINY = 5e-324
"""The smallest positive double (subnormal): 1 ÷ it overflows to infinity."""

OVERFLOWING = {
    "utilisation": lambda d: d["training"].update(utilisation=TINY),
    "padding_efficiency": lambda d: d["training"].update(padding_efficiency=TINY),
    "tokens_per_second": lambda d: (token_volumes(d), d["serving"].update(tokens_per_second=TINY)),
    "hours_per_month_zero": lambda d: (token_volumes(d), d["serving"].update(hours_per_month=0)),
    "own_gpu_infinite_memory": own_gpu_with_infinite_memory,
}


def no_infinity(constant: str) -> None:
    raise AssertionError(f"JSON output holds {constant}")


@pytest.mark.parametrize("output", ["table", "json"])
@pytest.mark.parametrize("case", sorted(OVERFLOWING))
def test_an_overflowing_plan_is_one_line_or_finite_figures(tmp_path: Path, case: str, output: str) -> None:
    """Each of these plans passed validation and crashed ``estimate`` on main. Either the
    schema refuses it (one line naming the file) or the CLI does (one line naming the file)
    or the figures are finite — never a traceback, never Infinity or NaN."""
    path = plan_file(tmp_path, case, OVERFLOWING[case])
    done = ftcost("estimate", str(path), *(["--json"] if output == "json" else []))
    assert "Traceback" not in done.stderr
    if done.returncode == 0:
        assert done.stderr == ""
        if output == "json":
            json.loads(done.stdout, parse_constant=no_infinity)
        else:
            assert not re.search(r"\b(inf|nan)\b", done.stdout, re.IGNORECASE)
    else:
        line = one_error_line(done)
        assert str(path) in line


def test_a_non_finite_figure_is_named_by_its_key(tmp_path: Path) -> None:
    path = plan_file(tmp_path, "infinite", own_gpu_with_infinite_memory)
    line = one_error_line(ftcost("estimate", str(path), "--json"))
    # refused where it is read (the strict schema): the file and the key, before any figure
    assert line.startswith(f"error: {path}: training.gpu.memory_gb")
    assert "finite" in line


def test_non_finite_keys_are_found_at_any_depth() -> None:
    summary = {"a": {"b": [1.0, math.inf]}, "c": math.nan, "d": "inf", "e": 3, "f": -math.inf}
    assert non_finite_keys(summary) == ["a.b.1", "c", "f"]
    assert non_finite_keys({"fine": [1.0, {"x": 2.5}]}) == []


# --------------------------------------------------------------------------- other errors


def test_an_os_error_in_any_command_is_one_line_naming_the_path(monkeypatch, capsys) -> None:
    """The last-resort guard in main: an OSError no command caught is its path and reason."""

    def fails(args) -> int:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), "/srv/prices/\x1b[2Jbook.yaml")

    monkeypatch.setattr(catalogues, "_pricebook", fails)  # the command pricebook runs
    assert main(["pricebook"]) == 1
    captured = capsys.readouterr()
    assert captured.err == "error: '/srv/prices/\\x1b[2Jbook.yaml': Permission denied\n"


def test_one_line_escapes_control_characters_and_cuts_long_text() -> None:
    assert one_line("a\x1b[31m\nb\tc") == "a\\x1b[31m\\nb\\tc"
    assert one_line("é ünïcode stays") == "é ünïcode stays"
    # 3,000 characters cut to 2,000: 1,999 kept, the ellipsis, and the full length.
    cut = one_line("x" * 3_000)
    assert cut == "x" * 1_999 + "… (3,000 characters)"
