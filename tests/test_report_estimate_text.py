"""``estimate`` in a terminal: at ``COLUMNS=80`` (and at the narrowest, 60) no line is longer
than the terminal, and the figures a reader looks for are whole, never split across lines."""

from __future__ import annotations

import pytest

from ftcost_helpers.cli import main


@pytest.mark.parametrize("columns", [80, 60])
@pytest.mark.parametrize(
    ("name", "figures"),
    [
        # The source's worked examples: A USD 88,550 against a USD 22,000/month API bill,
        # B USD 94,800, C USD 304,500 with no alternative (line items, base case; the
        # headline above them is on the P50 basis).
        ("a", ["88,550", "USD 22,000/month", "Break-even: month", "Headline, on the P50"]),
        ("b", ["94,800", "Break-even: month"]),
        ("c", ["304,500", "Break-even: none"]),
    ],
)
def test_estimate_fits_the_terminal(example_files, capsys, monkeypatch, columns, name, figures) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    assert main(["estimate", str(example_files[name])]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(map(len, lines)) <= columns, max(lines, key=len)
    for figure in figures:
        assert any(figure in line for line in lines), figure
    assert any(line.startswith("Monte Carlo (10,000 draws") for line in lines)


@pytest.mark.parametrize(("name", "month", "ends"), [("a", 5, "October 2026"), ("b", 4, "September 2026")])
def test_estimate_on_the_base_case_gives_the_sources_break_even(tmp_path, example_files, capsys, name, month, ends):
    # 001_…: A pays back in month 5, B in month 4; both start on 1 June 2026, so month 5 ends
    # on 31 October 2026 and month 4 on 30 September 2026.
    import yaml

    data = yaml.safe_load(example_files[name].read_text(encoding="utf-8"))
    data["report"] = {"basis": "base_case"}
    client = tmp_path / f"{name}.yaml"
    client.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["estimate", str(client)]) == 0
    out = capsys.readouterr().out
    assert "Headline, on the base case" in out
    assert f"Break-even: month {month}, end of {ends}" in out
