"""The same pipelines on the local and the Ray orchestrator leave the same records: runs, step runs,
inputs and outputs (by name, version, type, hash and value), cache hits, errors, captured logs, model
versions with their metadata, links and runs. Each scenario runs once per orchestrator, each time on a
fresh store, and the two snapshots are compared whole."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import pytest

from modelplane import Model
from modelplane.artifacts.external_artifact import ExternalArtifact
from modelplane.client import Client, close_open_stores
from modelplane.config import load_settings
from modelplane.errors import StepFailedError

from tests.mcp.resources import consume_pipeline, train_pipeline
from tests.pipelines.resources.chatty import chatty_pipeline
from tests.pipelines.resources.shapes import SHAPES, failing_pipeline

pytestmark = pytest.mark.ray

_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ ")


def _failing(orchestrator: str) -> None:
    with pytest.raises(StepFailedError, match="boom at 1"):
        failing_pipeline.with_options(orchestrator=orchestrator)()


def _model_linked(orchestrator: str) -> None:
    train_pipeline(Model(name="m")).with_options(orchestrator=orchestrator)(n=4)
    train_pipeline(Model(name="m", version="candidate")).with_options(orchestrator=orchestrator)(n=5)
    consume_pipeline(Model(name="m", version=1), ExternalArtifact(model_artifact_name="weights")).with_options(
        orchestrator=orchestrator
    )()
    consume_pipeline(Model(name="m", version="latest"), ExternalArtifact(value={"w": 9})).with_options(
        orchestrator=orchestrator
    )()


def _model_failing(orchestrator: str) -> None:
    with pytest.raises(StepFailedError, match="evaluation exploded"):
        train_pipeline(Model(name="m"), fail=True).with_options(orchestrator=orchestrator)()
    with pytest.raises(StepFailedError, match="evaluation exploded"):
        train_pipeline(Model(name="m", delete_new_version_on_failure=False), fail=True).with_options(
            orchestrator=orchestrator
        )()


def _cached(orchestrator: str) -> None:
    for n in (3, 3, 4):
        train_pipeline(Model(name="m"), enable_cache=True).with_options(orchestrator=orchestrator)(n=n)


SCENARIOS: dict[str, Callable[[str], None]] = {
    **{
        name: (lambda orchestrator, pipe=pipe: pipe.with_options(orchestrator=orchestrator)())
        for name, (pipe, _) in SHAPES.items()
    },
    "failing step": _failing,
    "step logs": lambda orchestrator: chatty_pipeline.with_options(orchestrator=orchestrator)(),
    "cached": _cached,
    "model-linked": _model_linked,
    "model-linked, failing": _model_failing,
}


def _last_line(text: str | None) -> str | None:
    return text.strip().splitlines()[-1] if text else None


def _without_frames(logs: str) -> str:
    """A failed step's logs end with its traceback, whose frames name the step's file on a local
    run and Ray's shipped copy of the code on Ray: compare what was printed and the error only."""
    printed, marker, traceback = logs.partition("Traceback (most recent call last):")
    return printed + (f"{marker} … {_last_line(traceback)}" if marker else "")


def _artifact(client: Client, av_id: str) -> tuple[Any, ...]:
    """An artifact version as users compare it. Its number is left out: parallel steps on Ray may
    finish, and so number their outputs, in another order (the numbers are compared per name below)."""
    record = client.store.get_artifact_version(av_id)
    value = client.load_artifact_version(record)
    return (record.name, str(record.type), record.materializer, record.data_type,
            record.content_hash, record.size, repr(value))


def snapshot(client: Client) -> dict[str, Any]:
    """Everything a user can see in the store, without ids, times and the orchestrator's name."""
    runs = sorted(client.list_runs(limit=1000).items, key=lambda r: r.created)
    step_names: dict[str, tuple[int, str]] = {}
    versions = client.list_artifact_versions(limit=1000).items
    shot: dict[str, Any] = {"runs": [], "models": {}, "artifact_versions": sorted((v.name, v.version) for v in versions)}
    for index, run in enumerate(runs):
        steps = {}
        for s in client.list_step_runs(run.id):
            step_names[s.id] = (index, s.name)
            steps[s.name] = {
                "step": s.step_name,
                "status": str(s.status),
                "parameters": s.parameters,
                "upstream": sorted(s.upstream),
                "source_hash": s.source_hash,
                "inputs": {k: _artifact(client, v) for k, v in s.inputs.items()},
                "outputs": {k: _artifact(client, v) for k, v in s.outputs.items()},
                "cached_from": step_names.get(s.cached_from) if s.cached_from else None,
                "error": _last_line(s.error),
                "logs": _without_frames(_TIMESTAMP.sub("", client.get_step_logs(s.id))),
                "ended": s.ended is not None,
            }
        shot["runs"].append({
            "pipeline": run.pipeline_name, "status": str(run.status), "parameters": run.parameters,
            # The versions a failed run would discard are named by id: compare how many.
            "config": {**run.config, "discard_on_failure": len(run.config.get("discard_on_failure", []))},
            "extra": run.extra, "error": _last_line(run.error), "steps": steps,
        })
    for model in client.list_models(limit=100).items:
        versions = []
        for version in sorted(client.list_model_versions(model.name, limit=100).items, key=lambda v: v.number):
            links = client.list_artifact_links(model.name, version.number, limit=100).items
            versions.append({
                "number": version.number, "name": version.name, "stage": str(version.stage),
                "metadata": version.metadata,
                "links": sorted((link.name, str(link.kind), _artifact(client, link.artifact_version.id)) for link in links),
                "runs": sorted(r.pipeline_name for r in client.list_model_version_runs(model.name, version.number).items),
            })
        shot["models"][model.name] = versions
    return shot


def _run_on_fresh_store(home: Path, monkeypatch: pytest.MonkeyPatch, scenario: str, orchestrator: str):
    close_open_stores()
    monkeypatch.setenv("MODELPLANE_HOME", str(home))
    SCENARIOS[scenario](orchestrator)
    client = Client(load_settings())
    orchestrators = {r.orchestrator for r in client.list_runs(limit=1000).items}
    return snapshot(client), orchestrators


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_local_and_ray_leave_the_same_records(
    scenario: str, ray_cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local, used_local = _run_on_fresh_store(tmp_path / "local", monkeypatch, scenario, "local")
    on_ray, used_ray = _run_on_fresh_store(tmp_path / "ray", monkeypatch, scenario, "ray")
    assert (used_local, used_ray) == ({"local"}, {"ray"})
    assert local["runs"], "the scenario ran nothing"
    assert on_ray == local, "\n".join(_differences(local, on_ray))


def _differences(local: Any, on_ray: Any, path: str = "") -> list[str]:
    """Where two snapshots differ, as readable lines (pytest's own diff truncates nested data)."""
    if isinstance(local, dict) and isinstance(on_ray, dict):
        found = []
        for key in sorted(set(local) | set(on_ray), key=str):
            found += _differences(local.get(key), on_ray.get(key), f"{path}/{key}")
        return found
    if isinstance(local, list) and isinstance(on_ray, list) and len(local) == len(on_ray):
        return [line for i, (a, b) in enumerate(zip(local, on_ray)) for line in _differences(a, b, f"{path}[{i}]")]
    return [] if local == on_ray else [f"{path}: local {local!r} != ray {on_ray!r}"]
