"""Fixtures for the CLI tests: an in-process runner over the test's own store, and its state."""

from __future__ import annotations

import dataclasses
import json
import uuid
from pathlib import Path
from typing import Any, Callable

import pytest
from click.testing import CliRunner

from modelplane.cli import main
from modelplane.client import Client
from modelplane.enums import ArtifactType, ExecutionStatus


@dataclasses.dataclass(frozen=True)
class Ran:
    """What one CLI invocation did."""

    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


Cli = Callable[..., Ran]


@pytest.fixture
def cli(mp_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``cli("model", "list", input="y\\n")`` runs ``modelplane model list`` in this process."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # no .modelplane/ above, so MODELPLANE_HOME decides

    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Ran:
        result = CliRunner().invoke(main, list(args), input=input, env=env, catch_exceptions=False)
        return Ran(result.exit_code, result.stdout, result.stderr)

    return invoke


def store_state(client: Client) -> dict[str, Any]:
    """Everything a failed command must leave as it was: models, versions, stage history, counts."""
    models = client.list_models(limit=1000).items
    state: dict[str, Any] = {
        "counts": client.info().counts,
        "models": [m.model_dump(mode="json") for m in models],
    }
    for model in models:
        versions = client.list_model_versions(model.id, limit=1000).items
        state[f"versions:{model.name}"] = [v.model_dump(mode="json") for v in versions]
        changes = client.list_stage_changes(model.id, limit=1000).items
        state[f"history:{model.name}"] = [c.model_dump(mode="json") for c in changes]
    return state


@pytest.fixture
def iris(client: Client) -> Client:
    """Model ``iris``: versions 1 (archived), 2 (production), 3 (staging), 4 (named 'candidate')."""
    client.create_model("iris", tags=["demo"], description="Iris classifier", license="Apache 2.0")
    for _ in range(3):
        client.create_model_version("iris")
    client.create_model_version("iris", name="candidate", tags=["new"])
    client.set_stage("iris", 1, "production")
    client.set_stage("iris", 2, "production", force=True)
    client.set_stage("iris", 3, "staging")
    return client


def _artifact(
    client: Client, name: str, kind: ArtifactType, producer: str | None, size: int = 10
) -> str:
    record = client.store.create_artifact_version(
        id=uuid.uuid4().hex,
        name=name,
        type=kind,
        materializer="modelplane.json",
        data_type="builtins.list",
        uri=f"memory://{name}",
        content_hash="0" * 64,
        size=size,
        producer_step_run_id=producer,
    )
    return record.id


@pytest.fixture
def trained(iris: Client) -> Client:
    """``iris`` plus one run ``train-1`` of pipeline ``train`` linked to version 2.

    Steps: load → train → evaluate (evaluate also waits for load; it is a cache hit). Version 2
    gets a data link ``dataset`` and a model link ``weights``.
    """
    store = iris.store
    version = iris.get_model_version("iris", 2)
    pipeline = store.save_pipeline("train", {})
    run = store.create_run(
        pipeline_id=pipeline.id, name="train-1", parameters={"n": 3}, model_version_id=version.id
    )
    load = store.create_step_run(run_id=run.id, name="load", step_name="load")
    dataset = _artifact(iris, "dataset", ArtifactType.DATA, load.id, size=2048)
    store.finish_step_run(
        load.id,
        status=ExecutionStatus.COMPLETED,
        outputs={"dataset": dataset},
        logs="loaded 3 rows\n",
    )
    train = store.create_step_run(
        run_id=run.id,
        name="train",
        step_name="train",
        inputs={"dataset": dataset},
        upstream=["load"],
    )
    weights = _artifact(iris, "weights", ArtifactType.MODEL, train.id)
    store.finish_step_run(
        train.id, status=ExecutionStatus.COMPLETED, outputs={"weights": weights}, logs=""
    )
    store.create_step_run(
        run_id=run.id,
        name="evaluate",
        step_name="evaluate",
        status=ExecutionStatus.CACHED,
        inputs={"weights": weights, "dataset": dataset},
        upstream=["load", "train"],
        outputs={"score": _artifact(iris, "score", ArtifactType.DATA, None)},
        cached_from=train.id,
    )
    store.link_artifact(version.id, dataset, name="dataset", kind=ArtifactType.DATA)
    store.link_artifact(version.id, weights, name="weights", kind=ArtifactType.MODEL)
    store.finish_run(run.id, ExecutionStatus.COMPLETED)
    return iris
