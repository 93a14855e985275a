"""Architecture counts, the memory breakdown and the time terms, each against a figure
derived by hand (the arithmetic is in the comments), and plan-level switches moving memory
and time by the amounts the formulas give."""

from __future__ import annotations

import numpy as np
import pytest

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.loading import load_price_book, params_from_mapping, project_root, read_yaml
from ftcost_helpers.engine.model import blocks, memory
from ftcost_helpers.engine.summary import compute_summary

LLAMA31_8B = {"layers": 32, "hidden_size": 4096, "attention_heads": 32, "kv_heads": 8, "intermediate_size": 14336}


class TestArchitecture:
    def test_llama31_8b_counts_its_published_8_03b(self):
        # Attention 2·4096² + 2·4096·1,024 = 41,943,040; MLP 3·4096·14,336 = 176,160,768;
        # × 32 layers = 6,979,321,856; embeddings 2·128,256·4096 = 1,050,673,152; total 8,029,995,008.
        total = blocks.total_parameters(32, 4096, 32, 8, 14336, 128256, False)
        assert total == 8_029_995_008

    def test_the_mlp_width_is_derived_back_from_the_count(self):
        assert blocks.derived_intermediate_size(8_029_995_008, 32, 4096, 32, 8, 128256, False) == pytest.approx(14336)

    def test_tied_embeddings_count_once(self):
        # One V × h matrix less: 8,029,995,008 − 128,256·4096 = 7,504,658,432.
        assert blocks.total_parameters(32, 4096, 32, 8, 14336, 128256, True) == 7_504_658_432

    def test_lora_on_llama2_7b_all_linear_rank_64_is_159_9m(self):
        # Per layer: attention 64·(6·4096 + 2·4096) = 2,097,152; MLP 3·64·(4096 + 11,008) =
        # 2,899,968; × 32 = 159,907,840 (the count PEFT prints for this QLoRA set-up).
        assert blocks.lora_parameters(64, "all_linear", 32, 4096, 32, 32, 11008) == 159_907_840

    def test_lora_on_attention_only(self):
        # 16·(6·4096 + 2·1,024) · 32 = 16 · 26,624 · 32 = 13,631,488.
        assert blocks.lora_parameters(16, "attention", 32, 4096, 32, 8, 14336) == 13_631_488

    def test_mixture_of_experts_total_and_active(self):
        # Qwen3-30B-A3B shape: attention 2·2048² + 2·2048·256 = 9,437,184; one expert 3·2048·768
        # = 4,718,592. Total per layer 9,437,184 + 128 · 4,718,592 = 613,416,960, × 48 =
        # 29,444,014,080, + embeddings 2·151,936·2048 = 622,329,856: 30,066,343,936. Active per
        # layer 9,437,184 + 8 · 4,718,592 = 47,185,920, × 48 + 622,329,856 = 2,887,254,016.
        shape = (48, 2048, 32, 4, 768, 151936, False)
        assert blocks.total_parameters(*shape, 128) == 30_066_343_936
        assert blocks.active_parameters(*shape, 8) == 2_887_254_016


class TestMemoryTerms:
    def test_optimizer_bytes_by_precision_and_optimizer(self):
        # Mixed AdamW 4 + 2·4 = 12; pure bf16 AdamW 0 + 2·2 = 4; mixed 8-bit AdamW 4 + 2·1 = 6;
        # mixed SGD with momentum 4 + 4 = 8; Adafactor only the master copy, 4.
        assert memory.optimizer_bytes_per_param("bf16_mixed", "adamw") == 12
        assert memory.optimizer_bytes_per_param("bf16", "adamw") == 4
        assert memory.optimizer_bytes_per_param("bf16_mixed", "adamw_8bit") == 6
        assert memory.optimizer_bytes_per_param("bf16_mixed", "sgd") == 8
        assert memory.optimizer_bytes_per_param("bf16_mixed", "adafactor") == 4
        assert memory.optimizer_bytes_per_param("fp32", "adamw") == 8

    def test_zero_stages_split_what_they_shard(self):
        # 7e9 parameters, 8 data-parallel GPUs. ZeRO-1: optimizer 7e9·12/8 = 10.5 GB, gradients
        # stay 7e9·2 = 14 GB; ZeRO-2 gradients 1.75 GB; ZeRO-3 weights 14/8 = 1.75 GB.
        assert memory.optimizer_states_gb(7e9, 12, 1, 8, True, False) == pytest.approx(10.5)
        assert memory.gradients_gb(7e9, 2, 1, 8, False) == pytest.approx(14)
        assert memory.gradients_gb(7e9, 2, 1, 8, True) == pytest.approx(1.75)
        assert memory.weights_gb(7e9, 0.0, 2, 1, 8, True, False) == pytest.approx(1.75)
        assert memory.weights_gb(7e9, 0.0, 2, 1, 8, False, False) == pytest.approx(14)

    def test_tensor_and_pipeline_parallel_split_the_states(self):
        # 7e9·2 bytes over tensor 2 × pipeline 2 = 3.5 GB.
        assert memory.weights_gb(7e9, 0.0, 2, 4, 1, False, False) == pytest.approx(3.5)

    def test_offloaded_states_leave_the_gpu(self):
        assert memory.optimizer_states_gb(7e9, 12, 1, 1, False, True) == 0
        assert memory.weights_gb(7e9, 0.0, 2, 1, 1, False, True) == 0

    def test_a_quantised_base_keeps_embeddings_at_bf16(self):
        # (8,029,995,008 − 1,050,673,152)·0.516 + 1,050,673,152·2 = 3,601,330,078 + 2,101,346,304.
        frozen = memory.frozen_bytes(8_029_995_008, 1_050_673_152, 2.0, 0.516)
        assert frozen == pytest.approx(3_601_330_077.7 + 2_101_346_304)

    def test_activation_bytes_of_a_llama_layer(self):
        # Flash: attention 8·4096 + 4·1,024 + 4·32 = 36,992; MLP 4·4096 + 8·14,336 = 131,072:
        # 168,064 bytes per token. Eager at s = 4096 adds 5·32·4096 = 655,360.
        flash = memory.activation_bytes_per_token_layer(4096, 1024, 14336, 1, 32, 4096, True)
        eager = memory.activation_bytes_per_token_layer(4096, 1024, 14336, 1, 32, 4096, False)
        assert flash == 168_064 and eager - flash == 655_360

    def test_checkpointing_keeps_layer_inputs_and_one_layer(self):
        # Full: (32·2·4096 + 168,064)·4096 tokens = 430,208·4096 = 1,762,131,968 B. None:
        # 32·168,064·4096 = 22,028,484,608 B. Tensor parallel 2 halves it.
        assert memory.activations_gb(168_064, 4096, 32, 4096, "full", 0, 1, 1) == pytest.approx(1.762132, rel=1e-6)
        assert memory.activations_gb(168_064, 4096, 32, 4096, "none", 0, 1, 1) == pytest.approx(22.0285, rel=1e-4)
        assert memory.activations_gb(168_064, 4096, 32, 4096, "none", 0, 2, 1) == pytest.approx(11.0142, rel=1e-4)

    def test_selective_recomputation_drops_the_attention_scores(self):
        # 2 layers × (1,000 − 400) bytes × 10 tokens = 12,000 bytes.
        assert memory.activations_gb(1000, 100, 2, 10, "selective", 400, 1, 1) == pytest.approx(12e-6)

    def test_logits_in_fp32_with_the_loss_state(self):
        # At the loss's backward, PyTorch's cross-entropy on fp32 logits holds the saved
        # log-softmax, its gradient and its input's gradient, fp32 each:
        # 4096 tokens × 128,256 × (4 + 4 + 4) bytes = 525,336,576 × 12 = 6,304,038,912 B.
        assert memory.logits_gb(4096, 128256, 1, 1) == pytest.approx(6.304039, rel=1e-6)
        # The same three in fp16/bf16 (no autocast): × (2 + 2 + 2) = 3,152,019,456 B.
        half = memory.LOGIT_BYTES["eager_half"]
        assert memory.logits_gb(4096, 128256, 1, 1, half) == pytest.approx(3.152019, rel=1e-6)
        # The training loop still holding the model's fp32 logits: × (4 + 4 + 4 + 4) =
        # 8,405,385,216 B; a fused kernel's logits and in-place gradient: × 4 = 2,101,346,304 B.
        held, fused = memory.LOGIT_BYTES["eager_fp32_held"], memory.LOGIT_BYTES["fused"]
        assert memory.logits_gb(4096, 128256, 1, 1, held) == pytest.approx(8.405385, rel=1e-6)
        assert memory.logits_gb(4096, 128256, 1, 1, fused) == pytest.approx(2.101346, rel=1e-6)

    def test_peak_is_the_larger_phase(self):
        # Forward/backward: 10 + 2 + 12 + 30 + 4 + 0 = 58; step: 24 + 8 = 32; + 1.3 overhead.
        assert memory.peak_gb(10, 2, 12, 30, 4, 0, 8, 1.3) == pytest.approx(59.3)
        # A tiny activation load makes the step the peak: 24 + 8 + 1.3.
        assert memory.peak_gb(10, 2, 12, 1, 1, 0, 8, 1.3) == pytest.approx(33.3)

    def test_fewest_replicas(self):
        # 10 GB that does not shard + 100 GB that does, 40 GB usable: ceil(100 / 30) = 4.
        assert memory.fewest_data_parallel(10, 100, 40, True) == 4
        assert memory.fewest_data_parallel(10, 100, 40, False) == np.inf
        assert memory.fewest_data_parallel(50, 1, 40, True) == np.inf


def _plan(training=None, base_model=None, dataset=None):
    data = read_yaml(project_root() / "params" / "clients" / "example_a.yaml")
    data.pop("scenarios")
    data["training"].update(training or {})
    data["base_model"] = {**data["base_model"], **LLAMA31_8B, "parameters_billion": 8.03, "vocab_size": 128256}
    data["base_model"].update(base_model or {})
    data["dataset"].update(dataset or {})
    return params_from_mapping(data, "plan", BOOK)


BOOK = load_price_book()
FULL = {"method": "full_sft", "gpus_per_run": 8, "micro_batch_size": 1, "sequence_length": 4096}


def _terms(**training):
    return evaluate(_plan({**FULL, **training}), BOOK).compute.memory_breakdown_gb


class TestPlanSwitches:
    """Each key moves memory by the formula's amount (N = 8,029,995,008, 8 GPUs)."""

    def test_pure_bf16_halves_the_states(self):
        # Mixed: 2 + 2 + 12 = 16 B/param unsharded; pure bf16: 2 + 2 + 4 = 8 B/param.
        mixed, pure = (_terms(sharding="none", precision=p) for p in ("bf16_mixed", "bf16"))
        states = [t["weights"] + t["gradients"] + t["optimizer_states"] for t in (mixed, pure)]
        assert states[0] == pytest.approx(8_029_995_008 * 16 / 1e9)
        assert states[1] == pytest.approx(8_029_995_008 * 8 / 1e9)

    def test_eight_bit_adam_cuts_the_moments(self):
        # 12 → 6 bytes per parameter of optimizer state: 96.36 → 48.18 GB unsharded.
        assert _terms(sharding="none", optimizer="adamw_8bit")["optimizer_states"] == pytest.approx(
            8_029_995_008 * 6 / 1e9
        )

    def test_sharding_stages(self):
        # ZeRO-1: optimizer ÷ 8 = 12.045 GB, gradients whole 16.06 GB; ZeRO-3: weights ÷ 8 = 2.0075.
        zero1, zero3 = _terms(sharding="optimizer"), _terms(sharding="full")
        assert zero1["optimizer_states"] == pytest.approx(8_029_995_008 * 12 / 8 / 1e9)
        assert zero1["gradients"] == pytest.approx(8_029_995_008 * 2 / 1e9)
        assert zero3["weights"] == pytest.approx(8_029_995_008 * 2 / 8 / 1e9)

    def test_offload_moves_memory_off_and_time_on(self):
        on, off = (evaluate(_plan({**FULL, "offload": o}), BOOK).compute for o in ("none", "optimizer"))
        assert off.memory_breakdown_gb["optimizer_states"] == 0 < on.memory_breakdown_gb["optimizer_states"]
        assert float(off.host_transfer_gpu_hours_per_run) > 0 == float(on.host_transfer_gpu_hours_per_run)

    def test_tensor_parallel_halves_activations_and_needs_dividing_gpus(self):
        one, two = _terms(activation_checkpointing="none"), _terms(activation_checkpointing="none", tensor_parallel=2)
        assert two["activations"] == pytest.approx(one["activations"] / 2)

    def test_fp8_runs_the_matmuls_at_the_fp8_peak(self):
        # H100: 1,979 vs 989 TFLOPS, so the matmul part of the time halves (attention stays).
        bf16, fp8 = (
            evaluate(_plan({**FULL, "precision": p, "utilisation": 0.5}), BOOK).compute for p in ("bf16_mixed", "fp8")
        )
        ratio = float(fp8.physics_gpu_hours_per_run) / float(bf16.physics_gpu_hours_per_run)
        assert 0.5 < ratio < 0.6

    def test_lora_time_skips_the_weight_gradients_and_the_step(self):
        # Per token, full with checkpointing 8·N; LoRA 6·N + 6·N_a: FLOPs ratio just above 0.75.
        # Its hours are a little higher than the FLOPs ratio (the adapters' kernels, 35 more
        # per layer forward) and far below 1 (no optimizer step over 8B parameters).
        full = evaluate(_plan({**FULL, "utilisation": 0.4}), BOOK).compute
        lora = evaluate(_plan({**FULL, "method": "lora", "utilisation": 0.4}), BOOK).compute
        flops = float(lora.flops_per_run) / float(full.flops_per_run)
        hours = float(lora.physics_gpu_hours_per_run) / float(full.physics_gpu_hours_per_run)
        assert 0.70 < flops < 0.80
        assert flops < hours < 0.85
        assert float(lora.optimizer_step_gpu_hours_per_run) < float(full.optimizer_step_gpu_hours_per_run) / 20

    def test_padding_costs_time(self):
        packed = evaluate(_plan({**FULL, "utilisation": 0.4}), BOOK).compute
        padded = evaluate(_plan({**FULL, "utilisation": 0.4, "padding_efficiency": 0.5}), BOOK).compute
        assert float(padded.flops_per_run) == pytest.approx(2 * float(packed.flops_per_run))

    def test_mixture_of_experts_flops_from_active_weights_from_total(self):
        moe = {
            "name": "Qwen3-30B-A3B",
            "parameters_billion": 30.5,
            "active_parameters_billion": 3.3,
            "layers": 48,
            "hidden_size": 2048,
            "attention_heads": 32,
            "kv_heads": 4,
            "intermediate_size": 768,
            "experts": 128,
            "experts_per_token": 8,
            "vocab_size": 151936,
        }
        training = {"method": "lora", "gpu": "rtx_4090", "tier": "local_owned", "gpus_per_run": 1}
        data = {"rate_usd_per_gpu_hour": None}
        c = evaluate(_plan({**training, **data}, moe), BOOK).compute
        # Weights: the whole 30.5e9 at 2 bytes = 61 GB (+ adapters): no RTX 4090 holds it.
        assert c.memory_breakdown_gb["weights"] > 61 and not bool(c.fits)
        # The name is the catalogue's Qwen3-30B-A3B, which fills the key the plan omits:
        # head_dim 128 (config.json), so q and o are 2048 ↔ 32·128 = 4096 wide and k, v 4·128 = 512.
        # FLOPs per token: frozen base 4·N + recompute 2·N with N = 3.3e9: 19.8e9; the routed
        # adapters (rank 16, all linear, 8 experts): per layer 16·(4·2048 + 2·4096 + 2·512) =
        # 278,528 + 3·16·(2048 + 768)·8 = 1,081,344, × 48 = 65,273,856, × 6 = 391,643,136;
        # attention with recompute 8·48·4096·4096 = 6,442,450,944. Sum 26,634,094,080, far from
        # 6·30.5e9.
        per_token = float(c.flops_per_run) / float(c.tokens_per_run)
        assert per_token == pytest.approx(26_634_094_080)


class TestDefaultsAndSummary:
    def test_utilisation_default_follows_method_and_size(self):
        u = BOOK.utilisation_defaults
        assert BOOK.default_utilisation(False, 7.6) == u.adapters_small
        assert BOOK.default_utilisation(True, 70) == u.full_large

    def test_compute_object_of_the_summary(self):
        breakdown = estimate(_plan(), BOOK)
        summary = compute_summary(breakdown)
        c = breakdown.base.compute
        assert summary["tokens_per_run"]["base"] == pytest.approx(float(c.tokens_per_run))
        assert summary["fits"] is True and summary["fewest_gpus"] == int(c.fewest_gpus)
        parts = summary["memory_per_gpu_gb"]["breakdown"]
        assert set(parts) == set(c.memory_breakdown_gb)
        p = summary["physics_hours_per_run"]
        assert p["p10"] <= p["p50"] <= p["p90"]
