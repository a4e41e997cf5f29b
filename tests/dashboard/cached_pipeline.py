"""A two-step pipeline with caching on: its second run is all cache hits."""

from __future__ import annotations

from typing import Annotated

from modelplane import pipeline, step


@step
def numbers() -> Annotated[list[int], "dashboard_numbers"]:
    return [1, 2, 3]


@step
def double(values: list[int]) -> Annotated[list[int], "dashboard_doubled"]:
    print("doubling", values)
    return [2 * v for v in values]


@pipeline(enable_cache=True)
def cached_pipeline() -> None:
    double(numbers())
