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
        # B USD 94,800, C USD 304,500 with no alternative.
        ("a", ["88,550", "USD 22,000/month", "Break-even month: 5"]),
        ("b", ["94,800", "Break-even month: 4"]),
        ("c", ["304,500", "Break-even month: none"]),
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
