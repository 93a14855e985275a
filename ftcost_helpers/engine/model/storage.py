"""Storage and egress as programme lines (issue 24, money: the hidden costs the source
articles name: "distributed scratch storage arrays for checkpoint saving",
000_0a0c95ce173b866e.txt).

* a checkpoint holds what a run needs to resume: the trained parameters' bf16 weights (2 B)
  and their fp32 master copy and Adam moments (4 + 4 + 4 B): 14 bytes per trained parameter
  (the 16 B per parameter of mixed-precision Adam in Rajbhandari et al. 2020, ZeRO, §3.1,
  less the gradients, which are not saved); for LoRA/QLoRA the trained parameters are the
  adapters', so a checkpoint is small;
* storage: (data TB + checkpoints kept × GB per checkpoint ÷ 1,000) × months × price per
  TB-month (decimal TB, as storage is billed);
* egress: TB moved out of the provider × price per TB.

Every function works on floats and arrays alike.
"""

from __future__ import annotations

from ftcost_helpers.engine.model.lines import CLIENT, Line
from ftcost_helpers.engine.model.training import ComputeFacts
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import Number
from ftcost_helpers.engine.schema import Params

CHECKPOINT_BYTES_PER_TRAINED_PARAMETER = 14.0
"""bf16 weights 2 B + fp32 master weights 4 B + Adam's two fp32 moments 8 B (ZeRO §3.1's 16 B
per parameter without the 2 B of gradients)."""
GB_PER_TB = 1000.0


def checkpoint_gb(
    trained_parameters: Number, bytes_per_parameter: float = CHECKPOINT_BYTES_PER_TRAINED_PARAMETER
) -> Number:
    """GB (decimal) of one resumable checkpoint of ``trained_parameters`` parameters."""
    return trained_parameters * bytes_per_parameter / 1e9


def stored_tb(data_tb: Number, checkpoints_kept: Number, gb_per_checkpoint: Number) -> Number:
    """TB kept: the data and every checkpoint kept."""
    return data_tb + checkpoints_kept * gb_per_checkpoint / GB_PER_TB


def storage_cost(tb: Number, months: Number, usd_per_tb_month: Number) -> Number:
    """USD of keeping ``tb`` for ``months`` (TB-months × price)."""
    return tb * months * usd_per_tb_month


def egress_cost(tb: Number, usd_per_tb: Number) -> Number:
    """USD of moving ``tb`` out of the provider."""
    return tb * usd_per_tb


def storage_inputs(p: Params, book: PriceBook, facts: ComputeFacts) -> dict[str, Number]:
    """The storage figures of a plan: the client's, else the model's size and the price book's."""
    s = p.storage
    return {
        "checkpoint_gb": s.checkpoint_gb if s.checkpoint_gb is not None else checkpoint_gb(facts.trained_parameters),
        "months": s.months if s.months is not None else float(p.horizon_months),
        "usd_per_tb_month": s.usd_per_tb_month if s.usd_per_tb_month is not None else book.storage_usd_per_tb_month,
        "egress_usd_per_tb": s.egress_usd_per_tb if s.egress_usd_per_tb is not None else book.egress_usd_per_tb,
    }


def storage_lines(p: Params, book: PriceBook, facts: ComputeFacts) -> list[Line]:
    """The storage and egress programme lines (area ``compute``; not part of the first
    compute bill that re-training is a share of)."""
    s, v = p.storage, storage_inputs(p, book, facts)
    given = p.storage.usd_per_tb_month is not None and p.storage.egress_usd_per_tb is not None
    source = CLIENT if given else f"{CLIENT} × price book {book.as_of.isoformat()}: storage and egress prices"
    tb = stored_tb(s.data_tb, s.checkpoints_kept, v["checkpoint_gb"])
    return [
        Line(
            "compute",
            "Storage: data and checkpoints (TB × months × price)",
            storage_cost(tb, v["months"], v["usd_per_tb_month"]),
            source,
        ),
        Line("compute", "Egress (TB × price)", egress_cost(s.egress_tb, v["egress_usd_per_tb"]), source),
    ]
