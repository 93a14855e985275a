"""FP8 storage beyond FP8 matmuls (issue 22, "no plan that a published source ran is called
'does not fit'"): a frozen LoRA base held in FP8 only (``training.fp8_weights``: Transformer
Engine's ``fp8_model_init``, NeMo's ``fp8_params``) and the MLP activation's input saved for
the backward in FP8 (``training.fp8_activations``: Megatron-Core's
``activation_func_fp8_input_store``), as MLPerf Training's Llama 2 70B LoRA submissions run
(mlcommons/training_results_v5.0 0fdc28f, AMD's ``config_MI325X_1x8x1.sh``: ``FP8=True``,
``FP8_ACTIVATION=True``), and the frozen MLPs' tensors Transformer Engine and Megatron-Core's
fused SwiGLU do not keep (``training.frozen_mlp_unsaved``).

The plans are Llama 2 70B as the validation table writes it (69.0e9 parameters, 80 layers,
h = 8,192, 64 heads, 8 KV heads, i = 28,672, V = 32,000), LoRA rank 16 on NeMo's linear_qkv
and linear_proj, 8,192-token sequences, one per micro-batch. Every expected figure is worked
out by hand in the comments.
"""

from __future__ import annotations

import pytest

from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.loading import params_from_mapping, project_root, read_yaml
from ftcost_helpers.engine.model import memory
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.readers.errors import ParamsError
from ftcost_helpers.engine.trainer_config import unsaid

N = 69.0e9
EMBEDDINGS = 2 * 32_000 * 8_192
"""Input embedding and output head (untied): 524,288,000."""
ADAPTERS = 80 * 16 * ((8_192 + 8_192) + 2 * (8_192 + 1_024) + (8_192 + 8_192))
"""LoRA rank 16 on the attention's projections, one adapter each (``target_modules:
attention``): q 16·(8,192 + 8,192), k and v 16·(8,192 + 1,024) each, o 16·(8,192 + 8,192):
16·51,200 = 819,200 a layer, × 80 = 65,536,000."""
INNER_MLP = 80 * 8 * 28_672
"""The MLPs' inner activations per token (gate, up, SiLU output, product: 8i a layer): 80 ×
229,376 = 18,350,080 bytes."""
TOKENS = 8_192

LLAMA2_70B = {
    "name": "Llama-2-70b",
    "parameters_billion": 69.0,
    "layers": 80,
    "hidden_size": 8192,
    "attention_heads": 64,
    "kv_heads": 8,
    "intermediate_size": 28672,
    "vocab_size": 32000,
}


def plan(book: PriceBook, **training):
    """Example A's plan with Llama 2 70B LoRA in FP8 on 8 H100 SXM (one node, data parallel 8,
    nothing sharded, no recomputation), one optimizer step of data, and ``training``'s keys.
    The memory terms do not depend on the card (it need not fit: the terms are compared)."""
    data = read_yaml(project_root() / "params" / "clients" / "example_a.yaml")
    data.pop("scenarios", None)
    data["training"] = {
        **data["training"],
        "method": "lora",
        "gpu": "h100_sxm",
        "tier": "neocloud_on_demand",
        "gpus_per_run": 8,
        "gpus_per_node": 8,
        "precision": "fp8",
        "optimizer": "adamw",
        "sharding": "none",
        "activation_checkpointing": "none",
        "sequence_length": TOKENS,
        "micro_batch_size": 1,
        "gradient_accumulation_steps": 1,
        "epochs": 1,
        "tokens_per_pair": TOKENS,
        "lora": {"rank": 16, "target_modules": "attention"},
        **training,
    }
    data["training"].pop("rate_usd_per_gpu_hour", None)
    data["base_model"] = dict(LLAMA2_70B)
    data["dataset"] = {**data["dataset"], "pairs": 8}
    return params_from_mapping(data, "fp8 storage test", book)


def breakdown(book: PriceBook, **training) -> dict[str, float]:
    params = plan(book, **training)
    return {k: float(v) for k, v in evaluate(params, book).compute.memory_breakdown_gb.items()}


# ---------------------------------------------------------------- the two rules alone


def test_fp8_frozen_base_bytes():
    # blocks at 1 B, embeddings and head at bf16's 2 B:
    # (69e9 − 524,288,000)·1 + 524,288,000·2 = 68,475,712,000 + 1,048,576,000 = 69,524,288,000
    frozen = memory.frozen_bytes(N, EMBEDDINGS, memory.BF16, memory.FP8_WEIGHT_BYTES)
    assert frozen == pytest.approx(69_524_288_000)
    # against precision fp8's bf16 weights and FP8 cast, 3 B each: 207e9
    assert memory.frozen_bytes(N, EMBEDDINGS, memory.WEIGHT_BYTES["fp8"], None) == pytest.approx(207e9)


def test_fp8_activation_input_saving():
    # gate and up (4i of the 8i) at 1 B instead of 2: 2i a layer, a quarter of the inner bytes:
    # 18,350,080 ÷ 4 = 4,587,520 bytes per token
    assert memory.fp8_activation_input_saving(INNER_MLP, True) == pytest.approx(4_587_520)
    assert memory.fp8_activation_input_saving(INNER_MLP, False) == 0.0
    assert memory.fp8_activation_input_saving(0.0, True) == 0.0  # no MLP, nothing saved


def test_frozen_mlp_unsaved_bytes():
    # per layer: the MLP norm's output 2h = 16,384, the SiLU output and the product 2i + 2i =
    # 114,688: 131,072; over 80 layers 10,485,760 = 18,350,080 ÷ 2 + 80 × 16,384
    assert memory.frozen_mlp_unsaved_bytes(INNER_MLP, 80, 8_192, True) == pytest.approx(10_485_760)
    assert memory.frozen_mlp_unsaved_bytes(INNER_MLP, 80, 8_192, False) == 0.0


# ---------------------------------------------------------------- in the memory breakdown


def test_fp8_weights_per_gpu(book):
    # adapters at fp8's 3 B (as without the key): 65,536,000 × 3 = 196,608,000 B;
    # off: (69e9 × 3 + 196,608,000) ÷ 1e9 = 207.197 GB per GPU (data parallel: whole copies)
    # on: (69,524,288,000 + 196,608,000) ÷ 1e9 = 69.721 GB
    assert ADAPTERS * 3 == 196_608_000
    assert breakdown(book)["weights"] == pytest.approx(207.196608, rel=1e-6)
    assert breakdown(book, fp8_weights=True)["weights"] == pytest.approx(69.720896, rel=1e-6)


def test_fp8_weights_split_by_tensor_parallel(book):
    # TP 4 (CP 2, 64 GPUs, as NVIDIA's L40S runs): (69,524,288,000 + 196,608,000) ÷ 4 ÷ 1e9 = 17.430 GB
    keys = {"gpus_per_run": 64, "gpus_per_node": 8, "tensor_parallel": 4, "context_parallel": 2}
    assert breakdown(book, fp8_weights=True, **keys)["weights"] == pytest.approx(17.430224, rel=1e-6)


def test_fp8_activations_without_recomputation(book):
    # every layer keeps its activations: 4,587,520 B × 8,192 tokens = 37.581 GB less
    off, on = breakdown(book)["activations"], breakdown(book, fp8_activations=True)["activations"]
    assert off - on == pytest.approx(37.580964, rel=1e-6)


def test_fp8_activations_with_one_layer_in_four_recomputed(book):
    # full recomputation of one layer in 4: 3/4 of the layers keep everything, and one
    # layer's activations while it is recomputed (checkpointing.kept_bytes_per_token):
    # (0.75 + 1/80) × 37.581 GB = 0.7625 × 37.580964 = 28.655 GB less
    keys = {"activation_checkpointing": "full", "checkpoint_every_layers": 4}
    off, on = breakdown(book, **keys)["activations"], breakdown(book, fp8_activations=True, **keys)["activations"]
    assert off - on == pytest.approx(28.655485, rel=1e-6)


def test_frozen_mlp_unsaved_without_recomputation(book):
    # 10,485,760 B × 8,192 tokens = 85.899 GB less
    off, on = breakdown(book)["activations"], breakdown(book, frozen_mlp_unsaved=True)["activations"]
    assert off - on == pytest.approx(85.899346, rel=1e-6)


def test_frozen_mlp_unsaved_with_fp8_activations(book):
    # both: (4,587,520 + 10,485,760) × 8,192 = 15,073,280 × 8,192 = 123.480 GB less; what is
    # left a layer: 332,032 − 57,344 − 131,072 = 143,616 B (attention 8h + 4h_kv + 4a =
    # 69,888; MLP norm input 2h = 16,384; gate and up in FP8 2i = 57,344)
    keys = {"fp8_activations": True, "frozen_mlp_unsaved": True}
    off, on = breakdown(book)["activations"], breakdown(book, **keys)["activations"]
    assert off - on == pytest.approx(123.480310, rel=1e-6)
    assert on == pytest.approx(80 * 143_616 * TOKENS / 1e9, rel=1e-6)  # 94.118 GB


def test_defaults_change_nothing(book):
    # both keys off by default: the same breakdown as a plan that does not name them
    assert breakdown(book) == breakdown(book, fp8_weights=False, fp8_activations=False)


# ---------------------------------------------------------------- refused set-ups


@pytest.mark.parametrize(
    "keys, message",
    [
        ({"precision": "bf16_mixed", "fp8_weights": True}, "fp8_weights needs precision: fp8"),
        ({"precision": "bf16", "fp8_activations": True}, "fp8_activations needs precision: fp8"),
        ({"method": "full_sft", "fp8_weights": True}, "fp8_weights needs a frozen LoRA base"),
        ({"method": "continued_pretraining", "fp8_weights": True}, "fp8_weights needs a frozen LoRA base"),
        ({"method": "full_sft", "frozen_mlp_unsaved": True}, "frozen_mlp_unsaved needs LoRA on the attention"),
        (
            {"lora": {"rank": 16, "target_modules": "all_linear"}, "frozen_mlp_unsaved": True},
            "frozen_mlp_unsaved needs LoRA on the attention",
        ),
        (
            {"activation_checkpointing": "op_selective", "frozen_mlp_unsaved": True},
            "does not combine with activation_checkpointing: op_selective",
        ),
    ],
)
def test_refused(book, keys, message):
    # one line naming the file, the key and the problem
    with pytest.raises(ParamsError, match=message) as refused:
        plan(book, **keys)
    assert "\n" not in str(refused.value) and "fp8 storage test: training" in str(refused.value)


def test_accepted(book):
    assert plan(book, fp8_weights=True, fp8_activations=True).training.fp8_weights
    # a full fine-tune may store its activations in FP8 (its weights train: not fp8_weights)
    assert plan(book, method="full_sft", fp8_activations=True).training.fp8_activations


def test_an_exported_trainer_file_says_it_cannot_set_them(book):
    lines = unsaid(plan(book, fp8_weights=True, frozen_mlp_unsaved=True), "trl")
    assert any(line.startswith("fp8_weights, frozen_mlp_unsaved: Transformer Engine") for line in lines)
    assert not any("Transformer Engine" in line for line in unsaid(plan(book), "trl"))
