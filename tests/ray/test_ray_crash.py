"""A Ray worker killed in the middle of a step: the step and run are failed with a clear reason, and a
rerun serves the finished steps from the cache."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from modelplane.client import Client
from modelplane.enums import ExecutionStatus
from modelplane.errors import PipelineRunError, StepFailedError

from .resources import crash_pipeline

pytestmark = pytest.mark.ray


def _kill_when_ready(pid_file: Path, killed: list[int]) -> None:
    deadline = time.monotonic() + 120
    while not pid_file.exists() or not pid_file.read_text():
        if time.monotonic() > deadline:
            return
        time.sleep(0.1)
    pid = int(pid_file.read_text())
    os.kill(pid, signal.SIGKILL)
    killed.append(pid)


def test_killed_worker_fails_step_and_run_then_rerun_reuses_finished_steps(
    ray_cluster, client: Client, tmp_path: Path
) -> None:
    pid_file, release_file = tmp_path / "victim.pid", tmp_path / "release"
    killed: list[int] = []
    killer = threading.Thread(target=_kill_when_ready, args=(pid_file, killed), daemon=True)
    killer.start()
    with pytest.raises(StepFailedError) as caught:
        crash_pipeline(pid_file=str(pid_file), release_file=str(release_file))
    killer.join(timeout=5)
    assert killed, "the victim step never started"
    assert "victim" in str(caught.value)
    assert isinstance(caught.value.__cause__, PipelineRunError)
    assert "stopped before the step finished" in str(caught.value.__cause__)

    run = client.list_runs(pipeline="crash_pipeline").items[0]
    assert run.status is ExecutionStatus.FAILED
    steps = {s.name: s for s in client.list_step_runs(run.id)}
    assert steps["victim"].status is ExecutionStatus.FAILED
    assert steps["victim"].ended is not None
    assert "The Ray worker running step 'victim' stopped before the step finished" in steps["victim"].error
    assert "WorkerCrashedError" in steps["victim"].error
    assert steps["prepare"].status is ExecutionStatus.COMPLETED
    assert steps["sibling"].status is ExecutionStatus.COMPLETED  # the running sibling was waited for

    release_file.touch()
    rerun = crash_pipeline(pid_file=str(pid_file), release_file=str(release_file))
    again = {s.name: s for s in client.list_step_runs(rerun.id)}
    assert rerun.status is ExecutionStatus.COMPLETED
    assert again["prepare"].status is ExecutionStatus.CACHED
    assert again["sibling"].status is ExecutionStatus.CACHED
    assert again["prepare"].cached_from == steps["prepare"].id
    assert again["victim"].status is ExecutionStatus.COMPLETED
    assert client.load_artifact(again["victim"].outputs["survived"]) == 20
