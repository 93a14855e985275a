"""Memory as the allocators count it (issue 22, What to build #5 and #8, and the memory side
of #2 and #4): capacities in GiB, usable memory less the CUDA context and the allocator's
fragmentation, the fit verdict with its P10–P90, offload, paged optimizers, expert
parallelism, NF4 with and without double quantisation, FSDP1 against FSDP2, optimizer
temporaries by implementation and a quantised base's loading peak. Every expected figure is
worked out by hand in the comments, from the price book's ranges and the papers cited there.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.fit import need_percentiles, plan_fit, quantile_grid
from ftcost_helpers.engine.loading import load_params
from ftcost_helpers.engine.model import allocator
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import Range
from ftcost_helpers.engine.schema import Lora, Params
from ftcost_helpers.engine.summary import compute_summary
from ftcost_helpers.engine.uncertainty import draw_inputs, picker_from_draws

SECOND_PLAN = Path(__file__).parent / "fixtures" / "second_plan.yaml"
GIB = 1.073741824
"""GB in a GiB: 2^30 ÷ 1e9."""
CONTEXT = Range(low=0.5, mode=1.3, high=1.5)
"""The price book's CUDA context (GB)."""
FRAGMENTATION = Range(low=0.0, mode=0.02, high=0.43)
"""The price book's share of the allocator's reserve left unallocated."""


@pytest.fixture(scope="module")
def plan(book: PriceBook) -> Params:
    """The hand-derived tests' second plan: an 8e9-parameter QLoRA on 2 H100 (ZeRO-3),
    1.6e8 adapters, sequence 4,096, micro-batch 1, full checkpointing."""
    return load_params(SECOND_PLAN, book)


def with_training(plan: Params, **changes) -> Params:
    return plan.model_copy(update={"training": plan.training.model_copy(update=changes)})


def with_model(plan: Params, **changes) -> Params:
    return plan.model_copy(update={"base_model": plan.base_model.model_copy(update=changes)})


# ---------------------------------------------------------------- capacity and usable memory


def test_the_price_book_holds_the_sourced_ranges(book):
    physics = book.training_physics
    assert physics.framework_overhead_gb == CONTEXT
    assert physics.allocator_fragmentation_share == FRAGMENTATION
    # the triangle's mean is GMLake's 15 % average: (0 + 0.02 + 0.43) ÷ 3
    assert (FRAGMENTATION.low + FRAGMENTATION.mode + FRAGMENTATION.high) / 3 == pytest.approx(0.15)


def test_an_80_gb_a100_holds_80_gib(plan, book):
    # 80 × 1.073741824 = 85.89934592 GB; less the context's most likely 1.3 GB and 2 % of the
    # reserve (the fragmentation's mode): (85.89934592 − 1.3) × 0.98 = 82.9073590016 GB
    assert allocator.capacity_gb(80) == pytest.approx(85.89934592)
    assert allocator.usable_gb(85.89934592, 1.3, 0.02) == pytest.approx(82.9073590016)
    a100 = evaluate(with_training(plan, gpu="a100_80gb"), book).compute
    assert float(a100.capacity_gb_per_gpu) == pytest.approx(85.89934592)
    assert float(a100.usable_gb_per_gpu) == pytest.approx(82.9073590016)
    # at the ranges' ends: (85.899 − 0.5) × 1 = 85.399; (85.899 − 1.5) × 0.57 = 48.107 GB
    assert allocator.usable_gb(85.89934592, 0.5, 0.0) == pytest.approx(85.39934592)
    assert allocator.usable_gb(85.89934592, 1.5, 0.43) == pytest.approx(48.1076271744)
    # a plan's extra headroom comes on top: × (1 − 0.1) = 74.6166 GB
    assert allocator.usable_gb(85.89934592, 1.3, 0.02, 0.1) == pytest.approx(74.61662310144)


def test_a_run_that_reserved_84_5_gb_of_an_80_gb_a100_fits(book):
    # The case: 84.5 GB reserved on an A100 80GB is within its 85.9 GB; with the
    # context's 1.3 GB the device holds 85.8. A flat 10 % headroom of 80 GB (72 usable) called
    # it "does not fit". 84.5 GB reserved at the fragmentation's mode is 84.5 × 0.98 = 82.81 GB
    # of tensors, within the 82.907 usable at the base case; the P10 need, the context's P10
    # 0.78284 + 82.81 = 83.59 GB, is within 85.9: never "does not fit"; borderline, since at
    # the fragmentation's P90 the reserve would outgrow the GPU.
    low, high = need_percentiles(84.5 * 0.98, CONTEXT, FRAGMENTATION)
    assert low == pytest.approx(84.5 * 0.98 + 0.5 + np.sqrt(0.08))
    assert low <= allocator.capacity_gb(80) < high
    assert allocator.verdict(low, high, allocator.capacity_gb(80)) == allocator.BORDERLINE


def test_gddr_cards_with_ecc_on_lose_a_sixteenth(plan, book):
    # CUDA Best Practices Guide: ECC on GDDR takes 6.25 %. An A10G's 24 GiB: 24 × 1.073741824
    # × 0.9375 = 24.15919104 GB (nvidia-smi's 23,028 MiB = 24.147 GB); an RTX 4090 ships with
    # ECC off: 25.769803776 GB
    assert float(evaluate(with_training(plan, gpu="a10g"), book).compute.capacity_gb_per_gpu) == pytest.approx(
        24.15919104
    )
    assert float(evaluate(with_training(plan, gpu="rtx_4090"), book).compute.capacity_gb_per_gpu) == pytest.approx(
        25.769803776
    )


# ---------------------------------------------------------------- the verdict's band


def test_quantiles_of_a_triangle_are_its_inverse_cdf():
    # the triangle (0, 0.02, 0.43): F(0.02) = 0.02 ÷ 0.43 = 0.0465, so its P10 and P90 lie on
    # the falling side: x = 0.43 − √((1 − u) × 0.43 × 0.41); P10 = 0.43 − √(0.9 × 0.1763) =
    # 0.03167, P90 = 0.43 − √(0.1 × 0.1763) = 0.29722
    grid = quantile_grid(FRAGMENTATION)
    assert grid[0] == 0.0 and grid[-1] == pytest.approx(0.43)
    assert np.percentile(grid, 10) == pytest.approx(0.43 - np.sqrt(0.9 * 0.43 * 0.41))
    assert np.percentile(grid, 90) == pytest.approx(0.43 - np.sqrt(0.1 * 0.43 * 0.41))
    assert quantile_grid(1.3).tolist() == [1.3] * 41


def test_the_band_is_the_p10_to_p90_of_the_need():
    # context fixed at 1.3 GB, fragmentation uniform 0.05–0.25 (P90 0.23): the need is
    # 1.3 + a ÷ (1 − f), rising in f, so its P90 is at f's P90; its P10 takes the fragmentation
    # at its low end (PyTorch's allocator frees its cache and retries before out of memory).
    uniform = Range(low=0.05, high=0.25)
    capacity = allocator.capacity_gb(80)
    # 70 GB of tensors: 1.3 + 70 ÷ 0.95 = 74.984 to 1.3 + 70 ÷ 0.77 = 92.209: straddles 85.899
    low, high = need_percentiles(70.0, 1.3, uniform)
    assert (low, high) == pytest.approx((1.3 + 70 / 0.95, 1.3 + 70 / 0.77))
    assert allocator.verdict(low, high, capacity) == "borderline"
    # 60 GB: P90 1.3 + 60 ÷ 0.77 = 79.22 ≤ 85.899: fits
    assert allocator.verdict(*need_percentiles(60.0, 1.3, uniform), capacity) == "fits"
    # 82 GB: P10 1.3 + 82 ÷ 0.95 = 87.62 > 85.899: does not fit
    low, high = need_percentiles(82.0, 1.3, uniform)
    assert low == pytest.approx(1.3 + 82 / 0.95)
    assert allocator.verdict(low, high, capacity) == "does not fit"
    # the price book's ranges: the context's P10 on the triangle (0.5, 1.3, 1.5) lies on its
    # rising side, 0.5 + √(0.1 × 1.0 × 0.8) = 0.78284, with no fragmentation: 40.78284; the
    # P90 lies below the need at the ranges' high ends, 1.5 + 40 ÷ 0.57
    low, high = need_percentiles(40.0, CONTEXT, FRAGMENTATION)
    assert low == pytest.approx(40 + 0.5 + np.sqrt(0.08))
    assert low < high < 1.5 + 40 / 0.57


def test_the_verdict_at_its_boundaries():
    assert allocator.verdict(50.0, 80.0, 80.0) == "fits"  # P90 exactly at capacity
    assert allocator.verdict(80.0, 90.0, 80.0) == "borderline"  # P10 exactly at capacity
    assert allocator.verdict(80.01, 90.0, 80.0) == "does not fit"


# ---------------------------------------------------------------- published cases


def guanaco_65b(plan: Params) -> Params:
    """QLoRA's Guanaco 65B (Dettmers et al. 2023, §1 and scripts/finetune_guanaco_65b.sh):
    LLaMA-65B (80 layers, hidden 8,192, MLP 22,016, vocabulary 32,000), NF4 with double
    quantisation, LoRA rank 64 on every linear layer, paged 32-bit AdamW, bf16, gradient
    checkpointing, micro-batch 4 of at most 528 tokens, on one 48 GB GPU (the RTX A6000)."""
    model = with_model(
        plan,
        name="LLaMA-65B",
        parameters_billion=65.2,
        layers=80,
        hidden_size=8192,
        attention_heads=64,
        kv_heads=64,
        intermediate_size=22016,
        vocab_size=32000,
    )
    return with_training(
        model,
        gpu="rtx_a6000",
        gpus_per_run=1,
        sharding="none",
        trainable_fraction=None,
        lora=Lora(rank=64, target_modules="all_linear"),
        optimizer="paged_adamw_32bit",
        nf4_double_quant=True,
        sequence_length=528,
        micro_batch_size=4,
        gradient_accumulation_steps=4,
        tokens_per_pair=528,
    )


def test_qlora_65b_on_one_48_gb_gpu_is_not_called_does_not_fit(plan, book):
    # Adapters: 80 × 64 × (4 × (8,192 + 8,192) + 3 × (8,192 + 22,016)) = 80 × 9,994,240 =
    # 799,539,200. Weights: NF4 blocks (65.2e9 − 2 × 32,000 × 8,192) × 0.516 = 64,675,712,000
    # × 0.516 = 33,372,667,392 B + embeddings 524,288,000 × 2 + adapters × 2 = 36.0203 GB.
    # Paged optimizer states: the fp32 master and two fp32 moments, 12 B × 799,539,200 =
    # 9.5945 GB, which page to the host: they do not count toward the fit.
    guanaco = guanaco_65b(plan)
    run = evaluate(guanaco, book)
    terms = run.compute.memory_breakdown_gb
    assert float(terms["weights"]) == pytest.approx((33_372_667_392 + 1_048_576_000 + 2 * 799_539_200) / 1e9)
    assert float(terms["optimizer_states"]) == pytest.approx(12 * 799_539_200 / 1e9)
    assert float(run.compute.paged_gb) == pytest.approx(12 * 799_539_200 / 1e9)
    fit = plan_fit(guanaco, book, run)
    # 48 GiB = 51.54 GB; usable (51.54 − 1.3) × 0.98 = 49.23 GB. All the tensors (51.17 GB)
    # would not fit at the base case; without the paged states (41.58 GB) they do: it fits by
    # paging, and the need's P10–P90 (its fragmentation up to 0.43) straddles the 51.54 GB
    assert fit.capacity_gb == pytest.approx(48 * GIB)
    assert fit.usable_gb == pytest.approx((48 * GIB - 1.3) * 0.98)
    assert fit.allocated_gb - fit.paged_gb <= fit.usable_gb < fit.allocated_gb
    assert fit.by_paging and fit.fits and fit.verdict != "does not fit"
    assert bool(run.compute.fits)
    # with unpaged AdamW the same run is held by the GPU whole: 51.17 GB > 49.23 usable, and
    # paging or offloading the states is among what would make it fit; the paged run is not
    # told to page again
    unpaged = with_training(guanaco, optimizer="adamw")
    unpaged_run = evaluate(unpaged, book)
    assert not bool(unpaged_run.compute.fits)
    assert any("paged AdamW" in fix for fix in plan_fit(unpaged, book, unpaged_run).fixes)
    assert not any("paged AdamW" in fix for fix in fit.fixes)


def litgpt_llama2_7b_full_on_4_a10g(plan: Params) -> Params:
    """LitGPT's config hub, llama-2-7b/full.yaml on 4 × A10G: out of memory (LitGPT
    tutorials, config hub table). Llama-2-7B (6.74e9, 32 layers, hidden 4,096, MLP 11,008,
    vocabulary 32,000), pure bf16 AdamW, FSDP (Lightning Fabric's, FSDP1) with every block
    checkpointed, sequence 512, micro-batch 4."""
    model = with_model(
        plan,
        name="Llama-2-7B",
        parameters_billion=6.74,
        layers=32,
        hidden_size=4096,
        attention_heads=32,
        kv_heads=32,
        intermediate_size=11008,
        vocab_size=32000,
    )
    return with_training(
        model,
        method="full_sft",
        gpu="a10g",
        gpus_per_run=4,
        precision="bf16",
        optimizer="adamw",
        sharding="full",
        fsdp_version=1,
        sequence_length=512,
        micro_batch_size=4,
        tokens_per_pair=512,
    )


def test_a_7b_full_fine_tune_that_ran_out_of_memory_on_4_x_24_gb_is_not_called_fits(plan, book):
    # The optimizer step holds weights 2 + gradients 2 + bf16 moments 4 + the foreach step's
    # √v buffer 2 = 10 B × 6.74e9 ÷ 4 = 16.85 GB of tensors; the forward/backward, with FSDP1's
    # third gathered unit, the root unit and the loss's backward (2,048 tokens × 32,000 × 12 B
    # = 0.786 GB: fp32 log-softmax, its gradient and its input's), is the peak: 16.906 GB with
    # the loss at 8 B + 2,048 × 32,000 × 4 B = 17.168 GB.
    # The A10G holds 24.159 GB (ECC on). With the smallest context (0.5) the need exceeds it
    # once fragmentation passes 1 − 17.168 ÷ 23.659 = 0.2744, which the triangle does in
    # (0.43 − 0.2744)² ÷ (0.43 × 0.41) = 13.7 % ≥ 10 % of draws: the P90 is beyond capacity.
    run = evaluate(litgpt_llama2_7b_full_on_4_a10g(plan), book)
    assert float(run.compute.allocated_gb) == pytest.approx(16.906 + 2048 * 32_000 * 4 / 1e9, abs=5e-3)
    fit = plan_fit(litgpt_llama2_7b_full_on_4_a10g(plan), book, run)
    assert fit.capacity_gb == pytest.approx(24 * GIB * 0.9375)
    assert fit.need_p90_gb > fit.capacity_gb
    assert fit.verdict != "fits"


# ---------------------------------------------------------------- offload, paging, experts


def test_offload_moves_gradients_and_optimizer_states_to_the_host(plan, book):
    # Full SFT of the 8e9 model, nothing sharded, 2 GPUs. On the GPU: weights 8e9 × 2 = 16 GB,
    # gradients 16, optimizer states 8e9 × 12 = 96, step buffer 8e9 × 4 = 32 (foreach √v).
    full = with_training(plan, method="full_sft", sharding="none", trainable_fraction=None)
    kept = evaluate(full, book).compute
    assert float(kept.memory_breakdown_gb["gradients"]) == pytest.approx(16.0)
    assert float(kept.host_memory_gb) == 0.0
    # ZeRO-Offload: the states (96) and gradients (16) live on the host, 112 GB a GPU; one
    # layer's gradients stay in flight, 8e9 ÷ 32 × 2 B = 0.5 GB; no step buffer on the GPU
    off = evaluate(with_training(full, offload="optimizer"), book).compute
    assert float(off.memory_breakdown_gb["gradients"]) == pytest.approx(0.5)
    assert float(off.memory_breakdown_gb["optimizer_states"]) == 0.0
    assert float(off.memory_breakdown_gb["step_buffer"]) == 0.0
    assert float(off.memory_breakdown_gb["weights"]) == pytest.approx(16.0)
    assert float(off.host_memory_gb) == pytest.approx(112.0)
    # the weights too: 16 GB more on the host, none on the GPU
    both = evaluate(with_training(full, offload="optimizer_and_parameters"), book).compute
    assert float(both.memory_breakdown_gb["weights"]) == 0.0
    assert float(both.host_memory_gb) == pytest.approx(128.0)


def moe(plan: Params) -> Params:
    """A small mixture of experts: 2 layers, hidden 1,024, 8 heads, 8 experts of MLP width
    2,048 (2 routed), vocabulary 32,000 untied. Attention 4 × 1,024² = 4,194,304 a layer;
    experts 8 × 3 × 1,024 × 2,048 = 50,331,648 a layer; embeddings 2 × 32,000 × 1,024 =
    65,536,000: 2 × 54,525,952 + 65,536,000 = 174,587,904 parameters, of which the experts'
    100,663,296 (share 0.57657)."""
    model = with_model(
        plan,
        name="Tiny-MoE",
        parameters_billion=0.174587904,
        layers=2,
        hidden_size=1024,
        attention_heads=8,
        kv_heads=8,
        intermediate_size=2048,
        vocab_size=32000,
        experts=8,
        experts_per_token=2,
    )
    return with_training(model, method="full_sft", trainable_fraction=None, gpus_per_run=4)


def test_expert_parallel_splits_the_experts_weights(plan, book):
    # Nothing sharded, 4 GPUs, EP 1: every GPU holds all 174,587,904 parameters: weights and
    # gradients 2 B each = 0.349175808 GB, optimizer states 12 B = 2.095054848 GB.
    # EP 4: the 73,924,608 others whole, the experts' 100,663,296 ÷ 4 = 25,165,824: 99,090,432
    # parameters a GPU: weights and gradients 0.198180864 GB, states 1.189085184 GB.
    unsplit = evaluate(with_training(moe(plan), sharding="none"), book).compute.memory_breakdown_gb
    assert float(unsplit["weights"]) == pytest.approx(0.349175808)
    split = evaluate(with_training(moe(plan), sharding="none", expert_parallel=4), book).compute.memory_breakdown_gb
    assert float(split["weights"]) == pytest.approx(0.198180864)
    assert float(split["gradients"]) == pytest.approx(0.198180864)
    assert float(split["optimizer_states"]) == pytest.approx(1.189085184)
    # under ZeRO-3 over the same 4 GPUs everything is split by 4 already: EP changes nothing
    sharded = evaluate(with_training(moe(plan), sharding="full"), book).compute.memory_breakdown_gb
    both = evaluate(with_training(moe(plan), sharding="full", expert_parallel=4), book).compute.memory_breakdown_gb
    assert float(both["weights"]) == pytest.approx(float(sharded["weights"])) == pytest.approx(0.349175808 / 4)


# ---------------------------------------------------------------- quantisation and loading


def test_nf4_without_double_quantisation_stores_its_constants_in_fp32(plan, book):
    # QLoRA §3: 4 bits + fp32 absmax per 64 weights (0.5 bit) = 0.5625 B; double quantised
    # 4 + 8/64 + 32/(64 × 256) bits = 0.515869 B. The second plan's NF4 blocks (8e9 −
    # 1,048,576,000 = 6,951,424,000) over 2 GPUs: 6,951,424,000 × (0.5625 − 0.515869140625) ÷ 2
    # = 162,073,... B more without it
    assert allocator.nf4_bytes_per_param(False) == 0.5625
    assert allocator.nf4_bytes_per_param(True) == pytest.approx(0.515869140625)
    with_dq = evaluate(plan, book).compute.memory_breakdown_gb["weights"]
    without = evaluate(with_training(plan, nf4_double_quant=False), book).compute.memory_breakdown_gb["weights"]
    assert float(without) - float(with_dq) == pytest.approx(6_951_424_000 * (0.5625 - 0.515869140625) / 2 / 1e9)


def test_a_quantised_base_loads_one_bf16_matrix_at_a_time(plan, book):
    # The second plan's resident weights per GPU (3.002043392 GB) plus one MLP matrix in bf16
    # before quantisation: hidden 4,096 × width 12,217.0521 × 2 B = 0.1000815 GB; below the
    # training peak, so it does not set the allocated peak
    width = (8e9 - 1_048_576_000 - 32 * 4 * 4096**2) / (3 * 4096 * 32)
    facts = evaluate(plan, book).compute
    assert float(facts.loading_peak_gb) == pytest.approx(3.002043392 + 4096 * width * 2 / 1e9)
    assert float(facts.allocated_gb) > float(facts.loading_peak_gb)
    # a method without a quantised base loads nothing to quantise
    assert float(evaluate(with_training(plan, method="lora"), book).compute.loading_peak_gb) == 0.0


# ---------------------------------------------------------------- FSDP and optimizer temporaries


def test_fsdp1_holds_one_more_gathered_unit(plan, book):
    # FSDP2: 2 layers of 8e9 ÷ 32 × 2 B = 0.5 GB each = 1 GB, plus the root unit's embeddings
    # over their sharded half, 1,048,576,000 × 2 ÷ 2 = 1.048576 GB; FSDP1 3 layers: 1.5 + 1.048576
    two = evaluate(plan, book).compute.memory_breakdown_gb["gathered_layer"]
    one = evaluate(with_training(plan, fsdp_version=1), book).compute.memory_breakdown_gb["gathered_layer"]
    assert float(two) == pytest.approx(2.048576)
    assert float(one) == pytest.approx(2.548576)


def test_optimizer_temporaries_by_implementation(plan, book):
    # foreach AdamW: one √v buffer of fp32 moments, 1.6e8 × 4 B ÷ 2 GPUs = 0.32 GB; fused and
    # for_loop: none
    buffers = {
        name: float(
            evaluate(with_training(plan, optimizer_implementation=name), book).compute.memory_breakdown_gb[
                "step_buffer"
            ]
        )
        for name in ("foreach", "fused", "for_loop")
    }
    assert buffers == pytest.approx({"foreach": 0.32, "fused": 0.0, "for_loop": 0.0})


# ---------------------------------------------------------------- reserved, summary, Monte Carlo


def test_reserved_is_allocated_over_one_less_fragmentation(plan, book):
    facts = evaluate(plan, book).compute
    # the second plan's peak 13.40796 GB less the 1.3 GB context: 12.10796 GB of tensors;
    # reserved at the mode's 2 %: 12.10796 ÷ 0.98 = 12.35506 GB
    assert float(facts.allocated_gb) == pytest.approx(float(facts.memory_per_gpu_gb) - 1.3)
    assert float(facts.reserved_gb) == pytest.approx(float(facts.allocated_gb) / 0.98)


def test_the_summary_says_the_verdict_beside_fits(plan, book):
    summary = compute_summary(estimate(plan, book))
    assert summary["fit"] == "fits" and summary["fits"] is True
    assert summary["fit_detail"]["verdict"] == "fits"
    assert summary["fit_detail"]["capacity_gb"] == pytest.approx(85.899, abs=1e-3)
    full = with_training(plan, method="full_sft")
    summary = compute_summary(estimate(full, book))
    # full SFT on the 2 H100: 80 GB of tensors, borderline (test_hand_derived_plan), still fits
    assert summary["fit"] == "borderline" and summary["fits"] is True


def test_the_monte_carlo_draws_the_context_and_the_fragmentation(plan, book):
    draws = draw_inputs(plan, book, 2000, 7)
    context = draws["pricebook.training_physics.framework_overhead_gb"]
    share = draws["pricebook.training_physics.allocator_fragmentation_share"]
    assert context.min() >= 0.5 and context.max() <= 1.5
    assert share.min() >= 0.0 and share.max() <= 0.43
    facts = evaluate(plan, book, picker_from_draws(draws)).compute
    # the peak moves with the context one for one, the usable memory with both
    peak = np.asarray(facts.memory_per_gpu_gb)
    assert np.ptp(peak - context) == pytest.approx(0.0, abs=1e-9)
    usable = np.asarray(facts.usable_gb_per_gpu)
    assert usable == pytest.approx((80 * GIB - context) * (1 - share))


def test_a_pipeline_stage_under_fsdp_stays_unsharded():
    # Llama-3.1-405B on tensor 8 × pipeline 8: a stage holds 405.9e9 ÷ 64 = 6.342e9 parameters.
    # Trained in bf16 with bf16 gradients, unsharded through the step: 6.342e9 × (2 + 2) =
    # 25.369 GB; without pipeline parallel, nothing (FSDP's two gathered layers instead).
    n = 405.9e9
    assert allocator.pipelined_unsharded_gb(n, n, 2.0, 2.0, 64, True) == pytest.approx(25.36875)
    assert allocator.pipelined_unsharded_gb(n, n, 2.0, 2.0, 64, False) == 0.0
    # A LoRA stage: frozen base 8e9 in bf16, 2e7 adapters trained, pipeline 2:
    # (8.02e9 × 2 + 2e7 × 2) ÷ 2 = 8.04 GB.
    assert allocator.pipelined_unsharded_gb(8.02e9, 2e7, 2.0, 2.0, 2, True) == pytest.approx(8.04)
