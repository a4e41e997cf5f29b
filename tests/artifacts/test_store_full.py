"""A store without room is blamed as such, not on the materializer (a real limit: RLIMIT_FSIZE)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import modelplane

SCRIPT = textwrap.dedent(
    """
    import resource, signal
    from modelplane import pipeline, step
    from modelplane.errors import StepFailedError

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-big write then fails with EFBIG
    limit = 2 << 20
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    @step
    def big() -> bytes:
        return b"x" * (8 << 20)

    @pipeline
    def fill():
        big()

    try:
        fill()
    except StepFailedError as exc:
        print("ERROR", type(exc.__cause__ or exc).__name__, exc)
    """
)


@pytest.mark.skipif(sys.platform != "linux", reason="uses RLIMIT_FSIZE and SIGXFSZ")
def test_a_full_store_is_named_with_what_to_do(mp_home: Path, tmp_path: Path) -> None:
    script = tmp_path / "fill.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(Path(modelplane.__file__).parents[1])}
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "ERROR" in done.stdout, done.stdout + done.stderr
    message = done.stdout.split("ERROR", 1)[1]
    assert f"The artifact store {mp_home / 'artifacts'} could not take the value" in message
    assert "File too large" in message
    assert "could not save a value" not in message  # not the materializer's fault
    assert not [p for p in (mp_home / "artifacts").iterdir() if p.name != ".tmp"]
