"""Contract: deployments (register, report, list, reap) on every backend, with the store's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from modelplane.errors import InvalidInputError, NotFoundError
from modelplane.metadata.deployment_records import (
    DeploymentEvent,
    DeploymentReport,
    NewDeployment,
    VersionTraffic,
)
from modelplane.metadata.sql.store import SqlMetadataStore
from modelplane.metadata.store import MetadataStore
from modelplane.metadata.store_deployments import CANARY_CUT_OFF, SILENT_REPORTS
from tests.store.state import snapshot


def _new(**overrides: Any) -> NewDeployment:
    values: dict[str, Any] = {
        "model": "iris",
        "stage": "production",
        "endpoint": "http://10.0.0.5:8080",
        "host": "node-1",
        "pid": 4242,
        **overrides,
    }
    return NewDeployment(**values)


def test_a_service_registers_reports_and_is_listed_under_the_version_it_serves(
    store: MetadataStore, iris: str
) -> None:
    started = store.register_deployment(_new(canary_stage="staging", canary_percent=10))
    assert (started.status, started.version, started.model_name) == ("starting", None, "iris")
    assert started.canary_state == "active" and started.created == started.last_seen

    report = DeploymentReport(
        version=2,
        canary_version=3,
        canary_state="active",
        traffic={"2": VersionTraffic(requests=90, errors=1, latency_ms_sum=45.0)},
        events=[DeploymentEvent(kind="started", version=2, message="loaded version 2")],
    )
    serving = store.report_deployment(started.id, report)
    assert (serving.status, serving.version, serving.canary_version) == ("serving", 2, 3)
    assert serving.serving_since is not None and serving.events[0].at == serving.last_seen
    assert serving.traffic["2"].requests == 90
    assert store.get_deployment(started.id) == serving

    assert [d.id for d in store.list_deployments(model="iris", version=2)] == [started.id]
    assert [d.id for d in store.list_deployments(model="iris", version=3)] == [started.id]  # canary
    assert store.list_deployments(model="iris", version=1).total == 0
    assert store.list_deployments().total == 1

    # Swapping in another version restarts "serving since"; events accumulate.
    swapped = store.report_deployment(
        started.id,
        DeploymentReport(version=3, events=[DeploymentEvent(kind="swapped", version=3)]),
    )
    assert swapped.serving_since is not None and swapped.serving_since >= serving.serving_since
    assert [e.kind for e in swapped.events] == ["started", "swapped"]

    stopped = store.report_deployment(started.id, DeploymentReport(status="stopped", version=3))
    assert stopped.status == "stopped" and stopped.ended is not None
    assert store.list_deployments(model="iris").total == 0
    assert store.list_deployments(model="iris", include_ended=True).total == 1
    with pytest.raises(InvalidInputError, match="has stopped"):
        store.report_deployment(started.id, DeploymentReport(version=3))


@pytest.mark.parametrize(
    "overrides, problem",
    [
        ({"stage": None}, "exactly one"),
        ({"version": 1}, "exactly one"),
        ({"stage": "archived"}, "stage one version holds"),
        ({"canary_stage": "staging"}, "both its stage and its share"),
        ({"canary_stage": "production", "canary_percent": 5}, "is the stage the deployment follows"),
        ({"endpoint": "ftp://x"}, "not an http"),
    ],
)
def test_bad_registrations_are_refused_and_change_nothing(
    store: MetadataStore, iris: str, overrides: dict[str, Any], problem: str
) -> None:
    before = snapshot(store)
    with pytest.raises(InvalidInputError, match=problem):
        store.register_deployment(_new(**overrides))
    assert snapshot(store) == before
    assert store.list_deployments(include_ended=True).total == 0


def test_unknown_models_versions_and_deployments_are_named(store: MetadataStore, iris: str) -> None:
    with pytest.raises(NotFoundError, match="nope"):
        store.register_deployment(_new(model="nope"))
    with pytest.raises(NotFoundError, match="version 9"):
        store.register_deployment(_new(stage=None, version=9))
    started = store.register_deployment(_new())
    with pytest.raises(NotFoundError, match="version 7"):
        store.report_deployment(started.id, DeploymentReport(version=7))
    assert store.get_deployment(started.id).version is None  # the refused report changed nothing
    with pytest.raises(NotFoundError, match="does not exist"):
        store.get_deployment("0" * 32)
    with pytest.raises(InvalidInputError, match="needs the model"):
        store.list_deployments(version=1)


def test_a_canary_cut_off_is_announced_to_the_models_webhooks_in_the_same_call(
    store: MetadataStore, iris: str
) -> None:
    store.create_webhook("https://ci.example.com/hook", model="iris")
    store.create_webhook("https://other.example.com/hook", model="other")
    started = store.register_deployment(_new(canary_stage="staging", canary_percent=10))
    cut = DeploymentEvent(kind="canary_cut_off", version=3, message="error rate 0.30 > 0.02")
    record = store.report_deployment(
        started.id, DeploymentReport(version=2, canary_version=3, canary_state="cut_off", events=[cut])
    )
    assert record.canary_state == "cut_off"
    deliveries = store.list_webhook_deliveries().items
    assert [(d.event, d.url) for d in deliveries] == [(CANARY_CUT_OFF, "https://ci.example.com/hook")]
    payload = deliveries[0].payload
    assert (payload["model"], payload["version"], payload["deployment_id"]) == ("iris", 3, started.id)
    assert payload["message"] == "error rate 0.30 > 0.02"


def test_deleting_a_served_version_keeps_the_deployment_and_its_number(
    store: MetadataStore, iris: str
) -> None:
    started = store.register_deployment(_new())
    store.report_deployment(started.id, DeploymentReport(version=2))
    store.delete_model_version("iris", 2)
    kept = store.get_deployment(started.id)
    assert (kept.version, kept.model_version_id) == (2, None)


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_silent_service_reads_as_gone_and_reaping_records_it(sql_store: SqlMetadataStore) -> None:
    clock = _Clock()
    clocked = SqlMetadataStore(sql_store.url, clock=clock)
    try:
        clocked.create_model("iris")
        clocked.create_model_version("iris")
        started = clocked.register_deployment(_new(report_seconds=2))
        clocked.report_deployment(started.id, DeploymentReport(version=1))
        allowed = timedelta(seconds=SILENT_REPORTS * 2)

        clock.now += allowed
        assert clocked.get_deployment(started.id).status == "serving"
        assert clocked.reap_gone_deployments() == []

        clock.now += timedelta(seconds=1)
        assert clocked.get_deployment(started.id).status == "gone"  # a read says so, writes nothing
        assert clocked.list_deployments(model="iris").total == 0
        assert clocked.list_deployments(model="iris", include_ended=True)[0].status == "gone"
        reaped = clocked.reap_gone_deployments()
        assert [(d.id, d.status) for d in reaped] == [(started.id, "gone")]
        assert reaped[0].ended == reaped[0].last_seen
        assert clocked.reap_gone_deployments() == []
    finally:
        clocked.close()
