"""Everything the CLI shows: tables for people, JSON for scripts, messages, prompts and errors.

The only CLI module that prints. Tables are drawn with the standard library: a table library costs
more to import and render than a whole light read (``docs/benchmarks.md``). Values arrive as
JSON-ready dicts (records go through ``model_dump(mode="json")``), so a table and ``-o json``
always show the same data.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import unicodedata
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping, Sequence

import click

__all__ = [
    "Column",
    "ask",
    "duration",
    "emit_json",
    "error",
    "fields",
    "listing",
    "message",
    "size",
    "table",
    "tags",
    "text",
    "to_json",
    "when",
]


PIPE_WIDTH = 200


@dataclasses.dataclass(frozen=True)
class Column:
    """One table column: its header, the key it reads (or a function of the row), a formatter.

    Cells never wrap: a table wider than the terminal shortens its widest cells with "…", and
    ``max_width`` caps a column such as a description (``describe`` shows the whole text).
    """

    header: str
    key: str | Callable[[Mapping[str, Any]], Any]
    format: Callable[[Any], str] | None = None
    max_width: int | None = None

    def cell(self, row: Mapping[str, Any]) -> str:
        value = self.key(row) if callable(self.key) else row.get(self.key)
        if self.format is not None:
            return self.format(value)
        return "" if value is None else str(value)


def to_json(value: Any) -> Any:
    """A record (or a list/dict of them) as plain JSON values."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    return value


# -- formatters for table cells ---------------------------------------------------------------


def _moment(value: str | datetime) -> datetime:
    return (
        value
        if isinstance(value, datetime)
        else datetime.fromisoformat(value.replace("Z", "+00:00"))
    )


def when(value: str | datetime | None) -> str:
    """A stored UTC time shown in the local time zone, to the second."""
    if not value:
        return ""
    moment = _moment(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def duration(start: str | datetime | None, end: str | datetime | None) -> str:
    if not start or not end:
        return ""
    seconds = (_moment(end) - _moment(start)).total_seconds()
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {int(seconds % 60)} s"


def size(value: int | None) -> str:
    if value is None:
        return ""
    amount = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if amount < 1024 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return str(value)  # pragma: no cover - the loop always returns


def tags(value: Iterable[str] | None) -> str:
    return ", ".join(value or [])


# -- printing ----------------------------------------------------------------------------------


def _width_available(stream: Any) -> int:
    if _is_terminal(stream):
        return shutil.get_terminal_size().columns
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        # Piped output has no width to fit; shortening cells would only break grep and cut.
        return PIPE_WIDTH


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _cell_len(text: str) -> int:
    """Terminal cells ``text`` takes: wide East Asian characters two, combining marks none."""
    if text.isascii():
        return len(text)
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def _fit(text: str, width: int) -> str:
    """``text`` padded to ``width`` cells, or cut to it with "…"."""
    size = _cell_len(text)
    if size <= width:
        return text + " " * (width - size)
    cut = ""
    for ch in text:
        if _cell_len(cut + ch) > width - 1:
            break
        cut += ch
    return cut + "…" + " " * (width - 1 - _cell_len(cut))


def _one_line(value: str) -> str:
    # A row is one line, whatever a cell holds (user data may carry newlines or tabs).
    return " ".join(value.split()) if any(ch in value for ch in "\n\r\t") else value


def emit_json(value: Any) -> None:
    click.echo(json.dumps(to_json(value), indent=2, ensure_ascii=False, sort_keys=False))


def message(text: str, *, err: bool = False) -> None:
    """A line for people (confirmations, notes); goes to stderr when ``err``."""
    click.echo(text, err=err)


def text(value: str) -> None:
    """Raw text such as logs, written as is."""
    click.echo(value, nl=not value.endswith("\n"))


def table(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], *, title: str | None = None
) -> None:
    """Rows under bold headers and a rule, columns three spaces apart, one line per row. A table
    wider than the terminal shortens its widest cells with "…"; piped output is not shortened
    below ``PIPE_WIDTH`` cells (``COLUMNS`` sets another width)."""
    cells = [[_one_line(column.cell(row)) for column in columns] for row in rows]
    widths = []
    for index, column in enumerate(columns):
        width = max([_cell_len(column.header), *(_cell_len(row[index]) for row in cells)])
        widths.append(min(width, column.max_width) if column.max_width else width)
    gap = "   "
    available = _width_available(sys.stdout)
    while sum(widths) + len(gap) * (len(widths) - 1) > available and max(widths) > 4:
        widths[widths.index(max(widths))] -= 1
    header = gap.join(_fit(column.header, width) for column, width in zip(columns, widths))
    if _is_terminal(sys.stdout) and "NO_COLOR" not in os.environ:
        header = f"\x1b[1m{header.rstrip()}\x1b[0m"
    lines = [header, "─" * (sum(widths) + len(gap) * (len(widths) - 1))]
    lines += [gap.join(_fit(cell, width) for cell, width in zip(row, widths)) for row in cells]
    if title:
        click.echo(title)
    # Trailing blanks only get in the way of copying.
    click.echo("\n".join(line.rstrip() for line in lines))


def listing(
    page: Any,
    columns: Sequence[Column],
    *,
    fmt: str,
    empty: str,
    title: str | None = None,
) -> None:
    """A page: ``{"items", "total", "limit", "offset"}`` as JSON, or a table and a footer."""
    data = to_json(page)
    if fmt == "json":
        emit_json(data)
        return
    items, total = data["items"], data["total"]
    if not items:
        message(empty if total == 0 else f"No items on this page; there are {total} in all.")
        return
    table(items, columns, title=title)
    first = data["offset"] + 1
    last = data["offset"] + len(items)
    if first > 1 or last < total:
        page_number = data["offset"] // max(data["limit"], 1) + 1
        more = f"; next: --page {page_number + 1}" if last < total else ""
        message(f"{first}–{last} of {total}{more}")


def whole_page(items: Sequence[Any]) -> dict[str, Any]:
    """A listing that is not paged (tokens, webhooks) in the shape ``listing`` takes."""
    return {"items": list(items), "total": len(items), "limit": len(items), "offset": 0}


def fields(rows: Sequence[tuple[str, Any]]) -> None:
    """Label/value pairs of one object, for ``describe`` commands; empty values show as ``-``."""
    width = max((len(label) for label, _ in rows), default=0)
    for label, value in rows:
        shown = "-" if value is None or value == "" else str(value)
        indent = "\n" + " " * (width + 2)
        click.echo(f"{label.ljust(width)}  {indent.join(shown.splitlines()) or shown}")


def error(text: str, *, hint: str | None = None, details: str | None = None) -> None:
    """``Error: …`` and the hint on stderr; ``details`` is a traceback shown under --debug."""
    if details:
        click.echo(details.rstrip(), err=True)
    click.echo(f"Error: {text}", err=True)
    if hint:
        click.echo(hint, err=True)


def ask(question: str) -> bool | None:
    """Ask a yes/no question on stderr and read the answer from standard input.

    Returns None when standard input is closed or empty, so callers can refuse safely instead of
    guessing; ``echo y | modelplane …`` answers yes.
    """
    click.echo(f"{question} [y/N]: ", nl=False, err=True)
    try:
        # sys.stdin is None when the process started with file descriptor 0 closed (`<&-`).
        line = sys.stdin.readline() if sys.stdin is not None else ""
    except (OSError, ValueError):  # closed or unreadable standard input
        line = ""
    if not line:
        click.echo("", err=True)
        return None
    return line.strip().lower() in ("y", "yes")
