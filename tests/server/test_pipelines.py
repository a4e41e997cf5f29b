"""The SDK on a server: a pipeline run with MODELPLANE_STORE_URL=http://… and a token records
everything on the server and writes artifact bytes to the server's artifact store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pytest

from modelplane import Model, log_metadata, pipeline, step
from modelplane.client import Client
from modelplane.config import load_settings
from modelplane.enums import ModelStages
from modelplane.metadata.http import HttpMetadataStore
from tests.server.live import LiveServer


@step
def make_numbers(count: int = 3) -> Annotated[list[int], "numbers"]:
    print(f"making {count} numbers")
    return list(range(count))


@step
def total(numbers: list[int]) -> Annotated[int, "total"]:
    log_metadata({"total": sum(numbers)}, infer_model=True)
    return sum(numbers)


def _pipeline(model_name: str):  # type: ignore[no-untyped-def]
    @pipeline(model=Model(name=model_name), enable_cache=False)
    def sums(count: int = 3) -> None:
        total(make_numbers(count=count))

    return sums


@pytest.fixture
def on_server(live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> LiveServer:
    for key, value in live_server.client_env().items():
        monkeypatch.setenv(key, value)
    return live_server


def test_a_pipeline_run_is_recorded_on_the_server(on_server: LiveServer, admin: HttpMetadataStore, unique: str) -> None:
    sums = _pipeline(unique)

    first = sums(count=3)
    second = sums(count=5)

    versions = admin.list_model_versions(unique).items
    assert [v.number for v in versions] == [2, 1]
    assert [v.metadata["total"] for v in versions] == [10, 3]
    assert admin.get_run(first.id).status.value == "completed"
    steps = admin.list_step_runs(second.id)
    assert [s.name for s in steps] == ["make_numbers", "total"]
    assert "making 5 numbers" in admin.get_step_logs(steps[0].id)
    links = admin.list_artifact_links(versions[0].model_id, versions[0].id).items
    assert {link.name for link in links} == {"numbers", "total"}
    for link in links:
        assert (Path(on_server.artifact_uri) / link.artifact_version.id).is_dir()


def test_a_stage_set_from_the_sdk_is_recorded_with_the_tokens_owner(
    on_server: LiveServer, admin: HttpMetadataStore, unique: str
) -> None:
    _pipeline(unique)(count=2)
    client = Client(load_settings())

    client.set_stage(unique, 1, ModelStages.PRODUCTION)

    assert client.load_artifact("total") is not None
    change = admin.list_stage_changes(unique).items[0]
    assert (change.to_stage, change.actor) == (ModelStages.PRODUCTION, "admin")
