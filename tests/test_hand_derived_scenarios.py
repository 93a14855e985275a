"""Sensitivity, scenario plans and slugs, with every expected figure worked out by hand from
the second plan (tests/fixtures/second_plan.yaml; its figures are derived line by line in
tests/test_hand_derived_plan.py: programme USD 55,300, TCO 117,160, break-even month 5)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import pytest

from ftcost_helpers.engine import scenarios
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.loading import ParamsError, deep_merge, params_from_mapping, read_yaml
from ftcost_helpers.engine.overrides import scenario_params
from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.quantities import Range
from ftcost_helpers.engine.scenarios import compare_scenarios
from ftcost_helpers.engine.schema import Params, Scenario
from ftcost_helpers.engine.sensitivity import Swing, label, sensitivity
from ftcost_helpers.report.slug import slugify

SECOND_PLAN = Path(__file__).parent / "fixtures" / "second_plan.yaml"

H100_ELEMENTWISE_BYTES_PER_S = 3350e9 * 0.855
"""Bytes per second an element-wise kernel moves on an H100 SXM: its 3,350 GB/s × 0.855, the
price book's elementwise_bandwidth_share (0.82–0.89) at its base case, the midpoint. The
optimizer step and an NF4 base's dequantisation run at it; the matmuls' weight traffic at
the datasheet 3,350 GB/s."""


def plan_with(book: PriceBook, changes: dict[str, Any] | None = None) -> Params:
    return params_from_mapping(deep_merge(read_yaml(SECOND_PLAN), changes or {}), "second plan", book)


def scenario(plan: Params, book: PriceBook, overrides: dict[str, Any]) -> Params:
    return scenario_params(plan, book, Scenario(name="s", overrides=overrides))


def compute_usd(params: Params, book: PriceBook) -> float:
    return float(evaluate(params, book).area_total("compute"))


# ---------------------------------------------------------------- sensitivity


def swing(**fields: Any) -> Swing:
    base = dict(path="p", label="P", input_low=0.0, input_high=0.0, at_low=0.0, at_high=0.0)
    return Swing(**(base | fields))


def test_break_even_swing():
    # both ends never pay back: no swing; one end only: infinite; months 5 and 8: 3 months
    assert swing().break_even_swing == 0.0
    assert swing(low_break_even=5).break_even_swing == math.inf
    assert swing(high_break_even=5).break_even_swing == math.inf
    assert swing(low_break_even=8, high_break_even=5).break_even_swing == 3.0


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("engineering.rate_usd_per_hour", "Engineering: rate (USD/hour)"),
        ("training.runs", "Training: runs"),
        ("dataset.curation_usd", "Dataset: curation (USD)"),
        ("training.early_stopped_trial_fraction", "Training: early stopped trial (share)"),
        (
            "pricebook.gpu_rates_usd_per_gpu_hour.h100_sxm.hyperscaler_on_demand",
            "Price book: gpu rates, h100 sxm, hyperscaler on demand (USD/GPU-hour)",
        ),
        ("base_model.parameters_billion", "Base model: parameters (billion)"),
        ("maintenance", "Maintenance"),
    ],
)
def test_labels(path, text):
    assert label(path) == text


def test_sensitivity_of_one_uniform_input(book):
    # curation {10,000, 30,000}, base 20,000: TCO 117,160 + 10,000 = 127,160 and + 30,000 =
    # 147,160; the labour alternative saves 16,000 × 12 = 192,000, so the net value over 12
    # months is 64,840 at low and 44,840 at high (swing 20,000), 54,840 at base. Break-even:
    # cumulative savings 69,270 by month 6 ≥ 65,300; 79,415 by 7 < 85,300 ≤ 89,560 by 8 → months
    # 6 and 8. The plan's other ranges (early-stopped share: the sweep runs without early
    # stopping; quality loss unmaintained) and the price book's (both rates are booked) move
    # nothing and are left out.
    plan = plan_with(book, {"dataset": {"curation_usd": {"low": 10000, "high": 30000}}})
    result = sensitivity(plan, book)
    assert [s.path for s in result.rows] == ["dataset.curation_usd"]
    assert result.base == pytest.approx(54_840)
    (top,) = result.rows
    assert (top.at_low, top.at_high, top.swing) == pytest.approx((64_840, 44_840, 20_000))
    assert (top.low_break_even, top.high_break_even, top.break_even_swing) == (6, 8, 2.0)
    assert (top.input_low, top.input_high) == (10_000, 30_000)


def test_sensitivity_of_the_early_stopped_share(book):
    # with early stopping the sweep is 2 × 10 h × 4 trials × share × USD 4 = 320 × share:
    # 64 at 0.2, 112 at 0.35 (48); the re-train (0.5 × compute each quarter) moves by 24 a
    # quarter, 8 a month for months 4–12: TCO swing 48 + 9 × 8 = 120, net value down by as much
    plan = plan_with(book, {"training": {"sweep_early_stopping": True}})
    (share,) = [s for s in sensitivity(plan, book).rows if s.path == "training.early_stopped_trial_fraction"]
    assert share.at_low - share.at_high == pytest.approx(120.0)
    assert share.swing == pytest.approx(120.0)


def test_a_price_book_range_that_moves_only_the_running_costs_is_listed(book):
    # serving from the price book: H100 hyperscaler on-demand 2.80–4.20 (base 3.50, as booked).
    # 1 GPU × 730 h × 12 months = 8,760 GPU-hours: TCO 117,160 ∓ 0.70 × 8,760 = 111,028 / 123,292,
    # net value 192,000 − TCO = 80,972 / 68,708; the programme does not move; break-even stays
    # month 5 at both ends (2.80: net 13,456 × 3 + 10,656 × 2 = 61,680 ≥ 55,300; 4.20: 12,434 × 3
    # + 9,634 × 2 = 56,570)
    plan = plan_with(book, {"serving": {"rate_usd_per_gpu_hour": None}})
    path = "pricebook.gpu_rates_usd_per_gpu_hour.h100_sxm.hyperscaler_on_demand"
    (rate,) = [s for s in sensitivity(plan, book).rows if s.path == path]
    assert (rate.at_low, rate.at_high) == pytest.approx((80_972, 68_708))
    assert (rate.low_break_even, rate.high_break_even) == (5, 5)


def test_ties_are_ordered_by_break_even_then_path():
    # equal swings of the quantity: the larger break-even swing first, then by path
    from ftcost_helpers.engine.sensitivity import _tornado_order

    a = swing(path="a", at_high=10.0, low_break_even=5, high_break_even=6)
    b = swing(path="b", at_high=10.0, low_break_even=5, high_break_even=8)
    c = swing(path="c", at_low=10.0, low_break_even=5, high_break_even=6)
    d = swing(path="d", at_high=20.0)
    e = swing(path="e", at_high=10.0, low_break_even=5)
    assert [s.path for s in sorted([a, b, c, d, e], key=_tornado_order)] == ["d", "e", "b", "a", "c"]


# ---------------------------------------------------------------- scenario plans


# The second plan's physics GPU-seconds per run, derived in tests/test_hand_derived_plan.py
# (QLoRA physics): compute 96e6 tokens × (48.96e9 + 4,294,967,296) FLOPs ÷ (989e12 × 0.25);
# dequantising the NF4 base 6,951,424,000 × 2.516 B × 3 passes × 23,437.5 micro-batches ÷
# 3,350 GB/s; kernel overheads 342 per layer and micro-batch × 32 layers × 23,437.5 × 6 µs;
# the optimizer steps on 2 GPUs 2 × 11,718.75 steps × 8e7 × 28 B ÷ 3,350 GB/s.
# Compute, dequantisation and kernels are GPU-seconds of the tokens, whatever the GPU count. On g GPUs
# (sharded, d = g) the step count is 96e6 ÷ (4,096 × g) and each GPU updates 1.6e8 ÷ g
# adapters: g × (1 ÷ g) × (1 ÷ g), so the steps' GPU-seconds go as 2 ÷ g of the plan's.
KERNEL_SECONDS = 342 * 32 * 23_437.5 * 6e-6
COMPUTE_AND_DEQUANTISE = (
    96e6 * (48.96e9 + 4_294_967_296) / (989e12 * 0.25)
    + 6_951_424_000 * 2.516 * 3 * 23_437.5 / H100_ELEMENTWISE_BYTES_PER_S
    + KERNEL_SECONDS
)
STEPS_ON_2 = 2 * 11_718.75 * 8e7 * 28 / H100_ELEMENTWISE_BYTES_PER_S


NVLINK_BUS_BYTES_PER_S = 450e9 * 0.745
"""An H100 SXM's NVLink, 450 GB/s per direction, at collective_bandwidth_share's midpoint."""


def communication_gpu_seconds(gpus: int, epochs: float = 4, link_bytes_per_s: float = NVLINK_BUS_BYTES_PER_S) -> float:
    """The second plan's exposed FSDP communication on ``gpus`` GPUs of one node (derived in
    tests/test_hand_derived_plan.py): per step each GPU sends (g − 1)/g of two gathers of the
    6,004,086,784 B of weights and one reduce-scatter of the 3.2e8 B of gradients; 0.3 of it
    shows (overlap midpoint 0.7, the compute being far longer); 96e6 ÷ (4,096 × g) steps on g."""
    per_step = (gpus - 1) / gpus * (2 * 6_004_086_784 + 3.2e8) / link_bytes_per_s
    steps = 96e6 / (4096 * gpus) * epochs / 4
    return 0.3 * per_step * steps * gpus


def physics_gpu_seconds(gpus: int, epochs: float = 4) -> float:
    """The second plan's physics GPU-seconds per run on ``gpus`` GPUs (every term scales with
    the tokens, so with the epochs)."""
    return (COMPUTE_AND_DEQUANTISE + STEPS_ON_2 * 2 / gpus) * epochs / 4 + communication_gpu_seconds(gpus, epochs)


def test_more_gpus_share_the_gpu_hours_but_step_faster(book):
    # 4 GPUs instead of 2: hours = 10 × (physics on 4 ÷ physics on 2) × 2 ÷ 4 ≈ 5.0122 h (the
    # optimizer steps' 15.67 GPU-s halve; the FSDP communication's 129.3 GPU-s grow by 3/4 ÷ 1/2
    # to 193.9; the other 22,583 GPU-s stay). The compute bill:
    # 4 GPUs × h × (5 runs + 2 × 0.5 reruns + 4 sweep trials) × USD 4.00 = 160 × h ≈ USD 802.0
    assert communication_gpu_seconds(4) == pytest.approx(1.5 * communication_gpu_seconds(2))
    hours = 10 * physics_gpu_seconds(4) / physics_gpu_seconds(2) * 2 / 4
    assert 5.01 < hours < 5.02
    more = scenario(plan_with(book), book, {"training": {"gpus_per_run": 4}})
    assert more.training.hours_per_run == pytest.approx(hours, rel=1e-12)
    assert compute_usd(more, book) == pytest.approx(160 * hours, rel=1e-12)


def test_twice_the_epochs_take_twice_the_hours(book):
    # 8 epochs instead of 4: twice the tokens, so twice every physics term: 20 h per run and
    # compute 2 GPUs × 20 h × 10 run-equivalents × 4.00 = USD 1,600
    longer = scenario(plan_with(book), book, {"training": {"epochs": 8}})
    assert longer.training.hours_per_run == pytest.approx(20.0, rel=1e-12)
    assert compute_usd(longer, book) == pytest.approx(1_600.0, rel=1e-12)
    # on 4 GPUs as well: 10 × (physics of 8 epochs on 4 ÷ the plan's) × 2 ÷ 4 ≈ 10.024 h
    both = scenario(plan_with(book), book, {"training": {"epochs": 8, "gpus_per_run": 4}})
    expected = 10 * physics_gpu_seconds(4, epochs=8) / physics_gpu_seconds(2) * 2 / 4
    assert both.training.hours_per_run == pytest.approx(expected, rel=1e-12)
    assert 10.0 < both.training.hours_per_run < 10.03


def test_a_range_of_hours_scales_at_every_point(book):
    # {8, mode 10, 12} on 4 GPUs instead of 2: each point × f, f = physics on 4 ÷ on 2 × 2 ÷ 4
    factor = physics_gpu_seconds(4) / physics_gpu_seconds(2) * 2 / 4
    plan = plan_with(book, {"training": {"hours_per_run": {"low": 8, "mode": 10, "high": 12}}})
    hours = scenario(plan, book, {"training": {"gpus_per_run": 4}}).training.hours_per_run
    assert isinstance(hours, Range)
    assert (hours.low, hours.mode, hours.high) == pytest.approx((8 * factor, 10 * factor, 12 * factor), rel=1e-12)
    plain = plan_with(book, {"training": {"hours_per_run": {"low": 8, "high": 12}}})
    scaled = scenario(plain, book, {"training": {"gpus_per_run": 4}}).training.hours_per_run
    assert scaled.mode is None and (scaled.low, scaled.high) == pytest.approx((8 * factor, 12 * factor), rel=1e-12)


def test_a_change_the_physics_ignores_keeps_the_hours(book):
    # more runs change no run's physics: the factor is exactly 1 and the hours stay 10
    assert scenario(plan_with(book), book, {"training": {"runs": 7}}).training.hours_per_run == 10.0


def test_a_slower_gpu_takes_longer_in_proportion(book):
    # A100 80GB (312 TFLOPS, 2,039 GB/s, NVLink 300 GB/s), hyperscaler on demand, no booked
    # rate: every term is the plan's × the H100's figure ÷ the A100's (compute 989 ÷ 312,
    # dequantising and steps 3,350 ÷ 2,039, communication 450 ÷ 300) but the kernel overheads,
    # which stay, so hours = 10 × that physics ÷ the plan's
    compute_s = 96e6 * (48.96e9 + 4_294_967_296) / (312e12 * 0.25)
    memory_s = (6_951_424_000 * 2.516 * 3 * 23_437.5 + 2 * 11_718.75 * 8e7 * 28) / (2039e9 * 0.855)
    comm_s = communication_gpu_seconds(2, link_bytes_per_s=300e9 * 0.745)
    expected = 10 * (compute_s + memory_s + KERNEL_SECONDS + comm_s) / physics_gpu_seconds(2)
    a100 = scenario(plan_with(book), book, {"training": {"gpu": "a100_80gb"}})
    assert a100.training.hours_per_run == pytest.approx(expected, rel=1e-12)
    assert a100.training.rate_usd_per_gpu_hour is None


def test_compare_scenarios_side_by_side(book):
    # the plan, a scenario on 4 GPUs and one with twice the epochs (figures as above)
    plan = plan_with(book, {"scenarios": [{"name": "four", "overrides": {"training": {"gpus_per_run": 4}}},
                                          {"name": "long", "overrides": {"training": {"epochs": 8}}}]})  # fmt: skip
    base, four, long = compare_scenarios(plan, book)
    assert base.name == scenarios.BASE_PLAN_NAME
    assert (base.programme_total_usd, base.tco_usd, base.break_even_month) == pytest.approx((55_300, 117_160, 5))
    hours = 10 * physics_gpu_seconds(4) / physics_gpu_seconds(2) * 2 / 4
    assert (four.gpus_per_run, four.hours_per_run, four.compute_usd) == pytest.approx((4, hours, 160 * hours))
    # 1,600 of compute: programme 55,300 + 800 = 56,100; re-train 0.5 × 1,600 = 800 a quarter
    # with the 8,000 of other maintenance: serving 2,555 + continuous eval 500 + 8,800 ÷ 3 a month
    assert long.programme_total_usd == pytest.approx(56_100)
    assert long.monthly_usd == pytest.approx(500 + 2_555 + (1_000 + 1_000 + 6_000 + 800) / 3)
    # labour saved: 10 staff × 160 h × 0.25 × USD 40 = USD 16,000 a month
    assert long.alternative_monthly_usd == pytest.approx(16_000)
    assert "params" not in four.as_dict() and four.as_dict()["name"] == "four"


def test_an_unsharded_plan_on_twice_the_gpus_halves_its_hours(book):
    # The minimal plan (tests/test_hand_derived_rules.py) needs only 4.06e13 FLOPs, under a
    # GPU-hour of physics, and shards nothing: on 2 GPUs each replica updates all 1e7 adapters,
    # in 10,000 ÷ (128 × 2) = 39.0625 steps, so 2 × 39.0625 step-seconds = the one GPU's
    # 78.125: the physics GPU-hours do not change but for the gradients' all-reduce, 2 × ½ ×
    # 1e7 × 2 B = 2e7 B a step over NVLink (450 GB/s × 0.745), 0.3 of it exposed: 0.3 × 2e7 ÷
    # 335.25e9 × 39.0625 steps × 2 GPUs = 0.0013982 GPU-s; the 10 h per run nearly halve
    from test_hand_derived_rules import MINIMAL

    plan = Params.model_validate(MINIMAL)
    one_gpu = float(evaluate(plan, book).compute.physics_gpu_hours_per_run) * 3600
    all_reduce = 0.3 * 2e7 / NVLINK_BUS_BYTES_PER_S * 39.0625 * 2
    assert all_reduce == pytest.approx(0.0013982, rel=1e-4)
    expected = 10 * (one_gpu + all_reduce) / one_gpu / 2
    assert scenario(plan, book, {"training": {"gpus_per_run": 2}}).training.hours_per_run == pytest.approx(expected)
    assert 5.0 < expected < 5.03


def test_a_bad_scenario_is_named_by_its_place(book):
    # a scenario checked on its own is the first: its problems are under scenarios.0 (its name)
    with pytest.raises(ParamsError) as error:
        scenario(plan_with(book), book, {"training": {"gpus_per_run": 0}})
    assert error.value.problems[0][0].startswith("scenarios.0 (s): training.gpus_per_run")


def test_load_plan_checks_the_plan_against_the_book_it_is_given(book):
    # a book that does not know the plan's H100 SXM refuses it; the default book knows it
    from ftcost_helpers.engine.overrides import load_plan

    other = book.model_copy(update={"gpus": {key: gpu for key, gpu in book.gpus.items() if key != "h100_sxm"}})
    with pytest.raises(ParamsError, match=r"training\.gpu: unknown GPU 'h100_sxm'"):
        load_plan(SECOND_PLAN, other)
    assert load_plan(SECOND_PLAN).training.gpu == "h100_sxm"


def test_twice_the_epochs_of_the_minimal_plan_double_its_hours(book):
    # every physics term of the minimal plan is in proportion to its tokens: 2 epochs, factor
    # exactly 2 (10,000 → 20,000 tokens; 78.125 → 156.25 steps): 10 h → 20 h
    from test_hand_derived_rules import MINIMAL

    plan = Params.model_validate(MINIMAL)
    assert scenario(plan, book, {"training": {"epochs": 2}}).training.hours_per_run == pytest.approx(20.0)


def test_hours_given_by_the_scenario_are_kept(book):
    # 7 h given: 2 × 7 × 5 + 2 × 7 × 2 × 0.5 + 2 × 7 × 4 = 70 + 14 + 56 = 140 GPU-h × 4 = USD 560
    given = scenario(plan_with(book), book, {"training": {"epochs": 8, "hours_per_run": 7}})
    assert given.training.hours_per_run == 7.0
    assert compute_usd(given, book) == pytest.approx(560.0)


def test_a_new_tier_drops_the_booked_rate(book):
    # without HIPAA, on H100 neocloud spot: the booked 4.00 is dropped for the book's midpoint
    # (1.20 + 1.80) / 2 = 1.50; the same GPU-hours (200): USD 300
    spot = scenario(plan_with(book), book, {"compliance": {"hipaa": False}, "training": {"tier": "neocloud_spot"}})
    assert spot.training.rate_usd_per_gpu_hour is None
    assert compute_usd(spot, book) == pytest.approx(300.0)
    # the serving section keeps its own booked rate: 1 × 730 × 3.50 = USD 2,555 a month
    assert float(evaluate(spot, book).ongoing_monthly["serving"]) == pytest.approx(2_555.0)


def test_a_new_tier_with_its_own_rate_keeps_it(book):
    # 200 GPU-hours × USD 1.00 = USD 200
    own = scenario(
        plan_with(book),
        book,
        {"compliance": {"hipaa": False}, "training": {"tier": "neocloud_spot", "rate_usd_per_gpu_hour": 1.0}},
    )
    assert compute_usd(own, book) == pytest.approx(200.0)


def test_the_same_gpu_named_again_keeps_the_booked_rate(book):
    same = scenario(plan_with(book), book, {"training": {"gpu": "h100_sxm"}})
    assert same.training.rate_usd_per_gpu_hour == 4.0
    assert compute_usd(same, book) == pytest.approx(800.0)


def test_a_new_serving_tier_drops_the_serving_rate(book):
    # serving on neocloud spot: (1.20 + 1.80) / 2 = 1.50 × 730 h = USD 1,095 a month
    spot = scenario(plan_with(book), book, {"compliance": {"hipaa": False}, "serving": {"tier": "neocloud_spot"}})
    assert float(evaluate(spot, book).ongoing_monthly["serving"]) == pytest.approx(1_095.0)
    assert spot.training.rate_usd_per_gpu_hour == 4.0


def test_fits_is_the_fit_verdict(book):
    # a scenario fits unless the fit verdict says "does not fit": on the plan's H100 (80 GiB =
    # 85.9 GB) 40 GB of tensors fit (at most 1.5 + 40 ÷ 0.57 = 71.7 GB with the context and
    # fragmentation at their ranges' ends), 80 GB are borderline (P10 0.783 + 80 = 80.78 GB,
    # the context's P10 and no fragmentation; up to 141.9 GB), 90 GB do not fit (P10 90.78 GB)
    plan = plan_with(book)
    run = evaluate(plan, book)

    def with_allocated(gb: float):
        return dataclasses.replace(run, compute=dataclasses.replace(run.compute, allocated_gb=gb, paged_gb=0.0))

    assert scenarios.plan_fit(plan, book, with_allocated(40.0)).fits is True
    assert scenarios.plan_fit(plan, book, with_allocated(80.0)).fits is True
    assert scenarios.plan_fit(plan, book, with_allocated(90.0)).fits is False
    assert compare_scenarios(plan, book)[0].fits is True


# ---------------------------------------------------------------- slugs


def test_slug_length_is_cut_at_sixty():
    # 61 letters: cut to 60 (no hyphen to cut at); "ab-" × 30 (89 characters): the first 60
    # end in a hyphen, so the slug is 19 × "ab-" + "ab" (59 characters)
    assert slugify("a" * 60) == "a" * 60
    assert slugify("a" * 55 + " bcde") == "a" * 55 + "-bcde"  # exactly 60 with a hyphen: kept whole
    assert slugify("a" * 61) == "a" * 60
    assert slugify("ab-" * 30) == "ab-" * 19 + "ab"
    assert slugify("abc def", max_length=5) == "abc"
