"""FSDP gradients beyond the trained parameters' shards (issue 22, What to build #5, "FSDP1 vs
FSDP2 terms"): FSDP1 units whose flat parameter mixes frozen and trained weights get a gradient
for every weight (``training.fsdp_mixed_units``), and gradients reduced once per step are held
unsharded while micro-batches accumulate (``training.gradient_sync: step``).

Sources: PyTorch FSDP docs (``FullyShardedDataParallel``: with ``use_orig_params=True`` mixing
frozen and non-frozen parameters makes "the gradient memory usage ... equivalent to not
freezing those parameters"); ``FullyShardedDataParallel.no_sync`` ("FSDP will accumulate the
full model gradients (instead of gradient shards) until the eventual sync"); LitGPT's
tutorials/resource-tables.md (lit-gpt 8641822, Lightning 2.1.0.rc0, A100-SXM4-40GB), whose
``finetune/lora.py`` runs FSDP1 by block with Fabric's ``use_orig_params=True`` and
``no_backward_sync``. Every expected figure is worked out by hand in the comments.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.loading import load_params
from ftcost_helpers.engine.model import allocator, communication, compute
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.schema import Lora, Params, Training

SECOND_PLAN = Path(__file__).parent / "fixtures" / "second_plan.yaml"

EMBEDDINGS = 2 * 128_000 * 4_096
"""The second plan's input embedding and output head (untied): 1,048,576,000."""
FROZEN_IN_BLOCKS = 8e9 - EMBEDDINGS
"""Its blocks' weights: 8e9 − 1,048,576,000 = 6,951,424,000."""
TRAINED = 0.02 * 8e9
"""Its adapters (``trainable_fraction: 0.02``): 1.6e8."""


@pytest.fixture(scope="module")
def plan(book: PriceBook) -> Params:
    """The second plan as LoRA: an 8e9-parameter model on 2 H100 under FSDP (``sharding:
    full``), bf16 gradients (bf16_mixed), 1.6e8 adapters, one micro-batch per step."""
    qlora = load_params(SECOND_PLAN, book)
    return with_training(qlora, method="lora")


def with_training(plan: Params, **changes) -> Params:
    return plan.model_copy(update={"training": plan.training.model_copy(update=changes)})


def gradients_gb(plan: Params, book: PriceBook, **changes) -> float:
    return float(evaluate(with_training(plan, **changes), book).compute.memory_breakdown_gb["gradients"])


# ---------------------------------------------------------------- the two rules alone


def test_gradient_parameters():
    # trained only unless mixed: 1.6e8; mixed: 1.6e8 + 6,951,424,000 = 7,111,424,000
    assert allocator.gradient_parameters(TRAINED, FROZEN_IN_BLOCKS, False) == pytest.approx(1.6e8)
    assert allocator.gradient_parameters(TRAINED, FROZEN_IN_BLOCKS, True) == pytest.approx(7_111_424_000)
    # nothing frozen: nothing added
    assert allocator.gradient_parameters(TRAINED, 0.0, True) == pytest.approx(1.6e8)


def test_accumulates_unsharded_only_over_several_micro_batches_synced_once():
    assert allocator.accumulates_unsharded("step", 4)
    assert not allocator.accumulates_unsharded("step", 1)  # the only micro-batch is the synced one
    assert not allocator.accumulates_unsharded("micro_batch", 4)
    assert not allocator.accumulates_unsharded("micro_batch", 1)


# ---------------------------------------------------------------- in the memory breakdown


def test_defaults_leave_the_gradients_as_they_were(plan, book):
    # ZeRO-3 shards the adapters' gradients: 1.6e8 × 2 B ÷ 2 GPUs = 0.16 GB
    assert gradients_gb(plan, book) == pytest.approx(0.16)
    # gradient_sync: step with one micro-batch per step changes nothing
    assert gradients_gb(plan, book, gradient_sync="step") == pytest.approx(0.16)


def test_mixed_units_give_every_block_weight_a_gradient(plan, book):
    # FSDP1, frozen and trained in one unit: (1.6e8 + 6,951,424,000) × 2 B ÷ 2 = 7.111424 GB;
    # the embeddings and head, a unit of their own and frozen, get none
    assert gradients_gb(plan, book, fsdp_version=1, fsdp_mixed_units=True) == pytest.approx(7.111424)


def test_gradients_reduced_once_per_step_are_held_whole(plan, book):
    # 4 micro-batches, synced at the last: the adapters' gradients unsharded, 1.6e8 × 2 = 0.32 GB
    assert gradients_gb(plan, book, gradient_sync="step", gradient_accumulation_steps=4) == pytest.approx(0.32)
    # both, as LitGPT on several GPUs: 7,111,424,000 × 2 B = 14.222848 GB on each GPU
    both = gradients_gb(
        plan, book, fsdp_version=1, fsdp_mixed_units=True, gradient_sync="step", gradient_accumulation_steps=4
    )
    assert both == pytest.approx(14.222848)


def test_full_fine_tunes_add_nothing_for_mixed_units_but_accumulate_whole(plan, book):
    # every weight trains already: 8e9 × 2 B ÷ 2 = 8 GB with or without mixed units ...
    full = {"method": "full_sft", "fsdp_version": 1}
    assert gradients_gb(plan, book, **full) == pytest.approx(8.0)
    assert gradients_gb(plan, book, **full, fsdp_mixed_units=True) == pytest.approx(8.0)
    # ... and 16 GB when 4 micro-batches accumulate before one reduce-scatter
    assert gradients_gb(plan, book, **full, gradient_sync="step", gradient_accumulation_steps=4) == pytest.approx(16.0)


def test_without_sharded_gradients_the_sync_changes_nothing(plan, book):
    # DDP and ZeRO-1 hold the whole gradients anyway: 1.6e8 × 2 = 0.32 GB either way
    for sharding in ("none", "optimizer"):
        synced = gradients_gb(plan, book, sharding=sharding, gradient_accumulation_steps=4)
        once = gradients_gb(plan, book, sharding=sharding, gradient_accumulation_steps=4, gradient_sync="step")
        assert synced == pytest.approx(0.32)
        assert once == pytest.approx(0.32)


def test_offloaded_gradients_stay_on_the_gpu_while_accumulating(plan, book):
    # FSDP offload synced each micro-batch: one layer's gradients in flight, 1.6e8 ÷ 32 × 2 B =
    # 0.01 GB; inside no_sync they are not offloaded ("the gradients will not be offloaded to
    # CPU when inside the context manager"): unsharded, 0.32 GB
    offloaded = {"offload": "optimizer", "gradient_accumulation_steps": 4}
    assert gradients_gb(plan, book, **offloaded) == pytest.approx(0.01)
    assert gradients_gb(plan, book, **offloaded, gradient_sync="step") == pytest.approx(0.32)


def test_litgpt_7b_lora_on_two_a100_40gb(plan, book):
    # Llama 2 7B as lit-gpt runs it: 6.74e9 parameters, 32 layers of 4,096, vocabulary 32,000
    # (untied: embeddings 2 × 32,000 × 4,096 = 262,144,000, blocks 6,477,856,000); LoRA rank 8
    # on the attention's four 4,096 × 4,096 projections, 32 × 4 × 8 × (4,096 + 4,096) =
    # 8,388,608 adapters; bf16 weights, 2 GPUs, FSDP1 by block, 128 micro-batches of one.
    # Each GPU holds (6,477,856,000 + 8,388,608) × 2 B = 12.972489216 GB of gradients, against
    # 8,388,608 × 2 ÷ 2 = 0.008388608 GB sharded.
    llama = plan.model_copy(
        update={
            "base_model": plan.base_model.model_copy(
                update={
                    "parameters_billion": 6.74,
                    "layers": 32,
                    "hidden_size": 4096,
                    "attention_heads": 32,
                    "kv_heads": 32,
                    "intermediate_size": 11008,
                    "vocab_size": 32000,
                }
            )
        }
    )
    run = {
        "gpu": "a100_40gb",
        "gpus_per_run": 2,
        "precision": "bf16",
        "trainable_fraction": None,
        "lora": Lora(rank=8, target_modules="attention"),
        "sequence_length": 1304,
        "micro_batch_size": 1,
        "gradient_accumulation_steps": 128,
        "fsdp_version": 1,
    }
    assert gradients_gb(llama, book, **run) == pytest.approx(0.008388608)
    litgpt = with_training(llama, **run, fsdp_mixed_units=True, gradient_sync="step")
    facts = evaluate(litgpt, book).compute
    assert float(facts.memory_breakdown_gb["gradients"]) == pytest.approx(12.972489216)
    # LitGPT's table: 22.18 GB max_memory_allocated on 2 × A100 (one GPU, no FSDP: 21.30 GB);
    # the engine's allocated peak within the validation table's ±15 %
    assert float(facts.allocated_gb) == pytest.approx(22.18, rel=0.15)


# ---------------------------------------------------------------- in the time view


def test_frozen_weights_with_gradients_add_their_weight_gradient_matmuls():
    # no attention (0 layers), no recomputation: 4·N + 6·N_a = 4 × 8e9 + 6 × 1.6e8 = 32.96e9;
    # with the blocks' 6,951,424,000 frozen weights getting gradients, + 2 × 6,951,424,000 =
    # 13.902848e9: 46.862848e9 per token
    alone, _ = compute.flops_per_token(8e9, TRAINED, False, 0, 4096.0, 4096, "none")
    mixed, _ = compute.flops_per_token(8e9, TRAINED, False, 0, 4096.0, 4096, "none", 0, None, 1, FROZEN_IN_BLOCKS)
    assert alone == pytest.approx(32.96e9)
    assert mixed == pytest.approx(46.862848e9)


def test_the_run_pays_those_flops(plan, book):
    # 6,000 pairs × 4,000 tokens × 4 epochs = 9.6e7 tokens, each 2 × 6,951,424,000 FLOPs more:
    # 1.3346734e18 FLOPs
    alone = evaluate(with_training(plan, fsdp_version=1), book).compute.flops_per_run
    mixed = evaluate(with_training(plan, fsdp_version=1, fsdp_mixed_units=True), book).compute.flops_per_run
    assert float(mixed - alone) == pytest.approx(2 * FROZEN_IN_BLOCKS * 9.6e7)


def test_gradients_synchronised_once_are_reduce_scattered_once():
    # FSDP on 2 GPUs, 20 GB of weights and 10 GB of gradients per replica, 4 micro-batches: each
    # all-gather or reduce-scatter sends half. Per micro-batch: 2 × 10 + 5 = 25 GB, 100 GB a
    # step; reduced once: 2 × 10 × 4 + 5 = 85 GB
    assert communication.data_parallel_bytes(10e9, 20e9, 2, "full", 4) == pytest.approx(100e9)
    assert communication.data_parallel_bytes(10e9, 20e9, 2, "full", 4, 4) == pytest.approx(100e9)
    assert communication.data_parallel_bytes(10e9, 20e9, 2, "full", 4, 1) == pytest.approx(85e9)
    # without sharded weights one all-reduce a step whatever the count: 2 × 10 × ½ = 10 GB
    assert communication.data_parallel_bytes(10e9, 20e9, 2, "gradients", 4, 1) == pytest.approx(10e9)


# ---------------------------------------------------------------- what the keys accept


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"fsdp_version": 2}, "fsdp_version: 1"),
        ({"fsdp_version": 1, "sharding": "none"}, "sharding: gradients or full"),
        ({"fsdp_version": 1, "sharding": "optimizer"}, "sharding: gradients or full"),
        ({"fsdp_version": 1, "method": "qlora"}, "unquantised base"),
    ],
)
def test_mixed_units_need_fsdp1_sharded_gradients_and_an_unquantised_base(plan, changes, words):
    data = plan.training.model_dump() | {"fsdp_mixed_units": True} | changes
    with pytest.raises(ValidationError, match=words):
        Training.model_validate(data)


def test_a_dpo_policy_on_a_quantised_base_cannot_mix_units(plan):
    data = plan.training.model_dump() | {"fsdp_mixed_units": True, "fsdp_version": 1, "method": "dpo"}
    data["dpo"] = data["dpo"] | {"adapter": "qlora"}
    with pytest.raises(ValidationError, match="unquantised base"):
        Training.model_validate(data)


def test_gradient_sync_takes_its_two_words_only(plan):
    data = plan.training.model_dump() | {"gradient_sync": "never"}
    with pytest.raises(ValidationError, match="gradient_sync"):
        Training.model_validate(data)
    with pytest.raises(ValidationError, match="fsdp_mixed_units"):
        Training.model_validate(plan.training.model_dump() | {"fsdp_mixed_units": "yes"})
