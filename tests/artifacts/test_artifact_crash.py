"""A process killed while saving leaves no final artifact folder, only temp junk gc_temp removes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from modelplane.artifacts.store import TEMP_DIR, FsspecArtifactStore, new_artifact_id

pytestmark = pytest.mark.slow

ARRAY_ITEMS = 25_000_000  # 200 MB of float64

# The child saves a 200 MB array through save_value with the real numpy materializer; its
# folder wrapper writes half the data, says so, and waits to be killed.
PAUSING_CHILD = f"""
import sys
import numpy as np
from modelplane.artifacts.io import save_value
from modelplane.artifacts.store import FsspecArtifactStore
from modelplane.integrations.numpy import NdarrayMaterializer


class PausingFile:
    def __init__(self, inner):
        self.inner = inner

    def write(self, data):
        view = memoryview(data)
        if view.nbytes < 1 << 20:
            return self.inner.write(view)
        half = view.nbytes // 2
        self.inner.write(view[:half])
        self.inner.flush()
        print("half-written", flush=True)
        sys.stdin.readline()  # blocks until the parent kills us
        return self.inner.write(view[half:]) + half

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.inner.close()


class PausingFolder:
    def __init__(self, inner):
        self.inner = inner

    def open(self, name, mode="rb", **kwargs):
        return PausingFile(self.inner.open(name, mode, **kwargs))

    def local_path(self, name):
        return self.inner.local_path(name)


class PausingNdarrayMaterializer(NdarrayMaterializer):
    def save(self, value, folder):
        super().save(value, PausingFolder(folder))


store = FsspecArtifactStore(sys.argv[1])
save_value(store, sys.argv[2], np.ones({ARRAY_ITEMS}), materializer=PausingNdarrayMaterializer)
print("saved", flush=True)
"""

PLAIN_CHILD = f"""
import sys
import numpy as np
from modelplane.artifacts.io import save_value
from modelplane.artifacts.store import FsspecArtifactStore

array = np.ones({ARRAY_ITEMS})
store = FsspecArtifactStore(sys.argv[1])
print("saving", flush=True)
save_value(store, sys.argv[2], array)
print("saved", flush=True)
"""


def _start(script: str, root: str, artifact_id: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, root, artifact_id],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _kill(child: subprocess.Popen[str]) -> int:
    """SIGKILL the child; its exit code is 0 instead if it had already finished."""
    os.kill(child.pid, signal.SIGKILL)  # a finished but unreaped child is still a valid pid
    return child.wait()


def test_sigkill_mid_write_leaves_no_final_folder(tmp_path):
    root = str(tmp_path / "artifacts")
    artifact_id = new_artifact_id()
    child = _start(PAUSING_CHILD, root, artifact_id)

    line = child.stdout.readline().strip()
    assert line == "half-written", child.stderr.read()
    [temp] = os.listdir(os.path.join(root, TEMP_DIR))
    temp_file = os.path.join(root, TEMP_DIR, temp, "array.npy")
    assert os.path.getsize(temp_file) >= ARRAY_ITEMS * 8 // 2  # the kill lands mid-write
    assert _kill(child) == -signal.SIGKILL

    store = FsspecArtifactStore(root)
    assert not os.path.exists(os.path.join(root, artifact_id))
    assert not store.exists(store.uri_for(artifact_id))
    assert os.listdir(root) == [TEMP_DIR]
    assert store.gc_temp(max_age_seconds=-1) == 1
    assert os.listdir(os.path.join(root, TEMP_DIR)) == []


# Where the kill lands depends on timing; what is asserted holds wherever it lands.
@pytest.mark.parametrize("delay", [0.0, 0.25, 0.6], ids=["at once", "250ms", "600ms"])
def test_sigkill_at_any_moment_leaves_either_nothing_or_a_complete_folder(tmp_path, delay):
    root = str(tmp_path / "artifacts")
    artifact_id = new_artifact_id()
    child = _start(PLAIN_CHILD, root, artifact_id)

    line = child.stdout.readline().strip()
    assert line == "saving", child.stderr.read()
    time.sleep(delay)
    # Before, in the write, the hash or the rename, or just after; or the child already finished.
    returncode = _kill(child)
    assert returncode in (0, -signal.SIGKILL), child.stderr.read()

    final = os.path.join(root, artifact_id)
    assert os.path.exists(final) or returncode != 0
    if os.path.exists(final):
        # The rename happened: it is all or nothing, so the folder is complete.
        assert os.listdir(final) == ["array.npy"]
        assert os.path.getsize(os.path.join(final, "array.npy")) == ARRAY_ITEMS * 8 + 128
    FsspecArtifactStore(root).gc_temp(max_age_seconds=-1)
    temp_root = os.path.join(root, TEMP_DIR)
    assert not os.path.exists(temp_root) or os.listdir(temp_root) == []
