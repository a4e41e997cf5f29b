"""The server's own look for abandoned runs: a run whose process stopped sending heartbeats is
marked failed even when nobody uses the machine that lost it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.server.live import LiveServer

pytestmark = pytest.mark.slow


def test_the_server_fails_runs_that_stopped_sending_heartbeats(tmp_path: Path) -> None:
    # Nobody runs a pipeline or a `run` command where the run was lost: the server notices alone.
    with LiveServer(tmp_path / "reaping", env={"MODELPLANE_REAP_SECONDS": "0.3"}) as server:
        server.store().create_project("elsewhere")
        found = []
        for project in ("default", "elsewhere"):  # every project's runs are looked at
            store = server.store(project=project)
            pipeline = store.save_pipeline("lost", {})
            run = store.create_run(
                pipeline_id=pipeline.id, host="node-that-died", pid=99, heartbeat_seconds=0.001
            )
            deadline = time.monotonic() + 30
            while store.get_run(run.id).status.value == "running":
                assert time.monotonic() < deadline, f"the server never failed the run in {project}"
                time.sleep(0.1)
            found.append(store.get_run(run.id))
            store.close()

    for after in found:
        assert after.status.value == "failed"
        assert "node-that-died sent no heartbeat" in (after.error or "")
