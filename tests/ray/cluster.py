"""A real Ray cluster for the tests: ``ray start --head`` plus one worker node process, once per session.

The head gets no CPUs (as on a production head node), so every step task runs in the worker node's
processes. Both nodes get the AWS settings of the session's moto S3 and a Ray auth token, and none
of the MODELPLANE_* variables: workers learn the stores from the settings sent with each task.
Only the processes started here are stopped (SIGTERM to the blocking ``ray start``, which drains
its node and stops its children).
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.s3.moto_server import MotoServer, free_port, shared_moto

__all__ = ["RayCluster", "require_ray", "shared_cluster"]

RAY = str(Path(sys.executable).with_name("ray"))
WORKER_CPUS = 4  # a 2-core machine, but the test steps mostly sleep: room for 4 at once


class RayCluster:
    def __init__(self, moto: MotoServer, timeout: float = 180.0) -> None:
        self.moto = moto
        # Short: Ray puts unix sockets under it (108-byte path limit).
        self.temp_dir = Path(tempfile.mkdtemp(prefix="mpray-", dir="/tmp"))
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16)}
        base = {k: v for k, v in os.environ.items() if not k.startswith(("MODELPLANE_", "AWS_", "RAY_"))}
        self.node_env = {**base, **moto.env, **self.auth, "RAY_USAGE_STATS_ENABLED": "0"}
        self.processes: list[subprocess.Popen] = []
        self.connected = False
        try:
            self._start_node(
                "head",
                ["--head", f"--port={self.port}", "--num-cpus=0", "--include-dashboard=false",
                 "--disable-usage-stats", f"--temp-dir={self.temp_dir}"],
            )
            self._wait(lambda: _port_open(self.port), timeout, "the head node's GCS port")
            self._start_node("worker", [f"--address={self.address}", f"--num-cpus={WORKER_CPUS}"])
        except BaseException:
            self.stop()
            raise

    def _start_node(self, name: str, args: list[str]) -> None:
        log = (self.temp_dir / f"{name}.log").open("wb")
        self.processes.append(
            subprocess.Popen(
                [RAY, "start", "--block", *args], env=self.node_env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    def _wait(self, ready, timeout: float, what: str) -> None:  # noqa: ANN001
        deadline = time.monotonic() + timeout
        while not ready():
            dead = [p for p in self.processes if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise RuntimeError(f"Ray test cluster: no {what}.\n{self.logs()}")
            time.sleep(0.3)

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}" for path in sorted(self.temp_dir.glob("*.log"))
        )

    @property
    def driver_env(self) -> dict[str, str]:
        """What a driver process needs besides MODELPLANE_*: the Ray token (and S3 settings)."""
        return {**self.auth, **self.moto.env, "RAY_USAGE_STATS_ENABLED": "0"}

    def connect(self, timeout: float = 180.0) -> None:
        """Connect this (pytest) process as a driver and wait until both nodes are alive."""
        if self.connected:
            return
        already_imported = "ray" in sys.modules
        os.environ.update(self.auth)  # Ray reads its token settings once: set them before importing it
        import ray

        if already_imported:
            _reload_ray_auth_settings()

        ray.init(address=self.address, log_to_driver=True)
        self.connected = True
        self._wait(lambda: sum(1 for n in ray.nodes() if n["Alive"]) >= 2, timeout, "worker node")

    def stop(self) -> None:
        if self.connected:
            import ray

            ray.shutdown()
            self.connected = False
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def _reload_ray_auth_settings() -> None:
    """Make an already imported Ray see the token settings just put in the environment."""
    from ray._private.authentication.authentication_token_setup import Config
    from ray._raylet import AuthenticationTokenLoader

    Config.initialize("")
    AuthenticationTokenLoader.instance().reset_cache()


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


_SHARED: RayCluster | None = None


def require_ray() -> None:
    """Skip when Ray is not installed, unless MODELPLANE_TEST_ORCHESTRATORS asks for it: then fail.

    Checked without importing Ray, which must see its token settings (set by ``connect``) first.
    """
    import importlib.util

    import pytest

    if importlib.util.find_spec("ray") is not None:
        return
    message = "the ray orchestrator needs `pip install 'modelplane[ray]'`"
    if "ray" in os.environ.get("MODELPLANE_TEST_ORCHESTRATORS", "").split(","):
        pytest.fail(f"MODELPLANE_TEST_ORCHESTRATORS names ray, but {message}")
    pytest.skip(message)


def shared_cluster() -> RayCluster:
    """The session's cluster, connected to this process; started on first use, stopped at exit."""
    global _SHARED
    if _SHARED is None:
        _SHARED = RayCluster(shared_moto())
        atexit.register(_SHARED.stop)
    _SHARED.connect()
    return _SHARED
