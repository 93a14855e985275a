"""Checkpointing policies (engine/model/checkpointing.py) with their memory and recompute,
and batches packed or not with a mean sequence length (engine/model/batches.py)."""

from __future__ import annotations

import pytest

from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.loading import ParamsError, load_price_book, params_from_mapping, read_yaml
from ftcost_helpers.engine.loading import project_root as root
from ftcost_helpers.engine.model import batches, blocks, checkpointing, compute, memory

# Korthikanti et al. 2022's GPT block: h 1024, a 16, s 2048, L 24, GELU MLP of 4h, attention
# without a memory-efficient kernel (its scores kept: 5·a·s = 163,840 bytes per token).
H, A, S, L, WIDTH = 1024, 16, 2048, 24, 4096
SCORES = 5 * A * S  # 163,840
# Per token and layer without recomputation: 32h + 4a = 32,832 (Korthikanti's 34·h less
# the two dropout masks, h each, plus FlashAttention-style log-sum-exp 4a) + scores:
LAYER = 32 * H + 4 * A + SCORES  # 196,672


def kept(policy: str, every: int = 1) -> float:
    stack = blocks.stack_activation_bytes(L, H, float(H), float(H), A, float(WIDTH), 1, blocks.Blocks(mlp="dense"))
    inner = blocks.stack_inner_mlp_bytes(L, float(WIDTH), 1, blocks.Blocks(mlp="dense"))
    return checkpointing.kept_bytes_per_token(stack, SCORES, L, H, inner, policy, every)


class TestActivationsByPolicy:
    def test_none_keeps_every_layer(self):
        assert kept("none") == 24 * 196_672  # 4,720,128

    def test_selective_drops_the_scores(self):
        # Korthikanti §5: 34·s·b·h per layer once the 5·a·s²·b of the scores is recomputed.
        assert kept("selective") == 24 * (32 * 1024 + 64)  # 787,968

    def test_full_keeps_each_layer_input_and_one_layer(self):
        # Korthikanti's 2·s·b·h per layer (the layer input), plus one layer being recomputed:
        # 24 × 2,048 + 196,672 = 245,824.
        assert kept("full") == 24 * 2 * 1024 + 196_672

    def test_every_second_layer(self):
        # 12 checkpointed layers keep 2h; the other 12 everything; plus one layer:
        # 12 × 2,048 + 12 × 196,672 + 196,672 = 24,576 + 2,360,064 + 196,672 = 2,581,312.
        assert kept("full", 2) == 2_581_312

    def test_op_selective_by_hand(self):
        # Kept per layer: input 2h, q, k, v 2h + 4h, attention output 2h + 4a, its projection's
        # output 2h, the up-projection's output 2i, the down-projection's 2h, the scores (kept
        # matmul outputs); recomputed: the two norms' outputs (2h + 2h) and GELU's output 2i.
        # 2h + 6h + 2h + 4a + 2h + 2i + 2h + 5as = 14h + 4a + 2i + 5as
        # = 14,336 + 64 + 8,192 + 163,840 = 186,432 per layer: 24 × 186,432 = 4,474,368.
        assert kept("op_selective") == 24 * 186_432

    def test_op_selective_on_a_gated_block(self):
        # Llama-2-7B: h 4096, q = kv = 4096, a 32, i 11,008, FlashAttention.
        # None: 8h + 4q + 4kv + 4a + 8i = 32,768 + 16,384 + 16,384 + 128 + 88,064 = 153,728.
        # Op-level: the norms' outputs (4h) and SiLU and product (4i) recomputed, the
        # down-projection's output (2h) kept: 153,728 − 2h − 4i = 153,728 − 8,192 − 44,032
        # = 101,504 (= 6h + 4q + 4kv + 4a + 4i).
        kind = blocks.Blocks()
        stack = blocks.stack_activation_bytes(1, 4096, 4096.0, 4096.0, 32, 11008.0, 1, kind)
        inner = blocks.stack_inner_mlp_bytes(1, 11008.0, 1, kind)
        assert stack == 153_728
        assert checkpointing.kept_bytes_per_token(stack, 0.0, 1, 4096, inner, "op_selective") == 101_504


class TestOpLevelSavesEveryOtherMatmul:
    """torchtitan's op-level policy saves the matmul outputs "except every second mm" of each
    layer (parallelize_llama.py, ``_custom_policy``): k, o and up of a Llama layer are
    recomputed."""

    def test_llama_layer(self):
        # Llama-2-7B: matmuls q, k, v, o, gate, up, down; the 2nd, 4th and 6th (k 4,096, o 4,096,
        # up 11,008) are recomputed: 2 × (4,096 + 4,096 + 11,008) = 38,400 bytes per token.
        kind = blocks.Blocks()
        alternate = blocks.stack_alternate_matmul_bytes(1, 4096, 4096.0, 4096.0, 32, 11008.0, 1, kind)
        assert alternate == 38_400
        # Kept: input 2h 8,192, q 8,192, v 8,192, attention output 8,192 and log-sum-exp 4a 128,
        # gate 2i 22,016, down 8,192 = 63,104 (= 101,504 − 38,400).
        stack = blocks.stack_activation_bytes(1, 4096, 4096.0, 4096.0, 32, 11008.0, 1, kind)
        inner = blocks.stack_inner_mlp_bytes(1, 11008.0, 1, kind)
        got = checkpointing.kept_bytes_per_token(stack, 0.0, 1, 4096, inner, "op_selective", 1, alternate)
        assert got == 8_192 * 4 + 128 + 22_016 + 8_192 == 63_104

    def test_grouped_query_and_dense_blocks(self):
        # Llama-3-8B (h 4,096, h_kv 1,024, i 14,336), 32 layers: k 1,024, o 4,096, up 14,336:
        # 2 × 19,456 × 32 = 1,245,184 bytes per token.
        kind = blocks.Blocks()
        assert blocks.stack_alternate_matmul_bytes(32, 4096, 4096.0, 1024.0, 32, 14336.0, 1, kind) == 1_245_184
        # Dense MLP (up, down): q, k, v, o, up, down; k, o and down recomputed: 3 × 2h = 6,144
        # per layer of Korthikanti's block (h 1,024): 24 × 6,144.
        dense = blocks.stack_alternate_matmul_bytes(
            L, H, float(H), float(H), A, float(WIDTH), 1, blocks.Blocks(mlp="dense")
        )
        assert dense == 24 * 6_144

    def test_other_policies_ignore_it(self):
        stack, inner = 1000.0, 400.0
        for policy in ("none", "selective", "full"):
            with_it = checkpointing.kept_bytes_per_token(stack, 0.0, 2, 10, inner, policy, 1, 300.0)
            assert with_it == checkpointing.kept_bytes_per_token(stack, 0.0, 2, 10, inner, policy)


class TestContextParallelShardsTheStates:
    def test_shards_over_data_and_context_ranks(self):
        # torchtitan's FSDP on dp_shard × cp: 8 GPUs, FSDP 1, CP 8 shard over 8; 512 GPUs of
        # tensor 8 × pipeline 8 (× CP 8, FSDP 1) over 512 ÷ 64 = 8.
        assert memory.state_shards(8, 1, 1) == 8
        assert memory.state_shards(512, 8, 8) == 8

    def test_a_plan_with_context_parallel_keeps_the_states_of_one_without(self):
        # Same GPUs, same sharding: context parallel 4 splits the sequence, not the states.
        keys = {"gpus_per_run": 8, "sharding": "full", "activation_checkpointing": "full"}
        one = evaluate(plan(keys), load_price_book()).compute.memory_breakdown_gb
        four = evaluate(plan({**keys, "context_parallel": 4}), load_price_book()).compute.memory_breakdown_gb
        for term in ("weights", "gradients", "optimizer_states", "step_buffer"):
            assert float(four[term]) == pytest.approx(float(one[term]))
        assert float(four["activations"]) == pytest.approx(float(one["activations"]) / 4)


class TestRecompute:
    # N 1e9, L 32, s 4096, a·d 4096: L·s·(a·d) = 536,870,912 (forward attention 2·L·s·(a·d)).
    N, LSQ = 1e9, 32 * 4096 * 4096

    @pytest.mark.parametrize(
        ("policy", "every", "weights", "attention"),
        [
            ("none", 1, 6.0, 6.0),  # forward 2N + backward 4N; attention 2 + 4
            ("selective", 1, 6.0, 8.0),  # the attention core's forward again
            ("op_selective", 1, 6.0, 6.0),  # matmul and attention outputs kept: no FLOPs again
            ("full", 1, 8.0, 8.0),  # the whole forward again
            ("full", 4, 6.5, 6.5),  # a quarter of the layers' forward again: + 2N/4
        ],
    )
    def test_flops_per_token(self, policy, every, weights, attention):
        got = compute.flops_per_token(self.N, 0.0, True, 32, 4096.0, 4096, policy, 0, None, every)
        assert got == (pytest.approx(weights * self.N), pytest.approx(attention * self.LSQ))

    def test_weight_and_elementwise_passes(self):
        assert compute.weight_passes("op_selective") == 2.0
        assert compute.weight_passes("full", 4) == 2.25
        # Forward 1 + backward 2 + the element-wise ops again: all of them under op-level.
        assert compute.elementwise_passes("op_selective") == 4.0
        assert compute.elementwise_passes("full", 2) == 3.5

    def test_op_selective_launches_the_non_matmul_kernels_again(self):
        # Eager Llama block, no adapters: 40 forward + 80 backward; op-level adds 40 − 8
        # (seven matmuls and the attention kernel) = 32: 152. Full adds 40: 160.
        assert compute.kernels_per_layer(0, "op_selective") == 152
        assert compute.kernels_per_layer(0, "full") == 160
        assert compute.kernels_per_layer(0, "full", every_layers=2) == 140


def plan(training_keys: dict):
    data = read_yaml(root() / "params" / "clients" / "example_a.yaml")
    data.pop("scenarios", None)
    data["training"].update(training_keys)
    return params_from_mapping(data, "client.yaml")


# Example A: 14,000 pairs of 2,000 tokens, one epoch here: 28,000,000 tokens; 8 GPUs, micro-
# batch 4, no accumulation: 32 rows per optimizer step.
BASE = {"epochs": 1, "sequence_length": 4096, "activation_checkpointing": "none"}


class TestPacking:
    def test_rows(self):
        assert batches.row_tokens(4096, True, 1000) == 4096
        assert batches.row_tokens(4096, False, 1000) == 1000
        assert batches.row_tokens(4096, False, None) == 4096

    def test_steps_follow_the_mean_and_the_peak_the_maximum(self):
        book = load_price_book()
        packed = evaluate(plan(BASE), book).compute
        unpacked = evaluate(plan({**BASE, "packing": False, "mean_sequence_length": 1000}), book).compute
        # Steps: packed 28e6 ÷ (4096 × 32) = 213.6; unpacked 28e6 ÷ (1000 × 32) = 875: × 4.096.
        ratio = float(unpacked.optimizer_step_gpu_hours_per_run) / float(packed.optimizer_step_gpu_hours_per_run)
        assert ratio == pytest.approx(4.096)
        # Attention FLOPs per token follow the row: 6·L·s·(a·d) with L 28, a·d 28 × 128 = 3584
        # (Qwen2.5-7B): 6 × 28 × (4096 − 1000) × 3584 = 1,864,138,752 per token fewer.
        saved = (float(packed.flops_per_run) - float(unpacked.flops_per_run)) / 28_000_000
        assert saved == pytest.approx(6 * 28 * 3096 * 3584)
        # The memory peak follows the longest sequence: the same in both.
        assert float(packed.memory_per_gpu_gb) == float(unpacked.memory_per_gpu_gb)

    def test_a_mean_longer_than_the_maximum_is_one_line(self):
        with pytest.raises(ParamsError, match="mean_sequence_length"):
            plan({**BASE, "packing": False, "mean_sequence_length": 5000})


def test_every_n_layers_needs_full_checkpointing():
    with pytest.raises(ParamsError, match="checkpoint_every_layers"):
        plan({**BASE, "checkpoint_every_layers": 2})
    assert (
        plan(
            {**BASE, "activation_checkpointing": "full", "checkpoint_every_layers": 2}
        ).training.checkpoint_every_layers
        == 2
    )


def test_dequantised_copies_under_every_n_layers():
    # GPTQ keeps each layer's fp16 copy: 1e9 quantised weights in 10 layers, 2 bytes each.
    # None: 2 GB; full: one layer's, 0.2 GB; full on one layer in 2: half the layers keep
    # theirs, 1 GB, plus the one recomputed, 0.2 GB: 1.2 GB; op-level recomputes the copy: 0.2.
    assert memory.dequantised_copies_gb(1e9, 10, 1, True, "none") == pytest.approx(2.0)
    assert memory.dequantised_copies_gb(1e9, 10, 1, True, "full") == pytest.approx(0.2)
    assert memory.dequantised_copies_gb(1e9, 10, 1, True, "full", 2) == pytest.approx(1.2)
    assert memory.dequantised_copies_gb(1e9, 10, 1, True, "op_selective") == pytest.approx(0.2)
