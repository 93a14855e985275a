"""Everything the schema accepts makes a whole report (issue 13): random valid client files
(seeded hypothesis; two, as each runs the six notebooks) through the whole report path.

Each plan starts from a worked example and draws the values that broke reports on main:
horizons of one or two months, zeros where the model multiplies (pairs, tokens, epochs,
parameters, runs), amounts up to the schema's 1e12, printable names in any script with
Markdown, HTML and LaTeX characters in them.
"""

from __future__ import annotations

import json
import math

import yaml
from drawn_inputs import as_input  # a drawn number as a client file may give it (tests/ is on the path)
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from ftcost_helpers.engine.loading import load_params, project_root, read_yaml
from ftcost_helpers.engine.quantities import MAX_AMOUNT, MAX_NAME, UNPRINTABLE
from ftcost_helpers.report.index import REPORT_HTML, SUMMARY_JSON
from ftcost_helpers.report.runner import default_notebooks, run_reports

CLIENTS = project_root() / "params" / "clients"
EXAMPLES = ("example_a.yaml", "example_b.yaml", "example_c.yaml")

printable = st.characters(exclude_categories=tuple(UNPRINTABLE))
names = st.text(printable | st.sampled_from("<>&$[]()*_`\\#|!~"), min_size=1, max_size=MAX_NAME).filter(str.strip)
amounts = st.one_of(st.just(0.0), st.floats(0, MAX_AMOUNT), st.floats(0, 1e6)).map(as_input)
small = st.one_of(st.just(0.0), st.floats(0, 1e4)).map(as_input)


def _set(data: dict, dotted: str, value: object) -> None:
    *parents, leaf = dotted.split(".")
    for part in parents:
        data = data.setdefault(part, {})
    data[leaf] = value


@st.composite
def client_plans(draw: st.DrawFn, horizons: st.SearchStrategy[int], pairs: st.SearchStrategy[float] = small) -> dict:
    """One valid client file's data."""
    data = read_yaml(CLIENTS / draw(st.sampled_from(EXAMPLES)))
    data["client"] = draw(names)
    data["base_model"]["name"] = draw(names)
    data["horizon_months"] = draw(horizons)
    data["maintenance"]["start_month"] = draw(st.integers(1, 120))
    _set(data, "dataset.pairs", draw(pairs))
    for key in ("training.tokens_per_pair", "training.epochs", "base_model.parameters_billion"):
        _set(data, key, draw(st.one_of(st.just(0.0), small)))
    for key in ("training.runs", "training.failed_runs", "training.sweep_trials"):
        _set(data, key, draw(st.one_of(st.just(0.0), st.floats(0, 20)).map(as_input)))
    low, high = sorted([draw(amounts), draw(amounts)])
    _set(data, "evaluation.setup_usd", {"low": low, "high": high})
    _set(data, "engineering.other_usd", draw(amounts))
    _set(data, "uncertainty", {"draws": draw(st.integers(50, 500)), "seed": draw(st.integers(0, 10**9))})
    return data


def _finite(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


@seed(13)
@settings(max_examples=1, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    short=client_plans(st.just(1), pairs=st.just(0.0)),  # one month, no tokens: both broke reports on main
    other=client_plans(st.one_of(st.just(2), st.integers(3, 120))),
)
def test_random_valid_client_files_make_whole_reports(tmp_path_factory, short: dict, other: dict) -> None:
    plans = [short, other]
    folder = tmp_path_factory.mktemp("random-clients")
    files = []
    for number, data in enumerate(plans):
        path = folder / f"random_{number}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
        load_params(path)  # the schema accepts it (else the strategy is wrong, not the report)
        files.append(path)
    out = tmp_path_factory.mktemp("random-reports")
    result = run_reports(files, out, jobs=2, notebooks=list(default_notebooks()), say=lambda line: None)
    assert result.failures == [], result.failures
    assert len(result.reports) == len(files)
    for report, data in zip(sorted(result.reports.values()), plans, strict=True):
        summary = json.loads((report / SUMMARY_JSON).read_text(encoding="utf-8"))
        assert summary["client"] == data["client"]
        assert _finite(summary)
        html = (report / REPORT_HTML).read_text(encoding="utf-8")
        assert "Content-Security-Policy" in html and "<script" not in html
