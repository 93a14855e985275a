"""The time terms added to the physics view (kernel overheads, the matmuls' roofline, the
pipeline bubble, dequantisation by library) and the head dimension, each against a number
derived by hand in the comment."""

from __future__ import annotations

import numpy as np
import pytest

from ftcost_helpers.engine.catalogue import keys_from_config
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.loading import load_price_book, params_from_mapping, project_root, read_yaml
from ftcost_helpers.engine.model import architecture, blocks, compute, memory

BOOK = load_price_book()
# Qwen3-32B's config.json: hidden 5120, 64 heads, 8 KV heads, head_dim 128 (not 5120/64 = 80).
QWEN3_32B = {"layers": 64, "hidden_size": 5120, "attention_heads": 64, "kv_heads": 8, "head_dim": 128}


class TestHeadDimension:
    def test_attention_parameters_follow_head_dim(self):
        # q: 5120 × 64·128 = 5120 × 8192 = 41,943,040; o the same; k, v: 5120 × 8·128 =
        # 5120 × 1024 = 5,242,880 each. 2 × 41,943,040 + 2 × 5,242,880 = 94,371,840.
        assert architecture.attention_parameters(5120, 64, 8, 128) == 94_371_840
        # Without head_dim, d = 5120 / 64 = 80: 2 × 5120² + 2 × 5120 × 640 = 52,428,800 + 6,553,600.
        assert architecture.attention_parameters(5120, 64, 8) == 58_982_400

    def test_qwen3_32b_counts_its_published_32_8b(self):
        # Per layer 94,371,840 + MLP 3 × 5120 × 25,600 = 393,216,000 → 487,587,840; × 64 layers
        # = 31,205,621,760; embeddings untied 2 × 151,936 × 5120 = 1,555,824,640; total
        # 32,761,446,400, within 0.2 % of the model card's 32.8B (with d = 80 it is 2.26B short).
        total = blocks.total_parameters(64, 5120, 64, 8, 25600, 151936, False, 1, 128)
        assert total == 32_761_446_400

    def test_lora_on_attention_follows_head_dim(self):
        # Rank 16: q 16·(5120 + 8192) = 212,992, o the same, k and v 16·(5120 + 1024) = 98,304
        # each: 622,592 per layer × 64 = 39,845,888.
        assert blocks.lora_parameters(16, "attention", 64, 5120, 64, 8, 25600, 1, 128) == 39_845_888

    def test_attention_flops_use_the_query_width(self):
        # 6 · L · s · (a·d) with no recomputation: 6 × 64 × 4096 × 8192 = 12,884,901,888.
        _, attention = compute.flops_per_token(1e9, 0.0, True, 64, 8192.0, 4096, "none")
        assert attention == 12_884_901_888

    def test_activation_bytes_use_the_query_and_kv_widths(self):
        # 4h + 4·(a·d) + 4·h_kv + 4a + 4h + 8i = 20,480 + 32,768 + 4,096 + 256 + 20,480 + 204,800.
        per_token = memory.activation_bytes_per_token_layer(5120, 1024.0, 25600, 1, 64, 4096, True, 8192.0)
        assert per_token == 282_880

    def test_config_json_head_dim_is_read(self):
        config = {
            "num_hidden_layers": 64,
            "hidden_size": 5120,
            "num_attention_heads": 64,
            "num_key_value_heads": 8,
            "head_dim": 128,
            "intermediate_size": 25600,
            "vocab_size": 151936,
            "tie_word_embeddings": False,
        }
        keys = keys_from_config(config)
        # 32,761,446,400 parameters (above) → 32.761 billion.
        assert keys["head_dim"] == 128
        assert keys["parameters_billion"] == pytest.approx(32.761, abs=0.001)

    def test_a_plan_naming_qwen3_gets_its_head_dim_and_the_larger_attention(self):
        # Full fine-tuning (no adapters, whose count also follows d), 4,096 tokens, full checkpointing.
        training = {"method": "full_sft", "sequence_length": 4096, "activation_checkpointing": "full"}
        with_d = evaluate(_plan(training, base_model={"name": "Qwen/Qwen3-32B"}), BOOK).compute
        stated = {**QWEN3_32B, "parameters_billion": 32.8, "vocab_size": 151936, "intermediate_size": 25600}
        stated = {key: value for key, value in stated.items() if key != "head_dim"}
        without_d = evaluate(_plan(training, base_model={"name": "a 32B without head_dim", **stated}), BOOK).compute
        # Same N, so the FLOPs differ only by attention: 6·L·s·(8192 − 5120) per token with full
        # checkpointing adding 2·L·s·Δ: 8 × 64 × 4096 × 3072 = 6,442,450,944 FLOPs per token.
        tokens = float(with_d.tokens_per_run)
        assert float(with_d.flops_per_run) - float(without_d.flops_per_run) == pytest.approx(6_442_450_944 * tokens)
        assert with_d.architecture_mismatch < 0.01 < without_d.architecture_mismatch


class TestKernelOverheads:
    def test_kernels_per_layer(self):
        # LoRA on 7 linears: forward 40 + 5 × 7 = 75; backward 2 × 75; recompute 75: 300.
        assert compute.kernels_per_layer(7, "full") == 300
        # Full training, no recomputation: 40 × (1 + 2) = 120.
        assert compute.kernels_per_layer(0, "none") == 120

    def test_dequantisation_kernels_by_library(self):
        # nf4: 2 kernels × 7 linears × (forward + backward + recompute) = 42.
        assert compute.dequantise_kernels_per_layer(compute.DEQUANTISATION["nf4"], "full") == 42
        # gptq: 9 × 7 × (forward + recompute; the backward reuses the saved fp16 weight) = 126.
        assert compute.dequantise_kernels_per_layer(compute.DEQUANTISATION["gptq"], "full") == 126

    def test_launch_seconds(self):
        # 8 micro-batches × 32 layers × 300 kernels × 6 µs = 0.4608 s.
        assert compute.launch_seconds(8, 32, 300, 6.0) == pytest.approx(0.4608)

    def test_overheads_do_not_shrink_with_the_sequence(self):
        # Same tokens in micro-batches of 256 and of 8,192: 32× the micro-batches, 32× the
        # kernels. Per micro-batch of 256 tokens: 300 × 32 × 6 µs = 57.6 ms of overheads
        # against ~256 × 48 GFLOP ÷ (312 TFLOPS × 0.5) = 79 ms of matmuls (+73 %); at 8,192
        # tokens attention adds 8 × 32 × 8192 × 4096 = 8.6 GFLOP per token (+18 %) and the
        # overheads 2 %. So the short run has fewer FLOPs and takes longer.
        short = evaluate(_plan({"sequence_length": 256, "utilisation": 0.5}), BOOK).compute
        long = evaluate(_plan({"sequence_length": 8192, "utilisation": 0.5}), BOOK).compute
        assert float(short.flops_per_run) < float(long.flops_per_run)
        assert float(short.physics_gpu_hours_per_run) > float(long.physics_gpu_hours_per_run)


class TestRoofline:
    def test_flops_bound(self):
        # 1e15 FLOPs at 312 TFLOPS × 0.5 = 6.410 s; 1e12 bytes at 2,039 GB/s = 0.490 s: 6.410 s.
        seconds = compute.compute_seconds(1e15, 0.0, 312.0, 312.0, 0.5, 1.0, 1e12, 2039.0)
        assert seconds == pytest.approx(1e15 / 156e12)

    def test_bandwidth_bound(self):
        # 2e13 bytes at 2,039 GB/s = 9.809 s > 6.410 s.
        seconds = compute.compute_seconds(1e15, 0.0, 312.0, 312.0, 0.5, 1.0, 2e13, 2039.0)
        assert seconds == pytest.approx(2e13 / 2039e9)

    def test_matmul_traffic(self):
        # (7e9 × 2 B × 3 passes + 2 × 1e8 × 2 B) × 8 micro-batches = (42e9 + 0.4e9) × 8 = 339.2e9.
        assert compute.matmul_traffic_bytes(7e9, 2.0, 3.0, 1e8, 2.0, 8) == pytest.approx(339.2e9)

    def test_weight_passes(self):
        # forward + input-gradient matmul, + the recomputed forward.
        assert (compute.weight_passes("none"), compute.weight_passes("full")) == (2.0, 3.0)


class TestPipelineBubble:
    def test_one_f_one_b(self):
        # 4 stages, 32 micro-batches: (32 + 3) / 32 = 1.09375.
        assert compute.pipeline_bubble_factor(4, 32) == pytest.approx(1.09375)
        assert compute.pipeline_bubble_factor(1, 8) == 1.0

    def test_a_pipelined_plan_pays_the_bubble(self):
        # 8 GPUs, 2 stages × 4 data-parallel replicas against 8 replicas: the same FLOPs, and
        # (m + 1)/m more compute time with m = 4 micro-batches per step, 1.25×, besides the
        # data-parallel plan's optimizer steps over the whole model.
        flat = evaluate(_plan({"gradient_accumulation_steps": 4, "utilisation": 0.5}), BOOK).compute
        piped = evaluate(
            _plan({"gradient_accumulation_steps": 4, "utilisation": 0.5, "pipeline_parallel": 2}), BOOK
        ).compute
        assert float(piped.flops_per_run) == pytest.approx(float(flat.flops_per_run))
        compute_flat = float(flat.physics_gpu_hours_per_run) - float(flat.optimizer_step_gpu_hours_per_run)
        compute_piped = float(piped.physics_gpu_hours_per_run) - float(piped.optimizer_step_gpu_hours_per_run)
        assert compute_piped / compute_flat == pytest.approx(1.25, rel=0.02)


class TestDequantisation:
    def test_gptq_unpacks_in_pytorch(self):
        # At the datasheet bandwidth (both shares 1): 1e9 weights × (0.5 + 16) B × 2 passes
        # (forward, recompute) × 8 micro-batches = 264e9 B at 2,000 GB/s = 0.132 s.
        seconds = compute.dequantise_seconds(1e9, 0.5, compute.DEQUANTISATION["gptq"], "full", 8, 2000.0, 1.0, 1.0)
        assert seconds == pytest.approx(0.132)

    def test_gptq_broadcast_kernels_run_at_their_own_share(self):
        # Broadcast kernels (the shift with the packed read 0.5 + 4, zero points 1 + 1, scales
        # 1 + 2): 9.5 B at 0.5 of the bandwidth = 19 B-equivalents; contiguous (cast 4 + 1,
        # mask 1 + 1): 7 B at 0.875 = 8. (19 + 8) × 1e9 × 2 passes × 8 = 432e9 at 2,000 GB/s
        # = 0.216 s.
        seconds = compute.dequantise_seconds(1e9, 0.5, compute.DEQUANTISATION["gptq"], "full", 8, 2000.0, 0.875, 0.5)
        assert seconds == pytest.approx(0.216)

    def test_nf4_dequantises_in_the_backward_too(self):
        # 1e9 × (0.5 + 2) B × 3 passes × 8 = 60e9 B at 2,000 GB/s = 0.03 s.
        seconds = compute.dequantise_seconds(1e9, 0.5, compute.DEQUANTISATION["nf4"], "full", 8, 2000.0, 1.0, 1.0)
        assert seconds == pytest.approx(0.03)
        # bitsandbytes' one fused kernel broadcasts nothing: at shares 0.8 and 0.3 the same
        # 60e9 B take 60e9 ÷ (2,000e9 × 0.8) = 0.0375 s (the broadcast share does not enter).
        seconds = compute.dequantise_seconds(1e9, 0.5, compute.DEQUANTISATION["nf4"], "full", 8, 2000.0, 0.8, 0.3)
        assert seconds == pytest.approx(0.0375)

    def test_the_price_books_bandwidth_shares_reach_the_physics_hours(self):
        # Every memory-bound term goes as 1 ÷ share, the rest of the time does not: with both
        # shares divided by k, compute hours = rest + dequantisation × k and step hours =
        # step × k. So from k = 1 to 2 the compute hours rise by the dequantisation D, from 2
        # to 4 by 2·D; the optimizer steps double each time.
        plan = _plan({"method": "qlora", "quantised_base": "gptq", "sequence_length": 256, "utilisation": 0.5})
        physics = BOOK.training_physics

        def divided(k: float):
            shares = {
                "elementwise_bandwidth_share": physics.elementwise_bandwidth_share.base / k,
                "broadcast_bandwidth_share": physics.broadcast_bandwidth_share.base / k,
            }
            book = BOOK.model_copy(update={"training_physics": physics.model_copy(update=shares)})
            facts = evaluate(plan, book).compute
            step = float(facts.optimizer_step_gpu_hours_per_run)
            return float(facts.physics_gpu_hours_per_run) - step, step

        (compute_1, step_1), (compute_2, step_2), (compute_4, step_4) = divided(1), divided(2), divided(4)
        assert (step_2, step_4) == pytest.approx((2 * step_1, 4 * step_1))
        dequantisation = compute_2 - compute_1
        assert dequantisation > 0
        assert compute_4 - compute_2 == pytest.approx(2 * dequantisation, rel=1e-9)

    def test_a_gptq_base_is_slower_than_nf4_at_short_sequences(self):
        plan = {"method": "qlora", "sequence_length": 256, "utilisation": 0.5}
        nf4 = evaluate(_plan(plan), BOOK).compute
        gptq = evaluate(_plan({**plan, "quantised_base": "gptq"}), BOOK).compute
        assert float(gptq.flops_per_run) == float(nf4.flops_per_run)
        assert float(gptq.physics_gpu_hours_per_run) > 1.2 * float(nf4.physics_gpu_hours_per_run)


def _plan(training=None, base_model=None):
    """Example A on one A100 80GB (8 GPUs where parallelism is tested), Llama 3.1 8B."""
    data = read_yaml(project_root() / "params" / "clients" / "example_a.yaml")
    data.pop("scenarios")
    data["training"].update(
        {"gpu": "a100_80gb", "tier": "neocloud_on_demand", "gpus_per_run": 8, "micro_batch_size": 1},
        **(training or {}),
    )
    data["training"].pop("rate_usd_per_gpu_hour", None)
    llama = {"layers": 32, "hidden_size": 4096, "attention_heads": 32, "kv_heads": 8, "intermediate_size": 14336}
    data["base_model"] = base_model or {
        "name": "Llama-3.1-8B",
        **llama,
        "parameters_billion": 8.03,
        "vocab_size": 128256,
    }
    return params_from_mapping(data, "plan", BOOK)


def test_draws_of_the_kernel_overhead_move_the_time():
    # The price book's 4–8 µs range is drawn: a run's hours vary even at a fixed utilisation.
    from ftcost_helpers.engine.uncertainty import simulate

    sim = simulate(_plan({"sequence_length": 256, "utilisation": 0.5}), BOOK, draws=200, seed=1)
    hours = np.asarray(sim.compute["physics_gpu_hours_per_run"])
    assert hours.max() > 1.05 * hours.min()


class TestDequantisedCopies:
    def test_gptq_keeps_the_recomputed_layer_in_fp16(self):
        # 7e9 quantised weights over 28 layers, one layer kept under full recomputation:
        # 7e9 ÷ 28 × 2 B = 0.5 GB; without recomputation every layer's copy: 14 GB.
        assert memory.dequantised_copies_gb(7e9, 28, 1, True, "full") == pytest.approx(0.5)
        assert memory.dequantised_copies_gb(7e9, 28, 1, True, "none") == pytest.approx(14.0)
        # split over 2 tensor-parallel GPUs: 0.25 GB; bitsandbytes keeps none.
        assert memory.dequantised_copies_gb(7e9, 28, 2, True, "full") == pytest.approx(0.25)
        assert memory.dequantised_copies_gb(7e9, 28, 1, False, "full") == 0.0

    def test_a_gptq_plan_holds_one_fp16_layer_more_than_nf4(self):
        # Llama 3.1 8B: blocks 8.03e9 − 2 × 128,256 × 4,096 = 8.03e9 − 1,050,673,152 =
        # 6,979,326,848 weights, ÷ 32 layers × 2 B = 0.43621 GB in the working-layer term.
        plan = {"method": "qlora", "gpus_per_run": 1, "sharding": "none"}
        nf4 = evaluate(_plan(plan), BOOK).compute.memory_breakdown_gb["gathered_layer"]
        gptq = evaluate(_plan({**plan, "quantised_base": "gptq"}), BOOK).compute.memory_breakdown_gb["gathered_layer"]
        assert float(gptq) - float(nf4) == pytest.approx(6_979_326_848 / 32 * 2 / 1e9)
