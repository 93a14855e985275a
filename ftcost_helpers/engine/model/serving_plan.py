"""A plan's serving shape and managed training wired to their formulas
(:mod:`~ftcost_helpers.engine.model.serving`, :mod:`~ftcost_helpers.engine.model.managed`):
which throughput, which volume, which price, and where each figure comes from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ftcost_helpers.engine.model import commitment, managed, serving
from ftcost_helpers.engine.model.lines import CLIENT, Line
from ftcost_helpers.engine.pricebook import ManagedService, PriceBook
from ftcost_helpers.engine.quantities import Number, Range
from ftcost_helpers.engine.schema import Params

BILLION = 1e9
PER_TOKEN_SHAPES = ("serverless", "batch")
"""Shapes billed per token: the provider carries the load, so there is no capacity to check."""


def throughput(p: Params, book: PriceBook) -> Number:
    """Tokens/s (input + output) of one deployment of ``serving.gpus`` GPUs: the plan's
    ``serving.tokens_per_second``, else the physics bound (:mod:`~ftcost_helpers.engine.model.serving`)
    at ``serving.concurrent_requests`` sequences of ``serving.context_tokens`` (else the
    training sequence length), the input/output mix of the alternative's API volumes (all
    output when it gives none)."""
    s = p.serving
    if s.tokens_per_second is not None:
        return s.tokens_per_second
    m, gpu = p.base_model, book.gpus[s.gpu]
    parameters = m.parameters_billion * BILLION
    active = (m.active_parameters_billion or m.parameters_billion) * BILLION
    heads = m.kv_heads or m.attention_heads
    width = m.head_dim or m.hidden_size // m.attention_heads
    gpus = max(s.gpus, 1)
    utilisation = book.default_utilisation(False, m.parameters_billion)
    bandwidth = gpu.memory_bandwidth_gbps if gpu.memory_bandwidth_gbps is not None else np.nan
    decode = serving.decode_tokens_per_second(
        gpus,
        bandwidth,
        gpu.bf16_tflops,
        utilisation,
        parameters,
        active,
        serving.kv_bytes_per_token(m.layers, heads, width),
        s.context_tokens or p.training.sequence_length,
        s.concurrent_requests or 1,
        gpu.memory_gb,
    )
    prefill = serving.prefill_tokens_per_second(gpus, gpu.bf16_tflops, utilisation, active)
    return serving.mixed_tokens_per_second(prefill, decode, output_share(p))


def output_share(p: Params) -> Number:
    """Share of the served tokens that are generated: the alternative's API output ÷ (input +
    output) where it gives volumes, else 1 (all decode: the slower side, so no overstatement)."""
    api = p.alternative.api
    if p.alternative.kind != "api" or api.usd_per_month is not None:
        return 1.0
    total = api.input_tokens_million_per_month + api.output_tokens_million_per_month
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.asarray(total) > 0, api.output_tokens_million_per_month / total, 1.0)[()]


def tokens_million_per_month(p: Params) -> Number | None:
    """Million tokens a month the deployment serves: ``serving.tokens_million_per_month``, else
    the alternative's API volumes (input + output); None when neither is given."""
    if p.serving.tokens_million_per_month is not None:
        return p.serving.tokens_million_per_month
    api = p.alternative.api
    if p.alternative.kind != "api" or api.usd_per_month is not None:
        return None
    return api.input_tokens_million_per_month + api.output_tokens_million_per_month


def service_of(book: PriceBook, name: str | None) -> ManagedService | None:
    """The price book's managed service of that name (None: none named)."""
    return None if name is None else book.managed_services[name]


def per_token_price(p: Params, book: PriceBook) -> tuple[Number, str]:
    """USD per 1M tokens served per token, and its source: the plan's price, else the named
    service's for the model's size bracket."""
    s = p.serving
    if s.price_usd_per_1m_tokens is not None:
        return s.price_usd_per_1m_tokens, CLIENT
    service = book.managed_services[s.service or ""]
    brackets = [(b.up_to_billion, b.price) for b in service.serverless_usd_per_1m_tokens]
    return managed.bracket_price(p.base_model.parameters_billion, brackets), service.citation()


def batch_discount(p: Params, book: PriceBook) -> Number:
    """The batch API's discount: the plan's, else the named service's (0 when neither)."""
    s = p.serving
    if s.batch_discount_fraction is not None:
        return s.batch_discount_fraction
    service = service_of(book, s.service)
    return 0.0 if service is None or service.batch_discount_fraction is None else service.batch_discount_fraction


def gpu_rate(p: Params, book: PriceBook, fallback: Number) -> Number:
    """$/GPU-hour of a held deployment: the plan's rate, else the named service's endpoint
    rate for the GPU, else ``fallback`` (the price book's GPU × tier range)."""
    s = p.serving
    service = service_of(book, s.service)
    if s.rate_usd_per_gpu_hour is None and service is not None and s.gpu in service.endpoint_usd_per_gpu_hour:
        return service.endpoint_usd_per_gpu_hour[s.gpu]
    return fallback


@dataclass(frozen=True)
class ServingBill:
    """A month of serving in the plan's shape (USD), its cost per 1M tokens and the
    deployment's throughput (tokens/s; for a per-token shape, the one it would have held)."""

    usd_per_month: Number
    usd_per_1m_tokens: Number
    tokens_per_second: Number
    gpu_hours_per_month: Number


def serving_bill(p: Params, book: PriceBook, rate: Number) -> ServingBill:
    """The plan's serving as its shape bills it (:mod:`~ftcost_helpers.engine.model.serving`)."""
    s = p.serving
    speed = throughput(p, book)
    gpus = max(s.gpus, 1)
    billed = commitment.billed_hours_per_month(s.hours_per_month, s.commitment is not None)
    held = serving.dedicated_cost(s.gpus, billed, rate)  # a committed term bills every hour
    per_1m_held = rate * gpus / (speed * serving.SECONDS_PER_HOUR) * serving.TOKENS_PER_MILLION
    gpu_hours = s.gpus * s.hours_per_month
    if s.shape == "shared_base":
        return ServingBill(serving.shared_base_cost(held, s.adapters), per_1m_held / s.adapters, speed, gpu_hours)
    if s.shape in PER_TOKEN_SHAPES:
        price, _ = per_token_price(p, book)
        discount = batch_discount(p, book) if s.shape == "batch" else 0.0
        tokens = tokens_million_per_month(p)
        usd = serving.per_token_cost(0.0 if tokens is None else tokens, price, discount)
        return ServingBill(usd, price * (1.0 - discount), speed, 0.0 * gpu_hours)
    if s.shape == "endpoint":
        tokens = tokens_million_per_month(p)
        busy = s.hours_per_month if s.busy_hours_per_month is None else s.busy_hours_per_month
        most = np.inf if s.max_replicas is None else s.max_replicas
        replica_hours = serving.endpoint_replica_hours(
            0.0 if tokens is None else tokens, speed, busy, s.hours_per_month, s.min_replicas, most
        )
        usd = serving.endpoint_cost(replica_hours, gpus, rate)
        return ServingBill(usd, per_1m_held, speed, replica_hours * gpus)
    return ServingBill(held, per_1m_held, speed, gpu_hours)


# --------------------------------------------------------------------------- managed training

MANAGED_ITEM = "Managed fine-tuning jobs (billed tokens × price per 1M)"


def managed_price(p: Params, book: PriceBook) -> tuple[Number, str]:
    """USD per 1M billed tokens of the plan's managed jobs and its source: the quoted price,
    else the service's for the model's size bracket and the method's kind of job."""
    m = p.training.managed
    assert m is not None  # the schema requires it for a managed plan
    if m.price_usd_per_1m_tokens is not None:
        return m.price_usd_per_1m_tokens, CLIENT
    service = book.managed_services[m.service]
    kind = managed.JOB_KIND.get(p.training.method)
    brackets = [
        (b.up_to_billion, None if kind is None else getattr(b, kind)) for b in service.training_usd_per_1m_tokens
    ]
    return managed.bracket_price(p.base_model.parameters_billion, brackets), service.citation()


def managed_job_tokens(p: Params, book: PriceBook) -> Number:
    """Tokens one managed job is billed for (:mod:`~ftcost_helpers.engine.model.managed`)."""
    t, m = p.training, p.training.managed
    assert m is not None
    service = book.managed_services[m.service]
    dataset = managed.dataset_tokens_billed(
        p.dataset.pairs, t.tokens_per_pair, t.sequence_length, t.packing, service.bills_unpacked_at_max_length
    )
    evaluation = m.evaluation_tokens_million_per_run * managed.TOKENS_PER_MILLION
    return managed.job_tokens_billed(dataset, t.epochs, evaluation, service.bills_evaluation_tokens)


def managed_lines(p: Params, book: PriceBook) -> list[Line]:
    """The compute lines of a managed plan: its jobs, the failed jobs' completed share and the
    sweep's trials, each at the job's cost (billed tokens × price, at least the minimum)."""
    t, m = p.training, p.training.managed
    assert m is not None
    service = book.managed_services[m.service]
    price, source = managed_price(p, book)
    job = managed.job_cost(managed_job_tokens(p, book), price, service.minimum_usd_per_job)
    trial_share = t.early_stopped_trial_fraction if t.sweep_early_stopping else 1.0
    where = f"{CLIENT} × {'quoted price' if source == CLIENT else source}"
    return [
        Line("compute", MANAGED_ITEM, t.runs * job, where),
        Line("compute", "Failed runs (rerun tax)", t.failed_runs * t.failed_run_completed_fraction * job, where),
        Line("compute", "Hyper-parameter sweep", t.sweep_trials * trial_share * job, where),
    ]


# --------------------------------------------------------------------------- checks on a file


def _sizes(p: Params) -> list[float]:
    """The model's size at the low and high of its range (one size when it is one value)."""
    value = p.base_model.parameters_billion
    return [value.low, value.high] if isinstance(value, Range) else [float(value)]


def _unknown_service(key: str, name: str, book: PriceBook) -> tuple[str, str]:
    known = ", ".join(book.managed_services) or "none"
    return key, f"unknown managed service '{name}' (price book managed_services: {known})"


def service_problems(p: Params, book: PriceBook) -> list[tuple[str, str]]:
    """(key, problem) of a managed plan or serving shape the price book cannot price: an
    unknown service, a model size or kind of job its price list does not cover (the quoted
    price then has to be given), a per-token shape without a volume, a batch without its
    discount, a physics throughput on a GPU without a bandwidth."""
    problems: list[tuple[str, str]] = []
    t, s = p.training, p.serving
    if t.provider == "managed" and t.managed is not None:
        m = t.managed
        if m.service not in book.managed_services:
            problems.append(_unknown_service("training.managed.service", m.service, book))
        elif m.price_usd_per_1m_tokens is None:
            service, kind = book.managed_services[m.service], managed.JOB_KIND.get(t.method)
            if kind is None:
                problems.append(("training.method", f"'{t.method}' has no per-token price on a managed service"))
            elif any(service.training_price(size, kind) is None for size in _sizes(p)):
                problems.append(
                    (
                        "training.managed.price_usd_per_1m_tokens",
                        f"{service.label} lists no {kind} price for a {max(_sizes(p)):g}B model "
                        f"({service.source}, read {service.as_of.isoformat()}): give the price you were quoted",
                    )
                )
    if s.service is not None and s.service not in book.managed_services:
        problems.append(_unknown_service("serving.service", s.service, book))
    elif s.shape in PER_TOKEN_SHAPES and s.price_usd_per_1m_tokens is None:
        service = service_of(book, s.service)
        if service is None or any(service.serverless_price(size) is None for size in _sizes(p)):
            problems.append(
                (
                    "serving.price_usd_per_1m_tokens",
                    f"shape '{s.shape}' needs a price per 1M tokens: give it, or a serving.service whose price "
                    "list covers the model's size",
                )
            )
    if s.shape in (*PER_TOKEN_SHAPES, "endpoint") and tokens_million_per_month(p) is None:
        problems.append(
            (
                "serving.tokens_million_per_month",
                f"shape '{s.shape}' bills by the volume served: give it (or the alternative's API token volumes)",
            )
        )
    listed = s.service in book.managed_services and book.managed_services[s.service].batch_discount_fraction is not None
    if s.shape == "batch" and s.batch_discount_fraction is None and not listed:
        problems.append(
            (
                "serving.batch_discount_fraction",
                "shape 'batch' needs the batch API's discount (0–1), or a serving.service that states one",
            )
        )
    gpu = book.gpus.get(s.gpu)
    if s.tokens_per_second is None and gpu is not None and gpu.memory_bandwidth_gbps is None:
        problems.append(
            ("serving.tokens_per_second", f"the {gpu.label} has no memory bandwidth to work it out from: give it")
        )
    return problems
