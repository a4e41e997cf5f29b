"""A real ``modelplane server start`` process on a free loopback port, for tests that need one.

The server's output is drained by a thread (so a chatty access log never blocks it) and kept for
failure messages. Readiness is the line uvicorn prints once it listens, not a timed wait.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import threading
from pathlib import Path

from modelplane.metadata.http import HttpMetadataStore

__all__ = ["LiveServer", "free_port"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """``python -m modelplane server start`` over a SQLite file and an artifact folder in ``root``."""

    def __init__(
        self,
        root: Path,
        *,
        admin_owner: str = "admin",
        env_admin_token: bool = True,
        store_url: str | None = None,
        extra_args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # None: no MODELPLANE_ADMIN_TOKEN, so the first start on an empty store prints one.
        self.admin_token: str | None = "admin-" + secrets.token_urlsafe(24) if env_admin_token else None
        self.admin_owner = admin_owner
        self.store_url = store_url or f"sqlite:///{root / 'store.db'}"
        self.artifact_uri = str(root / "artifacts")
        self.extra_args = extra_args
        self.extra_env = env or {}
        self.lines: list[str] = []
        self.process: subprocess.Popen[str] | None = None

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "modelplane", "server", "start",
            "--port", str(self.port), "--store-url", self.store_url,
            "--artifact-uri", self.artifact_uri, "--no-access-log", *self.extra_args,
        ]  # fmt: skip

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPLANE_")}
        env.update(
            MODELPLANE_HOME=str(self.root / "home"),
            MODELPLANE_CONFIG=str(self.root / "server-config.json"),
            MODELPLANE_ADMIN_OWNER=self.admin_owner,
            **self.extra_env,
        )
        if self.admin_token is not None:
            env["MODELPLANE_ADMIN_TOKEN"] = self.admin_token
        return env

    def start(self) -> LiveServer:
        """Start the server (again, after ``kill``: on the same port and store) and wait until it
        listens."""
        first = len(self.lines)
        self.process = subprocess.Popen(
            self.command(),
            env=self.environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        ready = threading.Event()
        self._drainer = threading.Thread(target=self._drain, args=(ready,), daemon=True)
        self._drainer.start()
        ready.wait()
        if self.process.poll() is not None or not any(
            "Uvicorn running on" in line for line in self.lines[first:]
        ):
            self.stop()
            raise RuntimeError("The server did not start:\n" + self.log())
        return self

    def _drain(self, ready: threading.Event) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if "Uvicorn running on" in line:
                ready.set()
        ready.set()

    def log(self) -> str:
        return "\n".join(self.lines)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._drainer.join(timeout=15)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def kill(self, sig: int) -> None:
        """Send ``sig`` (SIGTERM: the server finishes what it is doing and stops; SIGKILL: it
        vanishes mid-request) and wait until the process has ended."""
        assert self.process is not None
        self.process.send_signal(sig)
        self.process.wait(timeout=60)
        self._drainer.join(timeout=15)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def store(self, token: str | None = None, project: str = "default") -> HttpMetadataStore:
        """An HTTP store on this server, with the admin token unless another is given, acting in
        ``project``."""
        secret = self.admin_token if token is None else token
        return HttpMetadataStore(self.url, token=secret, project=project)

    def client_env(self, token: str | None = None) -> dict[str, str]:
        """Environment variables that make the SDK and CLI use this server."""
        secret = self.admin_token if token is None else token
        assert secret is not None, "this server has no environment admin token: pass one"
        return {"MODELPLANE_STORE_URL": self.url, "MODELPLANE_API_TOKEN": secret}

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
