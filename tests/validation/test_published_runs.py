"""The engine against published measurements of real runs, with the bounds docs/accuracy.md
states. Run the table with ``python tools/accuracy.py``.

Two tables: the first 33 rows (tests/validation/published_runs.yaml), whose bounds were set
with them and are unchanged; and the asserted table they are part of, which adds every
candidate row the engine can express (candidate_runs.yaml, normalised by candidates.py). On
the wide table the test asserts what is true today: counts that hold, the rows that miss
listed by name with the reason, so a new miss fails and a fixed one is seen; no row is
dropped to pass. The leave-one-source-out errors (loso.py) are asserted against issue 22's
targets where they hold, and against today's figure where they do not."""

from __future__ import annotations

import re

import pytest

from ftcost_helpers.engine.loading import project_root

from .loso import median_absolute
from .runs import Outcome, load_rows, outcomes, pair_ratios, published_rows

MEMORY_WITHIN = 0.15
MEMORY_SHARE_WITHIN = 0.80
MEMORY_WORST = 0.30
TIME_SHARE_INSIDE_BAND = 0.90
BAND_WIDEST = 2.5
TIME_MEDIAN_ERROR = 0.15
RATIO_WITHIN = 0.25


@pytest.fixture(scope="module")
def every_row():
    return outcomes()


@pytest.fixture(scope="module")
def results(every_row):
    """The first table's rows (published_runs.yaml)."""
    first = {row["id"] for row in published_rows()}
    return [r for r in every_row if r.id in first]


def test_the_table_has_twenty_sourced_rows():
    rows = load_rows()
    assert len(rows) >= 20
    for row in rows:
        source = row["source"]
        assert source["document"] and source["table"] and source["figure"], row["id"]
        assert row["measured"], row["id"]
    assert len({row["id"] for row in rows}) == len(rows)


def test_peak_memory(results):
    errors = [abs(r.memory_error) for r in results if r.memory_error is not None]
    assert len(errors) >= 20
    assert sum(e <= MEMORY_WITHIN for e in errors) / len(errors) >= MEMORY_SHARE_WITHIN
    assert max(errors) <= MEMORY_WORST


def test_fit_or_not_on_every_row(results):
    """Every row right, or borderline (issue 22: a verdict with honest uncertainty); a run
    that ran is never "does not fit"."""
    judged = [r for r in results if r.measured_fits is not None]
    assert len(judged) >= 20
    wrong = [r.id for r in judged if r.predicted_fits != r.measured_fits and r.predicted_verdict != "borderline"]
    assert not wrong
    assert not [r.id for r in judged if r.measured_fits and r.predicted_verdict == "does not fit"]


def test_measured_time_inside_the_band(results):
    timed = [r for r in results if r.measured_seconds_per_step is not None]
    assert len(timed) >= 20
    inside = sum(bool(r.time_inside_band) for r in timed)
    assert inside / len(timed) >= TIME_SHARE_INSIDE_BAND
    assert max(r.band_width for r in timed) <= BAND_WIDEST
    errors = sorted(abs(r.time_error) for r in timed)
    assert errors[len(errors) // 2] <= TIME_MEDIAN_ERROR


def test_lora_over_full_time_ratio(results):
    ratios = pair_ratios(results)
    assert ratios
    for _, predicted, measured in ratios:
        assert abs(predicted / measured - 1.0) <= RATIO_WITHIN


def test_accuracy_doc_states_these_bounds():
    text = (project_root() / "docs" / "accuracy.md").read_text(encoding="utf-8")
    for figure in ("±15 %", "80 % of rows", "90 % of rows", "30 %", "2.5×", "at most 15 %", "±25 %"):
        assert figure in text, figure
    assert re.search(r"\| qwen7b-lora-256 \|", text), "the table lists every row"


# ---- the asserted table: published_runs.yaml and the expressible candidate rows -----------

WIDE_ROWS = 80
WIDE_PUBLICATIONS = 12
WIDE_MEMORY_WITHIN = 77
"""Rows within ±15 % today (of 99); the misses are listed below."""
WIDE_TIME_INSIDE = 97
"""Rows whose measured time is inside the P10–P90 today (100 of 143), less the three of slack
the floor had (87 against 90 of 128)."""
LOSO_TIME_TARGET = 0.20
LOSO_MEMORY_TARGET = 0.10
"""Issue 22's targets. No memory constant is set from the table, so the leave-one-source-out
memory error is the in-table error (docs/accuracy.md): 6.2 % today."""

KNOWN_MEMORY_MISSES = {
    "answerai-": "FSDP1 with bitsandbytes and Hugging Face models, reserved memory: the engine is 16–21 % under "
    "on 5 of 24 rows (short sequences and CPU offload); the allocator's reserve under FSDP1's all-gather buffers "
    "is not modelled (issue 22 item 5)",
    "litgpt-7b-qlora": "LitGPT NF4: the engine is 21–22 % under (bitsandbytes' dequantisation buffers)",
    "litgpt-13b-qlora": "LitGPT NF4: the engine is 20–21 % under (bitsandbytes' dequantisation buffers)",
    "litgpt-stablelm3b-qlora": "LitGPT NF4 on StableLM Alpha 3B: the engine is 16 % under (as above)",
    "litgpt-phi15-lora-mb2-2gpu": "LitGPT's chunked loss (needs: chunked_loss): bf16 logits and log-softmax kept, "
    "4 B per token and vocabulary entry, where the engine counts eager_fp32's 12; phi-1.5's 51,200-entry vocabulary "
    "on a 2,048-wide model makes it the largest term left under checkpointing: +20 %",
    "litgpt-phi15-lora-mb4-2gpu": "as litgpt-phi15-lora-mb2-2gpu: +30 % (1,044 × 4 × 51,200 × 8 B = 1.71 GB of the "
    "1.77 GB over)",
    "litgpt-hub-a10g-": "LitGPT QLoRA on A10G: the engine is 23–28 % under (as above)",
    "titan-405b-": "torchtitan 3D/4D at 512 GPUs, the local batch cut into 8 pipeline micro-batches "
    "(torchtitan's default): the engine is 22–24 % under on 1F1B at 8k and CP 8 at 256k tokens (Float8, "
    "compile and the 1F1B schedule's in-flight activations: issue 22 items 5 and 7)",
    "titan-70b-2d-": "torchtitan FSDP + TP at 256 GPUs: the engine is 19–24 % under",
    "trainy-h200-": "Float8 all-gathers and torch.compile on H200: the engine is 35 % over (the same recipe on "
    "H100, torchtitan's own rows, is within 2–9 %)",
}
KNOWN_FIT_MISSES: dict[str, str] = {}
"""Wrong fit verdicts today (not "borderline"): none, as issue 22's "done when" asks. The last
two, LitGPT's FSDP LoRA runs out of memory on 2 and 4 GPUs, were fixed by FSDP1's gradients of
units that mix frozen and trained weights, held unsharded while micro-batches accumulate
(``fsdp_mixed_units``, ``gradient_sync: step``). No run that ran is called "does not fit"."""
KNOWN_RAN_CALLED_DOES_NOT_FIT: dict[str, str] = {}
"""Runs that ran but are called "does not fit" today, the worst error the engine can make
(issue 22 "done when": none): each named with its cause, so a new one fails. None: the ten
MLPerf Training v4.0–v5.1 Llama 2 70B LoRA runs that were (predicted 81–430 GB per GPU on
48–256 GB cards) say what their configs do (``fp8_weights``, ``fp8_activations``,
``frozen_mlp_unsaved``) and are "fits" or "borderline"."""


def _known(row_id: str, known: dict[str, str]) -> bool:
    return any(row_id.startswith(prefix) for prefix in known)


def test_wide_table_coverage(every_row: list[Outcome]):
    """≥ 80 rows from ≥ 12 publications; 1 to ≥ 256 GPUs; one node and several; LoRA, QLoRA,
    full, pre-training; mixtures of experts and offload; memory, time and fit each compared.
    GPU classes: five (datacenter SXM and PCIe, workstation, consumer, and AMD Instinct, which
    runs.py reports apart from the engine's classes) and an unnamed 48 GB card: the issue asks
    five."""
    rows = every_row
    assert len(rows) >= WIDE_ROWS
    assert len({r.publication for r in rows}) >= WIDE_PUBLICATIONS
    assert {"datacenter_sxm", "datacenter_pcie", "workstation", "consumer", "amd_instinct"} <= {
        r.gpu_class for r in rows
    }
    gpus = [r.row["training"].get("gpus_per_run", 1) for r in rows]
    assert min(gpus) == 1 and max(gpus) >= 256
    assert any(r.row["training"].get("gpus_per_node", 8) < r.row["training"].get("gpus_per_run", 1) for r in rows)
    assert {"lora", "qlora", "full_sft", "continued_pretraining"} <= {r.row["training"]["method"] for r in rows}
    assert any((r.row["model"].get("experts") or 1) > 1 for r in rows)
    assert any(r.row["training"].get("offload", "none") != "none" for r in rows)
    assert sum(r.memory_error is not None for r in rows) >= WIDE_ROWS
    assert sum(r.measured_seconds_per_step is not None for r in rows) >= WIDE_ROWS
    assert sum(r.measured_fits is not None for r in rows) >= WIDE_ROWS


def test_wide_table_memory(every_row: list[Outcome]):
    errors = {r.id: r.memory_error for r in every_row if r.memory_error is not None}
    misses = {row_id for row_id, error in errors.items() if abs(error) > MEMORY_WITHIN}
    assert len(errors) - len(misses) >= WIDE_MEMORY_WITHIN
    assert not {row_id for row_id in misses if not _known(row_id, KNOWN_MEMORY_MISSES)}, "a new memory miss"


def test_wide_table_fit(every_row: list[Outcome]):
    wrong = {
        r.id
        for r in every_row
        if r.measured_fits is not None and r.predicted_fits != r.measured_fits and r.predicted_verdict != "borderline"
    }
    new_wrong = {w for w in wrong - set(KNOWN_FIT_MISSES) if not _known(w, KNOWN_RAN_CALLED_DOES_NOT_FIT)}
    assert not new_wrong, f"new wrong verdicts: {sorted(new_wrong)}"
    ran = {r.id for r in every_row if r.measured_fits and r.predicted_verdict == "does not fit"}
    new_ran = {row_id for row_id in ran if not _known(row_id, KNOWN_RAN_CALLED_DOES_NOT_FIT)}
    assert not new_ran, f"runs that ran called 'does not fit': {sorted(new_ran)}"


def test_wide_table_time(every_row: list[Outcome]):
    timed = [r for r in every_row if r.measured_seconds_per_step is not None]
    assert sum(bool(r.time_inside_band) for r in timed) >= WIDE_TIME_INSIDE
    assert max(r.band_width for r in timed) <= BAND_WIDEST


@pytest.fixture(scope="module")
def loso_section(every_row: list[Outcome]):
    import sys

    sys.path.insert(0, str(project_root() / "tools"))
    import accuracy

    from ftcost_helpers.engine.loading import load_price_book

    book = load_price_book()
    held, full = accuracy.loso_figures(every_row, book)
    return held, accuracy.loso_table(held, full)


def test_leave_one_source_out(loso_section):
    """Every publication left out in turn: the band refitted on the others, its rows' error
    then. Time meets issue 22's ≤ 20 %, memory its ≤ 10 %."""
    held, _ = loso_section
    assert len(held) >= WIDE_PUBLICATIONS
    assert median_absolute([e for h in held for e in h.time_errors]) <= LOSO_TIME_TARGET
    assert median_absolute([e for h in held for e in h.memory_errors]) <= LOSO_MEMORY_TARGET


def test_accuracy_doc_has_todays_leave_one_source_out_table(loso_section):
    """docs/accuracy.md shows what tools/accuracy.py computes now (``--write`` refreshes it)."""
    _, lines = loso_section
    text = (project_root() / "docs" / "accuracy.md").read_text(encoding="utf-8")
    assert "\n".join(lines) in text


def test_first_table_is_part_of_the_asserted_one():
    ids = {row["id"] for row in load_rows()}
    assert {row["id"] for row in published_rows()} <= ids
