"""The HTTP store rides out a server that does not answer: reads are sent again, and so are
writes, which carry an ``Idempotency-Key`` so that a write whose answer was lost after the server
committed it is still recorded once. Driven through a proxy (``proxy.py``) that loses answers in
front of the real server process."""

from __future__ import annotations

import uuid
from typing import Iterator

import pytest

from modelplane.enums import ArtifactType
from modelplane.errors import ConfigError, StoreError
from modelplane.metadata.records import NewArtifactVersion
from modelplane.metadata.http import HttpMetadataStore
from modelplane.metadata.http_transport import RETRY_SECONDS_ENV, retry_seconds
from tests.server.live import LiveServer, free_port
from tests.server.proxy import LossyProxy


@pytest.fixture
def proxy(live_server: LiveServer) -> Iterator[LossyProxy]:
    lossy = LossyProxy(live_server.port)
    yield lossy
    lossy.close()


@pytest.fixture
def through(proxy: LossyProxy, live_server: LiveServer) -> Iterator[HttpMetadataStore]:
    """An HTTP store that talks to the server through the proxy, and has heard from it (as the
    SDK has: it asks the server where artifacts go before anything else)."""
    store = HttpMetadataStore(proxy.url, token=live_server.admin_token)
    store.info()
    yield store
    store.close()


@pytest.mark.parametrize("how", ["reset", "502"])
def test_a_write_whose_answer_is_lost_is_recorded_once(
    proxy: LossyProxy, through: HttpMetadataStore, admin: HttpMetadataStore, unique: str, how: str
) -> None:
    admin.create_model(unique)
    lost = proxy.lose(f"POST /api/v1/models/{unique}/versions", how)  # type: ignore[arg-type]

    version = through.create_model_version(unique, description="once")

    assert lost.is_set()  # the server ran it and answered; the client never saw that answer
    assert (version.number, version.description) == (1, "once")
    assert [v.number for v in admin.list_model_versions(unique).items] == [1]


def test_a_completed_step_whose_answer_is_lost_records_its_outputs_once(
    proxy: LossyProxy, through: HttpMetadataStore, admin: HttpMetadataStore, unique: str
) -> None:
    pipeline = admin.save_pipeline(unique, {})
    run = admin.create_run(pipeline_id=pipeline.id)
    step = admin.create_step_run(run_id=run.id, name="train", step_name="train")
    artifact = NewArtifactVersion(
        id=uuid.uuid4().hex, output="model", name=f"{unique}-model", type=ArtifactType.MODEL,
        materializer="m", data_type="builtins.dict", uri="/nowhere", content_hash="sha256:0",
        size=1,
    )  # fmt: skip
    lost = proxy.lose(f"POST /api/v1/step-runs/{step.id}/complete", "reset")

    completed = through.complete_step_run(step.id, artifacts=[artifact])

    assert lost.is_set()
    assert completed.step_run.status.value == "completed"
    assert admin.list_artifact_versions(name=f"{unique}-model").total == 1


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_read_answered_by_a_gateway_error_is_sent_again(
    proxy: LossyProxy,
    through: HttpMetadataStore,
    admin: HttpMetadataStore,
    unique: str,
    status: int,
) -> None:
    admin.create_model(unique)
    refused = [proxy.refuse(f"GET /api/v1/models/{unique} ", status) for _ in range(3)]

    found = through.get_model(unique)

    assert found.name == unique
    assert all(event.is_set() for event in refused)


def test_a_write_refused_before_the_server_is_sent_again_and_recorded_once(
    proxy: LossyProxy, through: HttpMetadataStore, admin: HttpMetadataStore, unique: str
) -> None:
    admin.create_model(unique)
    refused = proxy.refuse(f"POST /api/v1/models/{unique}/versions", 503)

    through.create_model_version(unique)

    assert refused.is_set()
    assert admin.list_model_versions(unique).total == 1


def test_a_write_without_a_key_is_not_sent_again_once_it_may_have_arrived(
    proxy: LossyProxy, through: HttpMetadataStore, admin: HttpMetadataStore, unique: str
) -> None:
    """create_token's answer holds a secret the server does not keep: a lost answer is an error
    (the token exists, once), never a second token."""
    proxy.lose("POST /api/v1/tokens", "reset")

    with pytest.raises(StoreError, match="Cannot reach the modelplane server"):
        through.create_token(unique)

    assert [t.owner for t in admin.list_tokens()].count(unique) == 1


def test_a_write_is_not_sent_again_to_a_server_not_known_to_honour_keys(
    proxy: LossyProxy, live_server: LiveServer, admin: HttpMetadataStore, unique: str
) -> None:
    """Until a server's answer says it honours keys (an older server does not, and would run the
    write twice), a write whose answer was lost is an error, not a second write."""
    admin.create_model(unique)
    fresh = HttpMetadataStore(proxy.url, token=live_server.admin_token)
    proxy.lose(f"POST /api/v1/models/{unique}/versions", "reset")
    try:
        with pytest.raises(StoreError, match="Cannot reach the modelplane server"):
            fresh.create_model_version(unique)
        fresh.get_model(unique)  # now it knows
        assert fresh._wire.keys_honoured
    finally:
        fresh.close()

    assert admin.list_model_versions(unique).total == 1


def test_a_server_that_stays_away_fails_the_call_once_the_retry_time_is_up() -> None:
    store = HttpMetadataStore(f"http://127.0.0.1:{free_port()}", token="t", retry_for=0.3)
    try:
        with pytest.raises(StoreError, match="Cannot reach the modelplane server") as failed:
            store.get_model("iris")
    finally:
        store.close()

    assert RETRY_SECONDS_ENV in (failed.value.hint or "")


def test_the_retry_time_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert retry_seconds() == 60.0
    monkeypatch.setenv(RETRY_SECONDS_ENV, "2.5")
    assert retry_seconds() == 2.5
    assert HttpMetadataStore("http://127.0.0.1:1")._wire.retry_for == 2.5
    monkeypatch.setenv(RETRY_SECONDS_ENV, "soon")
    with pytest.raises(ConfigError, match=RETRY_SECONDS_ENV):
        retry_seconds()
