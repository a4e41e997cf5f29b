"""Writes with an ``Idempotency-Key`` on a real server: a repeat of the key is answered from the
record of the first call (same status, same body, ``Idempotent-Replayed: true``) and changes
nothing; a key reused for another call, a malformed key, and a key on ``create_token`` (whose
secret the server does not keep) are refused with 422 naming the problem."""

from __future__ import annotations

import uuid
from typing import Any, Iterator

import httpx
import pytest

from modelplane.metadata.http import HttpMetadataStore
from tests.server.live import LiveServer


@pytest.fixture
def api(live_server: LiveServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {live_server.admin_token}"}
    with httpx.Client(base_url=live_server.url + "/api/v1", headers=headers) as client:
        yield client


def send(api: httpx.Client, method: str, path: str, key: str | None, **body: Any) -> httpx.Response:
    headers = {} if key is None else {"Idempotency-Key": key}
    return api.request(method, path, json=body if method != "DELETE" else None, headers=headers)


def test_a_repeated_key_gets_the_first_answer_and_records_once(
    api: httpx.Client, admin: HttpMetadataStore, unique: str
) -> None:
    admin.create_model(unique)
    key = uuid.uuid4().hex

    first = send(api, "POST", f"/models/{unique}/versions", key, description="one")
    again = send(api, "POST", f"/models/{unique}/versions", key, description="one")

    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    # Every answer tells clients they may send a write again (an older server's do not).
    assert first.headers["modelplane-idempotency-keys"] == "honoured"
    assert api.get(f"/models/{unique}").headers["modelplane-idempotency-keys"] == "honoured"
    assert admin.list_model_versions(unique).total == 1


def test_without_a_key_a_repeat_is_another_write(
    api: httpx.Client, admin: HttpMetadataStore, unique: str
) -> None:
    admin.create_model(unique)

    send(api, "POST", f"/models/{unique}/versions", None)
    send(api, "POST", f"/models/{unique}/versions", None)

    assert admin.list_model_versions(unique).total == 2


def test_a_repeated_delete_answers_204_again(
    api: httpx.Client, admin: HttpMetadataStore, unique: str
) -> None:
    admin.create_model(unique)
    key = uuid.uuid4().hex

    first = send(api, "DELETE", f"/models/{unique}", key)
    again = send(api, "DELETE", f"/models/{unique}", key)
    unkeyed = send(api, "DELETE", f"/models/{unique}", None)

    assert (first.status_code, again.status_code) == (204, 204)
    assert again.headers["idempotent-replayed"] == "true"
    assert unkeyed.status_code == 404  # what the repeat would have met without its key


def test_a_refused_promotion_is_recorded_once(
    api: httpx.Client, admin: HttpMetadataStore, unique: str
) -> None:
    """set_stage commits the refusal to the stage history and then raises: the error is the
    answer the key keeps."""
    admin.create_model(unique, gates={"production": ["accuracy >= 0.9"]})
    admin.create_model_version(unique)
    key = uuid.uuid4().hex

    first = send(api, "PUT", f"/models/{unique}/versions/1/stage", key, stage="production")
    again = send(api, "PUT", f"/models/{unique}/versions/1/stage", key, stage="production")

    assert first.status_code == again.status_code == 409
    assert first.json()["error"]["type"] == "PromotionBlockedError"
    assert again.content == first.content
    refusals = [c for c in admin.list_stage_changes(unique).items if c.kind == "refused"]
    assert len(refusals) == 1


def test_a_failed_write_is_not_kept_and_its_retry_runs(
    api: httpx.Client, admin: HttpMetadataStore, unique: str
) -> None:
    key = uuid.uuid4().hex

    missing = send(api, "POST", f"/models/{unique}/versions", key)
    admin.create_model(unique)
    retried = send(api, "POST", f"/models/{unique}/versions", key)

    assert missing.status_code == 404
    assert retried.status_code == 200 and retried.json()["number"] == 1


@pytest.mark.parametrize(
    ("second", "named"),
    [
        (
            ("POST", "versions", {"description": "two"}),
            "create_model_version call with other arguments",
        ),
        (("PATCH", "", {"description": "two"}), "create_model_version, not update_model"),
    ],
    ids=["other-arguments", "other-operation"],
)
def test_a_key_reused_for_another_call_is_a_422(
    api: httpx.Client,
    admin: HttpMetadataStore,
    unique: str,
    second: tuple[str, str, dict[str, Any]],
    named: str,
) -> None:
    admin.create_model(unique)
    key = uuid.uuid4().hex
    send(api, "POST", f"/models/{unique}/versions", key, description="one")
    method, tail, body = second

    reused = send(api, method, f"/models/{unique}/{tail}".rstrip("/"), key, **body)

    assert reused.status_code == 422
    error = reused.json()["error"]
    assert error["type"] == "InvalidInputError"
    assert key in error["message"] and named in error["message"]
    assert admin.list_model_versions(unique).total == 1
    assert admin.get_model(unique).description is None


@pytest.mark.parametrize(
    "key", ["has space", "k" * 129, "é"], ids=["space", "too-long", "not-ascii"]
)
def test_a_malformed_key_is_a_422(
    api: httpx.Client, admin: HttpMetadataStore, unique: str, key: str
) -> None:
    admin.create_model(unique)

    refused = api.post(
        f"/models/{unique}/versions", json={}, headers={"Idempotency-Key": key.encode()}
    )

    assert refused.status_code == 422
    assert "Idempotency-Key" in refused.json()["error"]["message"]
    assert admin.list_model_versions(unique).total == 0


def test_create_token_takes_no_key(api: httpx.Client, admin: HttpMetadataStore) -> None:
    owner = f"owner-{uuid.uuid4().hex[:8]}"

    refused = send(api, "POST", "/tokens", uuid.uuid4().hex, owner=owner)

    assert refused.status_code == 422
    assert "secret" in refused.json()["error"]["message"]
    assert owner not in {token.owner for token in admin.list_tokens()}


def test_the_http_store_sends_a_key_with_every_write_but_create_token(
    live_server: LiveServer, unique: str
) -> None:
    seen: list[httpx.Request] = []
    http_client = httpx.Client(event_hooks={"request": [seen.append]})
    store = HttpMetadataStore(
        live_server.url, token=live_server.admin_token, http_client=http_client
    )
    try:
        store.create_model(unique)
        store.create_model_version(unique)
        store.create_model_version(unique)
        store.get_model(unique)
        store.create_token(f"owner-{unique}")
    finally:
        store.close()

    keys = [request.headers.get("idempotency-key") for request in seen]
    assert [request.method for request in seen] == ["POST", "POST", "POST", "GET", "POST"]
    assert all(keys[:3]) and len(set(keys[:3])) == 3
    assert keys[3:] == [None, None]
