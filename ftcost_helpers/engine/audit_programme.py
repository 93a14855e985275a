"""The audit's checks of the programme budget and of evaluation (areas ``dataset``,
``compute`` and ``eval``): the budget split against the source's guidance, a dataset budget
small beside compute, and the evaluation practices whose absence risks a re-train."""

from __future__ import annotations

from ftcost_helpers.engine.audit_findings import (
    BUDGET_SPLIT_COMPUTE,
    BUDGET_SPLIT_DATA,
    DATASET_UNDER_3X_COMPUTE,
    NO_CONTAMINATION_CHECK,
    NO_EVAL_HARNESS,
    NO_FROZEN_TEST_SET,
    SEED_MARKET,
    Finding,
    _band,
    _f,
    _usd,
    _usd_range,
)
from ftcost_helpers.engine.model.run import ModelRun
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.schema import Params


def _beyond(excess: float, tolerance: float) -> bool:
    """A share more than ``tolerance`` outside its band (``excess``: how far outside). Rounded
    to 1e-9, so that a share exactly on the edge is not flagged by float error (0.7 + 0.1 is
    0.7999999999999999, below a share of 0.8)."""
    return round(excess, 9) > tolerance


def budget_split(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """A budget split far from the source's guidance: dataset, eval and labelling 60–70%,
    compute 5–15%. Compute *below* its band is not flagged: cheap compute is the point of
    LoRA, and the source's own worked examples spend 1–5% on it."""
    total = _f(run.programme_total)
    if total <= 0:
        return []
    data = _f(run.area_total("dataset")) + _f(run.area_total("eval"))
    compute_usd = _f(run.area_total("compute"))
    guide, tolerance = book.budget_split_guidance, book.budget_split_tolerance_share
    data_band, compute_band = guide["data_eval_labelling_share"], guide["compute_share"]
    findings = []
    share = data / total
    if _beyond(data_band.low - share, tolerance):
        move = data_band.low * total - data
        findings.append(
            Finding(
                BUDGET_SPLIT_DATA,
                "dataset",
                f"Dataset, eval and labelling take {share:.1%} of the programme ({_usd(data)} of {_usd(total)}); "
                f"the source's guidance is {data_band.low:.0%}–{data_band.high:.0%}, and teams below it ship "
                f"models that miss. Reaching {data_band.low:.0%} means moving {_usd(move)} from engineering and "
                f"compute into data.",
            )
        )
    elif _beyond(share - data_band.high, tolerance):
        findings.append(
            Finding(
                BUDGET_SPLIT_DATA,
                "dataset",
                f"Dataset, eval and labelling take {share:.1%} of the programme ({_usd(data)} of {_usd(total)}), "
                f"above the source's {data_band.low:.0%}–{data_band.high:.0%}: check that MLOps and compute are "
                f"budgeted; at {data_band.high:.0%} the data budget would be {_usd(data - data_band.high * total)} "
                f"smaller.",
            )
        )
    compute_share = compute_usd / total
    if _beyond(compute_share - compute_band.high, tolerance):
        findings.append(
            Finding(
                BUDGET_SPLIT_COMPUTE,
                "compute",
                f"Compute takes {compute_share:.1%} of the programme ({_usd(compute_usd)} of {_usd(total)}); the "
                f"source's guidance is {compute_band.low:.0%}–{compute_band.high:.0%}. Bringing it to "
                f"{compute_band.high:.0%} frees {_usd(compute_usd - compute_band.high * total)} for data and eval.",
            )
        )
    return findings


def dataset_under_compute(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """A dataset budget under 3× the compute budget."""
    dataset_usd, compute_usd = _f(run.area_total("dataset")), _f(run.area_total("compute"))
    ratio = book.dataset_to_compute_ratio
    if compute_usd <= 0 or dataset_usd >= ratio.low * compute_usd:
        return []
    return [
        Finding(
            DATASET_UNDER_3X_COMPUTE,
            "dataset",
            f"The dataset budget ({_usd(dataset_usd)}) is {dataset_usd / compute_usd:.1f}× compute "
            f"({_usd(compute_usd)}); the source's guidance is {_band(ratio)}×. Either compute is oversized — at "
            f"{ratio.low:g}× the dataset it would be {_usd(dataset_usd / ratio.low)}, saving "
            f"{_usd(compute_usd - dataset_usd / ratio.low)} — or the data is under-funded by "
            f"{_usd(ratio.low * compute_usd - dataset_usd)}.",
        )
    ]


def missing_eval_practices(params: Params, book: PriceBook, run: ModelRun) -> list[Finding]:
    """No eval harness, no frozen test set, no contamination check."""
    e = params.evaluation
    retrain = _f(run.area_total("compute"))
    harness_usd = _usd_range(book.eval_setup_usd.low, book.eval_setup_usd.high)
    frozen = book.frozen_test_set_examples
    findings = []
    if not e.harness:
        findings.append(
            Finding(
                NO_EVAL_HARNESS,
                "eval",
                f"No eval harness: ship and pray, then re-train from scratch when the model underperforms "
                f"({SEED_MARKET}). A harness costs {harness_usd} (price book); one avoided "
                f"re-train saves the {_usd(retrain)} of compute and the data rework behind it.",
            )
        )
    if not e.frozen_test_set:
        findings.append(
            Finding(
                NO_FROZEN_TEST_SET,
                "eval",
                f"No frozen test set: eval scores drift as the test set drifts, so a worse model can look better. "
                f"Freeze {frozen.low:,.0f}–{frozen.high:,.0f} examples, never trained on, versioned and hashed "
                f"in CI; a re-train decided on a drifting score wastes {_usd(retrain)} of compute.",
            )
        )
    if not e.contamination_check:
        decontamination = book.dataset_activities_usd["decontamination"]
        findings.append(
            Finding(
                NO_CONTAMINATION_CHECK,
                "eval",
                f"No contamination check against public benchmarks and the held-out set: inflated eval scores, "
                f"real-world failure ({SEED_MARKET}). The check (n-gram overlap, MinHash near-duplicates) costs "
                f"{_usd_range(decontamination.low, decontamination.high)} against a {_usd(retrain)} re-train when "
                f"a launch fails.",
            )
        )
    return findings
