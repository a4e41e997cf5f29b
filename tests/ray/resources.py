"""Pipelines for the Ray tests: sleeping fan-out, resource reporting, and a step that waits to be killed."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

from modelplane import pipeline, step
from modelplane.config import StepSettings

BRANCHES = 4


def _ray_node() -> str:
    import ray

    return ray.get_runtime_context().get_node_id()


@step(enable_cache=False)
def seed() -> int:
    return 1


@step(enable_cache=False)
def nap(x: int, seconds: float = 1.0) -> Annotated[dict, "nap"]:
    time.sleep(seconds)
    return {"value": x, "pid": os.getpid(), "node": _ray_node()}


@step(enable_cache=False)
def collect(a: dict, b: dict, c: dict, d: dict) -> Annotated[int, "collected"]:
    return sum(item["value"] for item in (a, b, c, d))


@pipeline(enable_cache=False, orchestrator="ray")
def napping_fan_pipeline(seconds: float = 1.0):
    start = seed()
    naps = [nap(start, seconds=seconds, id=f"nap_{i}") for i in range(BRANCHES)]
    collect(*naps)


@step(enable_cache=False, settings=StepSettings(num_cpus=0.5, memory=200 * 1024 * 1024))
def report_resources() -> Annotated[dict, "resources"]:
    import ray

    return dict(ray.get_runtime_context().get_assigned_resources())


@pipeline(enable_cache=False, orchestrator="ray")
def resources_pipeline():
    report_resources()


# -- a worker killed mid-step ------------------------------------------------------------------


@step
def prepare(n: int = 2) -> Annotated[int, "prepared"]:
    return n


@step
def sibling(x: int) -> Annotated[int, "sibling"]:
    return x + 1


@step
def victim(x: int, pid_file: str, release_file: str) -> Annotated[int, "survived"]:
    """Writes its process id and waits to be killed, unless ``release_file`` exists."""
    if not Path(release_file).exists():
        print("victim waiting to be killed", flush=True)
        Path(pid_file).write_text(str(os.getpid()))
        time.sleep(300)
    return x * 10


@pipeline(orchestrator="ray")
def crash_pipeline(pid_file: str, release_file: str):
    x = prepare()
    victim(x, pid_file=pid_file, release_file=release_file)
    sibling(x)


@step(enable_cache=False)
def long_nap(x: int, pid_file: str) -> int:
    Path(pid_file).write_text(str(os.getpid()))
    time.sleep(300)
    return x


@pipeline(enable_cache=False, orchestrator="ray")
def interrupted_pipeline(pid_file: str):
    long_nap(seed(), pid_file=pid_file)
