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
        flops = compute.training_flops(1e9, 1e6, 6, True, 0.0, checkpointing=False, algorithm_multiplier=1)
        assert flops == pytest.approx(6e15)

    def test_checkpointing_adds_a_forward_pass(self):
        flops = compute.training_flops(1e9, 1e6, 6, True, 0.0, checkpointing=True, algorithm_multiplier=1)
        assert flops == pytest.approx(8e15)

    def test_frozen_base_costs_four_plus_the_adapter_gradients(self):
        flops = compute.training_flops(1e9, 1e6, 4, False, 0.01, checkpointing=False, algorithm_multiplier=1)
        assert flops == pytest.approx(4e15 + 2 * 0.01 * 1e15)

    def test_full_training_state_is_sixteen_bytes_per_parameter(self):
        assert compute.model_state_gb(7e9, True, 1.0, 0, 16) == pytest.approx(112)

    def test_qlora_base_is_about_half_a_byte_per_parameter(self):
        state = compute.model_state_gb(70e9, False, 0.0, 0.516, 16)
        assert state == pytest.approx(36.12)

    def test_checkpointed_activations_are_far_smaller(self):
        kept = compute.activation_gb(32, 4096, 32000, 4096, 1, checkpointing=False)
        recomputed = compute.activation_gb(32, 4096, 32000, 4096, 1, checkpointing=True)
        assert recomputed < kept / 5

    def test_attention_scores_follow_korthikanti_without_memory_efficient_attention(self):
        # s·b·h·(34 + 5·a·s/h) bytes per layer: with a = 32, s = 4096, h = 4096 that is 34 + 160.
        assert compute.activation_bytes_per_token_hidden(False, False, 32, 4096, 4096) == pytest.approx(194)
        assert compute.activation_bytes_per_token_hidden(False, True, 32, 4096, 4096) == 34
        assert compute.activation_bytes_per_token_hidden(True, False, 32, 4096, 4096) == 2
        flash = compute.activation_gb(32, 4096, 32000, 4096, 1, False, 32, memory_efficient_attention=True)
        eager = compute.activation_gb(32, 4096, 32000, 4096, 1, False, 32, memory_efficient_attention=False)
        assert eager - flash == pytest.approx(32 * 4096 * 4096 * 160 / 1e9)

    def test_sharded_states_split_across_gpus(self):
        assert compute.memory_per_gpu_gb(320, 10, 32, sharded=True) == pytest.approx(20)
        assert compute.memory_per_gpu_gb(320, 10, 32, sharded=False) == pytest.approx(330)

    def test_fewest_gpus_rounds_up_and_says_when_nothing_fits(self):
        assert compute.fewest_gpus(355, 3, 72, sharded=True) == 6
        assert compute.fewest_gpus(355, 3, 72, sharded=False) == np.inf
        assert compute.fewest_gpus(10, 3, 72, sharded=False) == 1

    def test_functions_take_arrays(self):
        hours = compute.booked_gpu_hours(8, np.array([5.0, 6.0]), np.array([10.0, 14.0]))
        np.testing.assert_allclose(hours, [400, 672])


class TestPhysicsAgainstPublishedRuns:
    """The estimator against real runs (facts from the papers named)."""

    def test_llama3_405b_training_flops(self):
        # Llama 3 paper (Dubey et al. 2024): 405B parameters, 15.6T tokens, 3.8e25 FLOPs.
        flops = compute.training_flops(405e9, 15.6e12, 6, True, 0.0, checkpointing=False, algorithm_multiplier=1)
        assert flops == pytest.approx(3.8e25, rel=0.01)

    @pytest.mark.parametrize(
        ("parameters", "gpu_hours"),
        [(6.74e9, 184_320), (69e9, 1_720_320)],  # Llama 2 paper, Table 2: A100-80GB hours, 2.0T tokens
        ids=["llama2-7b", "llama2-70b"],
    )
    def test_llama2_runs_imply_the_published_pretraining_utilisation(self, parameters, gpu_hours):
        flops = compute.training_flops(parameters, 2.0e12, 6, True, 0.0, checkpointing=False, algorithm_multiplier=1)
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
