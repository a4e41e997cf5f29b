"""``deploy/entrypoint.sh``, run directly as the container would run it (no Docker daemon runs on
these machines): it waits for the database, migrates it, and execs the server, which answers
``/ready``. On SQLite in a temporary folder, and on a private PostgreSQL database (the one
``MODELPLANE_TEST_POSTGRES_URL`` names a server for) with two workers, where the entrypoint also
waits for a database that does not exist yet. The Dockerfile and compose file are checked for
what they refer to."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
import sqlalchemy as sa
import yaml

from modelplane.metadata.sql.engine import head_revision, make_engine
from tests.server.live import free_port
from tests.store.backends import POSTGRES_URL

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
TOKEN = "entrypoint-admin-token-0123456789"


class Entrypoint:
    """``deploy/entrypoint.sh`` in a child process, its stderr collected line by line."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        bin_dir = str(Path(sys.executable).parent)  # where this environment's `modelplane` is
        base = {k: v for k, v in os.environ.items() if not k.startswith("MODELPLANE_")}
        self.env = {
            **base,
            "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
            "MODELPLANE_HOST": "127.0.0.1",
            "MODELPLANE_PORT": str(self.port),
            "MODELPLANE_ADMIN_TOKEN": TOKEN,
            **env,
        }
        self.lines: list[str] = []

    def start(self) -> Entrypoint:
        self.process = subprocess.Popen(
            ["sh", str(DEPLOY / "entrypoint.sh")],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._drain = threading.Thread(target=self._read, daemon=True)
        self._drain.start()
        return self

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_until(self, predicate: Any, what: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert self.process.poll() is None, f"the entrypoint exited while waiting for {what}:\n{self.log()}"
            assert time.monotonic() < deadline, f"no {what} within {timeout} s:\n{self.log()}"
            time.sleep(0.1)

    def ready(self) -> httpx.Response | None:
        try:
            return httpx.get(f"{self.url}/ready", timeout=10)
        except httpx.HTTPError:
            return None

    def wait_ready(self) -> httpx.Response:
        self.wait_until(lambda: (answer := self.ready()) is not None and answer.status_code == 200, "200 from /ready")
        answer = self.ready()
        assert answer is not None
        return answer

    def command_line(self) -> list[str]:
        """What runs under the entrypoint's process id now (after ``exec``: the server)."""
        return Path(f"/proc/{self.process.pid}/cmdline").read_bytes().decode().rstrip("\0").split("\0")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._drain.join(timeout=10)
        return self.process.returncode

    def log(self) -> str:
        return "\n".join(self.lines)

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines]


@pytest.fixture
def entrypoints() -> Iterator[list[Entrypoint]]:
    started: list[Entrypoint] = []
    yield started
    for entrypoint in started:
        entrypoint.stop()


def test_the_entrypoint_migrates_a_sqlite_store_and_serves_it(tmp_path: Path, entrypoints: list[Entrypoint]) -> None:
    (tmp_path / "data").mkdir()
    store_url = f"sqlite:///{tmp_path / 'data' / 'store.db'}"
    entrypoint = Entrypoint(
        {"MODELPLANE_STORE_URL": store_url, "MODELPLANE_ARTIFACT_URI": str(tmp_path / "artifacts"),
         "MODELPLANE_HOME": str(tmp_path / "home")}
    ).start()  # fmt: skip
    entrypoints.append(entrypoint)

    ready = entrypoint.wait_ready()
    models = httpx.get(f"{entrypoint.url}/api/v1/models", headers={"Authorization": f"Bearer {TOKEN}"})
    running = entrypoint.command_line()
    entrypoint.stop()

    assert ready.json()["checks"] == {"database": "ok", "artifacts": "ok"}
    assert models.status_code == 200
    # The shell replaced itself by the server (exec), so SIGTERM reached the server, which shut
    # down cleanly (uvicorn then exits by the same signal, as process managers expect).
    assert running[-8:] == ["server", "start", "--host", "127.0.0.1", "--port", str(entrypoint.port), "--workers", "1"]
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{entrypoint.url}/health")
    records = entrypoint.records()  # every line is JSON, the entrypoint's own too
    assert records[-1]["message"].startswith("Finished server process")
    messages = [r["message"] for r in records if r["logger"] == "modelplane.entrypoint"]
    assert messages[0] == "the database answers; migrating it"
    assert messages[1].startswith("Upgraded") and head_revision() in messages[1]
    assert any(r.get("route") == "/api/v1/models" and r.get("user") == "admin" for r in records)
    engine = make_engine(store_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == head_revision()
    engine.dispose()


def test_the_entrypoint_gives_up_on_a_database_that_never_answers(tmp_path: Path) -> None:
    entrypoint = Entrypoint(
        {"MODELPLANE_STORE_URL": f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none",
         "MODELPLANE_ARTIFACT_URI": str(tmp_path / "artifacts"), "MODELPLANE_DB_WAIT_SECONDS": "2",
         "MODELPLANE_LOG_FORMAT": "text"}
    ).start()  # fmt: skip

    code = entrypoint.process.wait(timeout=120)
    entrypoint.stop()

    assert code == 1
    assert "waiting for the database (up to 2 s)" in entrypoint.log()
    assert "the database did not answer within 2 s" in entrypoint.log()
    assert "Connection refused" in entrypoint.log() or "connection failed" in entrypoint.log()


@pytest.mark.parametrize("missing", ["MODELPLANE_STORE_URL", "MODELPLANE_ARTIFACT_URI"])
def test_the_entrypoint_names_a_missing_setting(tmp_path: Path, missing: str) -> None:
    settings = {"MODELPLANE_STORE_URL": f"sqlite:///{tmp_path / 'store.db'}", "MODELPLANE_ARTIFACT_URI": str(tmp_path)}
    del settings[missing]
    entrypoint = Entrypoint(settings).start()

    code = entrypoint.process.wait(timeout=60)
    entrypoint.stop()

    assert code != 0 and f"set {missing}" in entrypoint.log()


def test_the_entrypoint_waits_for_postgresql_then_serves_it_with_two_workers(
    tmp_path: Path, entrypoints: list[Entrypoint]
) -> None:
    # A private database (named as tests/store/backends.py names them, so a killed session's is
    # dropped by the next), not created yet: creating it is what ends the wait.
    name = f"mp_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    url = sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    admin = make_engine(POSTGRES_URL)

    def database(statement: str) -> None:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(statement))

    entrypoint = Entrypoint(
        {"MODELPLANE_STORE_URL": url,
         "MODELPLANE_ARTIFACT_URI": str(tmp_path / "artifacts"), "MODELPLANE_HOME": str(tmp_path / "home"),
         "MODELPLANE_WORKERS": "2"}
    ).start()  # fmt: skip
    entrypoints.append(entrypoint)
    try:
        entrypoint.wait_until(lambda: "waiting for the database" in entrypoint.log(), "the wait")
        database(f'CREATE DATABASE "{name}"')
        ready = entrypoint.wait_ready()
        for _ in range(20):
            assert httpx.get(f"{entrypoint.url}/health").status_code == 200
        metrics = httpx.get(f"{entrypoint.url}/metrics").text
        entrypoint.stop()
    finally:
        entrypoint.stop()
        database(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    assert ready.json()["checks"] == {"database": "ok", "artifacts": "ok"}
    assert 'modelplane_http_requests_total{method="GET",route="/health",status="200"} 20.0' in metrics
    pids = {r["message"] for r in entrypoint.records() if r["message"].startswith("Started server process")}
    assert len(pids) == 2  # two workers, whose counts /metrics added up


def test_the_container_files_refer_to_what_exists() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    dockerfile = (DEPLOY / "Dockerfile").read_text()

    server = compose["services"]["server"]
    assert (DEPLOY / server["build"]["context"] / server["build"]["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    assert {"postgres", "minio", "bucket", "server"} <= compose["services"].keys()
    assert server["environment"]["MODELPLANE_STORE_URL"].startswith("postgresql+psycopg://")
    assert server["environment"]["MODELPLANE_ARTIFACT_URI"].startswith("s3://")
    for copied in ("deploy/entrypoint.sh", "frontend/package-lock.json", "pyproject.toml"):
        assert copied in dockerfile and (ROOT / copied).exists()
    assert "\nUSER modelplane\n" in dockerfile and 'ENTRYPOINT ["modelplane-entrypoint"]' in dockerfile
    assert os.access(DEPLOY / "entrypoint.sh", os.X_OK)
