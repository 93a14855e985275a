"""What the tests of an engagement under way share (``track``, ``report --previous`` and
``report --actuals``, issue 23): a refused command's one line, a report section's text, and
example A set up for tracking."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ftcost_helpers.cli import main
from ftcost_helpers.engine.loading import project_root

EXAMPLE_A = project_root() / "params" / "clients" / "example_a.yaml"


def refused(capsys, command: str, *args: object) -> str:
    """The one stderr line of a refused ``command`` (exit 1); nothing on stdout, no traceback."""
    assert main([command, *map(str, args)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def section_text(page: str, anchor: str) -> str:
    """The words of the report section ``id=anchor``, its markup and runs of space folded."""
    section = page[page.index(f'id="{anchor}"') :]
    section = section[: section.index("</section>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))


def built_example_a(folder: Path) -> Path:
    """Example A on its base case, with a 3-month build spending evenly (1,000 draws, seed 7),
    written to ``folder/built.yaml``."""
    plan = yaml.safe_load(EXAMPLE_A.read_text(encoding="utf-8"))
    plan.pop("scenarios")
    plan["programme"] = {"build_months": 3, "spend_profile": "even"}
    plan["report"] = {"basis": "base_case"}
    plan["uncertainty"] = {"draws": 1000, "seed": 7}
    path = folder / "built.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    return path
