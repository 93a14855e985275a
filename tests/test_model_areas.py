"""Unit tests of the model's formulas, area by area, on floats and on arrays."""

from __future__ import annotations

import numpy as np
import pytest

from ftcost_helpers.engine.model import compute, dataset, engineering, evaluation, maintenance, roi


class TestCompute:
    def test_booked_gpu_hours_multiply_gpus_hours_and_runs(self):
        assert compute.booked_gpu_hours(8, 6, 14) == 672

    def test_failed_runs_cost_the_share_they_completed(self):
        # 000_0a0c95ce173b866e.txt: a run dying at epoch 0.4 of a USD 6,000 run costs 2,400.
        hours = compute.failed_run_gpu_hours(8, 10, 1, 0.4)
        assert compute.gpu_cost(hours, 75.0) == pytest.approx(2_400)

    def test_early_stopping_cuts_sweep_trials_short(self):
        full = compute.sweep_gpu_hours(8, 6, 10, early_stopping=False, stopped_trial_fraction=0.25)
        stopped = compute.sweep_gpu_hours(8, 6, 10, early_stopping=True, stopped_trial_fraction=0.25)
        assert full == 480 and stopped == 120

    def test_full_training_is_six_flops_per_parameter_per_token(self):
        # 6·N per token for the weights; attention 6·L·s·h = 6 · 2 · 1,000 · 100 = 1.2e6.
        weights, attention = compute.flops_per_token(1e9, 0.0, True, 2, 100, 1000, "none")
        assert weights == pytest.approx(6e9) and attention == pytest.approx(1.2e6)

    def test_checkpointing_adds_a_forward_pass(self):
        # Full recomputation: + 2·N = 8e9, attention + 2·L·s·h = 1.2e6 + 0.4e6.
        weights, attention = compute.flops_per_token(1e9, 0.0, True, 2, 100, 1000, "full")
        assert weights == pytest.approx(8e9) and attention == pytest.approx(1.6e6)
        # Selective: only the attention's forward is redone.
        weights, attention = compute.flops_per_token(1e9, 0.0, True, 2, 100, 1000, "selective")
        assert weights == pytest.approx(6e9) and attention == pytest.approx(1.6e6)

    def test_frozen_base_costs_four_plus_six_per_adapter_parameter(self):
        # 4·1e9 + 6·1e7 = 4.06e9.
        weights, _ = compute.flops_per_token(1e9, 1e7, False, 2, 100, 1000, "none")
        assert weights == pytest.approx(4.06e9)

    def test_a_throughput_penalty_slows_only_the_weight_matmuls(self):
        # 1e15 matmul FLOPs × 1.5 at 100 TFLOPS × 0.5 = 30 s; 1e14 attention FLOPs at 100 × 0.5 = 2 s.
        assert compute.compute_seconds(1e15, 1e14, 100, 100, 0.5, 1.5) == pytest.approx(32.0)

    def test_optimizer_step_is_bandwidth_bound(self):
        # Mixed-precision AdamW: read g 2, master 4, m 4, v 4; write master 4, m 4, v 4 and the
        # bf16 weights 2: 28 bytes. 1e9 parameters × 28 B ÷ 2,000 GB/s = 0.014 s.
        per_param = compute.optimizer_step_bytes_per_param(2.0, 2.0, 4.0, 8.0)
        assert per_param == 28.0
        assert compute.optimizer_step_seconds(1e9, per_param, 2000, 1.0) == pytest.approx(0.014)
        # At 0.875 of the bandwidth: 0.014 ÷ 0.875 = 0.016 s.
        assert compute.optimizer_step_seconds(1e9, per_param, 2000, 0.875) == pytest.approx(0.016)
        # Pure bf16 (no master): 2 + 2·4 + 2·2 = 14.
        assert compute.optimizer_step_bytes_per_param(2.0, 2.0, 0.0, 4.0) == 14.0

    def test_dequantising_a_4bit_base_costs_bandwidth_per_micro_batch(self):
        # NF4: 1e9 parameters × (0.5 read + 2 written) bytes × 3 passes (forward, backward,
        # recompute) × 10 micro-batches ÷ 1,000 GB/s = 0.075 s (the matmul's read of the bf16
        # copy is in the matmuls' roofline).
        nf4 = compute.DEQUANTISATION["nf4"]
        assert compute.dequantise_seconds(1e9, 0.5, nf4, "full", 10, 1000, 1.0, 1.0) == pytest.approx(0.075)

    def test_padding_costs_compute(self):
        # 1e6 real tokens at 80% real: 1.25e6 processed.
        assert compute.processed_tokens(1e6, 0.8) == pytest.approx(1.25e6)

    def test_offload_transfer_is_bytes_over_the_host_link(self):
        # 50 GB over 25 GB/s: 2 s.
        assert compute.host_transfer_seconds(50e9, 25) == pytest.approx(2.0)

    def test_functions_take_arrays(self):
        hours = compute.booked_gpu_hours(8, np.array([5.0, 6.0]), np.array([10.0, 14.0]))
        np.testing.assert_allclose(hours, [400, 672])


class TestPhysicsAgainstPublishedRuns:
    """The estimator against real runs (facts from the papers named)."""

    def test_llama3_405b_training_flops(self):
        # Llama 3 paper (Dubey et al. 2024): 405B parameters, 15.6T tokens, 3.8e25 FLOPs. The
        # weights' 6·N·D; attention (126 layers, 8,192 tokens, hidden 16,384) adds ~2.5%.
        weights, attention = compute.flops_per_token(405e9, 0.0, True, 126, 16384, 8192, "none")
        assert weights * 15.6e12 == pytest.approx(3.8e25, rel=0.01)
        assert (weights + attention) * 15.6e12 == pytest.approx(3.8e25, rel=0.04)

    @pytest.mark.parametrize(
        ("parameters", "gpu_hours"),
        [(6.74e9, 184_320), (69e9, 1_720_320)],  # Llama 2 paper, Table 2: A100-80GB hours, 2.0T tokens
        ids=["llama2-7b", "llama2-70b"],
    )
    def test_llama2_runs_imply_the_published_pretraining_utilisation(self, parameters, gpu_hours):
        weights, _ = compute.flops_per_token(parameters, 0.0, True, 32, 4096, 4096, "none")
        flops = weights * 2.0e12
        implied = compute.implied_utilisation(flops, 312, gpu_hours, 1.0)
        # Large pre-training runs reach roughly 0.38–0.46 MFU (PaLM, Llama 3 reports).
        assert 0.35 <= implied <= 0.47

    def test_physics_and_implied_utilisation_agree(self):
        flops = 1e20
        hours = compute.physics_gpu_hours(flops, 989, 0.3, 1.0)
        assert compute.implied_utilisation(flops, 989, hours, 1.0) == pytest.approx(0.3)


class TestDatasetEvalEngineering:
    def test_annotation_hours_scale_with_pairs(self):
        assert dataset.annotation_hours(100, 6_000, 2) == 300

    def test_annotation_is_hours_times_rate(self):
        assert dataset.annotation_cost(800, 45) == 36_000

    def test_double_labelling_is_a_share_of_annotation(self):
        assert dataset.double_labelling_cost(36_000, 0.15) == pytest.approx(5_400)

    def test_synthetic_data_is_tokens_times_price_plus_verification(self):
        assert dataset.synthetic_generation_cost(200, 15.0, 1_000) == 4_000

    def test_cost_per_pair(self):
        assert dataset.cost_per_pair(38_000, 14_000) == pytest.approx(2.714, abs=1e-3)
        assert np.isnan(dataset.cost_per_pair(38_000, 0))

    def test_judged_eval_run(self):
        run = evaluation.judged_run_cost(1_000, 2, 0.25)
        assert run == 500 and evaluation.programme_eval_runs_cost(4, run) == 2_000

    def test_engineering_is_weeks_hours_rate(self):
        assert engineering.engineering_cost(6, 40, 180) == 43_200


class TestMaintenance:
    def test_retrain_is_a_fraction_of_the_first_compute_bill(self):
        assert maintenance.retrain_cost_per_quarter(1, 0.5, 13_500) == 6_750

    def test_migrations_spread_over_quarters(self):
        assert maintenance.migration_cost_per_quarter(2, 20_000) == 10_000

    def test_monthly_from_quarterly(self):
        assert maintenance.monthly_from_quarterly(9_000) == 3_000

    def test_quality_lost_grows_each_quarter(self):
        lost = maintenance.quality_lost_unmaintained(np.array([4.0, 9.0]), np.arange(1, 5))
        np.testing.assert_allclose(lost, [[4, 8, 12, 16], [9, 18, 27, 36]])


class TestRoi:
    def test_serving_cost_per_1m_tokens(self):
        # 2 GPUs at USD 2.00 serving 1,000 tokens/s: USD 4 per 3.6M tokens.
        assert roi.serving_cost_per_1m_tokens(2, 2.0, 1_000) == pytest.approx(4 / 3.6)

    def test_per_1k_prices_convert_to_per_1m(self):
        assert roi.per_1m_from_per_1k(0.01) == pytest.approx(10)

    def test_api_cost_per_month(self):
        assert roi.api_cost_per_month(100, 20, 2.5, 10) == 450

    def test_labour_saved(self):
        assert roi.labour_saved_per_month(35, 160, 0.31, 20) == pytest.approx(34_720)

    def test_break_even_is_the_first_month_at_or_above_zero(self):
        cash = roi.cumulative_cash_flow(np.r_[100.0, np.zeros(12)], roi.monthly_net_saving(30.0, np.full(12, 5.0)))
        assert cash[0] == -100 and roi.break_even_month(cash) == 4  # 25 a month

    def test_never_breaking_even_is_nan(self):
        cash = roi.cumulative_cash_flow(np.r_[100.0, np.zeros(12)], roi.monthly_net_saving(1.0, np.full(12, 5.0)))
        assert np.isnan(roi.break_even_month(cash))

    def test_break_even_per_draw(self):
        spend = np.zeros((2, 13))
        spend[:, 0] = [100.0, 200.0]  # each draw's programme, all in month 0
        cash = roi.cumulative_cash_flow(spend, roi.monthly_net_saving(np.array([30.0, 30.0]), np.zeros((2, 12))))
        np.testing.assert_array_equal(roi.break_even_month(cash), [4, 7])

    @pytest.mark.parametrize(
        ("spend", "verdict"), [(4_000, "do not fine-tune"), (10_000, "only if"), (30_000, "almost always")]
    )
    def test_decision_rule(self, spend, verdict):
        assert verdict in roi.decision_rule(spend, 5_000, 25_000)
