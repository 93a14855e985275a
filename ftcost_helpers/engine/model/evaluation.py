"""Evaluation: harness set-up, LLM-as-judge runs during the programme, continuous eval."""

from __future__ import annotations

from ftcost_helpers.engine.quantities import Number


def judged_run_cost(examples: Number, judges: Number, price_usd_per_call: Number) -> Number:
    """USD of one evaluation run: examples × judges × price per judge call."""
    return examples * judges * price_usd_per_call


def programme_eval_runs_cost(runs: Number, run_usd: Number) -> Number:
    """USD of the evaluation runs made while the programme trains."""
    return runs * run_usd
