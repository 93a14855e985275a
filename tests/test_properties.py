"""Rules that hold for every input (hypothesis)."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.evaluate import evaluate
from ftcost_helpers.engine.loading import deep_merge, params_from_mapping
from ftcost_helpers.engine.quantities import MIN_AMOUNT
from ftcost_helpers.engine.schema import Params

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def amounts(high: float) -> st.SearchStrategy[float]:
    """Values a client file may give up to ``high``: 0, or from the schema's floor
    (:data:`~ftcost_helpers.engine.quantities.MIN_AMOUNT`, 1e-6); ``st.floats(0, high)`` also
    draws subnormals such as 5e-324, which the schema refuses (hours a run that small imply an
    infinite utilisation, and the model refuses the plan)."""
    return st.one_of(st.just(0.0), st.floats(MIN_AMOUNT, high))


# (section, key, strategy of values) for the drivers whose rise must never lower the cost.
DRIVERS = [
    ("training", "runs", amounts(200)),
    ("training", "gpus_per_run", st.integers(1, 512)),
    ("training", "hours_per_run", amounts(500)),
    ("training", "rate_usd_per_gpu_hour", amounts(20)),
    ("training", "failed_runs", amounts(20)),
    ("training", "sweep_trials", amounts(50)),
    ("dataset", "pairs", amounts(1e6)),
    ("dataset", "annotation_hours", amounts(1e5)),
    ("dataset", "annotation_rate_usd_per_hour", amounts(300)),
    ("engineering", "engineer_weeks", amounts(200)),
    ("engineering", "rate_usd_per_hour", amounts(400)),
]


def with_value(params: Params, section: str, key: str, value: Any) -> Params:
    block = getattr(params, section).model_copy(update={key: value})
    return params.model_copy(update={section: block})


@st.composite
def driver_and_two_values(draw):
    section, key, values = draw(st.sampled_from(DRIVERS))
    first, second = sorted((draw(values), draw(values)))
    return section, key, first, second


def with_pairs_driven_labelling(params: Params) -> Params:
    """A plan whose labelling scales with pairs (3 minutes each)."""
    return with_value(params, "dataset", "annotation_minutes_per_pair", 3.0)


@SETTINGS
@given(change=driver_and_two_values(), name=st.sampled_from("abc"))
def test_more_of_a_driver_never_costs_less(examples, book, change, name):
    section, key, smaller, larger = change
    plan = with_pairs_driven_labelling(examples[name])
    cheaper = evaluate(with_value(plan, section, key, smaller), book)
    dearer = evaluate(with_value(plan, section, key, larger), book)
    assert float(dearer.programme_total) >= float(cheaper.programme_total) - 1e-6
    assert float(dearer.tco) >= float(cheaper.tco) - 1e-6


@SETTINGS
@given(pairs=st.tuples(st.floats(1, 1e6), st.floats(1, 1e6)).map(sorted), name=st.sampled_from("abc"))
def test_more_pairs_never_need_fewer_gpu_hours(examples, book, pairs, name):
    fewer, more = (evaluate(with_value(examples[name], "dataset", "pairs", n), book).compute for n in pairs)
    assert float(more.physics_gpu_hours_per_run) >= float(fewer.physics_gpu_hours_per_run)


@SETTINGS
@given(name=st.sampled_from("abc"))
def test_zero_drivers_give_zero_cost(examples, book, name):
    plan = examples[name]
    for section, key, _ in DRIVERS:
        if key not in {"gpus_per_run", "pairs"}:
            plan = with_value(plan, section, key, 0.0)
    run = evaluate(plan, book)
    lines = {line.item: float(line.value) for line in run.lines}
    assert float(run.area_total("compute")) == 0
    assert lines["Expert annotation (hours × rate)"] == 0
    assert lines["MLOps and engineering (weeks × hours × rate)"] == 0


range_values = (
    st.lists(st.one_of(st.just(0.0), st.floats(1e-3, 1e5)), min_size=3, max_size=3)
    .map(sorted)
    .map(lambda t: {"low": t[0], "mode": t[1], "high": t[2]})
)
"""A range {low ≤ mode ≤ high}; dividing each end by a positive constant keeps the order. Each
end is 0 or at least 1e-3, so that divided by 1,000 it is still a value a client file may give
(0 or at least the schema's 1e-6, :data:`~ftcost_helpers.engine.quantities.MIN_AMOUNT`)."""


@SETTINGS
@given(
    annotation=range_values,
    weeks=range_values.map(lambda r: {k: v / 1000 for k, v in r.items()}),
    curation=range_values,
    runs=range_values.map(lambda r: {k: v / 1000 for k, v in r.items()}),
    name=st.sampled_from("abc"),
)
def test_every_line_lies_between_its_low_and_high(example_files, book, annotation, weeks, curation, runs, name):
    from ftcost_helpers.engine.loading import read_yaml

    data = deep_merge(
        read_yaml(example_files[name]),
        {
            "dataset": {"annotation_hours": annotation, "curation_usd": curation},
            "engineering": {"engineer_weeks": weeks},
            "training": {"runs": runs},
        },
    )
    breakdown = estimate(params_from_mapping(data, "generated", book), book)
    for item in breakdown.line_items:
        assert item.low <= item.base <= item.high, item
    low, high = breakdown.programme_range
    assert low <= breakdown.programme_total <= high


@SETTINGS
@given(draws=st.lists(st.floats(0, 50), min_size=2, max_size=20), name=st.sampled_from("abc"))
def test_arrays_give_the_same_figures_as_floats(examples, book, draws, name):
    """One formula serves point estimates and draws: element i of an array run equals
    the float run with that input."""
    plan = examples[name]
    vector = evaluate(with_value(plan, "training", "runs", np.array(draws)), book)
    for i, runs in enumerate(draws):
        scalar = evaluate(with_value(plan, "training", "runs", runs), book)
        assert np.isclose(vector.programme_total[i], scalar.programme_total)
        assert np.isclose(vector.tco[i], scalar.tco)
