"""The dated price book (``params/pricebook.yaml``): GPU rates and specs, method factors and
activity ranges. Every price the model uses is read from here, from a dated rates overlay
merged over it (``--rates FILE``), or, for API prices, from genai-prices."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from ftcost_helpers.engine.quantities import CalendarDate, Fraction, Number, PositiveFraction, Quantity, Range

BookDate = Annotated[CalendarDate, Field(strict=False)]
"""A date in a price book or overlay: YAML's ``2026-05-26`` or the string ``"2026-05-26"``."""


class Book(BaseModel):
    """A block of the price book: unknown keys are errors, and types are strict (``true`` is
    no number, ``1`` no boolean, ``12.5`` no whole count; no infinite or NaN figure), so an
    overlay cannot slip a wrong type past the checks."""

    model_config = ConfigDict(extra="forbid", defer_build=True, strict=True, allow_inf_nan=False)


class GpuSpec(Book):
    """A GPU's datasheet figures: memory (GB), dense peaks (TFLOPS, no sparsity) and HBM
    bandwidth (GB/s). ``fp8_tflops`` is absent for a GPU without FP8 tensor cores; a GPU a
    client file describes may leave out its bandwidth, and the bandwidth-bound terms of the
    time view (optimizer step, dequantisation) are then not counted."""

    label: str
    memory_gb: float
    bf16_tflops: float
    memory_bandwidth_gbps: float | None = None
    fp8_tflops: float | None = None
    ecc_reserved_share: float = 0.0
    """Share of the memory ECC takes on a GDDR card that runs with ECC on (0 for HBM, whose
    ECC bits are stored apart)."""
    gpu_class: str = "datacenter_sxm"
    gpus_per_node: int = 1
    intra_node_gbps: float | None = None
    inter_node_gbps: float | None = None
    host_link_gbps: float | None = None
    """GB/s per direction of the GPU's PCIe link to its host (datasheet); absent, the price
    book's ``training_physics.host_link_gbps`` (as reached) stands in."""


class MethodSpec(Book):
    label: str
    trains_all_weights: bool
    cost_vs_full_sft: Quantity
    flops_per_param_token: float
    throughput_penalty: Quantity
    frozen_copies: float = 0.0
    quantised_base_bytes_per_param: float | None = None


class TrainingPhysics(Book):
    """Constants of the memory and time views (see ``params/pricebook.yaml``)."""

    framework_overhead_gb: Quantity
    host_link_gbps: float
    utilisation_size_threshold_billion: float
    kernel_overhead_us: Quantity
    elementwise_bandwidth_share: PositiveFraction
    broadcast_bandwidth_share: PositiveFraction
    allocator_fragmentation_share: Fraction
    collective_bandwidth_share: PositiveFraction
    network_bandwidth_share: PositiveFraction
    communication_overlap_share: Fraction
    host_link_share: PositiveFraction
    host_cpu_cores: float
    host_core_gflops: float
    host_memory_bandwidth_gbps: float
    host_bandwidth_share: PositiveFraction
    pytorch_host_optimizer_slowdown: float
    nvme_gbps: float


class UtilisationDefaults(Book):
    """Model FLOPs utilisation a plan gets when it gives none: by whether every weight
    trains, and by model size (below / from the threshold)."""

    adapters_small: Range
    adapters_large: Range
    full_small: Range
    full_large: Range
    calibrated_on: list[str] = []
    """The GPUs (price-book keys) the band was calibrated on: their ridge points (peak ÷
    bandwidth) bound the span inside which the band holds as it is
    (``engine/model/utilisation.py``); none, the band holds on every GPU."""


ManagedJobKind = str
"""A kind of managed fine-tuning job a service prices: ``sft_lora``, ``sft_full``,
``dpo_lora`` or ``dpo_full``."""


class TrainingBracket(Book):
    """A managed service's training prices (USD per 1M billed tokens) for models up to
    ``up_to_billion`` parameters, by kind of job; a kind the vendor does not price is None."""

    up_to_billion: float
    sft_lora: float | None = None
    sft_full: float | None = None
    dpo_lora: float | None = None
    dpo_full: float | None = None


class ServingBracket(Book):
    """A managed service's per-token serving price (USD per 1M tokens) for models up to
    ``up_to_billion`` parameters."""

    up_to_billion: float
    price: float


class ManagedService(Book):
    """A managed fine-tuning and hosting service as its vendor publishes its prices, with the
    page they were read from and the day (``params/pricebook.yaml``, ``managed_services``)."""

    label: str
    source: str
    as_of: BookDate
    bills_unpacked_at_max_length: bool
    bills_evaluation_tokens: bool
    minimum_usd_per_job: float = 0.0
    end_of_life: BookDate | None = None
    training_usd_per_1m_tokens: list[TrainingBracket] = []
    serverless_usd_per_1m_tokens: list[ServingBracket] = []
    endpoint_usd_per_gpu_hour: dict[str, float] = {}
    batch_discount_fraction: float | None = None
    """The batch API's discount off the serverless per-token price (None: not stated)."""

    def training_price(self, parameters_billion: float, kind: ManagedJobKind) -> float | None:
        """USD per 1M billed tokens for a model of ``parameters_billion`` and a kind of job:
        the smallest bracket that covers the model; None when no bracket covers it or the
        vendor does not price that kind."""
        for bracket in sorted(self.training_usd_per_1m_tokens, key=lambda b: b.up_to_billion):
            if parameters_billion <= bracket.up_to_billion:
                return getattr(bracket, kind)
        return None

    def serverless_price(self, parameters_billion: float) -> float | None:
        """USD per 1M tokens served per-token for a model of ``parameters_billion`` (None: no
        bracket covers it)."""
        for bracket in sorted(self.serverless_usd_per_1m_tokens, key=lambda b: b.up_to_billion):
            if parameters_billion <= bracket.up_to_billion:
                return bracket.price
        return None

    def citation(self) -> str:
        """How a cost line cites the service: its label, page and the day it was read."""
        return f"{self.label}, {self.source} (as read {self.as_of.isoformat()})"


class FxTable(Book):
    """One dated table of exchange rates (issue 24, money): ``per_eur[X]`` units of X per
    euro, as the ECB quotes them; ``source`` is a key of the book's ``sources``."""

    date: BookDate
    source: str
    per_eur: dict[str, Annotated[float, Field(gt=0)]]


class CommittedTerm(Book):
    """A reserved / committed-use term: its length and the discount off the tier's rate."""

    term_months: Annotated[int, Field(ge=1)]
    discount: Fraction


class OwnedGpuDefaults(Book):
    """What one GPU costs to buy and draws (issue 24, owned hardware)."""

    purchase_usd_per_gpu: Quantity
    power_kw_per_gpu: Quantity


class OwnershipDefaults(Book):
    """Defaults of ``training.ownership`` (see params/pricebook.yaml for each source)."""

    years: Quantity
    pue: Quantity
    kwh_price_usd: Quantity
    resale_fraction: Quantity
    colocation_usd_per_month: Quantity
    by_gpu: dict[str, OwnedGpuDefaults] = {}


@dataclass(frozen=True)
class BookOrigin:
    """One file the price book was read from: its path (as given), as-of date and source."""

    file: str
    as_of: dt.date
    source: str

    def describe(self) -> str:
        return f"{self.file} (as of {self.as_of.isoformat()}; {self.source})"


class ManagedRlPrice(Book):
    """A managed reinforcement-fine-tuning service billed per wall-clock hour of its training
    loop, with a model grader's tokens at the provider's API rates on top (issue 24)."""

    label: str
    usd_per_hour: float
    source: str
    as_of: BookDate


class PriceBook(Book):
    """The parsed price book. Ranges stay ranges until a run resolves them. The files it
    came from (the price book, then any rates overlay) and which GPU rates the overlay set
    are kept beside the figures, not in them."""

    _origins: tuple[BookOrigin, ...] = PrivateAttr(default=())
    _rate_origins: dict[tuple[str, str], BookOrigin] = PrivateAttr(default_factory=dict)
    _own_gpus: set[str] = PrivateAttr(default_factory=set)
    _fx: object = PrivateAttr(default=None)

    as_of: BookDate
    currency: str
    sources: dict[str, str]
    source_titles: dict[str, str] = {}
    """How a client document cites each source (title, author, date), by the key in ``sources``."""
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
    managed_rl: dict[str, ManagedRlPrice] = {}
    """Managed RL billed per wall-clock hour (:func:`~ftcost_helpers.engine.model.rl.managed_rl_usd`)."""
    price_book_max_age_months: int
    training_physics: TrainingPhysics
    utilisation_defaults: UtilisationDefaults
    managed_services: dict[str, ManagedService] = {}
    """Managed fine-tuning and serving services, each with its dated prices (issue 24)."""
    # Money (issue 24 item 5): exchange-rate tables (ftcost_helpers/engine/fx.py).
    fx_rates: list[FxTable] = []
    # Money (issue 24 item 5): owned hardware defaults (ftcost_helpers/engine/model/ownership.py).
    ownership_defaults: OwnershipDefaults | None = None
    # Money (issue 24 item 5): storage and egress prices (ftcost_helpers/engine/model/storage.py).
    storage_usd_per_tb_month: Quantity = 0.0
    # Money (issue 24 item 5): reserved / committed-use terms (ftcost_helpers/engine/model/commitment.py).
    committed_use: dict[str, CommittedTerm] = {}
    egress_usd_per_tb: Quantity = 0.0

    @property
    def fx(self):
        """The rate this book's amounts were converted at (:func:`~ftcost_helpers.engine.fx.in_currency`),
        or None for the book as read (in ``currency``, its own)."""
        return self._fx

    @property
    def per_usd(self) -> float:
        """Units of this book's currency per USD: 1 for the book as read, the conversion's
        rate for a converted book (for prices read from outside the book, in USD)."""
        return 1.0 if self._fx is None else float(self._fx.per_usd)

    def with_fx(self, fx: object) -> None:
        """Record the rate a converted copy was made at (set once, by fx.in_currency)."""
        self._fx = fx

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

    def calibrated_ridge_span(self) -> tuple[float, float] | None:
        """The lowest and highest ridge point (BF16 FLOPs per byte of bandwidth) of the GPUs
        ``utilisation_defaults.calibrated_on`` names that the book lists with a bandwidth;
        None when there are none."""
        ridges = [
            self.gpus[key].bf16_tflops * 1e3 / self.gpus[key].memory_bandwidth_gbps
            for key in self.utilisation_defaults.calibrated_on
            if key in self.gpus and self.gpus[key].memory_bandwidth_gbps
        ]
        return (min(ridges), max(ridges)) if ridges else None

    def default_utilisation(self, trains_all_weights: bool, parameters_billion: Number) -> Number:
        """The utilisation default for a method family and model size (per draw)."""
        import numpy as np  # not on the path that only reads and checks a file

        u = self.utilisation_defaults
        small, large = (u.full_small, u.full_large) if trains_all_weights else (u.adapters_small, u.adapters_large)
        is_large = np.asarray(parameters_billion) >= self.training_physics.utilisation_size_threshold_billion
        return np.where(is_large, large, small)[()]

    def age_months(self, today: dt.date) -> float:
        """Months (30.44 days) between the as-of date and ``today``."""
        return (today - self.as_of).days / 30.44

    def is_own_gpu(self, key: str) -> bool:
        """Whether ``key`` is a GPU a client file described (see :meth:`add_own_gpu`)."""
        return key in self._own_gpus

    def add_own_gpu(self, key: str, spec: GpuSpec) -> None:
        """A GPU a client file describes joins the specs under ``key`` until
        :meth:`forget_own_gpus` (the loader's, when it reads the next file)."""
        self.gpus[key] = spec
        self._own_gpus.add(key)

    def forget_own_gpus(self) -> None:
        """Drop the GPUs the last file described, so that the next file read with this book
        cannot name a GPU only another file defines."""
        for key in self._own_gpus:
            self.gpus.pop(key, None)
        self._own_gpus.clear()

    @property
    def origins(self) -> tuple[BookOrigin, ...]:
        """The price book's file and then any rates overlay's (empty if built in code)."""
        return self._origins

    def with_origins(self, origins: tuple[BookOrigin, ...], rate_origins: dict[tuple[str, str], BookOrigin]) -> None:
        """Record where the figures came from (set once, by the loader)."""
        self._origins, self._rate_origins = origins, dict(rate_origins)

    def rate_origin(self, gpu: str, tier: str) -> BookOrigin:
        """The file (and its date) a GPU rate comes from: the overlay's if it set it."""
        found = self._rate_origins.get((gpu, tier))
        if found is not None:
            return found
        if self._origins:
            return self._origins[0]
        return BookOrigin("price book", self.as_of, self.sources.get("seed_market", ""))

    def rate_note(self, gpu: str, tier: str) -> str:
        """A cost line's citation for a GPU rate: the overlay's file and date if it set the
        rate, else the price book's as-of date and source."""
        overlay = self._rate_origins.get((gpu, tier))
        if overlay is None:
            return f"{self.source_note()}: {gpu} {tier}"
        return f"rates {overlay.as_of.isoformat()} ({overlay.source}): {gpu} {tier}"

    def provenance(self) -> str:
        """Every file the book was read from, with its date and source, in one line."""
        return "; ".join(origin.describe() for origin in self._origins) or f"price book as of {self.as_of.isoformat()}"

    def source_note(self, key: str = "seed_market") -> str:
        """A short citation: the source file and the as-of date."""
        return f"price book {self.as_of.isoformat()} ({self.sources.get(key, key)})"


def _positive(value: float | Range | None) -> bool:
    if value is None:
        return True
    low = value.low if isinstance(value, Range) else value
    return low > 0


def _not_positive(value: float | Range) -> str:
    shown = f"{value.low:g}–{value.high:g}" if isinstance(value, Range) else f"{value:g}"
    return f"must be greater than 0, got {shown}"


def book_problems(book: PriceBook, today: dt.date, methods: tuple[str, ...]) -> list[tuple[str, str]]:
    """(key, problem) for everything in a price book that would crash or mislead a costing:
    zero or negative specs and rates, a training method without an entry, a GPU rated but
    without specs, an as-of date in the future."""
    problems: list[tuple[str, str]] = []
    if book.as_of > today:
        problems.append(("as_of", f"{book.as_of.isoformat()} is in the future (today is {today.isoformat()})"))
    for gpu, spec in book.gpus.items():
        for field in ("memory_gb", "bf16_tflops", "memory_bandwidth_gbps", "fp8_tflops"):
            value = getattr(spec, field, None)
            if not _positive(value):
                problems.append((f"gpus.{gpu}.{field}", _not_positive(value)))
    for gpu, by_tier in book.gpu_rates_usd_per_gpu_hour.items():
        if gpu not in book.gpus:
            known = ", ".join(book.gpus)
            problems.append((f"gpu_rates_usd_per_gpu_hour.{gpu}", f"no specs for this GPU (GPUs with specs: {known})"))
        for tier, rate in by_tier.items():
            if not _positive(rate):
                problems.append((f"gpu_rates_usd_per_gpu_hour.{gpu}.{tier}", _not_positive(rate)))
    for method in methods:
        if method not in book.methods:
            problems.append((f"methods.{method}", "missing: every training method needs an entry"))
    for name, service in book.managed_services.items():
        prices = [
            (f"managed_services.{name}.training_usd_per_1m_tokens.{i}.{kind}", getattr(bracket, kind))
            for i, bracket in enumerate(service.training_usd_per_1m_tokens)
            for kind in ("sft_lora", "sft_full", "dpo_lora", "dpo_full")
        ]
        prices += [
            (f"managed_services.{name}.serverless_usd_per_1m_tokens.{i}.price", bracket.price)
            for i, bracket in enumerate(service.serverless_usd_per_1m_tokens)
        ]
        prices += [
            (f"managed_services.{name}.endpoint_usd_per_gpu_hour.{gpu}", rate)
            for gpu, rate in service.endpoint_usd_per_gpu_hour.items()
        ]
        problems += [(key, _not_positive(value)) for key, value in prices if not _positive(value)]
    for method, spec in book.methods.items():
        for field in ("flops_per_param_token", "throughput_penalty"):
            value = getattr(spec, field)
            if not _positive(value):
                problems.append((f"methods.{method}.{field}", _not_positive(value)))
    return problems
