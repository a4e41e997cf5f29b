"""A real ``modelplane serve`` process over the test's own store, and a client sending requests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
ONE_ROW = {"dataframe_split": {"columns": ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"], "data": [[5.1, 3.5, 1.4, 0.2]]}}
VERSION_HEADER = "x-modelplane-model-version"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Served:
    """A running service: its URL, its process and its log."""

    def __init__(self, process: subprocess.Popen[str], url: str, log: Path) -> None:
        self.process, self.url, self.log = process, url, log
        self.http = httpx.Client(base_url=url, timeout=30)  # one connection, kept alive

    def post(self, body: Any = ONE_ROW, **kwargs: Any) -> httpx.Response:
        return self.http.post("/invocations", json=body, **kwargs)

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        self.http.close()
        if self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=60)

    def output(self) -> str:
        return self.log.read_text()


def service_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT)])
    return env


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """``serve("iris", "--stage", "production")``: start a service and wait until it is ready.
    ``env`` adds variables (a Ray cluster's token)."""
    started: list[Served] = []

    def start(*args: str, ready: bool = True, env: dict[str, str] | None = None) -> Served:
        port = free_port()
        log = tmp_path / f"serve-{port}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "modelplane", "serve", *args, "--port", str(port),
             "--poll-seconds", "0.2", "--report-seconds", "0.5"],
            stdout=log.open("w"), stderr=subprocess.STDOUT, env={**service_env(), **(env or {})}, text=True,
        )
        served = Served(process, f"http://127.0.0.1:{port}", log)
        started.append(served)

        def up() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"the service exited: {log.read_text()}")
            try:
                answer = httpx.get(f"{served.url}/{'ready' if ready else 'health'}", timeout=2)
            except httpx.TransportError:
                return False
            return answer.status_code == 200

        wait_for(up, 180, "the service to be ready")
        return served

    yield start
    for served in started:
        served.stop()


class Load:
    """A client sending requests one after another on its own thread, recording each answer."""

    def __init__(self, served: Served, body: Any = ONE_ROW) -> None:
        self.served, self.body = served, body
        self.answers: list[tuple[float, int, str | None]] = []  # (monotonic time, status, version)
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._send, daemon=True)

    def _send(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                try:
                    answer = client.post(f"{self.served.url}/invocations", json=self.body)
                except httpx.TransportError as exc:
                    self.failures.append(repr(exc))
                    continue
                self.answers.append((time.monotonic(), answer.status_code, answer.headers.get(VERSION_HEADER)))
                if answer.status_code != 200:
                    self.failures.append(f"{answer.status_code}: {answer.text}")

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def first_answer_from(self, version: str, after: float) -> float:
        """When version ``version`` first answered after the moment ``after``."""
        def seen() -> float | None:
            for moment, _, served_by in list(self.answers):
                if moment >= after and served_by == version:
                    return moment
            return None

        return float(wait_for(seen, 30, f"an answer from version {version}"))
