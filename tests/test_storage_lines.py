"""Storage, checkpoints and egress as programme lines (issue 24, item 5;
ftcost_helpers/engine/model/storage.py), worked by hand."""

from __future__ import annotations

import pytest

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.model.storage import checkpoint_gb, egress_cost, storage_cost, stored_tb
from ftcost_helpers.engine.schema import Storage


def test_a_checkpoint_is_14_bytes_per_trained_parameter():
    # full fine-tune of an 8B model: 8e9 × 14 B = 112 GB; 40M LoRA parameters: 0.56 GB
    assert checkpoint_gb(8e9) == pytest.approx(112.0)
    assert checkpoint_gb(40e6) == pytest.approx(0.56)
    assert checkpoint_gb(0.0) == 0.0


def test_storage_and_egress_by_hand():
    # 2 TB of data + 10 checkpoints × 112 GB = 2 + 1.12 = 3.12 TB; × 24 months × 23 = 1,722.24
    tb = stored_tb(2.0, 10, 112.0)
    assert tb == pytest.approx(3.12)
    assert storage_cost(tb, 24, 23.0) == pytest.approx(1722.24)
    assert storage_cost(0.0, 24, 23.0) == 0.0
    # 5 TB out at 90 a TB = 450
    assert egress_cost(5.0, 90.0) == pytest.approx(450.0)


def _line(breakdown, item: str) -> float:
    return next(line.base for line in breakdown.line_items if line.item.startswith(item))


def test_examples_have_no_storage_lines(examples, book):
    breakdown = estimate(examples["a"], book)
    assert _line(breakdown, "Storage") == 0.0 and _line(breakdown, "Egress") == 0.0


def test_a_plan_with_storage(examples, book):
    plan = examples["a"]
    storage = Storage(data_tb=2.0, checkpoints_kept=10, checkpoint_gb=112.0, months=24, egress_tb=5.0)
    with_storage = plan.model_copy(update={"storage": storage})
    before, after = estimate(plan, book), estimate(with_storage, book)
    # price-book prices at their midpoints: storage 22 a TB-month, egress 70 a TB
    assert _line(after, "Storage") == pytest.approx(3.12 * 24 * 22.0)
    assert _line(after, "Egress") == pytest.approx(5.0 * 70.0)
    assert after.programme_total == pytest.approx(before.programme_total + 3.12 * 24 * 22 + 350)
    # not part of the first compute bill: re-training (a share of it) does not change
    assert after.base.maintenance_quarterly["Re-training"] == pytest.approx(
        before.base.maintenance_quarterly["Re-training"]
    )
