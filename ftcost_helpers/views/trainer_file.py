"""The text of ``ftcost export``: the trainer's configuration (YAML, or JSON for DeepSpeed)
under a header that says what it is for, how to run it, and what it leaves to the team."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from ftcost_helpers.engine.pricebook import PriceBook
from ftcost_helpers.engine.schema import Params
from ftcost_helpers.engine.trainer_config import Format, trainer_config, trl_command, unsaid

RUN_LINES: dict[str, str] = {
    "trl": "trl {command} --config {file} --dataset_name YOUR_DATA",
    "axolotl": "axolotl train {file}   (add your datasets: first)",
    "accelerate": "accelerate launch --config_file {file} YOUR_TRAINING_SCRIPT.py",
    "deepspeed": "name {file} in the trainer's deepspeed key (TrainingArguments, axolotl) "
    "or in accelerate's deepspeed_config_file",
}


def export_text(params: Params, book: PriceBook, fmt: Format, plan_file: Path, pilot_steps: int | None = None) -> str:
    """The exported file's whole text. DeepSpeed's JSON has no comments: its header lines are
    :func:`export_notes`, which the command prints on stderr."""
    config = trainer_config(params, book, fmt, pilot_steps)
    if fmt == "deepspeed":
        return json.dumps(config, indent=2) + "\n"
    header = [f"# {line}" for line in export_notes(params, fmt, plan_file, pilot_steps)]
    return "\n".join(header) + "\n" + yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


def export_notes(params: Params, fmt: Format, plan_file: Path, pilot_steps: int | None = None) -> list[str]:
    """What the file is, how to run it, and what it leaves to the team (one sentence each)."""
    name = f"{'pilot' if pilot_steps else 'run'}.{'json' if fmt == 'deepspeed' else 'yaml'}"
    lines = [
        f"The {fmt} configuration the costed plan {plan_file.name} assumes (written by ftcost export).",
        "Run: " + RUN_LINES[fmt].format(command=trl_command(params), file=name),
    ]
    if pilot_steps:
        lines.append(
            f"Pilot: {pilot_steps} optimizer steps, a log line each; then "
            f"python -m ftcost_helpers calibrate {plan_file} --log out/checkpoint-{pilot_steps}/trainer_state.json"
        )
    return lines + unsaid(params, fmt)
