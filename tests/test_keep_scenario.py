""" "Keep as scenario" writes into the client file (issue 26, item 3): appended to its
``scenarios`` list, comments and layout kept, numbers without float noise, the whole file
validated first and replaced atomically; a file that would not validate is left untouched."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import ipywidgets as w
import pytest
import yaml

from ftcost_helpers.cli import main
from ftcost_helpers.engine.loading import ParamsError, load_params, project_root
from ftcost_helpers.views import keep, widgets
from ftcost_helpers.views.notebook import DASHBOARD_KERNEL, DASHBOARD_QUERY, WORKSHOP_CLIENTS, kept_in

EXAMPLES = ("example_a", "example_b", "example_c")


def _copy(tmp_path: Path, name: str) -> Path:
    copy = tmp_path / f"{name}.yaml"
    shutil.copy(project_root() / "params" / "clients" / f"{name}.yaml", copy)
    return copy


def _panel(factory, path: Path, book):
    panel = factory(load_params(path, book), book)
    panel.client_file = path
    return panel


@pytest.mark.parametrize("name", EXAMPLES)
def test_kept_twice_into_an_example_then_validate_passes(name: str, tmp_path: Path, book, capsys) -> None:
    path = _copy(tmp_path, name)
    original = path.read_text(encoding="utf-8")
    filed = len(yaml.safe_load(original)["scenarios"])

    compute = _panel(widgets.compute_panel, path, book)
    compute.controls["runs"].value = 16  # the slider hands 16.0 to the schema's float field
    compute.show_scenario()
    first = path.read_text(encoding="utf-8")
    # The examples end with their scenarios: the new one is appended after them, and every
    # byte of the file before (its comments, flow mappings, indentation) is kept.
    assert first.startswith(original)
    added = first[len(original) :]
    assert added == (
        f"  - name: {keep.SCENARIO_NAME}\n"
        "    description: kept from the compute panel\n"
        "    overrides:\n"
        "      training: {runs: 16}\n"
    )
    # The block the panel shows is those very lines: pasted under the file's scenarios: they
    # give the same file.
    assert "      training: {runs: 16}" in compute.scenario_view.value
    assert main(["validate", str(path)]) == 0

    dataset = _panel(widgets.dataset_panel, path, book)
    dataset.controls["curation_usd"].value = 728.9999999999999  # 12 significant digits: 729.000000000 → 729
    dataset.show_scenario()
    second = path.read_text(encoding="utf-8")
    assert second.startswith(first)
    assert second[len(first) :].endswith("      dataset: {curation_usd: 729}\n")
    assert f"name: {keep.SCENARIO_NAME} (2)" in second
    assert "9999" not in second and "16.0" not in second
    assert second.count("\nscenarios:") == 1
    assert len(yaml.safe_load(second)["scenarios"]) == filed + 2
    assert main(["validate", str(path)]) == 0
    assert "ok:" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == [path], "no temporary file left beside it"


def test_a_file_without_scenarios_gets_the_key_once(tmp_path: Path, book) -> None:
    source = (project_root() / "params" / "clients" / "example_a.yaml").read_text(encoding="utf-8")
    cut = source[: source.index("# Alternatives compared")]
    path = tmp_path / "plain.yaml"
    path.write_text(cut, encoding="utf-8")
    kept = keep.keep_scenario(path, {"training.tier": "hyperscaler_on_demand", "training.rate_usd_per_gpu_hour": None})
    text = path.read_text(encoding="utf-8")
    assert text.startswith(cut.rstrip("\n"))
    assert text.count("scenarios:") == 1 and "\nscenarios:\n  - name: " in text
    assert "rate_usd_per_gpu_hour: null" in kept.block
    assert kept.scenarios == 1
    assert main(["validate", str(path)]) == 0


@pytest.mark.parametrize("listed", ["scenarios: []\n", "scenarios:\n"])
def test_an_empty_scenarios_key_is_filled(listed: str, tmp_path: Path, book) -> None:
    source = (project_root() / "params" / "clients" / "example_a.yaml").read_text(encoding="utf-8")
    path = tmp_path / "empty.yaml"
    path.write_text(source[: source.index("# Alternatives compared")] + listed, encoding="utf-8")
    keep.keep_scenario(path, {"training.runs": 20.0}, book)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["scenarios"] == [{"name": keep.SCENARIO_NAME, "overrides": {"training": {"runs": 20}}}]
    assert path.read_text(encoding="utf-8").count("scenarios:") == 1


def test_a_scenario_the_schema_refuses_leaves_the_file_untouched(tmp_path: Path, book) -> None:
    path = _copy(tmp_path, "example_a")
    before = path.read_bytes()
    with pytest.raises(ParamsError) as refused:
        keep.keep_scenario(path, {"training.runs": -3.0}, book)
    assert str(refused.value).startswith(f"{path.name}: scenarios") or "scenarios" in str(refused.value)
    assert ".keep.tmp" not in str(refused.value)
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]
    # Through the button: said on the panel, the file still untouched.
    view = w.HTML()
    stub = SimpleNamespace(
        moved=lambda: {"training.runs": -3.0}, scenario_view=view, title="t", client_file=path, book=book
    )
    assert keep.keep(stub) is None
    assert "Not kept (the file is unchanged)" in view.value and "scenarios" in view.value
    assert path.read_bytes() == before


def test_a_malformed_file_is_refused_by_name(tmp_path: Path, book) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("client: x\n  bad: [\n", encoding="utf-8")
    with pytest.raises(ParamsError) as refused:
        keep.keep_scenario(path, {"training.runs": 2.0}, book)
    assert str(refused.value).startswith("bad.yaml: line")
    assert path.read_text(encoding="utf-8") == "client: x\n  bad: [\n"


def test_nothing_moved_writes_nothing(tmp_path: Path, book) -> None:
    path = _copy(tmp_path, "example_b")
    before = path.read_bytes()
    panel = _panel(widgets.roi_panel, path, book)
    panel.show_scenario()
    assert "Nothing moved yet" in panel.scenario_view.value
    with pytest.raises(ParamsError):
        keep.keep_scenario(path, {}, book)
    assert path.read_bytes() == before


def test_without_a_file_the_block_is_shown_and_parses(examples, book) -> None:
    panel = widgets.maintenance_panel(examples["a"], book)
    panel.controls["start_month"].value = 1
    panel.show_scenario()
    assert "maintenance: {start_month: 1}" in panel.scenario_view.value
    block = yaml.safe_load(panel.scenario_yaml())
    assert block["scenarios"][0]["overrides"] == {"maintenance": {"start_month": 1}}


def test_tidy_removes_float_noise_only() -> None:
    assert keep.tidy(728.9999999999999) == 729 and isinstance(keep.tidy(728.9999999999999), int)
    assert keep.tidy(16.0) == 16 and isinstance(keep.tidy(16.0), int)
    assert keep.tidy(0.1 + 0.2) == 0.3  # 0.30000000000000004 to 12 digits
    assert keep.tidy(0.05 * 3) == 0.15  # 0.15000000000000002
    assert keep.tidy(999_999_999.99) == 999_999_999.99  # the largest a money field takes, to the cent
    assert keep.tidy(0.000123) == 0.000123
    assert keep.tidy(True) is True and keep.tidy(None) is None and keep.tidy("h100_sxm") == "h100_sxm"
    assert keep.tidy({"a": [2.0, 0.5]}) == {"a": [2, 0.5]}


def test_free_name_counts_up() -> None:
    assert keep.free_name(set()) == keep.SCENARIO_NAME
    assert keep.free_name({keep.SCENARIO_NAME}) == f"{keep.SCENARIO_NAME} (2)"
    assert keep.free_name({keep.SCENARIO_NAME, f"{keep.SCENARIO_NAME} (2)"}) == f"{keep.SCENARIO_NAME} (3)"


def test_the_dashboard_writes_only_participants_files(monkeypatch) -> None:
    example = project_root() / "params" / "clients" / "example_a.yaml"
    own = project_root() / WORKSHOP_CLIENTS / "my_a.yaml"
    monkeypatch.delenv(DASHBOARD_QUERY, raising=False)
    monkeypatch.delenv(DASHBOARD_KERNEL, raising=False)
    assert kept_in(example) == example and kept_in(None) is None
    monkeypatch.setenv(DASHBOARD_QUERY, "client=example_a")
    assert kept_in(example) is None
    assert kept_in(own) == own
    monkeypatch.delenv(DASHBOARD_QUERY)
    monkeypatch.setenv(DASHBOARD_KERNEL, "1")  # a pooled kernel before its page's request
    assert kept_in(example) is None


def test_the_dashboards_kernels_are_marked() -> None:
    from ftcost_helpers.dashboard import voila_environment

    assert voila_environment({})[DASHBOARD_KERNEL] == "1"
