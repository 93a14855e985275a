"""The dated price book (``params/pricebook.yaml``): GPU rates and specs, method factors,
activity ranges and API prices. Every price the model uses is read from here."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict

from ftcost_helpers.engine.quantities import Quantity, Range


class Book(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GpuSpec(Book):
    label: str
    memory_gb: float
    bf16_tflops: float


class MethodSpec(Book):
    label: str
    trains_all_weights: bool
    cost_vs_full_sft: Quantity
    flops_per_param_token: float
    algorithm_multiplier: Quantity
    throughput_penalty: Quantity
    base_weight_bytes_per_param: float
    trainable_state_bytes_per_param: float


class PriceBook(Book):
    """The parsed price book. Ranges stay ranges until a run resolves them."""

    as_of: dt.date
    currency: str
    sources: dict[str, str]
    gpu_rates_usd_per_gpu_hour: dict[str, dict[str, Range]]
    hipaa_eligible_tiers: list[str]
    gpus: dict[str, GpuSpec]
    methods: dict[str, MethodSpec]
    dataset_reference_pairs: int
    dataset_activities_usd: dict[str, Range]
    annotation_rate_usd_per_hour: Range
    double_label_fraction: Range
    eval_setup_usd: Range
    eval_run_usd: Range
    eval_continuous_usd_per_month: Range
    frozen_test_set_examples: Range
    replay_set_examples: Range
    maintenance_usd_per_quarter: Range
    maintenance_items_usd_per_quarter: dict[str, Range]
    retrain_fraction_of_first_compute: Range
    base_model_migrations_per_year: Range
    base_model_migration_usd: Range
    quality_loss_points_per_quarter_unmaintained: Range
    api_typical_input_tokens_per_request: int
    serving_reference: dict[str, Range]
    decision_rule_api_usd_per_month: dict[str, float]
    budget_split_guidance: dict[str, Range]
    dataset_to_compute_ratio: Range
    full_ft_waste_vs_lora: Range
    lora_matches_full_ft_share: Range
    sweep_without_early_stopping_waste: Range
    on_demand_hyperscaler_waste: Range
    pre_training_mfu: Range
    implied_utilisation_plausible: Range
    budget_split_tolerance_share: float
    api_price_per_1m_plausible_max_usd: float
    price_book_max_age_months: int

    @property
    def tiers(self) -> list[str]:
        """Every tier named anywhere in the rate table."""
        names: dict[str, None] = {}
        for by_tier in self.gpu_rates_usd_per_gpu_hour.values():
            names.update(dict.fromkeys(by_tier))
        return list(names)

    def gpu_rate(self, gpu: str, tier: str) -> Range:
        """The $/GPU-hour range of a GPU on a tier (KeyError if not offered)."""
        return self.gpu_rates_usd_per_gpu_hour[gpu][tier]

    def age_months(self, today: dt.date) -> float:
        """Months (30.44 days) between the as-of date and ``today``."""
        return (today - self.as_of).days / 30.44

    def source_note(self, key: str = "seed_market") -> str:
        """A short citation: the source file and the as-of date."""
        return f"price book {self.as_of.isoformat()} ({self.sources.get(key, key)})"
