"""The price book checks itself, a dated rates overlay merges over it, and its age is actionable."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

from ftcost_helpers import cli
from ftcost_helpers.engine.audit import price_book_stale
from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.loading import ParamsError, load_params, load_price_book, params_dir, read_yaml

EXAMPLE_A = params_dir() / "clients" / "example_a.yaml"
OVERLAY = {
    "as_of": dt.date(2026, 11, 15),
    "source": "negotiated contract, neocloud X",
    "gpu_rates_usd_per_gpu_hour": {"h100_sxm": {"neocloud_on_demand": {"low": 1.55, "high": 1.65}}},
}


def write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def broken_book(tmp_path: Path, change) -> Path:
    data = read_yaml(params_dir() / "pricebook.yaml")
    change(data)
    return write(tmp_path / "pricebook.yaml", data)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# --- the rates overlay ------------------------------------------------------------------


def test_an_overlay_moves_the_serving_cost(tmp_path):
    rates = write(tmp_path / "rates.yaml", OVERLAY)
    book = load_price_book(rates=rates)
    params = load_params(EXAMPLE_A, book)
    # Example A serves on 1 × H100 neocloud on-demand, 730 h a month (defaults.yaml).
    # Price book: 1.80–2.60, midpoint 2.20 → 730 × 2.20 = 1,606; overlay: midpoint 1.60 → 1,168.
    assert estimate(params, book).ongoing_monthly_usd["serving"] == pytest.approx(1168)
    assert estimate(params, load_price_book()).ongoing_monthly_usd["serving"] == pytest.approx(1606)


def test_the_overlay_leaves_the_rest_of_the_book(tmp_path):
    book = load_price_book(rates=write(tmp_path / "rates.yaml", OVERLAY))
    assert (book.gpu_rate("h100_sxm", "neocloud_spot").low, book.gpu_rate("h100_sxm", "neocloud_spot").high) == (
        1.20,
        1.80,
    )
    assert book.rate_origin("h100_sxm", "neocloud_on_demand").as_of == dt.date(2026, 11, 15)
    assert book.rate_origin("h100_sxm", "neocloud_spot").as_of == dt.date(2026, 5, 26)


def test_provenance_names_both_files_and_dates(tmp_path):
    rates = write(tmp_path / "rates.yaml", OVERLAY)
    text = load_price_book(rates=rates).provenance()
    assert "params/pricebook.yaml (as of 2026-05-26" in text
    # An overlay outside the project is named by its file name alone: no local folder in a report.
    assert "; rates.yaml (as of 2026-11-15; negotiated contract, neocloud X)" in text
    assert str(tmp_path) not in text


@pytest.mark.parametrize("where", ["before", "after"])
def test_global_options_go_before_or_after_the_command(tmp_path, capsys, where):
    rates = str(write(tmp_path / "rates.yaml", OVERLAY))
    options = ["--rates", rates, "--price-book", str(params_dir() / "pricebook.yaml")]
    argv = [*options, "estimate", str(EXAMPLE_A), "--json"]
    if where == "after":
        argv = ["estimate", str(EXAMPLE_A), "--json", *options]
    status, out, _ = run(capsys, *argv)
    summary = json.loads(out)
    assert status == 0 and summary["ongoing_monthly_usd"]["serving"] == 1168.0
    assert "negotiated contract, neocloud X" in summary["price_sources"]


def test_the_overlays_rate_is_cited_on_the_line(tmp_path, book):
    rates = write(
        tmp_path / "rates.yaml",
        OVERLAY | {"gpu_rates_usd_per_gpu_hour": {"h100_sxm": {"neocloud_spot": {"low": 1.5, "high": 1.5}}}},
    )
    merged = load_price_book(rates=rates)
    data = read_yaml(EXAMPLE_A)
    data["training"].pop("rate_usd_per_gpu_hour")
    params = load_params(write(tmp_path / "a.yaml", data), merged)
    sources = {item.source for item in estimate(params, merged).line_items if item.area == "compute"}
    cited = "rates 2026-11-15 (negotiated contract, neocloud X): h100_sxm neocloud_spot"
    assert any(source.endswith(cited) for source in sources)


@pytest.mark.parametrize(
    ("overlay", "key", "problem"),
    [
        ({"source": "x", "gpu_rates_usd_per_gpu_hour": {}}, "as_of", "required key is missing"),
        (OVERLAY | {"gpu_rate_usd": {}}, "gpu_rate_usd", "did you mean 'gpu_rates_usd_per_gpu_hour'"),
        (
            OVERLAY | {"gpu_rates_usd_per_gpu_hour": {"h100_sxm": {"neocloud_on_demand": {"low": 0, "high": 0}}}},
            "gpu_rates_usd_per_gpu_hour.h100_sxm.neocloud_on_demand",
            "must be greater than 0, got 0–0",
        ),
        (
            OVERLAY | {"gpu_rates_usd_per_gpu_hour": {"h100_sxm": {"neocloud_on_demand": "cheap"}}},
            "gpu_rates_usd_per_gpu_hour.h100_sxm.neocloud_on_demand",
            "'cheap'",
        ),
        (OVERLAY | {"as_of": dt.date(2099, 1, 1)}, "as_of", "in the future"),
    ],
)
def test_a_bad_overlay_names_the_overlay_file(tmp_path, capsys, overlay, key, problem):
    rates = write(tmp_path / "rates.yaml", overlay)
    status, out, err = run(capsys, "validate", str(EXAMPLE_A), "--rates", str(rates))
    assert status == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"error: {rates}: {key}: ") and problem in err, err


def test_an_overlay_dated_today_is_not_in_the_future(tmp_path):
    # as_of 2026-11-15 checked on 2026-11-15: today is not the future
    rates = write(tmp_path / "rates.yaml", OVERLAY)
    book = load_price_book(rates=rates, today=dt.date(2026, 11, 15))
    assert book.rate_origin("h100_sxm", "neocloud_on_demand").as_of == dt.date(2026, 11, 15)
    with pytest.raises(ParamsError, match="2026-11-15 is in the future"):
        load_price_book(rates=rates, today=dt.date(2026, 11, 14))


def test_a_price_book_dated_today_is_not_in_the_future():
    # params/pricebook.yaml is dated 2026-05-26: checked that day it loads, the day before it does not
    assert load_price_book(today=dt.date(2026, 5, 26)).as_of == dt.date(2026, 5, 26)
    with pytest.raises(ParamsError, match="2026-05-26 is in the future"):
        load_price_book(today=dt.date(2026, 5, 25))


# --- the price book checks itself ---------------------------------------------------------


def _set(path: str, value):
    def change(data):
        *parents, last = path.split(".")
        node = data
        for part in parents:
            node = node[part]
        if value is None:
            del node[last]
        else:
            node[last] = value

    return change


@pytest.mark.parametrize(
    ("change", "key", "problem"),
    [
        (_set("gpus.h100_sxm.bf16_tflops", 0), "gpus.h100_sxm.bf16_tflops", "must be greater than 0, got 0"),
        (_set("gpus.h100_sxm.memory_gb", -80), "gpus.h100_sxm.memory_gb", "must be greater than 0, got -80"),
        (_set("methods.rl", None), "methods.rl", "missing: every training method needs an entry"),
        (
            _set("gpu_rates_usd_per_gpu_hour.tpu_v5e", {"neocloud_on_demand": {"low": 0.8, "high": 1.2}}),
            "gpu_rates_usd_per_gpu_hour.tpu_v5e",
            "no specs for this GPU",
        ),
        (
            _set("gpu_rates_usd_per_gpu_hour.h100_sxm.neocloud_spot", {"low": -1, "high": 2}),
            "gpu_rates_usd_per_gpu_hour.h100_sxm.neocloud_spot.low",
            "must not be negative",
        ),
        (_set("as_of", dt.date(2099, 1, 1)), "as_of", "2099-01-01 is in the future"),
        (
            _set("managed_services.fireworks.endpoint_usd_per_gpu_hour.a100_80gb", 0.0),
            "managed_services.fireworks.endpoint_usd_per_gpu_hour.a100_80gb",
            "must be greater than 0, got 0",
        ),
    ],
)
def test_a_broken_price_book_is_one_line_before_any_client(tmp_path, capsys, change, key, problem):
    path = broken_book(tmp_path, change)
    status, out, err = run(capsys, "--price-book", str(path), "validate", str(EXAMPLE_A))
    assert status == 1 and out == "", out  # no client was validated ("ok: ..." never printed)
    assert err.count("\n") == 1 and err.startswith(f"error: {path}: {key}: ") and problem in err, err


def test_the_stale_warning_says_how_old_and_how_to_update(book, examples):
    # 2026-05-26 → 2027-06-01 is 371 days = 12.2 months of 30.44 days.
    (finding,) = price_book_stale(book, dt.date(2027, 6, 1), examples["a"])
    assert "dated 2026-05-26" in finding.message and "12.2 months" in finding.message
    assert "--rates FILE" in finding.message and "--price-book FILE" in finding.message


def test_fresh_overlay_rates_are_not_stale(tmp_path, examples):
    # Example A books its own training rate; serving reads h100_sxm neocloud_on_demand, which
    # the overlay dates 2026-11-15: 16 days before 2026-12-01, not stale.
    book = load_price_book(rates=write(tmp_path / "rates.yaml", OVERLAY))
    assert price_book_stale(book, dt.date(2026, 12, 1), examples["a"]) == []


def test_pricebook_command_dates_every_rate(tmp_path, capsys):
    rates = write(tmp_path / "rates.yaml", OVERLAY)
    status, out, _ = run(capsys, "pricebook", "--rates", str(rates))
    lines = {line.split()[0] + " " + line.split()[1]: line for line in out.splitlines() if "as of 20" in line[:80]}
    assert status == 0
    assert "as of 2026-11-15" in lines["h100_sxm neocloud_on_demand"]
    assert "negotiated contract" in lines["h100_sxm neocloud_on_demand"]
    assert "as of 2026-05-26" in lines["h100_sxm neocloud_spot"]
    assert "genai-prices" in out


def test_missing_price_book_file_is_one_line(capsys, tmp_path):
    status, _, err = run(capsys, "validate", str(EXAMPLE_A), "--price-book", str(tmp_path / "none.yaml"))
    assert status == 1 and err.strip() == f"error: {tmp_path / 'none.yaml'}: file not found"


def test_load_price_book_reads_the_environment(tmp_path, monkeypatch):
    """How a batch hands the same book to its notebooks' kernels."""
    monkeypatch.setenv("FTCOST_RATES", str(write(tmp_path / "rates.yaml", OVERLAY)))
    assert load_price_book().gpu_rate("h100_sxm", "neocloud_on_demand").high == 1.65


def test_a_book_error_is_a_params_error():
    with pytest.raises(ParamsError):
        load_price_book(params_dir() / "nope.yaml")


# --- one merged book for every part of a batch ------------------------------------------------


def test_a_batch_uses_the_overlay_in_summary_notebook_and_workbook(tmp_path):
    """The USD 3,212-vs-1,606 split must not recur: summary.json, the executed notebook and
    the workbook all show the overlay's serving cost (730 h × USD 1.60 = USD 1,168/month)."""
    import nbformat
    import openpyxl

    from ftcost_helpers.report.index import REPORT_HTML, REPORT_XLSX, SUMMARY_JSON
    from ftcost_helpers.report.runner import default_notebooks, run_reports

    rates = write(tmp_path / "rates.yaml", OVERLAY)
    roi = [nb for nb in default_notebooks() if nb.name.startswith("05_")]
    result = run_reports([EXAMPLE_A], tmp_path / "out", jobs=1, notebooks=roi, say=lambda line: None, rates=rates)
    (folder,) = result.reports.values()
    summary = json.loads((folder / SUMMARY_JSON).read_text(encoding="utf-8"))
    assert summary["ongoing_monthly_usd"]["serving"] == 1168.0
    notebook = nbformat.read(folder / roi[0].name, as_version=4)
    outputs = json.dumps([cell.get("outputs", []) for cell in notebook.cells])
    assert "USD 1,168" in outputs and "USD 1,606" not in outputs
    assert "negotiated contract, neocloud X" in outputs  # the provenance footer names the overlay
    sheet = openpyxl.load_workbook(folder / REPORT_XLSX).worksheets[0]
    cells = [cell.value for row in sheet.iter_rows() for cell in row]
    assert 1168 in cells and any("negotiated contract" in str(value) for value in cells)
    assert "negotiated contract, neocloud X" in (folder / REPORT_HTML).read_text(encoding="utf-8")


def test_a_plan_that_gives_every_rate_is_not_aged_by_the_book(book, examples):
    own = examples["a"].model_copy(
        update={"serving": examples["a"].serving.model_copy(update={"rate_usd_per_gpu_hour": 2.0})}
    )
    assert price_book_stale(book, dt.date(2027, 6, 1), own) == []
