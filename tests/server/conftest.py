"""Fixtures of the server tests: one real server process per session, and stores on it."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Iterator

import pytest

from modelplane.metadata.http import HttpMetadataStore
from tests.server.live import LiveServer


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """``modelplane server start`` on a free loopback port, shared by the session's server tests."""
    with LiveServer(tmp_path_factory.mktemp("live-server")) as server:
        yield server


@pytest.fixture
def admin(live_server: LiveServer) -> Iterator[HttpMetadataStore]:
    """An HTTP store with the server's admin token (owner ``admin``)."""
    store = live_server.store()
    yield store
    store.close()


@pytest.fixture
def unique() -> str:
    """A model name no other test on the shared server uses."""
    return f"model-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def artifact_root(live_server: LiveServer) -> Path:
    return Path(live_server.artifact_uri)


@pytest.fixture
def save_artifact(live_server: LiveServer, admin: HttpMetadataStore):  # type: ignore[no-untyped-def]
    """Save a value into the server's artifact store (as clients do) and record it through HTTP."""
    from modelplane.artifacts.materializers import save_value
    from modelplane.artifacts.store import FsspecArtifactStore, new_artifact_id

    artifacts = FsspecArtifactStore(live_server.artifact_uri)

    def save(value: object, name: str = "value", **overrides: object):  # type: ignore[no-untyped-def]
        artifact_id = new_artifact_id()
        saved = save_value(artifacts, artifact_id, value)
        fields = {
            "id": artifact_id,
            "name": name,
            "type": saved.type,
            "materializer": saved.materializer,
            "data_type": saved.data_type,
            "uri": saved.uri,
            "content_hash": saved.content_hash,
            "size": saved.size,
            "metadata": saved.metadata,
            **overrides,
        }
        return admin.create_artifact_version(**fields)

    return save
