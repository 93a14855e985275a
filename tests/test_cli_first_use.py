"""An analyst's first ten minutes (issue 15): a client template, every problem of a file at
once, conflicting inputs refused, plain help, --jobs ≥ 1, a log-friendly progress display and
commands that import only what they use."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ftcost_helpers.cli import build_parser, main
from ftcost_helpers.engine.loading import MAX_PROBLEMS_SHOWN, ParamsError, load_params, read_yaml
from ftcost_helpers.report.runner import LineProgress, progress_display

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_A = ROOT / "params" / "clients" / "example_a.yaml"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of params/ under FTCOST_ROOT, so init writes into a temporary clients folder."""
    params = tmp_path / "params"
    shutil.copytree(ROOT / "params", params, ignore=shutil.ignore_patterns("example_b.yaml", "example_c.yaml"))
    monkeypatch.setenv("FTCOST_ROOT", str(tmp_path))
    return params


def test_init_writes_a_commented_file_that_validates(project, capsys):
    assert main(["init", "acme", "--model", "Qwen/Qwen2.5-7B"]) == 0
    path = project / "clients" / "acme.yaml"
    text = path.read_text(encoding="utf-8")
    data = read_yaml(path)
    # Qwen2.5-7B from its config.json and model card (huggingface.co/Qwen/Qwen2.5-7B): 7.61B
    # parameters, 28 layers, 3584 wide, 28 heads, vocabulary 152,064.
    assert data["base_model"] == {
        "name": "Qwen/Qwen2.5-7B",
        "parameters_billion": 7.61,
        "layers": 28,
        "hidden_size": 3584,
        "attention_heads": 28,
        "vocab_size": 152064,
    }
    assert data["client"] == "acme"
    assert load_params(path).serving.peak_to_average == 3
    commented = [line for line in text.splitlines() if ":" in line and not line.lstrip().startswith("#")]
    assert all("#" in line for line in commented if not line.rstrip().endswith(":")), "every key has a comment"


def test_init_takes_a_mixture_of_experts_from_the_catalogue(project):
    assert main(["init", "moe", "--model", "Qwen/Qwen3-30B-A3B"]) == 0
    plan = load_params(project / "clients" / "moe.yaml")
    # Qwen3-30B-A3B's card and config.json: 30.5B total, 3.3B active, 128 experts, 8 per token,
    # 4 key/value heads, head_dim 128 — the last four filled from the catalogue on reading.
    base = plan.base_model
    assert (base.parameters_billion, base.active_parameters_billion) == (30.5, 3.3)
    assert (base.experts, base.experts_per_token, base.kv_heads, base.head_dim) == (128, 8, 4, 128)


def test_init_refuses_to_overwrite(project, capsys):
    assert main(["init", "acme"]) == 0
    before = (project / "clients" / "acme.yaml").read_text(encoding="utf-8")
    assert main(["init", "acme", "--gpu", "a100_80gb"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert (project / "clients" / "acme.yaml").read_text(encoding="utf-8") == before


def test_init_fills_the_gpu_and_a_tier_it_is_offered_on(project):
    assert main(["init", "home", "--gpu", "rtx_4090"]) == 0
    data = read_yaml(project / "clients" / "home.yaml")
    # The price book offers the RTX 4090 only as local_owned.
    assert data["training"]["gpu"] == data["serving"]["gpu"] == "rtx_4090"
    assert data["training"]["tier"] == data["serving"]["tier"] == "local_owned"


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["init", "x", "--model", "acme/unknown-9B"], "'acme/unknown-9B' is not in the model catalogue"),
        (["init", "x", "--gpu", "tpu_v9"], "unknown GPU 'tpu_v9'"),
        (["init", "../escape"], "letters, digits"),
    ],
)
def test_init_refuses_what_it_cannot_fill(project, capsys, args, problem):
    assert main(args) == 1
    assert problem in capsys.readouterr().err
    assert list((project / "clients").glob("*.yaml")) == [project / "clients" / "example_a.yaml"]


def test_an_emptied_template_lists_every_problem_at_once(project, capsys):
    main(["init", "acme"])
    path = project / "clients" / "acme.yaml"
    path.write_text("", encoding="utf-8")
    assert main(["validate", str(path)]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    # Required keys without a default: client, start_date, base_model, training.method, gpu,
    # tier, gpus_per_run, hours_per_run, runs, dataset, serving.gpu, tier, gpus (13: the
    # serving throughput comes from physics when it is not given, issue 24).
    assert len(lines) == 13
    assert all(line.startswith(f"error: {path}: ") and "required key is missing" in line for line in lines)
    assert f"error: {path}: serving.gpus: required key is missing" in lines


def test_every_schema_problem_comes_in_one_run(tmp_path, capsys):
    data = read_yaml(EXAMPLE_A)
    data["training"].update(runs=-1, epochs="three")
    data["dataset"]["pairz"] = 3
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["validate", str(path)]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3, lines
    assert "dataset.pairz: unknown key" in lines[0]  # unknown keys first
    assert any("training.runs: must not be negative" in line for line in lines)
    assert any("training.epochs" in line for line in lines)


def test_every_unknown_name_comes_in_one_run(tmp_path, capsys):
    data = read_yaml(EXAMPLE_A)
    data["training"]["gpu"] = "h1OO_sxm"  # letter O for zero
    data["serving"]["tier"] = "neocloud_spott"
    data["alternative"]["api"] = {"model": "gpt-4oo", "input_tokens_million_per_month": 400}
    data["training"].update(precision="fp32", method="qlora")  # a configuration problem too
    path = tmp_path / "names.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["validate", str(path)]) == 1
    keys = [line.split(": ")[2] for line in capsys.readouterr().err.strip().splitlines()]
    assert keys == ["training.gpu", "serving.tier", "alternative.api.model", "training.precision"]


def test_a_long_list_of_problems_is_capped():
    problems = [(f"key_{i}", "wrong") for i in range(MAX_PROBLEMS_SHOWN + 5)]
    lines = ParamsError.several("f.yaml", problems).lines()
    assert len(lines) == MAX_PROBLEMS_SHOWN + 1
    assert lines[-1] == "f.yaml: ... and 5 more problems"


def test_a_bill_and_token_volumes_are_refused_together(tmp_path, capsys):
    data = read_yaml(EXAMPLE_A)  # usd_per_month: 22000 already
    data["alternative"]["api"]["input_tokens_million_per_month"] = 400
    path = tmp_path / "both.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["estimate", str(path)]) == 1
    err = capsys.readouterr().err
    assert "alternative.api" in err and "not both" in err


@pytest.mark.parametrize("jobs", ["0", "-3", "two"])
def test_jobs_must_be_a_whole_number_of_at_least_one(jobs, capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["report", "--jobs", jobs])
    assert exit_.value.code == 2
    assert "--jobs" in capsys.readouterr().err


def test_help_is_plain_words_for_every_command_and_argument():
    parser = build_parser()
    top = parser.format_help()
    assert "``" not in top
    for command in ("init", "validate", "estimate", "report"):
        assert command in top
    subparsers = next(a for a in parser._actions if a.dest == "command")
    for name, sub in subparsers.choices.items():
        for action in sub._actions:
            assert action.help, f"{name}: {action.dest} has no help"
        assert "``" not in sub.format_help()


def test_progress_is_one_line_per_client_when_not_a_terminal(capsys):
    progress = progress_display(2, io.StringIO())
    assert isinstance(progress, LineProgress)
    progress.set_postfix_str("a: 01_compute")
    progress.update(1)
    progress.write("ok  A")
    progress.update(1)
    progress.write("FAILED B")
    progress.close()
    assert capsys.readouterr().out == "[1/2] ok  A\n[2/2] FAILED B\n"


def test_validate_and_estimate_import_nothing_heavy():
    # Example C replaces nothing and its scenarios name no API model: genai-prices is not needed.
    example_c = ROOT / "params" / "clients" / "example_c.yaml"
    heavy = ("pandas", "matplotlib", "nbconvert", "papermill", "genai_prices", "nbformat", "tqdm")
    script = (
        "import sys; from ftcost_helpers.cli import main; "
        f"main(['validate', {str(example_c)!r}]); main(['estimate', {str(example_c)!r}]); "
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"
