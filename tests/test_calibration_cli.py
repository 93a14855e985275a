"""``calibrate`` as a user runs it (issue 23, items 1 and 5) and the calibration block as the
engine uses it: the example pilot narrows example A's compute range and the re-estimate holds
the pilot-implied full-run time; every bad input is one line, exit 1, nothing written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from ftcost_helpers.cli import main
from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.loading import load_price_book, project_root
from ftcost_helpers.engine.overrides import load_plan
from ftcost_helpers.engine.schema import Calibration

ROOT = project_root()
EXAMPLE_A = ROOT / "params" / "clients" / "example_a.yaml"
EXAMPLES = ROOT / "params" / "examples"

BLOCK = {
    "date": "2026-11-28",
    "calibrated_on": "2026-12-07",
    "hours_per_million_tokens": {"low": 0.004381, "mode": 0.004755, "high": 0.005189},
    "utilisation": {"low": 0.343, "mode": 0.375, "high": 0.408},
    "memory_ratio": 1.05,
    "widening": 0.078,
    "calibrated_for": {
        "gpu": "h100_sxm",
        "gpus_per_run": 8,
        "sequence_length": 4096,
        "micro_batch_size": 4,
        "method": "lora",
    },
    "pilot": {
        "log": "pilot.csv",
        "log_format": "plain_csv",
        "steps": 200,
        "warmup_steps_set_aside": 20,
        "gpu": "h100_sxm",
        "gpus": 8,
        "micro_batch_size": 4,
        "sequence_length": 4096,
        "method": "lora",
        "step_seconds": {"low": 2.228, "base": 2.244, "high": 2.271},
        "tokens_per_second": 58420,
        "mfu": 0.363,
    },
    "before": {
        "hours_per_run": {"low": 6, "base": 6, "high": 6},
        "utilisation": {"low": 0.4, "base": 0.54, "high": 0.68},
        "training_runs_usd": {"low": 821.43, "base": 1150, "high": 1642.86},
    },
}


@pytest.fixture(scope="module")
def book():
    return load_price_book()


def with_block(plan, block=BLOCK):
    return plan.model_copy(update={"calibration": Calibration.model_validate(block)})


def test_the_engine_books_the_pilot_implied_hours(book):
    plan = with_block(load_plan(EXAMPLE_A, book))
    run = evaluate(plan, book)
    # Tokens a run: 14,000 pairs × 2,000 tokens × 3 epochs = 84 M; hours 0.004755 × 84 =
    # 0.39942 h; training runs 8 GPUs × 0.39942 h × 14 runs × USD 1.71131 = USD 76.556.
    assert float(run.compute.booked_gpu_hours_per_run) == pytest.approx(8 * 0.39942, rel=1e-6)
    assert float(run.lines[0].value) == pytest.approx(8 * 0.39942 * 14 * 1.71131, rel=1e-6)
    assert float(run.compute.utilisation) == pytest.approx(0.375)
    assert run.lines[0].source.startswith("hours from a 200-step pilot on 2026-11-28")


def test_memory_is_scaled_by_the_measured_ratio(book):
    plan = load_plan(EXAMPLE_A, book)
    before, after = evaluate(plan, book).compute, evaluate(with_block(plan), book).compute
    # Every tensor term × 1.05; the CUDA overhead is left as it is, so the live tensors are 1.05×.
    assert float(after.allocated_gb) == pytest.approx(1.05 * float(before.allocated_gb))
    assert after.memory_breakdown_gb["overhead"] == before.memory_breakdown_gb["overhead"]


def test_a_plan_that_changed_since_is_costed_uncalibrated(book):
    plan = load_plan(EXAMPLE_A, book)
    stale = {**BLOCK, "calibrated_for": {**BLOCK["calibrated_for"], "gpus_per_run": 4}}
    # 8 GPUs × 6 h × 14 runs × USD 1.71131 = USD 1,150 (the source's figure), as without a block.
    assert float(evaluate(with_block(plan, stale), book).lines[0].value) == pytest.approx(1150.0, abs=0.01)


def test_a_scenario_may_not_set_a_calibration(tmp_path, book):
    data = yaml.safe_load(EXAMPLE_A.read_text())
    data["scenarios"] = [{"name": "faked", "overrides": {"calibration": BLOCK}}]
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(Exception, match="a scenario cannot change calibration"):
        load_plan(path, book)


def run(capsys, *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_calibrate_example_a_narrows_compute_and_writes_the_plan(tmp_path, capsys, book):
    out = tmp_path / "a_calibrated.yaml"
    log = EXAMPLES / "pilot_steps.csv"
    status, text, err = run(capsys, "calibrate", str(EXAMPLE_A), "--log", str(log), "-o", str(out), "--json")
    assert status == 0, err
    report = json.loads(text)
    before, after = report["before"]["training_runs_usd"], report["after"]["training_runs_usd"]
    assert after["high"] - after["low"] < before["high"] - before["low"]
    assert report["measurement"]["warmup_steps_set_aside"] == 20  # 10 % of 200 steps
    written = out.read_text(encoding="utf-8")
    assert written.startswith("# Worked example A of 001_6c04196dc11ea2b6.txt")  # comments survive
    assert '# source: "8xH100 spot"' in written and "calibration:" in written
    calibrated = load_plan(out, book)
    assert calibrated.calibration.date.isoformat() == "2026-11-28"  # the CSV's # date: line
    # The re-estimate holds the pilot-implied full-run time: hours per run 84 M tokens ×
    # hours per million, the same figure --json gave for the full run.
    breakdown = estimate(calibrated, book)
    hours = float(breakdown.base.compute.booked_gpu_hours_per_run) / 8
    assert hours == pytest.approx(report["full_run"]["hours_per_run"]["base"], rel=2e-3)
    status, text, _ = run(capsys, "estimate", str(out))
    assert status == 0 and "Calibrated from a 200-step pilot on 2026-11-28: hours per run" in text
    status, text, _ = run(capsys, "estimate", str(out), "--json")
    summary = json.loads(text)["calibration"]
    assert summary["applied"] and summary["source"] == "from a 200-step pilot on 2026-11-28"
    assert summary["after"]["hours_per_run"]["base"] == pytest.approx(hours, rel=1e-3)


def test_a_pilot_on_fewer_gpus_widens_the_band(capsys):
    args = ["calibrate", str(EXAMPLE_A), "--log", str(EXAMPLES / "pilot_1gpu_trainer_state.json"), "--json"]
    status, text, err = run(capsys, *args, "--pilot", str(EXAMPLES / "pilot.yaml"))
    assert status == 0, err
    transfer = json.loads(text)["transfer"]
    # The pilot itself, GPUs 1 → 8, and a mean-only log: k = 3, w = 1.078³ − 1 = 0.252719.
    assert transfer["differences"] == [
        "the pilot itself (a full run is not the pilot)",
        "GPUs 1 → 8",
        "one mean over the log, no spread",
    ]
    assert transfer["widening"] == pytest.approx(0.2527, abs=1e-4)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


PILOT = "model: Qwen/Qwen2.5-7B\ngpu: h100_sxm\ngpus: 8\nmicro_batch_size: 4\nsequence_length: 4096\nmethod: lora\n"


@pytest.mark.parametrize(
    ("log", "pilot", "problem"),
    [
        ("truncated.json", None, "not valid JSON"),
        ("unfinished.json", None, "did not finish"),
        ("short.csv", None, "the log has 20 steps; calibration needs at least 25"),
        ("cut.csv", None, "has 2 of the header's 4 columns"),
        ("pilot_steps.csv", PILOT.replace("Qwen/Qwen2.5-7B", "meta-llama/Llama-3.1-8B"), "the log says Qwen"),
        (
            "pilot_trainer_state.json",
            PILOT.replace("Qwen/Qwen2.5-7B", "meta-llama/Llama-3.1-8B"),
            "the pilot ran meta-llama",
        ),
        (
            "pilot_trainer_state.json",
            PILOT.replace("h100_sxm", "a100_80gb"),
            "the pilot ran on a100_80gb, the plan trains on h100_sxm",
        ),
        ("pilot_trainer_state.json", PILOT.replace("gpus: 8", "gpus: 1"), "faster than the engine allows"),
        ("pilot_trainer_state.json", PILOT.replace("gpus: 8\n", ""), "gpus: not given"),
        ("pilot_trainer_state.json", PILOT + "nodes: 2\n", "nodes: Extra inputs are not permitted"),
        ("small_batch.json", None, "micro_batch_size: the log says 2, the plan's training has 4"),
        ("llama.csv", None, "the pilot ran meta-llama/Llama-3.1-8B, the plan fine-tunes Qwen/Qwen2.5-7B"),
        ("a100.csv", None, "the pilot ran on a100_80gb, the plan trains on h100_sxm"),
        ("big_memory.csv", None, "the log looks like another model or configuration"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, log, pilot, problem):
    state = json.loads((EXAMPLES / "pilot_trainer_state.json").read_text())
    text = json.dumps(state)
    steady = "step,seconds\n" + "".join(f"{s},2.2\n" for s in range(1, 41))
    logs = {
        "truncated.json": text[: len(text) // 2],
        "unfinished.json": json.dumps({**state, "log_history": state["log_history"][:-1]}),
        "small_batch.json": json.dumps({**state, "train_batch_size": 2}),
        "short.csv": "step,seconds,tokens,peak_memory_gb\n" + "".join(f"{s},2.2,131072,33\n" for s in range(1, 21)),
        "cut.csv": "step,seconds,tokens,peak_memory_gb\n10,22.1,1310720,33.1\n20,22",
        "llama.csv": "# model: meta-llama/Llama-3.1-8B\n" + steady,
        "a100.csv": "# gpu: a100_80gb\n" + steady,
        # 140 GB against the pilot's 41.4 GB estimated: 3.4×, beyond the 3× a log may differ by
        "big_memory.csv": "step,seconds,tokens,peak_memory_gb\n"
        + "".join(f"{s},2.2,131072,140\n" for s in range(1, 41)),
    }
    path = write(tmp_path, log, logs[log]) if log in logs else EXAMPLES / log
    args = ["calibrate", str(EXAMPLE_A), "--log", str(path), "-o", str(tmp_path / "out.yaml")]
    if pilot is not None:
        args += ["--pilot", str(write(tmp_path, "pilot.yaml", pilot))]
    status, out, err = run(capsys, *args)
    assert status == 1 and out == ""
    assert problem in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "out.yaml").exists()
    assert not list(tmp_path.glob(".calibrate-*"))


def test_help(capsys):
    with pytest.raises(SystemExit) as done:
        main(["calibrate", "--help"])
    assert done.value.code == 0
    assert "warm-up" in capsys.readouterr().out


def test_examples_say_they_are_examples():
    for path in sorted(EXAMPLES.iterdir()):
        assert "EXAMPLE ONLY" in path.read_text(encoding="utf-8")[:400], path.name


def test_recalibrating_replaces_the_block(tmp_path, capsys, book):
    first = tmp_path / "a.yaml"
    shutil.copy(EXAMPLE_A, first)
    log = str(EXAMPLES / "pilot_steps.csv")
    assert run(capsys, "calibrate", str(first), "--log", log, "-o", str(first))[0] == 0
    assert run(capsys, "calibrate", str(first), "--log", log, "-o", str(first))[0] == 0
    text = first.read_text(encoding="utf-8")
    assert text.count("calibration:") == 1 and text.count("Written by `calibrate`") == 1
    assert np.isclose(float(load_plan(first, book).calibration.memory_ratio), 1.05)


def test_the_workings_show_the_pilot_hours_with_their_source(book):
    from ftcost_helpers.report.workings import plan_workings

    hours = plan_workings(with_block(load_plan(EXAMPLE_A, book)), book).inputs["training.hours_per_run"]
    # 84 M tokens × 0.004381 / 0.004755 / 0.005189 h per million = 0.368 / 0.39942 / 0.43588 h.
    assert (hours.low, hours.value, hours.high) == pytest.approx((0.368004, 0.39942, 0.435876))
    assert hours.source == "a 200-step pilot on 2026-11-28"


def test_validate_notes_a_calibration_that_no_longer_applies(tmp_path, capsys):
    data = yaml.safe_load(EXAMPLE_A.read_text())
    stale = {**BLOCK, "calibrated_for": {**BLOCK["calibrated_for"], "gpus_per_run": 4}}
    path = write(tmp_path, "stale.yaml", yaml.safe_dump({**data, "calibration": stale}))
    status, out, err = run(capsys, "validate", str(path))
    assert status == 0 and out.startswith("ok:")
    assert "calibration: not applied, made for training.gpus_per_run 4, the plan has 8" in err


def test_the_document_and_workbook_say_where_the_hours_are_calibrated(tmp_path, book):
    import datetime as dt

    import openpyxl

    from ftcost_helpers.report.document import client_document
    from ftcost_helpers.report.excel import write_workbook
    from ftcost_helpers.report.figures import client_figures

    data = yaml.safe_load(EXAMPLE_A.read_text())
    path = write(tmp_path, "calibrated.yaml", yaml.safe_dump({**data, "calibration": BLOCK}))
    figures = client_figures(path, book, dt.date(2026, 12, 7), "2026-12-07T00:00:00")
    sentence = "Calibrated from a 200-step pilot on 2026-11-28: hours per run 0.37–0.44 h (before 6 h)"
    assert sentence in client_document(figures)
    write_workbook(tmp_path / "book.xlsx", figures)
    texts = [
        cell
        for sheet in openpyxl.load_workbook(tmp_path / "book.xlsx")
        for row in sheet.iter_rows(values_only=True)
        for cell in row
        if isinstance(cell, str)
    ]
    assert any(text.startswith(sentence) for text in texts)
    assert "Hours per run (from the pilot)" in texts


@pytest.mark.parametrize(
    ("log", "log_format"),
    [
        ("pilot_trainer_state.json", "trainer_state"),
        ("pilot_steps.csv", "plain_csv"),
        ("pilot_wandb_export.csv", "wandb_csv"),
        ("pilot_lightning_metrics.csv", "lightning_csv"),
        ("pilot_torchtune.csv", "torchtune_csv"),
    ],
)
def test_every_example_log_calibrates_example_a(capsys, log, log_format):
    status, text, err = run(capsys, "calibrate", str(EXAMPLE_A), "--log", str(EXAMPLES / log), "--json")
    assert status == 0, err
    report = json.loads(text)
    assert report["log_format"] == log_format
    # The examples were made up at about 2.25 s a step of 131,072 tokens on 8 × H100.
    assert report["measurement"]["step_seconds"]["p50"] == pytest.approx(2.25, rel=0.05)
    assert report["after"]["hours_per_run"]["high"] < report["before"]["hours_per_run"]["low"]
