"""Sliding-window attention and torch.compile in the time view, each against a number
derived by hand in the comment, and their bad-input messages."""

from __future__ import annotations

import pytest

from ftcost_helpers.engine.catalogue import keys_from_config, sliding_window_from_config
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.loading import ParamsError, load_price_book, params_from_mapping, project_root, read_yaml
from ftcost_helpers.engine.model import compute

BOOK = load_price_book()
EXAMPLE_A = project_root() / "params" / "clients" / "example_a.yaml"


def _plan(training: dict | None = None, base_model: dict | None = None, replace_model: bool = False):
    data = read_yaml(EXAMPLE_A)
    data.pop("scenarios", None)
    data["training"].update(training or {})
    data["base_model"] = dict(base_model or {}) if replace_model else {**data["base_model"], **(base_model or {})}
    return params_from_mapping(data, "client.yaml", BOOK)


class TestSlidingWindow:
    def test_span_of_a_window_shorter_than_the_sequence(self):
        # Causal, w = 128, s = 4096: sum over queries of min(i, 128) ≈ 128·4096 − 128²/2 =
        # 524,288 − 8,192 = 516,096 keys; twice that over s: 1,032,192 / 4096 = 252.
        assert compute.attended_span(4096, 128) == pytest.approx(252.0)

    def test_span_of_full_attention_is_the_sequence(self):
        # No window, or one at least as long as the sequence: 2s − s²/s = s.
        assert compute.attended_span(4096, None) == pytest.approx(4096.0)
        assert compute.attended_span(1024, 4096) == pytest.approx(1024.0)

    def test_attention_flops_of_alternating_layers(self):
        # gpt-oss-20b: 24 layers, 12 sliding (w = 128), a·d = 64 × 64 = 4096, s = 4096, no
        # recomputation. Forward 2·(a·d)·(12·4096 + 12·252) = 2 × 4096 × 52,176 = 427,425,792;
        # with the backward's twice, ×3: 1,282,277,376 FLOPs per token (full attention on all
        # 24 layers: 6 × 24 × 4096 × 4096 = 2,415,919,104).
        _, attention = compute.flops_per_token(1e9, 0.0, True, 24, 4096.0, 4096, "none", 12, 128)
        assert attention == pytest.approx(1_282_277_376)
        _, full = compute.flops_per_token(1e9, 0.0, True, 24, 4096.0, 4096, "none")
        assert full == pytest.approx(2_415_919_104)

    def test_config_json_layer_types(self):
        # gpt-oss: layer_types alternate sliding_attention and full_attention over 24 layers.
        types = ["sliding_attention", "full_attention"] * 12
        config = {"num_hidden_layers": 24, "sliding_window": 128, "layer_types": types}
        assert sliding_window_from_config(config) == {"sliding_window": 128, "sliding_window_layers": 12}

    def test_config_json_layer_types_not_half_and_half(self):
        # Five sliding layers to each full one over 12 layers: 10 sliding, 2 full.
        types = (["sliding_attention"] * 5 + ["full_attention"]) * 2
        config = {"num_hidden_layers": 12, "sliding_window": 1024, "layer_types": types}
        assert sliding_window_from_config(config) == {"sliding_window": 1024, "sliding_window_layers": 10}

    def test_config_json_pattern_and_switch(self):
        # Gemma 3 style: every 6th layer full, so 34 − 34 // 6 = 34 − 5 = 29 sliding.
        gemma3 = {"num_hidden_layers": 34, "sliding_window": 1024, "sliding_window_pattern": 6}
        assert sliding_window_from_config(gemma3) == {
            "sliding_window": 1024,
            "sliding_window_layers": 29,
        }
        # Qwen2 style: a window in the config, switched off.
        qwen2 = {"num_hidden_layers": 28, "sliding_window": 131072, "use_sliding_window": False}
        assert sliding_window_from_config(qwen2) == {}
        # Mistral-7B-v0.1 style: a window and no pattern, so every layer.
        assert sliding_window_from_config({"num_hidden_layers": 32, "sliding_window": 4096}) == {
            "sliding_window": 4096,
            "sliding_window_layers": 32,
        }

    def test_keys_from_config_carry_the_window(self):
        config = {
            "num_hidden_layers": 24,
            "hidden_size": 2880,
            "num_attention_heads": 64,
            "num_key_value_heads": 8,
            "head_dim": 64,
            "intermediate_size": 2880,
            "num_local_experts": 32,
            "num_experts_per_tok": 4,
            "vocab_size": 201088,
            "tie_word_embeddings": False,
            "sliding_window": 128,
            "layer_types": ["sliding_attention", "full_attention"] * 12,
        }
        keys = keys_from_config(config)
        assert (keys["sliding_window"], keys["sliding_window_layers"]) == (128, 12)

    def test_a_plan_with_the_window_saves_exactly_the_attention_difference(self):
        # Example A's model (28 layers) at 4,096 tokens, full fine-tuning, no recomputation:
        # 14 layers with w = 128 cut attention per token by 6·(a·d)·14·(4096 − 252); the
        # matmul FLOPs do not change. a·d = the model's hidden width (no head_dim given).
        training = {"method": "full_sft", "sequence_length": 4096, "activation_checkpointing": "none"}
        full = evaluate(_plan(training), BOOK).compute
        windowed_plan = _plan(training, {"sliding_window": 128, "sliding_window_layers": 14})
        windowed = evaluate(windowed_plan, BOOK).compute
        width = windowed_plan.base_model.hidden_size
        saved = 6.0 * width * 14 * (4096 - 252) * float(full.tokens_per_run)
        assert float(full.flops_per_run) - float(windowed.flops_per_run) == pytest.approx(saved)
        assert float(windowed.memory_per_gpu_gb) == pytest.approx(float(full.memory_per_gpu_gb))

    def test_gpt_oss_in_the_catalogue_has_its_windows(self):
        model = _plan(base_model={"name": "openai/gpt-oss-20b"}, replace_model=True).base_model
        assert (model.sliding_window, model.sliding_window_layers) == (128, 12)

    @pytest.mark.parametrize(
        ("base_model", "key", "words"),
        [
            ({"sliding_window_layers": 4}, "base_model.sliding_window_layers", "sliding_window"),
            ({"sliding_window": 128, "sliding_window_layers": 99}, "base_model.sliding_window_layers", "more than"),
            ({"sliding_window": 0}, "base_model.sliding_window", ""),
        ],
    )
    def test_bad_windows_name_the_key(self, base_model, key, words):
        with pytest.raises(ParamsError) as caught:
            _plan(base_model=base_model)
        assert key in str(caught.value) and words in str(caught.value)


class TestCompile:
    def test_kernels_per_layer_compiled(self):
        # LoRA on 7 linears: forward 15 + 3 × 7 = 36; backward 72; recompute 36: 144
        # (eager: 300). Full training, no recomputation: 15 × 3 = 45 (eager 120).
        assert compute.kernels_per_layer(7, "full", compiled=True) == 144
        assert compute.kernels_per_layer(0, "none", compiled=True) == 45

    def test_fused_bytes_of_a_llama_3b_layer(self):
        # h = 3072, a·d = 3072, h_kv = 1024, i = 8192: 64 × 3072 + 44 × 4096 + 4 × 8192 =
        # 196,608 + 180,224 + 32,768 = 409,600 bytes per token and layer.
        assert compute.fused_elementwise_bytes_per_token_layer(3072, 3072.0, 1024.0, 8192) == 409_600

    def test_elementwise_passes(self):
        # forward 1 + backward 2, + 1 recomputed forward under full checkpointing.
        assert (compute.elementwise_passes("none"), compute.elementwise_passes("full")) == (3.0, 4.0)

    def test_compile_saved_seconds(self):
        # Llama 3.2 3B, 8,192 tokens, 28 layers, 409,600 B, 3 passes, 2,039 GB/s:
        # 8192 × 28 × 409,600 × 3 = 281,857,228,800 bytes ÷ 2.039e12 = 0.13823 s.
        assert compute.compile_saved_seconds(8192, 28, 409_600, 3.0, 2039.0, 1.0) == pytest.approx(0.138233, rel=1e-4)
        # Eager element-wise kernels at 0.85 of the bandwidth: 0.138233 ÷ 0.85 = 0.162627 s saved.
        assert compute.compile_saved_seconds(8192, 28, 409_600, 3.0, 2039.0, 0.85) == pytest.approx(0.162627, rel=1e-4)

    def test_a_compiled_plan_is_faster_by_the_saved_traffic_and_launches(self):
        # Example A at a fixed utilisation: compiled = eager − saved traffic − saved launches.
        training = {"utilisation": 0.5, "sequence_length": 4096, "micro_batch_size": 2}
        eager_plan = _plan(training)
        eager = evaluate(eager_plan, BOOK).compute
        compiled = evaluate(_plan({**training, "compiled": True}), BOOK).compute
        assert float(compiled.physics_gpu_hours_per_run) < float(eager.physics_gpu_hours_per_run)
        assert float(compiled.flops_per_run) == pytest.approx(float(eager.flops_per_run))
        assert float(compiled.memory_per_gpu_gb) == pytest.approx(float(eager.memory_per_gpu_gb))

    def test_the_saving_is_the_fused_traffic_plus_the_launches(self):
        # Example A's Qwen2.5-7B: 28 layers, h = a·d = 3584, h_kv = 4 × 128 = 512, i = 18,944.
        # Per token and layer: 64 × 3584 + 44 × (3584 + 512) + 4 × 18,944 = 229,376 + 180,224
        # + 75,776 = 485,376 bytes; full checkpointing: 4 passes. Launches: LoRA on 7 linears
        # with recomputation, 300 kernels per layer eager, 144 compiled: 156 fewer, at the
        # price book's base-case overhead, for each micro-batch of 4,096 × 2 tokens; the traffic
        # at the base-case share of the bandwidth eager element-wise kernels reach.
        training = {
            "utilisation": 0.5,
            "sequence_length": 4096,
            "micro_batch_size": 2,
            "activation_checkpointing": "full",
        }
        eager_plan = _plan(training)
        eager = evaluate(eager_plan, BOOK).compute
        compiled = evaluate(_plan({**training, "compiled": True}), BOOK).compute
        tokens = float(eager.tokens_per_run)  # LoRA: one forward and backward per token
        bandwidth = BOOK.gpus[eager_plan.training.gpu].memory_bandwidth_gbps * 1e9
        overhead = BOOK.training_physics.kernel_overhead_us
        overhead_us = (overhead.low + overhead.high) / 2.0
        share = BOOK.training_physics.elementwise_bandwidth_share
        traffic = tokens * 28 * 485_376 * 4 / (bandwidth * (share.low + share.high) / 2.0)
        launches = tokens / (4096 * 2) * 28 * 156 * overhead_us * 1e-6
        saved = (float(eager.physics_gpu_hours_per_run) - float(compiled.physics_gpu_hours_per_run)) * 3600.0
        assert saved == pytest.approx(traffic + launches, rel=1e-9)

    def test_compiled_must_be_a_boolean(self):
        with pytest.raises(ParamsError) as caught:
            _plan({"compiled": "maybe"})
        assert "training.compiled" in str(caught.value)
