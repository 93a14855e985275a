"""Training logs of a pilot run, read into timed intervals (issue 23's ``calibrate``).

Formats, each by the names its tool writes:

* **Hugging Face Trainer** ``trainer_state.json`` (TRL and axolotl train through it):
  ``global_step``, ``train_batch_size`` (the per-device micro-batch) and ``log_history``,
  whose last entry of a finished run holds ``train_runtime`` (seconds of the whole loop,
  warm-up, evaluation and checkpoint saves included), ``train_samples_per_second``,
  ``train_steps_per_second`` and ``total_flos`` (``transformers`` ``trainer_utils.speed_metrics``
  and ``Trainer._inner_training_loop``). ``log_history`` entries carry ``step``, ``loss`` and
  ``learning_rate`` but no time, so this format gives one mean over the run and no spread.
  Tokens come from ``num_input_tokens_seen`` (``include_num_input_tokens_seen``) or TRL's
  ``num_tokens``, both counts since the start.
* **Plain CSV** ``step, seconds, tokens, peak_memory_gb``: one row per logged step;
  ``seconds`` and ``tokens`` since the previous row (the first row: since training began),
  ``peak_memory_gb`` the peak allocated so far (``torch.cuda.max_memory_allocated`` ÷ 10⁹);
  ``tokens`` and ``peak_memory_gb`` may be left out.
* **W&B run CSV export** (the run's history): ``_runtime`` (seconds since the run began) with
  ``train/global_step`` (the Trainer's step, as ``WandbCallback`` logs it) or ``_step``;
  ``train/num_input_tokens_seen`` or ``train/num_tokens`` when logged.
* **Lightning** ``CSVLogger`` ``metrics.csv`` with ``ThroughputMonitor``: ``step`` and
  ``train/time`` (seconds elapsed since the first batch).
* **torchtune** metrics exported as CSV: ``step``, ``tokens_per_second_per_gpu`` (of that
  step) and ``peak_memory_alloc`` (GB, ÷ 10⁹, ``torchtune.training.get_memory_stats``).

Any CSV may open with ``# key: value`` lines saying what the pilot ran (``model``, ``gpu``,
``gpus``, ``micro_batch_size``, ``sequence_length``, ``method``, ``date``). Every refusal is one
:class:`ParamsError` naming the file, the row or key, and the problem.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ftcost_helpers.engine.readers.errors import ParamsError, json_kind, quoted
from ftcost_helpers.engine.readers.files import read_text
from ftcost_helpers.engine.readers.json_files import read_json_object

MAX_LOG_BYTES = 20_000_000
"""A pilot's log is kilobytes to a few megabytes; above 20 MB it is refused unread."""

MAX_ROWS = 200_000
"""Rows of a CSV log at most."""

CONFIG_KEYS = ("model", "gpu", "gpus", "micro_batch_size", "sequence_length", "method", "date")
"""What a log may say about the pilot's configuration (``# key: value`` lines of a CSV)."""

WHOLE_NUMBER_KEYS = ("gpus", "micro_batch_size", "sequence_length")


@dataclass(frozen=True)
class PilotLog:
    """A log as timed intervals: interval i ran steps ``start_steps[i]`` to ``end_steps[i]``
    in ``seconds[i]``, processing ``tokens[i]`` tokens over all GPUs (None: not logged)."""

    file: str
    format: str
    start_steps: np.ndarray
    end_steps: np.ndarray
    seconds: np.ndarray
    tokens: np.ndarray | None = None
    peak_memory_gb: float | None = None
    says: dict[str, Any] = field(default_factory=dict)
    """The configuration the log states (keys of :data:`CONFIG_KEYS`)."""
    tokens_per_second_per_gpu: np.ndarray | None = None
    """torchtune: each row's tokens/s per GPU; its step time needs the tokens per step."""

    @property
    def steps(self) -> int:
        """The last step the log reaches."""
        return int(self.end_steps[-1]) if self.end_steps.size else 0

    @property
    def mean_only(self) -> bool:
        """Whether the log gives one total time only (no per-interval spread)."""
        return self.format == "trainer_state"


def read_pilot_log(path: str | Path) -> PilotLog:
    """The pilot's log at ``path``: a ``.json`` file is a ``trainer_state.json``; any other
    is a CSV whose header says which tool wrote it."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        return _trainer_state(path)
    return _csv_log(path, read_text(path, MAX_LOG_BYTES, "--log"))


# --- trainer_state.json -------------------------------------------------------------------


def _number(path: Path, key: str, value: Any, whole: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParamsError(path, key, f"expected a number, found a JSON {json_kind(value)}")
    if not math.isfinite(value) or value < 0 or (whole and value != int(value)):
        kind = "a whole number" if whole else "a finite number"
        raise ParamsError(path, key, f"expected {kind} of at least 0, got {quoted(value)}")
    return float(value)


def _trainer_state(path: Path) -> PilotLog:
    state = read_json_object(path, MAX_LOG_BYTES, "--log")
    history = state.get("log_history")
    if not isinstance(history, list) or "global_step" not in state:
        raise ParamsError(
            path, "log_history", "not a Hugging Face trainer_state.json (it needs global_step and log_history)"
        )
    steps = _number(path, "global_step", state["global_step"], whole=True)
    final = [entry for entry in history if isinstance(entry, dict) and "train_runtime" in entry]
    if not final:
        raise ParamsError(
            path,
            "log_history",
            "no entry with train_runtime: the run did not finish, or the file is truncated "
            "(the Trainer writes it after the last step)",
        )
    runtime = _number(path, "log_history.train_runtime", final[-1]["train_runtime"])
    if runtime <= 0 or steps <= 0:
        raise ParamsError(path, "train_runtime", "a run of no steps or no time says nothing about step time")
    says: dict[str, Any] = {}
    if "train_batch_size" in state and state["train_batch_size"] is not None:
        says["micro_batch_size"] = int(_number(path, "train_batch_size", state["train_batch_size"], whole=True))
    tokens = None
    seen = [e for e in history if isinstance(e, dict) and ("num_input_tokens_seen" in e or "num_tokens" in e)]
    if seen:
        last = seen[-1]
        key = "num_input_tokens_seen" if "num_input_tokens_seen" in last else "num_tokens"
        count = _number(path, f"log_history.{key}", last[key])
        at = _number(path, "log_history.step", last.get("step", steps), whole=True)
        if at > 0 and count > 0:
            tokens = np.array([count * steps / at])  # the count at its step, carried to the last step
    return PilotLog(
        file=str(path),
        format="trainer_state",
        start_steps=np.array([0.0]),
        end_steps=np.array([steps]),
        seconds=np.array([runtime]),
        tokens=tokens,
        says=says,
    )


# --- CSV logs -----------------------------------------------------------------------------


def _config_lines(path: Path, lines: list[str]) -> tuple[dict[str, Any], int]:
    """The ``# key: value`` lines at the top of a CSV: (what they say, lines used)."""
    says: dict[str, Any] = {}
    used = 0
    for line in lines:
        if not line.startswith("#"):
            break
        used += 1
        key, colon, value = line[1:].partition(":")
        key, value = key.strip(), value.strip()
        if not colon or key not in CONFIG_KEYS:
            continue  # a comment (the example files say that they are examples)
        if key in WHOLE_NUMBER_KEYS:
            if not value.isdigit() or int(value) < 1:
                raise ParamsError(path, f"# {key}", f"expected a whole number of at least 1, got {quoted(value)}")
            says[key] = int(value)
        elif key == "date":
            try:
                says[key] = dt.date.fromisoformat(value)
            except ValueError:
                raise ParamsError(path, "# date", f"expected a date written YYYY-MM-DD, got {quoted(value)}") from None
        else:
            says[key] = value
    return says, used


def _detect(path: Path, columns: list[str]) -> str:
    have = set(columns)
    if {"step", "seconds"} <= have:
        return "plain_csv"
    if "_runtime" in have and ({"train/global_step", "_step"} & have):
        return "wandb_csv"
    if {"step", "train/time"} <= have:
        return "lightning_csv"
    if {"step", "tokens_per_second_per_gpu"} <= have:
        return "torchtune_csv"
    raise ParamsError(
        path,
        "header",
        f"columns {quoted(', '.join(columns), 120)} match no log ftcost reads: plain CSV (step, seconds, tokens, "
        "peak_memory_gb), W&B export (_runtime with train/global_step or _step), Lightning metrics.csv "
        "(step, train/time) or torchtune (step, tokens_per_second_per_gpu)",
    )


def _cell(path: Path, row: int, column: str, text: str) -> float | None:
    """A numeric cell (None when empty); NaN, infinity, negatives and words refused."""
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ParamsError(path, f"row {row}, {column}", f"expected a number, got {quoted(text)}") from None
    if not math.isfinite(value) or value < 0:
        raise ParamsError(path, f"row {row}, {column}", f"expected a finite number of at least 0, got {quoted(text)}")
    return value


def _table(path: Path, text: str) -> tuple[list[str], list[list[str]], dict[str, Any], int]:
    lines = text.splitlines()
    says, skipped = _config_lines(path, lines)
    body = lines[skipped:]
    if not body or not body[0].strip():
        raise ParamsError(path, "header", "no header row: the file is empty after its comments")
    reader = csv.reader(io.StringIO("\n".join(body)))
    try:
        header = [name.strip() for name in next(reader)]
        _detect(path, header)  # a file of another kind is named as such before its rows are read
        rows = []
        for number, row in enumerate(reader, start=2 + skipped):
            if len(rows) >= MAX_ROWS:
                raise ParamsError(path, "", f"more than {MAX_ROWS:,} rows: refused")
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise ParamsError(
                    path,
                    f"row {number}",
                    f"has {len(row)} of the header's {len(header)} columns: the file is malformed or truncated",
                )
            rows.append((number, row))
    except csv.Error as exc:
        raise ParamsError(path, "", f"not a readable CSV ({exc})") from None
    if len(set(header)) != len(header):
        raise ParamsError(path, "header", "a column is named twice")
    return header, rows, says, skipped


def _series(
    path: Path, header: list[str], rows: list, step_column: str, wanted: list[str], repeats: bool = False
) -> dict[str, np.ndarray]:
    """Rows with a step and every ``wanted`` column filled (Lightning and W&B leave cells
    empty where a metric was not logged), as arrays by column. ``repeats``: a row whose step
    repeats the one before is skipped (a W&B export logs evaluation and the run's summary at
    the step of the training row before them; the first row of a step is its training log)."""
    index = {name: header.index(name) for name in [step_column, *wanted]}
    kept: dict[str, list[float]] = {name: [] for name in index}
    for number, row in rows:
        values = {name: _cell(path, number, name, row[i]) for name, i in index.items()}
        if any(value is None for value in values.values()):
            continue
        if values[step_column] != round(values[step_column]):
            raise ParamsError(path, f"row {number}, {step_column}", f"{values[step_column]:g} is not a whole step")
        if repeats and kept[step_column] and values[step_column] == kept[step_column][-1]:
            continue
        for name, value in values.items():
            kept[name].append(value)
    steps = np.array(kept[step_column])
    drops = np.flatnonzero(np.diff(steps) <= 0)
    if drops.size:
        at = int(drops[0]) + 1
        raise ParamsError(
            path,
            step_column,
            f"steps must rise row by row; {steps[at]:g} follows {steps[at - 1]:g} "
            "(two runs in one file, or a malformed log)",
        )
    return {name: np.array(values) for name, values in kept.items()}


def _intervals(steps: np.ndarray) -> np.ndarray:
    """Each row's starting step: the previous row's step (0 for the first)."""
    return np.concatenate([[0.0], steps[:-1]]) if steps.size else steps


def _csv_log(path: Path, text: str) -> PilotLog:
    header, rows, says, _ = _table(path, text)
    kind = _detect(path, header)
    optional = [name for name in ("tokens", "peak_memory_gb") if name in header]
    if kind == "plain_csv":
        data = _series(path, header, rows, "step", ["seconds"])
        steps = data["step"]
        tokens = _series(path, header, rows, "step", ["tokens"])["tokens"] if "tokens" in optional else None
        if tokens is not None and tokens.size != steps.size:
            raise ParamsError(path, "tokens", "give tokens on every row, or leave the column out")
        memory = _peak(path, header, rows, "step", "peak_memory_gb") if "peak_memory_gb" in optional else None
        return PilotLog(str(path), kind, _intervals(steps), steps, data["seconds"], tokens, memory, says)
    if kind == "wandb_csv":
        step_column = "train/global_step" if "train/global_step" in header else "_step"
        data = _series(path, header, rows, step_column, ["_runtime"], repeats=True)
        steps, elapsed = data[step_column], data["_runtime"]
        token_column = next((c for c in ("train/num_input_tokens_seen", "train/num_tokens") if c in header), None)
        tokens = None
        if token_column is not None:
            seen = _series(path, header, rows, step_column, [token_column], repeats=True)
            if seen[step_column].size == steps.size:
                tokens = np.diff(np.concatenate([[0.0], seen[token_column]]))
        return PilotLog(
            str(path), kind, _intervals(steps), steps, _elapsed(path, elapsed, "_runtime"), tokens, None, says
        )
    if kind == "lightning_csv":
        data = _series(path, header, rows, "step", ["train/time"], repeats=True)
        steps = data["step"]
        return PilotLog(
            str(path),
            kind,
            _intervals(steps),
            steps,
            _elapsed(path, data["train/time"], "train/time"),
            None,
            None,
            says,
        )
    data = _series(path, header, rows, "step", ["tokens_per_second_per_gpu"])
    steps = data["step"]
    memory = _peak(path, header, rows, "step", "peak_memory_alloc") if "peak_memory_alloc" in header else None
    return PilotLog(
        str(path),
        kind,
        steps - 1.0,
        steps,
        np.full(steps.shape, np.nan),
        None,
        memory,
        says,
        tokens_per_second_per_gpu=data["tokens_per_second_per_gpu"],
    )


def _elapsed(path: Path, elapsed: np.ndarray, column: str) -> np.ndarray:
    """Seconds of each interval from a column of seconds since the start."""
    seconds = np.diff(np.concatenate([[0.0], elapsed]))
    if np.any(seconds < 0):
        raise ParamsError(path, column, "elapsed time goes backwards: two runs in one file, or a malformed log")
    return seconds


def _peak(path: Path, header: list[str], rows: list, step_column: str, column: str) -> float | None:
    values = _series(path, header, rows, step_column, [column])[column]
    return float(values.max()) if values.size else None
