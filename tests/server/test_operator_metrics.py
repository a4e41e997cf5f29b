"""``GET /metrics`` on a real server process, read with prometheus_client's own parser: requests by
route template (never the raw path), runs started and failed, stage changes, webhook attempts and
the database pool; the metrics token; and in process, the 5xx counter and one registry per app."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Annotated, Any, Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from modelplane import Model, pipeline, step
from modelplane.config import load_settings
from modelplane.errors import NotFoundError, StepFailedError
from modelplane.metadata.http import HttpMetadataStore
from modelplane.server.app import create_app
from tests.server.live import LiveServer
from tests.server.receiver import Receiver

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _samples(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _scrape(server: LiveServer, token: str | None = None) -> Samples:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.get(f"{server.url}/metrics", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return _samples(response.text)


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of its own, so every count below starts at zero; webhooks retry after 0.2 s once."""
    root = tmp_path_factory.mktemp("metrics-server")
    with LiveServer(root, env={"MODELPLANE_WEBHOOK_BACKOFF": "0.2"}) as server:
        yield server


@pytest.fixture
def store(watched: LiveServer) -> Iterator[HttpMetadataStore]:
    opened = watched.store()
    yield opened
    opened.close()


def test_requests_are_counted_and_timed_by_route_template_never_by_raw_path(
    watched: LiveServer, store: HttpMetadataStore
) -> None:
    names = ["secret-project-a", "secret-project-b", "secret-project-c"]
    for name in names:
        with pytest.raises(NotFoundError, match="does not exist"):
            store.get_model(name)
    httpx.get(f"{watched.url}/no/such/page/secret-project-d")

    response = httpx.get(f"{watched.url}/metrics")
    samples = _samples(response.text)

    route = "/api/v1/models/{model}"
    assert _value(samples, "modelplane_http_requests_total", method="GET", route=route, status="404") == 3
    assert _value(samples, "modelplane_http_request_duration_seconds_count", method="GET", route=route) == 3
    assert _value(samples, "modelplane_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert "secret-project" not in response.text
    assert _value(samples, "modelplane_http_request_errors_total", method="GET", route=route) == 0


def test_the_database_pool_and_the_version_are_reported(watched: LiveServer) -> None:
    samples = _scrape(watched)

    assert _value(samples, "modelplane_db_pool_size", database="sqlite") == 4  # the SQLite store's pool
    assert ("modelplane_db_pool_checked_out", frozenset({("database", "sqlite")})) in samples
    assert any(name == "modelplane_info" for name, _ in samples)


@step
def count_to(limit: int) -> Annotated[int, "count"]:
    if limit < 0:
        raise ValueError("a negative limit")
    return limit


@pipeline(model=Model(name="metered"), enable_cache=False)
def metered(limit: int = 3) -> None:
    count_to(limit)


def test_runs_started_and_failed_are_counted(
    watched: LiveServer, store: HttpMetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in watched.client_env().items():
        monkeypatch.setenv(key, value)
    before = _scrape(watched)

    metered(limit=3)
    with pytest.raises(StepFailedError, match="negative"):
        metered(limit=-1)
    pipeline_record = store.get_pipeline("metered")
    abandoned = store.create_run(pipeline_id=pipeline_record.id, name=f"abandoned-{time.time_ns()}")
    store.reap_abandoned_runs(gone=[abandoned.id])
    after = _scrape(watched)

    def delta(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert delta("modelplane_runs_started_total") == 3
    assert delta("modelplane_runs_failed_total", by="client") == 1
    assert delta("modelplane_runs_failed_total", by="reaper") == 1


def _settled(store: HttpMetadataStore, webhook_id: str, count: int) -> None:
    deadline = time.monotonic() + 60
    while True:
        found = store.list_webhook_deliveries(webhook_id=webhook_id).items
        if len(found) == count and all(d.status != "pending" for d in found):
            return
        assert time.monotonic() < deadline, f"still pending: {found}"
        time.sleep(0.05)


def test_stage_changes_and_webhook_attempts_are_counted(
    watched: LiveServer, store: HttpMetadataStore
) -> None:
    store.create_model("promoted")
    for _ in range(2):
        store.create_model_version("promoted")
    # delivered; then failed, retried once after 0.2 s, failed again and given up
    with Receiver(statuses=(204, 500)) as receiver:
        hook = store.create_webhook(receiver.url, model="promoted", stages=["production"])
        store.set_stage("promoted", 1, "production")
        _settled(store, hook.id, 1)
        store.set_stage("promoted", 2, "staging")
        store.set_stage("promoted", 2, "production", force=True)
        _settled(store, hook.id, 2)
        store.rollback_stage("promoted", "production")
        _settled(store, hook.id, 3)

    samples = _scrape(watched)

    assert _value(samples, "modelplane_stage_changes_total", stage="production") == 3
    assert _value(samples, "modelplane_stage_changes_total", stage="staging") == 1
    assert _value(samples, "modelplane_webhook_deliveries_total", outcome="delivered") == 1
    assert _value(samples, "modelplane_webhook_deliveries_total", outcome="retrying") == 2
    assert _value(samples, "modelplane_webhook_deliveries_total", outcome="failed") == 2


def test_a_metrics_token_keeps_metrics_from_strangers(tmp_path: Path) -> None:
    secret = "metrics-" + "x" * 24
    with LiveServer(tmp_path / "server", env={"MODELPLANE_METRICS_TOKEN": secret}) as server:
        refused = httpx.get(f"{server.url}/metrics")
        wrong = httpx.get(f"{server.url}/metrics", headers={"Authorization": "Bearer " + "y" * 32})
        samples = _scrape(server, token=secret)
        ready = httpx.get(f"{server.url}/ready")

    assert refused.status_code == wrong.status_code == 401
    assert refused.json()["error"]["type"] == "AuthError"
    assert _value(samples, "modelplane_http_requests_total", method="GET", route="/metrics", status="401") == 2
    assert ready.status_code == 200  # readiness stays open


def _app(tmp_path: Path) -> Any:
    tmp_path.mkdir()
    settings = load_settings(store_url=f"sqlite:///{tmp_path / 'store.db'}", artifact_uri=str(tmp_path / "art"))
    app = create_app(settings, webhook_interval=None, reap_interval=None)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internal detail")

    return app


async def _get(app: Any, *paths: str) -> list[httpx.Response]:
    """``GET`` each path; ``BREW /path`` uses that (made-up) method."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://server") as http:
        calls = [path.split(" ") if " " in path else ("GET", path) for path in paths]
        return [await http.request(method, path) for method, path in calls]


def test_each_app_counts_its_own_requests_5xx_answers_are_errors_and_odd_methods_are_other(tmp_path: Path) -> None:
    first, second = _app(tmp_path / "one"), _app(tmp_path / "two")

    boom, _, _, metrics = asyncio.run(_get(first, "/boom", "/health", "BREW /health", "/metrics"))
    (other,) = asyncio.run(_get(second, "/metrics"))

    assert boom.status_code == 500 and len(boom.headers["x-request-id"]) == 32
    samples = _samples(metrics.text)
    assert _value(samples, "modelplane_http_request_errors_total", method="GET", route="/boom") == 1
    assert _value(samples, "modelplane_http_requests_total", method="GET", route="/boom", status="500") == 1
    assert _value(samples, "modelplane_http_requests_total", method="GET", route="/health", status="200") == 1
    assert _value(samples, "modelplane_http_requests_total", method="other", route="/health", status="405") == 1
    assert "modelplane_http_requests_total{" not in other.text  # nothing served by the second yet
