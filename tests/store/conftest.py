"""Fixtures of the store contract suite: ``store`` runs each test on every enabled backend."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelplane.enums import ArtifactType
from modelplane.metadata.records import ArtifactVersionRecord, RunRecord
from modelplane.metadata.store import MetadataStore
from tests.store import http_backend
from tests.store.backends import BACKENDS, enabled_backends
from tests.store.state import ArtifactFactory

# The HTTP store against a real server process joins the SQL backends (one parametrized suite).
http_backend.register()


@pytest.fixture(params=enabled_backends())
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MetadataStore]:
    """An empty store on one backend."""
    with BACKENDS[request.param](tmp_path) as opened:
        yield opened


@pytest.fixture(params=enabled_backends(sql_only=True))
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MetadataStore]:
    """An empty store on one SQL backend, for rules the HTTP store leaves to its server."""
    with BACKENDS[request.param](tmp_path) as opened:
        yield opened


@pytest.fixture(params=enabled_backends(sql_only=True))
def sql_backend(request: pytest.FixtureRequest) -> str:
    """The name of one enabled SQL backend (for tests of migrations and engines)."""
    return str(request.param)


@pytest.fixture
def iris(store: MetadataStore) -> str:
    """Model ``iris`` with versions 1, 2 and 3, all in stage none."""
    store.create_model("iris")
    for _ in range(3):
        store.create_model_version("iris")
    return "iris"


@pytest.fixture
def run(store: MetadataStore) -> RunRecord:
    pipeline = store.save_pipeline("training", {"steps": ["load", "train"]})
    return store.create_run(pipeline_id=pipeline.id)


@pytest.fixture
def make_artifact(store: MetadataStore) -> ArtifactFactory:
    """Record an artifact version: ``make_artifact("dataset", producer_step_run_id=...)``."""

    def make(name: str = "dataset", **overrides: Any) -> ArtifactVersionRecord:
        artifact_id = uuid.uuid4().hex
        values: dict[str, Any] = {
            "id": artifact_id,
            "name": name,
            "type": ArtifactType.DATA,
            "materializer": "modelplane.artifacts.materializers:JsonMaterializer",
            "data_type": "builtins.dict",
            "uri": f"/artifacts/{artifact_id}",
            "content_hash": "sha256:" + "0" * 64,
            "size": 10,
            **overrides,
        }
        return store.create_artifact_version(**values)

    return make
