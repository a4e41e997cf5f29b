"""Draws a run's step graph as plain text, one line per step, grouped in levels. Pure: no I/O.

A step's level is one more than the deepest step it waited for, so every arrow points to an
earlier level. Works for chains, fan-out/fan-in and diamonds alike::

    1  load_data     completed
       │
    2  train_model   completed   ← load_data
       evaluate      cached      ← load_data
       │
    3  promote       completed   ← train_model, evaluate
"""

from __future__ import annotations

from typing import Mapping, Sequence

__all__ = ["draw_dag", "levels"]


def levels(upstream: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Steps grouped by depth, each group in the given order. Unknown upstream names are ignored."""
    depth: dict[str, int] = {}

    def depth_of(name: str, seen: frozenset[str]) -> int:
        if name in depth:
            return depth[name]
        parents = [p for p in upstream.get(name, ()) if p in upstream and p not in seen]
        depth[name] = 1 + max((depth_of(p, seen | {name}) for p in parents), default=0)
        return depth[name]

    for name in upstream:
        depth_of(name, frozenset())
    grouped: dict[int, list[str]] = {}
    for name in upstream:
        grouped.setdefault(depth[name], []).append(name)
    return [grouped[level] for level in sorted(grouped)]


def draw_dag(
    upstream: Mapping[str, Sequence[str]],
    status: Mapping[str, str] | None = None,
    *,
    arrows: bool = True,
) -> list[str]:
    """Lines of text drawing the graph; ``arrows=False`` uses ASCII only."""
    status = status or {}
    bar, arrow = ("│", "←") if arrows else ("|", "<-")
    grouped = levels(upstream)
    name_width = max((len(name) for name in upstream), default=0)
    status_width = max((len(status.get(name, "")) for name in upstream), default=0)
    number_width = len(str(len(grouped)))
    lines: list[str] = []
    for index, group in enumerate(grouped, start=1):
        if index > 1:
            lines.append(" " * (number_width + 2) + bar)
        for position, name in enumerate(group):
            label = str(index).rjust(number_width) if position == 0 else " " * number_width
            line = f"{label}  {name.ljust(name_width)}"
            if status_width:
                line += f"   {status.get(name, '').ljust(status_width)}"
            parents = [p for p in upstream[name] if p in upstream]
            if parents:
                line += f"   {arrow} {', '.join(parents)}"
            lines.append(line.rstrip())
    return lines
