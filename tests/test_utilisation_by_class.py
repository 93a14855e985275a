"""Utilisation across GPU classes (engine/model/utilisation.py; issue 22 item 3): the band
holds inside the ridge-point span of the GPUs it was calibrated on and is carried outside it by
a roofline without overlap at the run's widest matmul."""

from __future__ import annotations

import numpy as np
import pytest

from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.loading import load_price_book
from ftcost_helpers.engine.model.utilisation import (
    band_factor,
    class_factor,
    gemm_intensity,
    matmul_efficiency,
    ridge_point,
)

BOOK = load_price_book()


def test_intensity_of_a_square_matmul():
    # m = k = n = 3,000: m·k·n ÷ (3 × 3,000²) = 3,000 ÷ 3 = 1,000 FLOPs per byte
    assert float(gemm_intensity(3000, 3000, 3000)) == pytest.approx(1000.0)


def test_ridge_points_of_the_calibration_gpus():
    # A100 80GB: 312e12 ÷ 2,039e9 = 153.0; H100 SXM: 989e12 ÷ 3,350e9 = 295.2 (params/gpus.yaml)
    assert ridge_point(312, 2039) == pytest.approx(153.016, rel=1e-4)
    assert ridge_point(989, 3350) == pytest.approx(295.224, rel=1e-4)
    assert ridge_point(989, None) is None
    low, high = BOOK.calibrated_ridge_span()
    assert (low, high) == (pytest.approx(153.016, rel=1e-4), pytest.approx(295.224, rel=1e-4))


@pytest.mark.parametrize(
    ("shape", "peak", "bandwidth", "measured"),
    [
        # stas00/ml-engineering compute/accelerator/README.md, "Maximum Achievable Matmul FLOPS
        # comparison table", BF16: the best shape M×N×K and MAMF ÷ theory
        ((1024, 10240, 5120), 312, 2039, 0.869),  # A100 SXM
        ((2048, 2048, 13312), 989, 3350, 0.803),  # H100 SXM
        ((1792, 16128, 3072), 2250, 8000, 0.776),  # B200 SXM
    ],
)
def test_the_rule_gives_measured_matmul_efficiency(shape, peak, bandwidth, measured):
    # no constant fitted: A100 I = 1 ÷ (1/1024 + 1/10240 + 1/5120) = 787.7, 1 ÷ (1 + 153.0/787.7)
    # = 0.837; H100 I = 951.1, 1 ÷ (1 + 295.2/951.1) = 0.763; B200 I = 1057.6, 0.790
    m, n, k = shape
    efficiency = float(matmul_efficiency(ridge_point(peak, bandwidth), gemm_intensity(m, k, n)))
    assert abs(efficiency - measured) <= 0.05


def test_inside_the_span_the_band_holds():
    span = (153.0, 295.0)
    for ridge in (153.0, 206.0, 295.0):  # A100, H200 (989 ÷ 4.8), H100
        assert float(class_factor(ridge, span, 1000.0)) == 1.0
    assert class_factor(None, span, 1000.0) == 1.0
    assert band_factor(None, 362, 864, 4096, 4096, 14336) == 1.0


def test_above_the_span_a_gpu_reaches_less():
    # L40S: 362e12 ÷ 864e9 = 419.0 FLOP/B; at I = 1,000: (1 + 295/1000) ÷ (1 + 419/1000)
    # = 1.295 ÷ 1.419 = 0.9126
    assert float(class_factor(419.0, (153.0, 295.0), 1000.0)) == pytest.approx(1.295 / 1.419)


def test_below_the_span_a_gpu_reaches_a_little_more():
    # A10G: 70e12 ÷ 600e9 = 116.7; at I = 1,000: (1 + 153/1000) ÷ (1 + 116.7/1000) = 1.0325
    assert float(class_factor(116.7, (153.0, 295.0), 1000.0)) == pytest.approx(1.153 / 1.1167)


def test_smaller_matmuls_widen_the_gap():
    # L40S at a 512-token micro-batch of a 4,096-wide model with a 14,336 MLP:
    # I = 1 ÷ (1/512 + 1/4096 + 1/14336) = 438.2; factor (1 + 295/438.2) ÷ (1 + 419/438.2) = 0.855;
    # at 8,192 tokens I = 1 ÷ (1/8192 + 1/4096 + 1/14336) = 2294.0, factor 0.9489
    span = (153.0, 295.0)
    small = float(band_factor(span, 362, 864, 512, 4096, 14336))
    large = float(band_factor(span, 362, 864, 8192, 4096, 14336))
    assert small == pytest.approx((1 + 295 / 438.18) / (1 + 419.0 / 438.18), rel=1e-3)
    assert large == pytest.approx((1 + 295 / 2294.0) / (1 + 419.0 / 2294.0), rel=1e-3)
    assert small < large < 1.0


def test_vectorised_over_draws():
    factors = class_factor(419.0, (153.0, 295.0), np.array([500.0, 1000.0, 2000.0]))
    assert factors.shape == (3,) and np.all(np.diff(factors) > 0)


def _plan(examples, gpu: str, utilisation: float | None = None):
    training = examples["a"].training.model_copy(update={"gpu": gpu, "utilisation": utilisation})
    return examples["a"].model_copy(update={"training": training})


def test_example_a_keeps_the_band_on_h100_and_a100(examples, book):
    # H100 SXM and A100 80GB lie in the span: the base-case utilisation is the band's middle,
    # (0.40 + 0.68) ÷ 2 = 0.54
    for gpu in ("h100_sxm", "a100_80gb"):
        assert float(evaluate(_plan(examples, gpu), book).compute.utilisation) == pytest.approx(0.54)


def test_a_plan_that_gives_its_utilisation_keeps_it(examples, book):
    assert float(evaluate(_plan(examples, "l40s", 0.3), book).compute.utilisation) == pytest.approx(0.3)


def test_an_l40s_gets_less_than_the_band(examples, book):
    facts = evaluate(_plan(examples, "l40s"), book).compute
    assert 0.0 < float(facts.utilisation) < 0.54
