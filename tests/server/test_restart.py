"""A pipeline run on a server survives the server's restart, twice: stopped (SIGTERM) and killed
(SIGKILL) in the middle of a 20-step pipeline, and started again on the same port and store. The
run completes and every record exists once: 20 step runs, one artifact version per step output,
one link of each to the model version, one model version, one run.

Two ways in: straight to the server (while it is down, connections are refused), and through a
reverse proxy (``proxy.py``: it answers 502 while the server is down). Through the proxy the kill
is aimed: the server is killed after it committed a step's completion and before its answer
reached the client, which sends it again and must get the recorded answer, not a second write.

The SDK runs the pipeline in a thread of this process (the local orchestrator), so a step can tell
the test when it started; the server is a real process on SQLite, and on PostgreSQL too when
MODELPLANE_TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from modelplane import Model, pipeline, step
from modelplane.client import Client
from modelplane.config import load_settings
from modelplane.enums import ExecutionStatus
from modelplane.metadata.http import HttpMetadataStore
from modelplane.metadata.records import ArtifactVersionRecord
from tests.server.live import LiveServer
from tests.server.proxy import LossyProxy

STEPS = 20
# Each step works this long, so the server goes away while the run is busy.
STEP_SECONDS = 0.2
# The server is stopped when this step starts, and killed when that one does.
STOP_AT, KILL_AT = 6, 13
# Read at import: the suite-wide autouse fixture clears MODELPLANE_* variables for each test.
_DATABASES = ["sqlite"] + (["postgresql"] if os.environ.get("MODELPLANE_TEST_POSTGRES_URL") else [])

_started: dict[int, threading.Event] = {}


@step
def grow(value: int, index: int) -> int:
    event = _started.get(index)
    if event is not None:
        event.set()
    time.sleep(STEP_SECONDS)  # the step's work
    return value + index


def _chain(model_name: str) -> Any:
    @pipeline(model=Model(name=model_name), enable_cache=False)
    def chain() -> None:
        value = grow(0, index=1)
        for index in range(2, STEPS + 1):
            value = grow(value, index=index)

    return chain


@pytest.fixture(params=_DATABASES)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    store_url = None
    if request.param == "postgresql":
        from tests.store.backends import sql_url

        store_url = sql_url("postgresql", tmp_path, fresh=True)
    live = LiveServer(tmp_path / "server", store_url=store_url).start()
    yield live
    live.stop()


@pytest.mark.slow
@pytest.mark.parametrize("route", ["direct", "proxied"])
def test_a_pipeline_rides_out_a_stopped_and_a_killed_server(
    server: LiveServer, route: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = LossyProxy(server.port) if route == "proxied" else None
    for key, value in server.client_env().items():
        monkeypatch.setenv(key, value)
    if proxy is not None:
        monkeypatch.setenv("MODELPLANE_STORE_URL", proxy.url)
    _started.clear()
    _started.update({STOP_AT: threading.Event(), KILL_AT: threading.Event()})
    chain = _chain("restarted")
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["run"] = chain()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertions below
            outcome["error"] = exc
        finally:
            for event in _started.values():  # a run that ended early wakes the test at once
                event.set()

    driver = threading.Thread(target=run)
    driver.start()
    try:
        for at, sig in ((STOP_AT, signal.SIGTERM), (KILL_AT, signal.SIGKILL)):
            assert _started[at].wait(timeout=300), f"step {at} never started:\n{server.log()}"
            assert "error" not in outcome, repr(outcome["error"])
            if proxy is not None and sig == signal.SIGKILL:
                # The next completion the server commits is this step's: kill it before it answers.
                lost = proxy.lose(
                    r"POST /api/v1/step-runs/\w+/complete ", "reset", then=lambda: server.kill(sig)
                )
                assert lost.wait(timeout=300), f"step {at} never completed:\n{server.log()}"
            else:
                server.kill(sig)
            server.start()
        driver.join(timeout=600)
    finally:
        if proxy is not None:
            proxy.close()

    assert not driver.is_alive()
    assert "error" not in outcome, repr(outcome.get("error"))
    admin = server.store()
    try:
        last = _assert_recorded_once(admin, outcome["run"].id)
    finally:
        admin.close()
    # The chain's value went through every step once: 1 + 2 + … + 20.
    assert Client(load_settings()).load_artifact_version(last) == STEPS * (STEPS + 1) // 2


def _assert_recorded_once(admin: HttpMetadataStore, run_id: str) -> ArtifactVersionRecord:
    """Checks every record of the run is there once; returns the last step's output."""
    run = admin.get_run(run_id)
    assert run.status is ExecutionStatus.COMPLETED
    assert admin.list_runs().total == 1

    steps = admin.list_step_runs(run_id)
    assert len(steps) == STEPS
    assert {s.name for s in steps} == {"grow"} | {f"grow_{n}" for n in range(2, STEPS + 1)}
    assert all(s.status is ExecutionStatus.COMPLETED for s in steps)

    versions = admin.list_artifact_versions(limit=1000).items
    assert len(versions) == STEPS
    assert sorted(v.producer_step_run_id or "" for v in versions) == sorted(s.id for s in steps)

    (model_version,) = admin.list_model_versions("restarted").items
    links = admin.list_artifact_links("restarted", model_version.number, limit=1000).items
    assert sorted(link.artifact_version.id for link in links) == sorted(v.id for v in versions)
    runs = admin.list_model_version_runs("restarted", model_version.number).items
    assert [r.id for r in runs] == [run_id]
    last = next(s for s in steps if s.name == f"grow_{STEPS}")
    return admin.get_artifact_version(last.outputs["output"])
