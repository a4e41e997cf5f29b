"""A run whose process dies without finishing it (SIGKILL, OOM killer) does not stay ``running``:
the next pipeline call, ``modelplane run reap`` or ``Client.reap_abandoned_runs`` on that machine
marks it failed, with the reason, while runs whose process is alive are left alone. Reading runs
never does. Silence is judged by the store's clock, which these tests move instead of sleeping."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from modelplane.cli import main
from modelplane.client import Client, close_open_stores
from modelplane.config import load_settings
from modelplane.enums import ExecutionStatus
from modelplane.metadata.sql.store import SqlMetadataStore
from modelplane.processes import current_host

pytestmark = pytest.mark.slow
FAST_BEAT = 0.1  # seconds; 20 missed beats (2 s) make a run lost

SCRIPT = '''
import sys, time
from pathlib import Path
from modelplane import Model, pipeline, step

@step
def load() -> int:
    return 1

@step
def stall(x: int) -> int:
    Path(sys.argv[1]).write_text("started")
    time.sleep(600)
    return x

@step
def after(x: int) -> int:
    return x

DISCARD = sys.argv[2] == "discard"

@pipeline(enable_cache=False, model=Model(name="stalled_model", delete_new_version_on_failure=DISCARD))
def stalling():
    after(stall(load()))

stalling()
'''


@pytest.fixture
def stalled(
    tmp_path: Path, mp_home: Path, request: pytest.FixtureRequest
) -> Iterator[subprocess.Popen[bytes]]:
    """A pipeline process stuck in its second step (alive until the test kills it); its model
    version is discarded on failure unless the test is marked ``keep_version``."""
    script, marker = tmp_path / "stall.py", tmp_path / "started"
    script.write_text(textwrap.dedent(SCRIPT))
    mode = "keep" if request.node.get_closest_marker("keep_version") else "discard"
    env = dict(os.environ)
    if request.node.get_closest_marker("fast_heartbeat"):
        env["MODELPLANE_HEARTBEAT_SECONDS"] = str(FAST_BEAT)
    child = subprocess.Popen([sys.executable, str(script), str(marker), mode], env=env)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, "the pipeline ended before its step stalled"
            assert time.monotonic() < deadline, "the stalling step never started"
            time.sleep(0.02)
        yield child
    finally:
        child.kill()
        child.wait()


def _wait_until_dead(pid: int) -> None:
    """Until the kernel has ended ``pid`` (a zombie, not yet waited for, counts as dead)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return
        if state in ("Z", "X"):
            return
        assert time.monotonic() < deadline, f"process {pid} did not die"
        time.sleep(0.01)


def _clocked(now: dt.datetime) -> SqlMetadataStore:
    """The test's store opened with a clock standing still at ``now``."""
    return SqlMetadataStore(load_settings().store_url, clock=lambda: now)


def _only_run(client: Client):  # noqa: ANN202 - RunRecord
    runs = client.list_runs(pipeline="stalling").items
    assert len(runs) == 1
    return runs[0]


def test_a_live_run_is_left_alone_and_a_killed_one_is_marked_failed(
    stalled: subprocess.Popen[bytes],
) -> None:
    client = Client(load_settings())
    run = _only_run(client)
    assert (run.host, run.pid, run.status) == (current_host(), stalled.pid, ExecutionStatus.RUNNING)
    assert client.get_model_version("stalled_model", 1).id == run.model_version_id

    assert client.reap_abandoned_runs() == []  # its process is alive
    assert _only_run(client).status is ExecutionStatus.RUNNING

    stalled.send_signal(signal.SIGKILL)  # not reaped yet: a zombie is dead too
    _wait_until_dead(stalled.pid)
    assert client.get_run(run.id).status is ExecutionStatus.RUNNING  # reading changes nothing
    assert _only_run(client).status is ExecutionStatus.RUNNING

    marked = client.reap_abandoned_runs()

    assert [r.id for r in marked] == [run.id]
    after = client.get_run(run.id)
    assert after.status is ExecutionStatus.FAILED
    assert f"process {stalled.pid} on {current_host()}" in (after.error or "")
    assert "killed or crashed" in (after.error or "")
    steps = {s.name: s for s in client.list_step_runs(run.id)}
    assert steps["load"].status is ExecutionStatus.COMPLETED
    assert steps["stall"].status is ExecutionStatus.FAILED
    assert steps["stall"].error == after.error
    assert "after" not in steps  # never started
    # The model asked for its new version to go when the run fails; the dead process could not.
    assert client.list_model_versions("stalled_model").total == 0
    assert client.reap_abandoned_runs() == []  # once


@pytest.mark.keep_version
def test_run_list_only_reads_and_run_reap_marks_a_killed_run_failed(
    stalled: subprocess.Popen[bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no project store above: MODELPLANE_HOME decides
    stalled.kill()
    stalled.wait()
    close_open_stores()

    listed = CliRunner().invoke(main, ["run", "list", "-o", "json"], catch_exceptions=False)
    assert listed.exit_code == 0, listed.output
    assert [item["status"] for item in json.loads(listed.stdout)["items"]] == ["running"]

    reaped = CliRunner().invoke(main, ["run", "reap"], catch_exceptions=False)
    assert reaped.exit_code == 0, reaped.output
    assert "Marked run" in reaped.stdout and "failed" in reaped.stdout

    listed = CliRunner().invoke(main, ["run", "list", "-o", "json"], catch_exceptions=False)
    (item,) = json.loads(listed.stdout)["items"]
    assert item["status"] == "failed"
    assert item["pid"] == stalled.pid and item["host"] == current_host()
    assert item["error"].startswith("Abandoned: process")
    described = CliRunner().invoke(main, ["run", "describe", item["name"]], catch_exceptions=False)
    assert described.exit_code == 0
    assert f"{stalled.pid} on {current_host()}" in described.stdout
    # Without delete_new_version_on_failure the failed run's version stays, as after any failure.
    assert Client(load_settings()).get_model_version("stalled_model", 1).number == 1
    again = CliRunner().invoke(main, ["run", "reap"], catch_exceptions=False)
    assert "No abandoned runs." in again.stdout


def test_the_next_pipeline_call_marks_a_killed_run_failed(
    stalled: subprocess.Popen[bytes], caplog: pytest.LogCaptureFixture
) -> None:
    from tests.pipelines.resources.shapes import linear_pipeline

    stalled.kill()
    stalled.wait()

    with caplog.at_level("WARNING", logger="modelplane"):
        linear_pipeline()

    client = Client(load_settings())
    stale = _only_run(client)
    assert stale.status is ExecutionStatus.FAILED
    assert stale.name in caplog.text and "marked it failed" in caplog.text


def test_a_pid_reused_by_a_newer_process_does_not_keep_a_run_alive(mp_home: Path) -> None:
    client = Client(load_settings())
    pipeline = client.save_pipeline("stalling", {})
    newcomer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        # A run recorded an hour ago by a process whose pid now belongs to one started just now.
        run = client.create_run(
            pipeline_id=pipeline.id, host=current_host(), pid=newcomer.pid
        )
        engine = sa.create_engine(load_settings().store_url)
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE pipeline_runs SET created = :then WHERE id = :id"),
                {"then": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(hours=1), "id": run.id},
            )
        engine.dispose()
        other_host = client.create_run(pipeline_id=pipeline.id, host="elsewhere", pid=1)

        assert [r.id for r in client.reap_abandoned_runs()] == [run.id]
        assert client.get_run(other_host.id).status is ExecutionStatus.RUNNING  # not ours to judge
    finally:
        newcomer.kill()
        newcomer.wait()


@pytest.mark.fast_heartbeat
def test_a_run_whose_process_froze_is_marked_failed_once_its_heartbeats_stop(
    stalled: subprocess.Popen[bytes],
) -> None:
    client = Client(load_settings())
    run = _only_run(client)
    assert run.heartbeat_seconds == FAST_BEAT
    deadline = time.monotonic() + 30
    while client.get_run(run.id).heartbeat == run.heartbeat:  # it beats while its step runs
        assert time.monotonic() < deadline, "no heartbeat in 30 s"
        time.sleep(FAST_BEAT)

    stalled.send_signal(signal.SIGSTOP)  # alive to the OS, silent to the store: a lost machine
    try:
        last = client.get_run(run.id).heartbeat
        assert last is not None
        # Nineteen periods of silence later it is still given the benefit of the doubt...
        store = _clocked(last + dt.timedelta(seconds=19 * FAST_BEAT))
        assert store.reap_abandoned_runs() == []
        store.close()
        # ...twenty-one later it is taken for lost.
        store = _clocked(last + dt.timedelta(seconds=21 * FAST_BEAT))
        marked = store.reap_abandoned_runs()
        store.close()
    finally:
        stalled.send_signal(signal.SIGCONT)

    assert [r.id for r in marked] == [run.id]
    assert "sent no heartbeat since" in (marked[0].error or "")
    assert client.get_run(run.id).status is ExecutionStatus.FAILED


def test_a_silent_run_from_another_machine_is_failed_and_a_talking_one_is_not(mp_home: Path) -> None:
    start = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
    store = _clocked(start)
    pipeline = store.save_pipeline("remote", {})
    silent = store.create_run(pipeline_id=pipeline.id, host="gpu-node-7", pid=4242, heartbeat_seconds=30)
    talking = store.create_run(pipeline_id=pipeline.id, host="gpu-node-8", pid=4242, heartbeat_seconds=30)
    legacy = store.create_run(pipeline_id=pipeline.id, host="gpu-node-9", pid=4242)
    store.close()
    for minute in range(1, 12):  # the talking one beats every minute for 11 minutes
        store = _clocked(start + dt.timedelta(minutes=minute))
        store.heartbeat_run(talking.id)
        store.close()

    store = _clocked(start + dt.timedelta(minutes=11))  # 20 beats of 30 s are 10 minutes
    marked = store.reap_abandoned_runs()
    store.close()

    client = Client(load_settings())
    assert [r.id for r in marked] == [silent.id]
    assert "process 4242 on gpu-node-7 sent no heartbeat" in (marked[0].error or "")
    assert client.get_run(talking.id).status is ExecutionStatus.RUNNING
    assert client.get_run(legacy.id).status is ExecutionStatus.RUNNING  # no interval: not judged
