"""Contract: promotion events. Webhooks, and the delivery log every stage change writes into in
its own transaction (an outbox): claimed by dispatchers without overlap, retried, finished."""

from __future__ import annotations

import time

import pytest

from modelplane.errors import InvalidInputError, NotFoundError, PromotionBlockedError
from modelplane.metadata.store import MetadataStore
from tests.store.state import snapshot


def test_create_and_list_webhooks_without_reading_secrets_back(store: MetadataStore) -> None:
    every = store.create_webhook("https://ci.example.com/hooks")
    narrow = store.create_webhook(
        "http://127.0.0.1:8080/x", model="iris", stages=["production", "staging", "production"], secret="s3cret"
    )

    assert (every.model, every.stages, every.has_secret) == (None, [], False)
    assert (narrow.model, narrow.stages, narrow.has_secret) == ("iris", ["production", "staging"], True)
    assert store.list_webhooks() == [every, narrow]
    assert "s3cret" not in str(store.list_webhooks())
    store.delete_webhook(every.id)
    assert store.list_webhooks() == [narrow]
    with pytest.raises(NotFoundError, match="webhook"):
        store.delete_webhook(every.id)


@pytest.mark.parametrize(
    ("url", "kwargs"),
    [
        ("ftp://example.com/x", {}),
        ("not a url", {}),
        ("https://", {}),
        ("https://ok.example.com", {"stages": ["latest"]}),
        ("https://ok.example.com", {"stages": ["gold"]}),
        ("https://ok.example.com", {"stages": "production"}),
        ("https://ok.example.com", {"model": ""}),
        ("https://ok.example.com", {"secret": "s" * 256}),
        ("https://" + "x" * 2000 + ".com", {}),
    ],
)
def test_bad_webhooks_are_refused_and_change_nothing(
    store: MetadataStore, url: str, kwargs: dict[str, object]
) -> None:
    before = snapshot(store)
    with pytest.raises(InvalidInputError):
        store.create_webhook(url, **kwargs)  # type: ignore[arg-type]
    assert snapshot(store) == before


def test_every_stage_change_is_queued_for_the_matching_webhooks(store: MetadataStore, iris: str) -> None:
    every = store.create_webhook("https://a.example.com")
    prod = store.create_webhook("https://b.example.com", stages=["production"])
    other = store.create_webhook("https://c.example.com", model="another-model")

    store.set_stage(iris, 1, "production", actor="ana", reason="first")
    store.set_stage(iris, 2, "production", force=True, actor="bob")  # archives 1 too

    events = {
        hook.id: sorted(
            (d.payload["version"], d.payload["to_stage"])
            for d in store.list_webhook_deliveries(webhook_id=hook.id).items
        )
        for hook in (every, prod, other)
    }
    assert events[every.id] == [(1, "archived"), (1, "production"), (2, "production")]
    assert events[prod.id] == [(1, "production"), (2, "production")]
    assert events[other.id] == []
    first = next(
        d for d in store.list_webhook_deliveries(webhook_id=prod.id).items if d.payload["version"] == 1
    )
    assert first.status == "pending" and first.attempts == 0 and first.url == "https://b.example.com"
    assert first.payload["event"] == "model_version.stage_changed"
    assert {k: first.payload[k] for k in ("model", "from_stage", "to_stage", "actor", "reason")} == {
        "model": "iris", "from_stage": "none", "to_stage": "production", "actor": "ana", "reason": "first",
    }  # fmt: skip
    assert first.secret is None  # listings never carry secrets


def test_a_refused_stage_change_queues_nothing(store: MetadataStore) -> None:
    store.create_model("gated", gates={"production": ["accuracy >= 0.9"]})
    store.create_model_version("gated", metadata={"accuracy": 0.5})
    store.create_webhook("https://a.example.com")

    with pytest.raises(PromotionBlockedError):
        store.set_stage("gated", 1, "production")
    assert store.list_webhook_deliveries().total == 0


def test_claims_do_not_overlap_and_carry_the_secret(store: MetadataStore, iris: str) -> None:
    store.create_webhook("https://a.example.com", secret="k")
    for number in (1, 2, 3):
        store.set_stage(iris, number, "archived")

    first = store.claim_webhook_deliveries(limit=2, lease_seconds=60)
    second = store.claim_webhook_deliveries(limit=10, lease_seconds=60)
    third = store.claim_webhook_deliveries(limit=10, lease_seconds=60)

    assert [d.payload["version"] for d in first] == [1, 2]  # oldest first
    assert [d.payload["version"] for d in second] == [3]
    assert third == []  # all leased
    assert {d.secret for d in first + second} == {"k"}


def test_finish_records_success_retry_and_giving_up(store: MetadataStore, iris: str) -> None:
    store.create_webhook("https://a.example.com")
    for number in (1, 2, 3):
        store.set_stage(iris, number, "archived")
    ok, retried, dead = store.claim_webhook_deliveries(limit=3, lease_seconds=600)

    done = store.finish_webhook_delivery(ok.id, delivered=True, status_code=204)
    again = store.finish_webhook_delivery(
        retried.id, delivered=False, status_code=500, error="HTTP 500", retry_in=0
    )
    failed = store.finish_webhook_delivery(dead.id, delivered=False, error="ConnectError", retry_in=None)

    assert (done.status, done.attempts, done.last_status_code, done.last_error) == ("delivered", 1, 204, None)
    assert done.delivered is not None
    assert (again.status, again.attempts, again.last_error) == ("pending", 1, "HTTP 500")
    assert (failed.status, failed.attempts) == ("failed", 1)
    time.sleep(0.01)
    assert [d.id for d in store.claim_webhook_deliveries()] == [retried.id]  # due again at once
    assert store.list_webhook_deliveries(status="failed").items == [failed]
    with pytest.raises(NotFoundError):
        store.finish_webhook_delivery("f" * 32, delivered=True)
    with pytest.raises(InvalidInputError):
        store.list_webhook_deliveries(status="lost")


def test_deleting_a_webhook_drops_its_deliveries(store: MetadataStore, iris: str) -> None:
    hook = store.create_webhook("https://a.example.com")
    store.set_stage(iris, 1, "staging")
    assert store.list_webhook_deliveries().total == 1

    store.delete_webhook(hook.id)

    assert store.list_webhook_deliveries().total == 0


def test_a_failed_or_delivered_delivery_can_be_sent_again(store: MetadataStore, iris: str) -> None:
    store.create_webhook("https://a.example.com")
    for number in (1, 2):
        store.set_stage(iris, number, "archived")
    first, second = store.claim_webhook_deliveries(limit=2, lease_seconds=600)
    failed = store.finish_webhook_delivery(first.id, delivered=False, error="ConnectError")
    done = store.finish_webhook_delivery(second.id, delivered=True, status_code=200)

    again = store.redeliver_webhook_delivery(failed.id)
    assert (again.status, again.attempts, again.last_error) == ("pending", 1, "ConnectError")
    resent = store.redeliver_webhook_delivery(done.id)
    assert (resent.status, resent.delivered) == ("pending", None)
    assert store.redeliver_webhook_delivery(failed.id) == again  # pending already: unchanged
    time.sleep(0.01)
    assert {d.id for d in store.claim_webhook_deliveries(limit=5)} == {failed.id, done.id}
    with pytest.raises(NotFoundError):
        store.redeliver_webhook_delivery("f" * 32)
