"""A run killed with SIGKILL while a step writes a large artifact leaves no metadata pointing at
partial bytes: every recorded artifact version is complete, and the half-written one is not recorded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from modelplane.client import Client
from modelplane.config import load_settings

pytestmark = pytest.mark.slow

SCRIPT = '''
import numpy as np
from typing import Annotated
from modelplane import pipeline, step

@step
def small() -> Annotated[int, "small_output"]:
    return 7

@step
def big(x: int) -> Annotated[object, "big_output"]:
    return np.ones(60_000_000)  # 480 MB

@pipeline(enable_cache=False)
def crashing():
    big(small())

crashing()
'''


def _temp_bytes(artifacts: Path) -> int:
    tmp = artifacts / ".tmp"
    if not tmp.exists():
        return 0
    return sum(f.stat().st_size for f in tmp.rglob("*") if f.is_file())


def test_sigkill_mid_write_leaves_no_metadata_for_partial_bytes(tmp_path: Path, mp_home: Path) -> None:
    script = tmp_path / "crash.py"
    script.write_text(textwrap.dedent(SCRIPT))
    artifacts = Path(load_settings().artifact_uri)
    child = subprocess.Popen([sys.executable, str(script)], env=dict(os.environ))
    try:
        deadline = time.monotonic() + 120
        while _temp_bytes(artifacts) < 50_000_000:  # the big array is being written
            assert child.poll() is None, "the pipeline finished before it could be killed"
            assert time.monotonic() < deadline, "the big artifact never started to be written"
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
    client = Client(load_settings())
    versions = client.list_artifact_versions().items
    assert [v.name for v in versions] == ["small_output"]
    for version in versions:  # every record points at complete bytes
        assert client.load_artifact_version(version) == 7
    step_runs = {s.name: s for s in client.list_step_runs(client.list_runs().items[0].id)}
    assert step_runs["big"].outputs == {}
