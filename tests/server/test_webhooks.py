"""Promotion events end to end: a server process announces stage changes to a real receiver on
loopback — signed, retried after a failure, given up after the last pause — and the delivery log
says what happened."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelplane.metadata.http import HttpMetadataStore
from modelplane.metadata.records import WebhookDeliveryRecord
from tests.server.live import LiveServer
from tests.server.receiver import Receiver

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hook_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server whose dispatcher retries after 0.2 s, then 0.2 s, then gives up."""
    root = tmp_path_factory.mktemp("webhook-server")
    with LiveServer(root, env={"MODELPLANE_WEBHOOK_BACKOFF": "0.2,0.2"}) as server:
        yield server


@pytest.fixture
def store(hook_server: LiveServer) -> Iterator[HttpMetadataStore]:
    opened = hook_server.store()
    yield opened
    for hook in opened.list_webhooks():
        opened.delete_webhook(hook.id)
    opened.close()


def _settled(store: HttpMetadataStore, webhook_id: str, timeout: float = 30.0) -> list[WebhookDeliveryRecord]:
    deadline = time.monotonic() + timeout
    while True:
        found = store.list_webhook_deliveries(webhook_id=webhook_id).items
        if found and all(d.status != "pending" for d in found):
            return found
        assert time.monotonic() < deadline, f"still pending: {found}"
        time.sleep(0.05)


def test_a_promotion_is_announced_signed_and_retried_until_delivered(
    store: HttpMetadataStore, tmp_path: Path
) -> None:
    store.create_model("hooked")
    store.create_model_version("hooked")
    with Receiver(statuses=(500, 204)) as receiver:
        hook = store.create_webhook(receiver.url, model="hooked", stages=["production"], secret="k3y")

        store.set_stage("hooked", 1, "staging")  # not a production change: not announced
        store.set_stage("hooked", 1, "production", reason="beats baseline")
        first, second = receiver.wait_for(2)
        (delivery,) = _settled(store, hook.id)

    assert first.body == second.body
    assert first.headers["X-Modelplane-Delivery"] == second.headers["X-Modelplane-Delivery"] == delivery.id
    assert second.headers["X-Modelplane-Event"] == "model_version.stage_changed"
    expected = "sha256=" + hmac.new(b"k3y", second.body, hashlib.sha256).hexdigest()
    assert second.headers["X-Modelplane-Signature"] == expected
    event = second.json()
    assert {k: event[k] for k in ("model", "version", "from_stage", "to_stage", "actor", "reason")} == {
        "model": "hooked", "version": 1, "from_stage": "staging", "to_stage": "production",
        "actor": "admin", "reason": "beats baseline",
    }  # fmt: skip
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 2, 204)
    assert len(receiver.received) == 2


def test_a_receiver_that_keeps_failing_is_given_up_and_logged(store: HttpMetadataStore) -> None:
    store.create_model("unheard")
    store.create_model_version("unheard")
    with Receiver(statuses=(503,)) as receiver:
        hook = store.create_webhook(receiver.url, model="unheard")
        store.set_stage("unheard", 1, "production")
        (delivery,) = _settled(store, hook.id)

    assert (delivery.status, delivery.attempts) == ("failed", 3)  # first try + 2 retries
    assert delivery.last_status_code == 503 and "HTTP 503" in (delivery.last_error or "")
    assert len(receiver.received) == 3
    assert "X-Modelplane-Signature" not in receiver.received[0].headers  # no secret, no signature



def test_a_projects_promotions_are_announced_by_the_server_with_the_project_named(
    hook_server: LiveServer, store: HttpMetadataStore
) -> None:
    # The server's dispatcher drains every project's delivery log, not only default's.
    store.create_project("hooks")
    inside = hook_server.store(project="hooks")
    try:
        inside.create_model("hooked")
        inside.create_model_version("hooked")
        with Receiver(statuses=(204,)) as receiver:
            hook = inside.create_webhook(receiver.url, stages=["production"])
            inside.set_stage("hooked", 1, "production")
            (received,) = receiver.wait_for(1)
            (delivery,) = _settled(inside, hook.id)
        assert received.headers["X-Modelplane-Project"] == "hooks"
        assert received.json()["model"] == "hooked" and delivery.status == "delivered"
        assert store.list_webhooks() == []  # default's webhooks: none of the project's
    finally:
        inside.close()
        store.delete_project("hooks")
