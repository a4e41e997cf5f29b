"""A step's logging reaches the console as without modelplane, and its output is stored while it
runs, so ``modelplane run logs RUN --step S --follow`` shows it as it comes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import modelplane
from modelplane.client import Client
from modelplane.enums import ExecutionStatus

SCRIPT = Path(__file__).parent / "resources" / "slow_logger.py"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(modelplane.__file__).parents[1])
    return env


def test_logging_in_a_step_shows_on_the_console_and_is_stored(tmp_path: Path, client: Client) -> None:
    signal = tmp_path / "go"
    signal.touch()
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(signal)], env=_env(), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "a warning from a step" in done.stderr
    assert "a warning from the root logger" in done.stderr
    assert done.stderr.count("a warning from a step") == 1
    assert "first line" in done.stdout and "second line" in done.stdout
    (step_run,) = client.list_step_runs(client.list_runs(pipeline="slow_pipeline").items[0].id)
    logs = client.get_step_logs(step_run.id)
    assert "a warning from a step" in logs and "second line" in logs


def _wait_for(condition, seconds: float = 30.0):  # noqa: ANN001, ANN202 - a tiny poller
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def test_logs_are_stored_while_the_step_runs_and_follow_prints_them_until_it_ends(
    tmp_path: Path, client: Client
) -> None:
    signal = tmp_path / "go"
    client.list_pipelines()  # the store exists (migrated) before two processes open it
    pipeline_process = subprocess.Popen(
        [sys.executable, str(SCRIPT), str(signal)], env=_env(),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:

        def running_step():  # noqa: ANN202
            runs = client.list_runs(pipeline="slow_pipeline").items if client_has_pipeline(client) else []
            steps = client.list_step_runs(runs[0].id) if runs else []
            return (runs[0].name, steps[0]) if steps else None

        run_name, step_run = _wait_for(running_step)
        # Stored while the step is still running (it waits for the signal file).
        _wait_for(lambda: "first line" in client.get_step_logs(step_run.id))
        assert client.get_step_run(step_run.id).status is ExecutionStatus.RUNNING

        follower = subprocess.Popen(
            [sys.executable, "-m", "modelplane", "run", "logs", run_name, "--step", "slow", "--follow"],
            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        time.sleep(1.0)
        assert follower.poll() is None  # still following: the step has not ended
        signal.touch()
        out, err = follower.communicate(timeout=60)
        assert follower.returncode == 0, err
        assert out.count("first line") == 1 and out.count("second line") == 1
        assert out.index("first line") < out.index("second line")
    finally:
        signal.touch()
        pipeline_process.wait(timeout=60)
    assert pipeline_process.returncode == 0, pipeline_process.stderr.read() if pipeline_process.stderr else ""


def client_has_pipeline(client: Client) -> bool:
    return any(p.name == "slow_pipeline" for p in client.list_pipelines().items)
