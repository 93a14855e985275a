"""Every kind of bad input gets one clear line naming file, key and problem, and exit 1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ftcost_helpers.cli import main
from ftcost_helpers.engine.loading import ParamsError, load_params, read_yaml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_A = ROOT / "params" / "clients" / "example_a.yaml"


def client_file(tmp_path: Path, change, name: str = "client.yaml") -> Path:
    """Example A with ``change(data)`` applied, written to a temporary file."""
    data = read_yaml(EXAMPLE_A)
    change(data)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def run_cli(capsys, *args: str) -> tuple[int, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.err


def assert_one_line_error(capsys, path: Path, *expected: str) -> None:
    status, err = run_cli(capsys, "estimate", str(path))
    assert status == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: {path}")
    for fragment in expected:
        assert fragment in lines[0], lines[0]


def test_malformed_yaml_names_the_line(tmp_path, capsys):
    path = tmp_path / "broken.yaml"
    path.write_text("client: x\ntraining:\n  runs: [1, 2\n  gpu: h100_sxm\n", encoding="utf-8")
    assert_one_line_error(capsys, path, "line 4", "malformed YAML")


def test_unknown_key_suggests_the_closest(tmp_path, capsys):
    path = client_file(tmp_path, lambda d: d["training"].update(hours_per_rnu=6))
    assert_one_line_error(capsys, path, "training.hours_per_rnu", "unknown key", "did you mean 'hours_per_run'?")


def test_unknown_top_level_key(tmp_path, capsys):
    path = client_file(tmp_path, lambda d: d.update(horizon_month=12))
    assert_one_line_error(capsys, path, "horizon_month", "did you mean 'horizon_months'?")


def test_wrong_type(tmp_path, capsys):
    path = client_file(tmp_path, lambda d: d["engineering"].update(engineer_weeks="six"))
    assert_one_line_error(capsys, path, "engineering.engineer_weeks", "'six'")


def test_negative_amount(tmp_path, capsys):
    path = client_file(tmp_path, lambda d: d["evaluation"].update(setup_usd=-6200))
    assert_one_line_error(capsys, path, "evaluation.setup_usd", "must not be negative", "-6200")


def test_unknown_gpu(tmp_path, capsys):
    path = client_file(tmp_path, lambda d: d["training"].update(gpu="h100"))
    assert_one_line_error(capsys, path, "training.gpu", "unknown GPU 'h100'", "h100_sxm")


def test_unknown_tier(tmp_path, capsys):
    path = client_file(tmp_path, lambda d: d["serving"].update(tier="spot"))
    assert_one_line_error(capsys, path, "serving.tier", "unknown tier 'spot'", "neocloud_spot")


def test_tier_the_gpu_is_not_offered_on(tmp_path, capsys):
    def change(d):
        d["training"].update(gpu="b200", tier="neocloud_spot")
        d["training"].pop("rate_usd_per_gpu_hour")

    path = client_file(tmp_path, change)
    assert_one_line_error(
        capsys, path, "training.tier", "no 'neocloud_spot' price for b200", "give training.rate_usd_per_gpu_hour"
    )


def test_range_with_low_above_high(tmp_path, capsys):
    path = client_file(tmp_path, lambda d: d["dataset"].update(annotation_hours={"low": 900, "high": 700}))
    assert_one_line_error(capsys, path, "dataset.annotation_hours", "low (900) is greater than high (700)")


def test_fraction_above_one(tmp_path, capsys):
    path = client_file(tmp_path, lambda d: d["training"].update(utilisation=1.5))
    assert_one_line_error(capsys, path, "training.utilisation", "between 0 and 1")


def test_missing_file(tmp_path, capsys):
    assert_one_line_error(capsys, tmp_path / "nope.yaml", "file not found")


def test_missing_required_key(tmp_path, capsys):
    path = client_file(tmp_path, lambda d: d.pop("base_model"))
    assert_one_line_error(capsys, path, "base_model", "required key is missing")


def test_unknown_method(tmp_path, capsys):
    path = client_file(tmp_path, lambda d: d["training"].update(method="lora2"))
    assert_one_line_error(capsys, path, "training.method", "'lora2'")


def test_yaml_that_is_not_a_mapping(tmp_path, capsys):
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    assert_one_line_error(capsys, path, "expected a mapping")


def test_yaml_is_read_safely(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("client: !!python/object/apply:os.system ['echo pwned']\n", encoding="utf-8")
    with pytest.raises(ParamsError, match="malformed YAML"):
        load_params(path)


def test_validate_reports_each_file_and_fails_if_any_is_bad(tmp_path, capsys):
    bad = client_file(tmp_path, lambda d: d["training"].update(runs=-1))
    status = main(["validate", str(EXAMPLE_A), str(bad)])
    out, err = capsys.readouterr()
    assert status == 1
    assert f"ok: {EXAMPLE_A}" in out
    assert "training.runs" in err and "must not be negative" in err


def test_validate_passes_the_examples(capsys):
    files = sorted(str(p) for p in (ROOT / "params" / "clients").glob("*.yaml"))
    assert main(["validate", *files]) == 0


def test_the_command_line_prints_no_traceback(tmp_path):
    path = client_file(tmp_path, lambda d: d["training"].update(gpu="tpu"))
    result = subprocess.run(
        [sys.executable, "-m", "ftcost_helpers", "estimate", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert (
        result.stderr.strip() == f"error: {path}: training.gpu: " + result.stderr.split("training.gpu: ", 1)[1].strip()
    )


def test_misspelt_range_key(tmp_path, capsys):
    path = client_file(tmp_path, lambda d: d["dataset"].update(annotation_hours={"low": 700, "hgh": 900}))
    assert_one_line_error(capsys, path, "dataset.annotation_hours", "did you mean 'high'?")


def test_a_bad_scenario_fails_validation(tmp_path, capsys):
    def bad_scenario(data):
        data["scenarios"] = [{"name": "Cheaper GPU", "overrides": {"training": {"gpu": "h1000"}}}]

    path = client_file(tmp_path, bad_scenario)
    status = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert status == 1
    assert "scenarios.0 (Cheaper GPU): training.gpu" in err and "unknown GPU 'h1000'" in err


def test_duplicate_key_names_the_line(tmp_path, capsys):
    path = tmp_path / "twice.yaml"
    path.write_text(EXAMPLE_A.read_text(encoding="utf-8") + "\nhorizon_months: 12\n", encoding="utf-8")
    assert_one_line_error(capsys, path, "line", "duplicate key 'horizon_months'")


def test_impossible_date(tmp_path, capsys):
    path = tmp_path / "date.yaml"
    path.write_text(EXAMPLE_A.read_text(encoding="utf-8").replace("2026-06-01", "2026-13-01"), encoding="utf-8")
    assert_one_line_error(capsys, path, "start_date (line 6): 2026-13-01 is not a date", "month must be in 1..12")


def test_file_that_is_not_utf8(tmp_path, capsys):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("client: Société Générale\n".encode("latin-1"))
    assert_one_line_error(capsys, path, "not UTF-8 text")


def test_infinite_amount(tmp_path, capsys):
    path = client_file(tmp_path, lambda d: d["training"].update(hours_per_run=float("inf")))
    assert_one_line_error(capsys, path, "training.hours_per_run", "finite")


@pytest.mark.parametrize(
    ("section", "key"), [("serving", "tokens_per_second"), ("training", "utilisation")], ids=["throughput", "mfu"]
)
def test_a_divisor_of_zero(tmp_path, capsys, section, key):
    path = client_file(tmp_path, lambda d: d[section].update({key: 0}))
    assert_one_line_error(capsys, path, f"{section}.{key}", "must be greater than 0")


@pytest.mark.parametrize(
    ("alternative", "expected"),
    [
        ({"kind": "labour"}, "needs the alternative.labour section"),
        ({"kind": "rag"}, "needs the alternative.rag section"),
        ({"kind": "api", "api": {"input_tokens_million_per_month": 50}}, "tokens per month with a model or prices"),
    ],
    ids=["labour", "rag", "api-unpriced"],
)
def test_an_alternative_without_its_figures(tmp_path, capsys, alternative, expected):
    path = client_file(tmp_path, lambda d: d.update(alternative=alternative))
    assert_one_line_error(capsys, path, "alternative", expected)


def test_validate_checks_every_file_even_after_an_unreadable_one(tmp_path, capsys):
    unreadable = tmp_path / "latin1.yaml"
    unreadable.write_bytes("client: Société\n".encode("latin-1"))
    status = main(["validate", str(unreadable), str(EXAMPLE_A)])
    out, err = capsys.readouterr()
    assert status == 1 and "not UTF-8 text" in err and f"ok: {EXAMPLE_A}" in out


@pytest.mark.parametrize("section", ["training", "serving"])
def test_hipaa_restricts_the_tiers(tmp_path, capsys, section):
    example_c = ROOT / "params" / "clients" / "example_c.yaml"

    def to_spot(data):
        data[section]["tier"] = "neocloud_spot"
        data[section].pop("rate_usd_per_gpu_hour", None)

    data = read_yaml(example_c)
    to_spot(data)
    path = tmp_path / "c_spot.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert_one_line_error(capsys, path, f"{section}.tier", "compliance.hipaa is true", "'neocloud_spot' does not")


@pytest.mark.parametrize(
    ("old", "new"), [("sharded", "sharding"), ("gradient_checkpointing", "activation_checkpointing")]
)
def test_an_old_key_beside_its_replacement_is_refused(tmp_path, capsys, old, new):
    """Before, the old key silently won (``sharded: false`` beside ``sharding: full`` meant
    none): which one the author meant cannot be told."""
    path = client_file(tmp_path, lambda d: d["training"].update({old: False, new: "full"}))
    assert_one_line_error(capsys, path, f"training.{old}: given together with training.{new}; keep {new} alone")


def test_an_old_key_alone_still_works(tmp_path):
    """Example A leaves sharding to the defaults (full, ZeRO-3); the old ``sharded: false``
    alone in the file means none."""
    path = client_file(tmp_path, lambda d: d["training"].update(sharded=False))
    assert load_params(path).training.sharding == "none"


def test_a_scenario_with_an_old_key_beside_its_replacement_is_refused(tmp_path, capsys):
    def clashing_scenario(data):
        data["scenarios"] = [
            {"name": "Unsharded", "overrides": {"training": {"sharded": False, "sharding": "optimizer"}}}
        ]

    path = client_file(tmp_path, clashing_scenario)
    status = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert status == 1
    assert "scenarios.0 (Unsharded): training.sharded: given together with training.sharding" in err, err


def test_an_old_key_clash_is_listed_with_the_files_other_problems(tmp_path, capsys):
    def two_problems(data):
        data["training"].update(sharded=True, sharding="none", gpus_per_run=0)

    status, err = run_cli(capsys, "validate", str(client_file(tmp_path, two_problems)))
    assert status == 1
    assert "training.sharded: given together with training.sharding" in err
    assert "training.gpus_per_run: Input should be greater than or equal to 1" in err
