"""A driver interrupted (Ctrl-C) while a step runs on Ray cancels that task and records why."""

from __future__ import annotations

import _thread
import threading
import time
from pathlib import Path

import pytest

from modelplane.client import Client
from modelplane.enums import ExecutionStatus

from .resources import interrupted_pipeline

pytestmark = pytest.mark.ray


def _interrupt_when_running(pid_file: Path) -> None:
    deadline = time.monotonic() + 120
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    _thread.interrupt_main()


def test_interrupted_driver_cancels_the_running_step(ray_cluster, client: Client, tmp_path: Path) -> None:
    pid_file = tmp_path / "nap.pid"
    threading.Thread(target=_interrupt_when_running, args=(pid_file,), daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        interrupted_pipeline(pid_file=str(pid_file))
    run = client.list_runs(pipeline="interrupted_pipeline").items[0]
    assert run.status is ExecutionStatus.FAILED
    assert "KeyboardInterrupt" in (run.error or "")
    steps = {s.name: s for s in client.list_step_runs(run.id)}
    assert steps["long_nap"].status is ExecutionStatus.FAILED
    assert "abandoned by its driver (KeyboardInterrupt)" in steps["long_nap"].error
    assert _ends(int(pid_file.read_text())), "the step's worker process was not stopped"


def _ends(pid: int) -> bool:
    """Whether the process goes away (or becomes a zombie) within a minute."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state == "Z":
            return True
        time.sleep(0.2)
    return False
