"""The text drawing of a run's DAG."""

from __future__ import annotations

import pytest

from modelplane.cli.dag_text import draw_dag, levels

GRAPHS = {
    "chain": ({"a": [], "b": ["a"], "c": ["b"]}, [["a"], ["b"], ["c"]]),
    "diamond": ({"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]}, [["a"], ["b", "c"], ["d"]]),
    "skip-level": ({"a": [], "b": ["a"], "c": ["a", "b"]}, [["a"], ["b"], ["c"]]),
    "two-roots": ({"x": [], "y": [], "z": ["x", "y"]}, [["x", "y"], ["z"]]),
    "unknown-upstream": ({"a": ["gone"], "b": ["a"]}, [["a"], ["b"]]),
    "empty": ({}, []),
}


@pytest.mark.parametrize(("upstream", "expected"), GRAPHS.values(), ids=GRAPHS.keys())
def test_levels_put_every_step_after_what_it_waited_for(upstream: dict, expected: list) -> None:
    assert levels(upstream) == expected


def test_drawing_of_a_diamond() -> None:
    lines = draw_dag(
        {"load": [], "train": ["load"], "evaluate": ["load"], "promote": ["train", "evaluate"]},
        {"load": "completed", "train": "completed", "evaluate": "cached", "promote": "failed"},
    )
    assert lines == [
        "1  load       completed",
        "   │",
        "2  train      completed   ← load",
        "   evaluate   cached      ← load",
        "   │",
        "3  promote    failed      ← train, evaluate",
    ]


def test_ascii_drawing() -> None:
    assert draw_dag({"a": [], "b": ["a"]}, arrows=False) == ["1  a", "   |", "2  b   <- a"]


def test_a_cycle_in_bad_records_does_not_hang() -> None:
    grouped = levels({"a": ["b"], "b": ["a"]})
    assert sorted(name for group in grouped for name in group) == ["a", "b"]
