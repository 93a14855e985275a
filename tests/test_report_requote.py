"""``report --previous``: the "Since the last quote" section of the client document and the
sheet of the workbook (issue 23 item 2). Expected figures derived by hand from example B's
own inputs; bad input is one line and no report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
import yaml
from follow_up_helpers import refused, section_text

from ftcost_helpers.cli import main
from ftcost_helpers.engine.loading import ParamsError, load_price_book, project_root, read_yaml
from ftcost_helpers.engine.requote import CAUSES
from ftcost_helpers.report.document import client_document
from ftcost_helpers.report.document_requote import axis_range, shown_parts, value_words, waterfall_steps
from ftcost_helpers.report.excel import write_workbook
from ftcost_helpers.report.excel_follow_up import SHEET_SINCE
from ftcost_helpers.report.figures import client_figures, with_follow_up
from ftcost_helpers.report.follow_up import PLAN_COPY, RATES_COPY, FollowUp, keep_inputs, previous_files

EXAMPLE_B = project_root() / "params" / "clients" / "example_b.yaml"
TODAY = dt.date(2026, 12, 7)

# Example B (params/clients/example_b.yaml) books 4 GPUs × 9 hours a run at its own rate,
# USD 4.86111 a GPU-hour, runs {low 6, mode 8, high 12}; on the base case (the mode) 8 runs.
# The earlier quote had 5 runs: the training line is 3 more runs × 4 × 9 × 4.86111
# = 108 × 4.86111 = USD 525.00 higher now (B has no failed runs or sweep to move with it).
RUNS_CHANGE_USD = 3 * 4 * 9 * 4.86111

# The rates overlay of tests/test_requote.py: B serves on 4 × H100 SXM neocloud on-demand, 730
# hours a month for 24 months; the price book's range 1.80–2.60 (base case the midpoint 2.20)
# becomes 1.80–2.20 (base 2.00): 0.20 × 4 × 730 × 24 = USD 14,016 less serving. An earlier
# quote priced with that overlay and this one without: the cost of ownership is 14,016 higher.
OVERLAY = {
    "as_of": "2026-11-01",
    "source": "negotiated contract (test)",
    "gpu_rates_usd_per_gpu_hour": {"h100_sxm": {"neocloud_on_demand": {"low": 1.80, "high": 2.20}}},
}
OVERLAY_CHANGE_USD = 0.20 * 4 * 730 * 24


def client_file(folder: Path, name: str, **training: object) -> Path:
    """Example B on the base case (so the figures are the line items as written)."""
    data = read_yaml(EXAMPLE_B)
    data["training"].update(training)
    data.setdefault("report", {})["basis"] = "base_case"
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("requote")
    rates = folder / "rates.yaml"
    rates.write_text(yaml.safe_dump(OVERLAY), encoding="utf-8")
    return {
        "old": client_file(folder, "old.yaml", runs=5),
        "new": client_file(folder, "new.yaml"),
        "rates": rates,
        "folder": folder,
    }


def figures_for(new: Path, follow: FollowUp):
    book = load_price_book()
    figures = client_figures(new, book, TODAY, "2026-12-07T00:00:00+00:00")
    return with_follow_up(figures, follow, None, None, TODAY)


@pytest.fixture(scope="module")
def runs_changed(files):
    return figures_for(files["new"], FollowUp(previous=files["old"]))


def test_a_changed_runs_is_attributed_to_the_plan(runs_changed) -> None:
    result = runs_changed.requote
    assert result.change["programme"] == pytest.approx(RUNS_CHANGE_USD, abs=0.01)
    assert result.attribution["plan"]["programme"] == pytest.approx(RUNS_CHANGE_USD, abs=0.01)
    for cause in ("prices", "calibration", "model", "interaction"):
        assert result.attribution[cause]["programme"] == pytest.approx(0.0, abs=0.01)
    # the new quote is the report's own headline
    assert result.new.figures()["programme"] == pytest.approx(runs_changed.headline.programme_usd, abs=0.01)


def test_the_section_shows_the_attribution_and_the_keys_changed(runs_changed) -> None:
    text = section_text(client_document(runs_changed, today=TODAY), "since")
    assert "Since the last quote" in text
    assert "Plan the keys of the plan that changed (listed below) +USD 525" in text
    assert "Prices the price book and its rates overlay USD 0" in text
    assert "Change +USD 525" in text
    assert "training.runs 5 6–12 (mode 8)" in text
    assert 'alt="Waterfall charts of the change since the earlier quote' in client_document(runs_changed, today=TODAY)


def test_no_section_without_previous(files) -> None:
    page = client_document(figures_for(files["new"], FollowUp()), today=TODAY)
    assert 'id="since"' not in page and 'id="spend"' not in page


def test_an_earlier_rates_overlay_is_attributed_to_prices(files) -> None:
    figures = figures_for(files["new"], FollowUp(previous=files["new"], previous_rates=files["rates"]))
    result = figures.requote
    assert result.attribution["prices"]["tco"] == pytest.approx(OVERLAY_CHANGE_USD, abs=0.01)
    assert result.change["tco"] == pytest.approx(OVERLAY_CHANGE_USD, abs=0.01)
    assert result.attribution["prices"]["programme"] == pytest.approx(0.0, abs=0.01)  # serving is not programme
    assert result.changed == []
    text = section_text(client_document(figures, today=TODAY), "since")
    assert "Prices the price book and its rates overlay USD 0 +USD 14,016" in text
    assert "No key of the plan changed" in text


def test_shown_parts_add_up_to_the_change_in_whole_dollars(runs_changed) -> None:
    for figure in ("programme", "tco"):
        parts = shown_parts(runs_changed.requote, figure)
        assert parts["old"] + sum(parts[cause] for cause in CAUSES) == parts["new"]
        assert parts["change"] == parts["new"] - parts["old"]
        steps = waterfall_steps(runs_changed.requote, figure)
        # the last cause's bar ends where the new quote's bar does
        assert steps[-2][1] + steps[-2][2] == steps[-1][2]


def test_waterfall_axis_starts_at_zero_unless_the_steps_would_vanish() -> None:
    # levels 100 → 140: a span of 40 ≥ 140 / 5 = 28, so the axis starts at 0 (top 140 × 1.3 = 182)
    assert axis_range([("a", 0, 100), ("b", 100, 40), ("c", 0, 140)]) == (0.0, pytest.approx(182.0))
    # levels 100,000 → 100,500: span 500 < 20,100; a step of 100; 100,000 − 2 × 500 = 99,000
    bottom, top = axis_range([("a", 0, 100_000), ("b", 100_000, 500), ("c", 0, 100_500)])
    assert bottom == 99_000
    assert top == pytest.approx(100_500 + 1_500 * 0.3)
    assert axis_range([("a", 0, 0), ("b", 0, 0), ("c", 0, 0)]) == (0.0, 1.0)  # nothing at all
    # no change at all: from 0 (an axis from the one level would have no height)
    assert axis_range([("a", 0, 500), ("b", 500, 0), ("c", 0, 500)]) == (0.0, pytest.approx(650.0))


def test_value_words() -> None:
    assert value_words(None) == "(not set)"
    assert value_words({"low": 6, "mode": 8, "high": 12}) == "6–12 (mode 8)"
    assert value_words({"low": 1.5, "high": 2}) == "1.5–2"
    assert value_words(True) == "yes"
    assert value_words(5) == "5"
    assert value_words("h200") == "h200"


def test_the_workbook_sheet_sums_to_the_change(runs_changed, tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    write_workbook(path, runs_changed)
    sheet = openpyxl.load_workbook(path, data_only=True)[SHEET_SINCE]
    rows = {row[0]: row for row in sheet.iter_rows(values_only=True) if row[0]}
    assert rows["Plan"][2] == pytest.approx(RUNS_CHANGE_USD, abs=0.01)
    assert rows["Change"][2] == pytest.approx(RUNS_CHANGE_USD, abs=0.01)  # a SUM formula's cached value
    assert rows["This quote"][2] == pytest.approx(runs_changed.headline.programme_usd, abs=0.01)
    assert rows["training.runs"][1:3] == ("5", "6–12 (mode 8)")


def test_a_report_folder_gives_its_kept_client_file_and_overlay(files, tmp_path: Path) -> None:
    folder = tmp_path / "old-report"
    folder.mkdir()
    (folder / ".source").write_text("0" * 64 + "\n", encoding="ascii")  # the runner's mark
    keep_inputs(folder, files["old"], files["rates"])
    assert (folder / PLAN_COPY).read_bytes() == files["old"].read_bytes()
    assert (folder / RATES_COPY).read_bytes() == files["rates"].read_bytes()
    assert previous_files(folder, None) == ((folder / PLAN_COPY).resolve(), (folder / RATES_COPY).resolve())
    # an overlay given on the command line wins over the kept one
    assert previous_files(folder, files["rates"])[1] == files["rates"].resolve()


def test_bad_previous_is_one_line_and_nothing_is_written(files, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    new = files["new"]
    assert "--previous: no such file or folder" in refused(
        capsys, "report", new, "--out", out, "--previous", tmp_path / "no"
    )
    plain = tmp_path / "plain"
    plain.mkdir()
    assert "neither a report folder ftcost wrote" in refused(capsys, "report", new, "--out", out, "--previous", plain)
    marked = tmp_path / "marked"
    marked.mkdir()
    (marked / ".source").write_text("0" * 64 + "\n", encoding="ascii")
    assert f"keeps no {PLAN_COPY}" in refused(capsys, "report", new, "--out", out, "--previous", marked)
    broken = tmp_path / "broken.yaml"
    broken.write_text(files["old"].read_text(encoding="utf-8") + "no_such_key: 1\n", encoding="utf-8")
    line = refused(capsys, "report", new, "--out", out, "--previous", broken)
    assert "broken.yaml" in line and "no_such_key" in line
    two = refused(capsys, "report", new, files["old"], "--out", out, "--previous", files["old"])
    assert "exactly one FILE" in two
    assert "only with --previous" in refused(capsys, "report", new, "--out", out, "--previous-rates", files["rates"])
    assert not out.exists()


def test_the_options_reach_the_batch(files, tmp_path: Path, monkeypatch, capsys) -> None:
    """``report FILE --previous FOLDER --actuals CSV --gpu-hours N`` hands the batch the kept
    client file and overlay, the export and the options (the batch itself is stubbed here)."""
    from ftcost_helpers.report import runner

    folder = tmp_path / "old-report"
    folder.mkdir()
    (folder / ".source").write_text("f" * 64 + "\n", encoding="ascii")
    keep_inputs(folder, files["old"], files["rates"])
    spend = tmp_path / "spend.csv"
    spend.write_text("month,area,line,amount\n2026-06,dataset,Labels,100\n", encoding="utf-8")
    seen = {}

    def batch(files_given, out_dir, jobs, **options):
        seen.update(options, files=files_given)
        return runner.BatchResult()

    monkeypatch.setattr(runner, "run_reports", batch)
    args = ["report", files["new"], "--out", tmp_path / "out", "--previous", folder, "--actuals", spend]
    assert main([*map(str, args), "--gpu-hours", "12", "--area-tag", "team"]) == 0
    capsys.readouterr()
    follow = seen["follow_up"]
    assert follow.previous == (folder / PLAN_COPY).resolve()
    assert follow.previous_rates == (folder / RATES_COPY).resolve()
    assert follow.actuals == spend.resolve()
    assert (follow.gpu_hours, follow.area_tag) == ("12", "team")
    # without the options: nothing to add
    assert main(["report", str(files["new"]), "--out", str(tmp_path / "out")]) == 0
    assert not seen["follow_up"]


def test_summary_json_carries_the_requote(runs_changed) -> None:
    since = runs_changed.summary["since_last_quote"]
    assert since["attribution_usd"]["plan"]["programme"] == pytest.approx(round(RUNS_CHANGE_USD, 2))
    assert since["change_usd"]["programme"] == pytest.approx(round(RUNS_CHANGE_USD, 2))
    assert since["changed_keys"] == [{"key": "training.runs", "old": 5, "new": {"low": 6, "mode": 8, "high": 12}}]


def test_an_output_folder_gives_this_clients_report(files, tmp_path: Path) -> None:
    """``--previous reports/``: the report folder whose ``.source`` names the client file,
    else the one named after its stem."""
    from ftcost_helpers.report.slug import source_id

    out = tmp_path / "reports"
    mine, other = out / "renamed", out / "other"
    for folder, owner, kept in ((mine, source_id(files["new"]), files["old"]), (other, "0" * 64, files["new"])):
        folder.mkdir(parents=True)
        (folder / ".source").write_text(owner + "\n", encoding="ascii")
        keep_inputs(folder, kept, None)
    assert previous_files(out, None, files["new"]) == ((mine / PLAN_COPY).resolve(), None)
    # an earlier version's folder (no .source) found by the file's stem: new.yaml → new/
    older = tmp_path / "older" / "new"
    older.mkdir(parents=True)
    (older / "summary.json").write_text("{}", encoding="utf-8")
    (older / "report.html").write_text("<!DOCTYPE html>", encoding="utf-8")
    keep_inputs(older, files["old"], None)
    assert previous_files(older.parent, None, files["new"])[0] == (older / PLAN_COPY).resolve()
    # without the client file, an output folder says nothing
    with pytest.raises(ParamsError, match="neither a report folder"):
        previous_files(out, None)
