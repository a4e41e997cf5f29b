"""Tables for people: aligned columns, one line per row, cut with "…" only when they must be."""

from __future__ import annotations

import pytest

from modelplane.cli import output
from modelplane.cli.output import Column

COLUMNS = (Column("NAME", "name"), Column("NOTE", "note", max_width=12), Column("N", "n"))
ROWS = [
    {"name": "iris", "note": "short", "n": 1},
    {"name": "a-much-longer-model-name", "note": "a note that runs on and on", "n": 22},
    {"name": "[bold]x[/bold]", "note": "two\nlines\tand a tab", "n": None},
    {"name": "模型", "note": "wide", "n": 3},
]


def _lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().out.splitlines()


def test_columns_line_up_under_their_headers(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    output.table(ROWS, COLUMNS)
    header, rule, *rows = _lines(capsys)
    assert header.split() == ["NAME", "NOTE", "N"]
    assert set(rule) == {"─"}
    note_at = header.index("NOTE")
    assert [row[note_at:].split("   ")[0].rstrip() for row in rows[:3]] == [
        "short",
        "a note that…",  # max_width 12 for this column
        "two lines a…",
    ]
    assert rows[2].startswith("[bold]x[/bold]")  # user text is shown, never interpreted
    assert len(rows) == 4 and all(line == line.rstrip() for line in rows)
    # the wide characters take two cells each, so the next column still lines up
    assert rows[3].index("wide") == note_at - 2


def test_a_narrow_terminal_cuts_the_widest_column_first(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "30")
    output.table(ROWS, COLUMNS)
    header, rule, *rows = _lines(capsys)
    assert len(rule) <= 30
    assert all(len(line) <= 30 for line in rows)
    assert rows[1].startswith("a-much-lon…")
    assert rows[0].startswith("iris ")


def test_piped_output_is_not_cut_to_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    long_name = "m" * 150
    output.table([{"name": long_name, "note": "", "n": 1}], COLUMNS)
    assert long_name in capsys.readouterr().out
