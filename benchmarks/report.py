"""Writes one benchmark script's section of docs/benchmarks.md, leaving the others as they are."""

from __future__ import annotations

from pathlib import Path



def write_section(path: Path, heading: str, section: str) -> None:
    """Replace the section that starts with the line ``heading`` (up to the next ``## ``), or append it."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == heading), None)
    if start is None:
        path.write_text(text.rstrip("\n") + "\n\n" + section)
        return
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    path.write_text("".join(lines[:start]) + section + ("\n" if end < len(lines) else "") + "".join(lines[end:]))


def write_table_section(path: Path, heading: str, section: str) -> None:
    """Like ``write_section``, for a section that is an introduction and a table: the text the
    docs hold after the table (notes written by hand, dated) is kept below the new table."""
    text = path.read_text() if path.exists() else ""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == heading), None)
    notes = ""
    if start is not None:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        body = lines[start + 1 : end]
        table = next((i for i, line in enumerate(body) if line.startswith("|")), None)
        if table is not None:
            after = next((i for i in range(table, len(body)) if not body[i].startswith("|")), len(body))
            notes = "".join(body[after:]).strip("\n")
    write_section(path, heading, section.rstrip("\n") + "\n" + ("\n" + notes + "\n" if notes else ""))

