"""On Ray, steps with no dependency between them run at the same time, with the resources they ask for."""

from __future__ import annotations

import pytest

from modelplane.client import Client
from modelplane.enums import ExecutionStatus

from .resources import BRANCHES, napping_fan_pipeline, resources_pipeline

pytestmark = pytest.mark.ray


def _most_at_once(intervals: list[tuple[object, object]]) -> int:
    """The largest number of intervals that share one instant."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    best = current = 0
    for _, delta in events:  # an end sorts before a start at the same instant
        current += delta
        best = max(best, current)
    return best


def test_fan_out_branches_overlap_in_time(ray_cluster, client: Client) -> None:
    run = napping_fan_pipeline(seconds=1.5)
    assert run.status is ExecutionStatus.COMPLETED and run.orchestrator == "ray"
    steps = {s.name: s for s in client.list_step_runs(run.id)}
    naps = [steps[f"nap_{i}"] for i in range(BRANCHES)]
    assert _most_at_once([(s.created, s.ended) for s in naps]) >= 2
    # The branches ran in different worker processes, all after the seed and before the collector.
    values = [client.load_artifact(s.outputs["nap"]) for s in naps]
    assert len({v["pid"] for v in values}) >= 2
    assert all(s.created >= steps["seed"].ended for s in naps)
    assert steps["collect"].created >= max(s.ended for s in naps)
    assert client.load_artifact(steps["collect"].outputs["collected"]) == BRANCHES


def test_fan_out_runs_on_the_worker_node_not_the_head(ray_cluster, client: Client) -> None:
    import ray

    run = napping_fan_pipeline(seconds=0.0)
    head = {n["NodeID"] for n in ray.nodes() if n["Alive"] and not n["Resources"].get("CPU")}
    nodes = {client.load_artifact(s.outputs["nap"])["node"] for s in client.list_step_runs(run.id) if "nap" in s.outputs}
    assert nodes and not nodes & head  # the head node has no CPUs, as in production


def test_step_settings_become_task_resources(ray_cluster, client: Client) -> None:
    run = resources_pipeline()
    (step_run,) = client.list_step_runs(run.id)
    assigned = client.load_artifact(step_run.outputs["resources"])
    assert assigned["CPU"] == 0.5
    assert assigned["memory"] == 200 * 1024 * 1024
