"""Tiny pipelines with known answers. Each ``*_pipeline`` has an ``expected_*`` oracle computed by hand."""

from __future__ import annotations

from typing import Annotated, Tuple

from modelplane import pipeline, step


@step
def make_number(value: int = 1) -> int:
    return value


@step
def add(a: int, b: int) -> int:
    return a + b


@step
def double(x: int) -> int:
    return 2 * x


@step
def split(x: int) -> Tuple[Annotated[int, "low"], Annotated[int, "high"]]:
    return x - 1, x + 1


@step
def total(values: list) -> int:
    return sum(values)


@step
def gather(a: int, b: int, c: int, d: int) -> Annotated[list, "gathered"]:
    return [a, b, c, d]


@pipeline(enable_cache=False)
def linear_pipeline(start: int = 3):
    x = make_number(value=start)
    y = double(x=x)
    double(x=y)


def expected_linear(start: int = 3) -> dict[str, int]:
    return {"make_number": start, "double": 2 * start, "double_2": 4 * start}


@pipeline(enable_cache=False)
def diamond_pipeline(start: int = 5):
    top = make_number(value=start)
    left = double(x=top)
    right = add(a=top, b=10)
    add(a=left, b=right, id="bottom")


def expected_diamond(start: int = 5) -> dict[str, int]:
    return {"make_number": start, "double": 2 * start, "add": start + 10, "bottom": 3 * start + 10}


@pipeline(enable_cache=False)
def fan_pipeline(start: int = 2):
    seed = make_number(value=start)
    branches = [double(x=seed, id=f"branch_{i}") for i in range(4)]
    gather(*branches)


def expected_fan(start: int = 2) -> dict[str, object]:
    out: dict[str, object] = {"make_number": start}
    out.update({f"branch_{i}": 2 * start for i in range(4)})
    out["gather"] = [2 * start] * 4
    return out


@pipeline(enable_cache=False)
def tuple_pipeline(start: int = 7):
    low, high = split(x=make_number(value=start))
    add(a=low, b=high)


def expected_tuple(start: int = 7) -> dict[str, object]:
    return {"make_number": start, "split": {"low": start - 1, "high": start + 1}, "add": 2 * start}


@step
def explode(x: int) -> int:
    raise RuntimeError(f"boom at {x}")


@pipeline(enable_cache=False)
def failing_pipeline():
    x = make_number(value=1)
    y = explode(x=x)
    double(x=y)


SHAPES = {
    "linear": (linear_pipeline, expected_linear),
    "diamond": (diamond_pipeline, expected_diamond),
    "fan": (fan_pipeline, expected_fan),
    "tuple": (tuple_pipeline, expected_tuple),
}
