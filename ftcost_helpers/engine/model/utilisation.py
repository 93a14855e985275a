"""Utilisation that transfers across GPU classes: the price book's band, calibrated on the
datacenter GPUs it names, carried to a GPU whose FLOPs-to-bandwidth ratio lies outside theirs
by a roofline without overlap at the run's matmul shape.

A matmul of an (m × k) by a (k × n) operand does 2·m·k·n FLOPs and, in BF16, moves at least
2·(m·k + k·n + m·n) bytes: its arithmetic intensity is I = m·k·n ÷ (m·k + k·n + m·n) FLOPs per
byte (the 2s cancel; FP8 halves the bytes and doubles the peak, so the ratio below is the
same). A GPU's ridge point is R = peak FLOP/s ÷ bandwidth B/s. Where the tile loads are not
hidden under the tensor cores the matmul takes F/P + bytes/B, and reaches

    efficiency(R, I) = 1 ÷ (1 + R / I)

of the peak. With no constant fitted, this gives the measured maximum achievable matmul
FLOPS (stas00/ml-engineering, compute/accelerator/README.md, "Maximum Achievable Matmul FLOPS
comparison table", BF16, at each GPU's best shape) within 6 points on NVIDIA's datacenter
GPUs: A100 SXM 0.84 against 0.869 measured, A100 PCIe 0.88 / 0.811, H100 SXM 0.76 / 0.803,
B200 0.79 / 0.776 (tests/test_utilisation_by_class.py). AMD's MI300X reaches 0.514 there:
its shortfall is its software's, not its ratio's, and this rule does not claim it.

The price book's band already holds the GPUs it was calibrated on, whose ridge points span
R_lo to R_hi (A100 80GB 153 and H100 SXM 295 FLOP/B). Inside that span the band is kept as
it is; outside it, a GPU's utilisation is the band × efficiency(R, I) ÷ efficiency(R_span, I),
with R_span the nearer end of the span: a workstation or PCIe card with a high ratio (L40S
419, L4 403, H100 PCIe 378) reaches less of its peak, a card with a low one (A10G 117, RTX
5090 117) a little more. The matmul shape is the run's widest: m the micro-batch's tokens on
one GPU (÷ context parallel), k the hidden size, n the MLP's intermediate size ÷ tensor
parallel.

What this does not hold: clocks that fall under a board's power limit (a datacenter PCIe or
workstation card rated at its boost clock), for which no source in this project gives
sustained figures.
"""

from __future__ import annotations

import numpy as np

from ftcost_helpers.engine.quantities import Number


def gemm_intensity(m: Number, k: Number, n: Number) -> Number:
    """FLOPs per byte of an (m × k)·(k × n) matmul in BF16: m·k·n ÷ (m·k + k·n + m·n)."""
    return 1.0 / (
        1.0 / np.asarray(m, dtype=float) + 1.0 / np.asarray(k, dtype=float) + 1.0 / np.asarray(n, dtype=float)
    )


def ridge_point(peak_tflops: float, bandwidth_gbps: float | None) -> float | None:
    """FLOPs per byte at which a GPU's peak and its bandwidth take the same time (None when
    the bandwidth is not given)."""
    if not bandwidth_gbps:
        return None
    return peak_tflops * 1e12 / (bandwidth_gbps * 1e9)


def matmul_efficiency(ridge: Number, intensity: Number) -> Number:
    """Share of the peak a matmul of this intensity reaches without overlap: 1 ÷ (1 + R/I)."""
    return 1.0 / (1.0 + np.asarray(ridge, dtype=float) / np.asarray(intensity, dtype=float))


def class_factor(ridge: float | None, span: tuple[float, float], intensity: Number) -> Number:
    """The factor on the band for a GPU of ridge point ``ridge``: 1 inside the calibrated
    span, efficiency(R, I) ÷ efficiency(nearer end of the span, I) outside it (1 when the
    GPU's bandwidth is unknown)."""
    if ridge is None:
        return 1.0
    nearest = min(max(ridge, span[0]), span[1])
    return matmul_efficiency(ridge, intensity) / matmul_efficiency(nearest, intensity)


def band_factor(
    span: tuple[float, float] | None,
    peak_tflops: float,
    bandwidth_gbps: float | None,
    micro_batch_tokens: Number,
    hidden: Number,
    mlp_width: Number,
) -> Number:
    """The factor on the price book's band for a run: :func:`class_factor` of its GPU's
    ridge point at its widest matmul, micro-batch tokens × hidden × MLP width (1 without a
    calibrated span)."""
    if span is None:
        return 1.0
    intensity = gemm_intensity(micro_batch_tokens, hidden, mlp_width)
    return class_factor(ridge_point(peak_tflops, bandwidth_gbps), span, intensity)
