"""The same tiny pipelines, run end to end on a real store, give the answers their oracles predict."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from modelplane.client import Client
from modelplane.enums import ExecutionStatus
from modelplane.errors import StepFailedError

from .resources.shapes import SHAPES, failing_pipeline


def _step_values(client: Client, run_id: str) -> dict[str, object]:
    values: dict[str, object] = {}
    for step_run in client.list_step_runs(run_id):
        outputs = [client.load_artifact(av_id) for av_id in step_run.outputs.values()]
        values[step_run.name] = outputs[0] if len(outputs) == 1 else dict(zip(step_run.outputs, outputs))
    return values


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_pipeline_shape_gives_oracle_answer(shape: str, orchestrator: str, client: Client) -> None:
    pipe, oracle = SHAPES[shape]
    run = pipe.with_options(orchestrator=orchestrator)()
    assert run.status is ExecutionStatus.COMPLETED
    assert run.orchestrator == orchestrator
    assert _step_values(client, run.id) == oracle()
    steps = client.list_step_runs(run.id)
    assert all(s.status is ExecutionStatus.COMPLETED for s in steps)
    assert all(s.ended is not None for s in steps)


def test_parameters_reach_steps_and_are_recorded(orchestrator: str, client: Client) -> None:
    pipe, oracle = SHAPES["diamond"]
    run = pipe.with_options(orchestrator=orchestrator)(start=11)
    assert run.parameters == {"start": 11}
    assert _step_values(client, run.id) == oracle(11)
    by_name = {s.name: s for s in client.list_step_runs(run.id)}
    assert by_name["make_number"].parameters == {"value": 11}
    assert set(by_name["bottom"].upstream) == {"double", "add"}
    assert set(by_name["bottom"].inputs) == {"a", "b"}


def test_every_output_is_a_new_artifact_version(client: Client) -> None:
    pipe, _ = SHAPES["tuple"]
    pipe()
    pipe()
    low = client.get_artifact_version("low")
    assert low.version == 2
    assert client.get_artifact_version("low", 1).version == 1
    assert client.load_artifact("high", 1) == 8
    assert low.producer_step_run_id is not None
    assert low.size > 0 and len(low.content_hash) >= 32


def test_failing_step_marks_run_failed_and_skips_downstream(orchestrator: str, client: Client) -> None:
    with pytest.raises(StepFailedError) as caught:
        failing_pipeline.with_options(orchestrator=orchestrator)()
    message = str(caught.value)
    assert "failing_pipeline" in message and "explode" in message and "boom at 1" in message
    assert isinstance(caught.value.__cause__, RuntimeError)
    run = client.list_runs(pipeline="failing_pipeline").items[0]
    assert run.status is ExecutionStatus.FAILED
    assert run.name in message
    steps = {s.name: s for s in client.list_step_runs(run.id)}
    assert steps["make_number"].status is ExecutionStatus.COMPLETED
    assert steps["explode"].status is ExecutionStatus.FAILED
    assert "RuntimeError: boom at 1" in (steps["explode"].error or "")
    assert "double" not in steps  # downstream of the failure never ran


def test_step_output_is_captured_per_step_run(client: Client) -> None:
    from .resources.chatty import chatty_pipeline

    run = chatty_pipeline()
    steps = {s.name: s for s in client.list_step_runs(run.id)}
    logs = client.get_step_logs(steps["chatty"].id)
    assert "printed to stdout" in logs
    assert "printed to stderr" in logs
    assert "a warning from logging" in logs
    assert "printed to stdout" not in client.get_step_logs(steps["quiet"].id)


def test_step_logs_leave_out_threads_that_were_running_before_the_step(client: Client) -> None:
    # As Ray's log forwarding in a process connected to a cluster: it prints whenever it likes.
    from .resources.chatty import threaded_pipeline

    stop = threading.Event()

    def chatter() -> None:
        while not stop.is_set():
            print("from a thread that was running before")
            logging.getLogger("other.library").warning("logged by that thread")
            time.sleep(0.01)

    background = threading.Thread(target=chatter, daemon=True)
    background.start()
    try:
        run = threaded_pipeline()
    finally:
        stop.set()
        background.join()

    (step,) = client.list_step_runs(run.id)
    logs = client.get_step_logs(step.id)
    assert "from a thread the step started" in logs
    assert "running before" not in logs and "logged by that thread" not in logs


def test_step_called_outside_a_pipeline_just_runs() -> None:
    from .resources.shapes import add

    assert add(2, 3) == 5
    assert add(a=1, b=1) == 2


def test_runs_are_listed_newest_first_and_filtered(client: Client) -> None:
    pipe, _ = SHAPES["linear"]
    first = pipe()
    second = pipe()
    with pytest.raises(StepFailedError):
        failing_pipeline()
    names = [r.id for r in client.list_runs(pipeline=pipe.name).items]
    assert names == [second.id, first.id]
    failed = client.list_runs(status="failed").items
    assert [r.pipeline_name for r in failed] == ["failing_pipeline"]
    page = client.list_runs(limit=1)
    assert page.total == 3 and len(page.items) == 1
