"""Pilot logs and what calibration derives from them (issue 23, item 1): every figure below is
worked out by hand in its comment from the rows the test writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ftcost_helpers.engine import calibration as cal
from ftcost_helpers.engine.readers import ParamsError
from ftcost_helpers.engine.readers.pilot_logs import read_pilot_log

CONFIG = cal.PilotConfig("Qwen/Qwen2.5-7B", "h100_sxm", 8, 4, 4096, "lora", 1)
TOKENS_PER_STEP = 4 * 4096 * 8  # micro-batch × sequence × GPUs = 131,072

# Ten rows logged every 5 steps. The first (steps 0–5) begins before the warm-up ends
# (max(5, ⌈10 % × 50⌉) = 5) and is set aside; the nine others take these seconds a step:
PER_STEP = [2.0, 2.2, 1.9, 2.1, 2.05, 2.3, 1.95, 2.15, 2.0]


def plain_csv(
    tmp_path: Path, rows: list[str], name: str = "pilot.csv", header: str = "step,seconds,tokens,peak_memory_gb"
):
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def ten_rows() -> list[str]:
    rows = [f"5,60,{5 * TOKENS_PER_STEP},30.1"]  # 60 s of start-up and warm-up
    for i, seconds in enumerate(PER_STEP, start=2):
        rows.append(f"{5 * i},{5 * seconds:g},{5 * TOKENS_PER_STEP},{31 + i / 10:.1f}")
    return rows


def test_warmup_and_the_shortest_log():
    # 10 % of the steps, at least 5, rounded up: 50 → 5, 51 → ⌈5.1⌉ = 6, 200 → 20.
    assert (cal.warmup_steps(50), cal.warmup_steps(51), cal.warmup_steps(200)) == (5, 6, 20)
    # 25 steps less 5 warm-up leave the 20 timed steps needed; 24 less 5 leave 19.
    assert cal.steps_needed() == 25


def test_ten_row_plain_csv_median_and_spread(tmp_path):
    log = read_pilot_log(plain_csv(tmp_path, ten_rows()))
    assert log.format == "plain_csv" and log.steps == 50
    m = cal.measure(log, CONFIG, TOKENS_PER_STEP)
    # Sorted: 1.9, 1.95, 2.0, 2.0, 2.05, 2.1, 2.15, 2.2, 2.3, each interval 5 steps (45 in all).
    # Median: the first whose cumulative steps reach 22.5 → 5, 10, 15, 20, 25: the fifth, 2.05.
    # P10: 4.5 → the first, 1.9. P90: 40.5 → past 40, the ninth, 2.3.
    assert m.step_seconds == pytest.approx((1.9, 2.05, 2.3))
    assert (m.warmup_steps, m.timed_steps, m.mean_only) == (5, 45, False)
    # Tokens from the log: 9 rows × 5 × 131,072 over 45 steps = 131,072 a step;
    # 131,072 ÷ 2.05 s = 63,937.56 tokens/s.
    assert m.tokens_from_log and m.tokens_per_step == pytest.approx(131_072)
    assert m.tokens_per_second == pytest.approx(63_937.56, rel=1e-6)
    # Peak memory: the largest of the column, 31 + 10/10 = 32.0 GB.
    assert m.peak_memory_gb == pytest.approx(32.0)


def test_weighted_percentile_counts_steps_not_rows():
    # 1.0 s over 1 step and 3.0 s over 9: 10 steps, the median (5 steps) lies in the second.
    assert cal.weighted_percentile(np.array([1.0, 3.0]), np.array([1.0, 9.0]), 50.0) == 3.0
    # Its P10 (1 step) is reached by the first interval alone.
    assert cal.weighted_percentile(np.array([3.0, 1.0]), np.array([9.0, 1.0]), 10.0) == 1.0


def test_too_short_a_log_says_how_many_steps_it_needs(tmp_path):
    rows = [f"{s},2.0,{TOKENS_PER_STEP},30" for s in range(1, 21)]
    log = read_pilot_log(plain_csv(tmp_path, rows))
    with pytest.raises(cal.CalibrationError, match=r"has 20 steps; calibration needs at least 25 \(5 warm-up"):
        cal.measure(log, CONFIG, TOKENS_PER_STEP)


def trainer_state(path: Path, steps: int = 100, runtime: float | None = 250.0, tokens: bool = True) -> Path:
    history = [{"step": s, "loss": 1.5, "learning_rate": 1e-4} for s in range(10, steps + 1, 10)]
    if tokens:
        history[-1]["num_input_tokens_seen"] = steps * 16384
    if runtime is not None:
        history.append({"step": steps, "train_runtime": runtime, "train_steps_per_second": steps / runtime})
    state = {"global_step": steps, "train_batch_size": 4, "log_history": history}
    path.write_text(json.dumps(state), encoding="utf-8")
    return path


def test_trainer_state_gives_one_mean(tmp_path):
    log = read_pilot_log(trainer_state(tmp_path / "trainer_state.json"))
    assert log.mean_only and log.says == {"micro_batch_size": 4}
    m = cal.measure(log, CONFIG, TOKENS_PER_STEP)
    # 250 s over 100 steps = 2.5 s a step, no spread; tokens 100 × 16,384 over 100 steps.
    assert m.step_seconds == (2.5, 2.5, 2.5) and m.mean_only
    assert m.tokens_per_step == pytest.approx(16_384) and m.tokens_from_log
    assert (m.warmup_steps, m.timed_steps) == (0, 100)


def test_an_unfinished_or_truncated_trainer_state_is_refused(tmp_path):
    with pytest.raises(ParamsError, match="did not finish, or the file is truncated"):
        read_pilot_log(trainer_state(tmp_path / "a.json", runtime=None))
    cut = tmp_path / "b.json"
    cut.write_text(trainer_state(tmp_path / "c.json").read_text()[:-40], encoding="utf-8")
    with pytest.raises(ParamsError, match="not valid JSON"):
        read_pilot_log(cut)


def test_wandb_export_times_from_runtime(tmp_path):
    # _runtime since the run began at each logged step; the first interval (model loading)
    # starts at step 0 and is set aside with the warm-up (max(5, ⌈3⌉) = 5 steps).
    rows = ["_step,_runtime,train/global_step,train/loss"]
    elapsed = 40.0
    for i, step in enumerate(range(10, 31, 1)):
        elapsed += 30.0 if i == 0 else 2.0 + (0.1 if step % 2 else 0.0)
        rows.append(f"{i},{elapsed},{step},1.2")
        if step % 10 == 0:  # an evaluation logged at the same step, 15 s later: not a step of its own
            rows.append(f"{i},{elapsed + 15.0},{step},")
    path = tmp_path / "wandb.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    log = read_pilot_log(path)
    assert log.format == "wandb_csv" and log.steps == 30
    m = cal.measure(log, CONFIG, TOKENS_PER_STEP)
    # Steps 11–30, one a row: 2.1 s at odd steps (10 of them), 2.0 s at even ones (10).
    # 20 steps: P10 (2) and median (10) are 2.0, P90 (18) is 2.1.
    assert m.step_seconds == pytest.approx((2.0, 2.0, 2.1))


def test_lightning_metrics_csv(tmp_path):
    # CSVLogger leaves cells empty where a metric was not logged on that row.
    rows = ["epoch,step,train/time,train_loss"]
    for step in range(1, 41):
        rows.append(f"0,{step},{3.0 * step},")
        rows.append(f"0,{step},,1.1")
    path = tmp_path / "metrics.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    m = cal.measure(read_pilot_log(path), CONFIG, TOKENS_PER_STEP)
    # train/time rises 3 s a step: every timed step takes 3.0 s.
    assert m.step_seconds == pytest.approx((3.0, 3.0, 3.0))


def test_torchtune_tokens_per_second_per_gpu(tmp_path):
    rows = ["step,loss,lr,tokens_per_second_per_gpu,peak_memory_alloc"]
    rows += [f"{s},1.0,0.0001,{8192 if s > 5 else 1000},{20 + s / 100:.2f}" for s in range(1, 31)]
    path = tmp_path / "torchtune.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    m = cal.measure(read_pilot_log(path), CONFIG, TOKENS_PER_STEP)
    # 131,072 tokens a step ÷ (8,192 tokens/s per GPU × 8 GPUs) = 2.0 s a step.
    assert m.step_seconds == pytest.approx((2.0, 2.0, 2.0))
    assert m.peak_memory_gb == pytest.approx(20.30)


@pytest.mark.parametrize(
    ("rows", "header", "problem"),
    [
        (["10,2.0,1,1", "20,2.0"], "step,seconds,tokens,peak_memory_gb", "has 2 of the header's 4 columns"),
        (["10,2.0", "5,2.0"], "step,seconds", "steps must rise row by row; 5 follows 10"),
        (["10,2.0", "10,2.0"], "step,seconds", "steps must rise row by row; 10 follows 10"),
        (["10.5,2.0"], "step,seconds", "10.5 is not a whole step"),
        (["10,two"], "step,seconds", "expected a number, got 'two'"),
        (["10,nan"], "step,seconds", "expected a finite number"),
        (["10,2.0"], "iteration,duration", "match no log ftcost reads"),
    ],
)
def test_malformed_csv_logs_are_one_line_each(tmp_path, rows, header, problem):
    with pytest.raises(ParamsError, match=problem) as caught:
        read_pilot_log(plain_csv(tmp_path, rows, header=header))
    assert len(caught.value.lines()) == 1


def test_transfer_widening_rule():
    # One step: 7.8 %; two: 1.078² − 1 = 0.162084.
    assert cal.transfer_widening(1) == pytest.approx(0.078)
    assert cal.transfer_widening(2) == pytest.approx(0.162084)


def test_solve_utilisation_inverts_the_time_curve():
    # A time curve of 1 ÷ u: 2.5 s is reached at u = 0.4 (linear between grid points, so
    # within the grid's spacing, about 0.3 %).
    grid = 1.0 / cal.UTILISATION_GRID
    assert cal.solve_utilisation(grid, 2.5) == pytest.approx(0.4, rel=3e-3)
    assert cal.solve_utilisation(grid, 0.5) is None  # faster than at 100 %


def test_memory_ratio_and_another_models_memory():
    # 33.0 GB measured ÷ 31.4 GB estimated = 1.0510.
    assert cal.memory_ratio(33.0, 31.4, "log") == pytest.approx(1.05096, rel=1e-4)
    assert cal.memory_ratio(None, 31.4, "log") == 1.0
    with pytest.raises(cal.CalibrationError, match="another model or configuration"):
        cal.memory_ratio(120.0, 31.4, "log")  # 3.8×


def test_the_solved_utilisation_reproduces_the_measured_step(tmp_path):
    from ftcost_helpers.engine.loading import load_price_book, project_root
    from ftcost_helpers.engine.overrides import load_plan
    from ftcost_helpers.engine.resolve import pick_base, resolve

    book = load_price_book()
    plan = load_plan(project_root() / "params" / "clients" / "example_a.yaml", book)
    log = read_pilot_log(plain_csv(tmp_path, [f"{s},2.5,{TOKENS_PER_STEP},31" for s in range(1, 41)]))
    result = cal.calibrate(plan, book, log, None, "the plan")
    # Every step 2.5 s: the engine at the middle of the band takes 2.5 s a step too.
    pilot = resolve(cal.pilot_plan(plan, CONFIG), pick_base)
    seconds, flops = cal.engine_step(
        pilot, resolve(book, pick_base, "pricebook"), TOKENS_PER_STEP, np.array([result.utilisation[1]])
    )
    assert float(seconds[0]) == pytest.approx(2.5, rel=1e-3)
    # MFU = the step's FLOPs ÷ (2.5 s × 8 GPUs × the H100's dense BF16 peak).
    peak = book.gpus["h100_sxm"].bf16_tflops * 1e12
    assert result.mfu == pytest.approx(flops / (2.5 * 8 * peak))
    # No spread and the plan's own configuration: k = 1, so the band is 2.5 ÷ 1.078 to
    # 2.5 × 1.078 seconds a step, and the full run's hours keep that ratio (1.078² apart).
    low, _, high = result.hours_per_run
    assert high / low == pytest.approx(1.078**2, rel=2e-3)


def test_same_model_names():
    assert cal.same_model("Qwen2.5-7B", "Qwen/Qwen2.5-7B") and cal.same_model("qwen/qwen2.5-7b", "Qwen/Qwen2.5-7B")
    assert not cal.same_model("Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-7B")
    assert not cal.same_model("other/Qwen2.5-7B", "Qwen/Qwen2.5-7B")  # two organisations: two models
