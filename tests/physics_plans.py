"""Plans for the tests of a step's physics (offload, communication, expert parallelism):
example A without its scenarios, trained as each test says on H100 SXM at neocloud on-demand
rates, its hours from the physics (the booked rate dropped), on a base model given by its
architecture."""

from __future__ import annotations

from typing import Any

from ftcost_helpers.engine.loading import project_root, read_yaml

EXAMPLE_A = project_root() / "params" / "clients" / "example_a.yaml"

H100_TRAINING = {
    "gpu": "h100_sxm",
    "tier": "neocloud_on_demand",
    "micro_batch_size": 1,
    "sequence_length": 4096,
    "activation_checkpointing": "full",
    "utilisation": 0.4,
}
"""The training keys every physics plan shares (a test's own keys go over them)."""

LLAMA_70B = {
    "name": "Llama-3.1-70B",
    "parameters_billion": 70.6,
    "layers": 80,
    "hidden_size": 8192,
    "attention_heads": 64,
    "kv_heads": 8,
    "intermediate_size": 28672,
    "vocab_size": 128256,
}


def physics_plan_data(training: dict[str, Any], base_model: dict[str, Any]) -> dict[str, Any]:
    """Example A's client file as a mapping, its training :data:`H100_TRAINING` with
    ``training`` over it, no booked rate, and ``base_model`` (copied)."""
    data = read_yaml(EXAMPLE_A)
    data.pop("scenarios")
    data["training"].update({**H100_TRAINING, **training})
    data["training"].pop("rate_usd_per_gpu_hour", None)
    data["base_model"] = dict(base_model)
    return data
