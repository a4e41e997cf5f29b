"""The server's commands: `server start` (first token, --daemon, status, stop), `token …`, `login`."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from modelplane.cli import main
from modelplane.config import load_settings
from modelplane.metadata.sql.store import SqlMetadataStore
from tests.server.live import LiveServer, free_port


def _cli(args: list[str], env: dict[str, str] | None = None, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, args, env=env, input=input, catch_exceptions=False)


def test_login_checks_the_token_and_saves_url_and_token(
    live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MODELPLANE_HOME", raising=False)
    monkeypatch.chdir(tmp_path)  # no .modelplane/ here: nothing nearer than the login
    result = _cli(["login", live_server.url, "--token", live_server.admin_token or ""])

    assert result.exit_code == 0, result.output
    assert "as 'admin'" in result.output and "Note:" not in result.stderr
    settings = load_settings()
    assert settings.store_url == live_server.url
    assert settings.api_token == live_server.admin_token
    assert settings.is_remote


def test_a_login_saved_under_modelplane_home_says_it_does_not_apply_there(
    live_server: LiveServer, mp_home: Path
) -> None:
    result = _cli(["login", live_server.url, "--token", live_server.admin_token or ""])

    assert result.exit_code == 0
    assert "MODELPLANE_HOME is set, so commands here still use sqlite:///" in result.stderr
    settings = load_settings()
    assert not settings.is_remote and settings.unused_login == live_server.url


def test_login_with_a_wrong_token_fails_and_saves_nothing(
    live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MODELPLANE_HOME", raising=False)
    monkeypatch.chdir(tmp_path)  # where a saved login would apply
    result = _cli(["login", live_server.url, "--token", "mp_wrong"])

    assert result.exit_code == 1
    assert "unknown or revoked" in result.output
    assert not load_settings().is_remote


def test_logout_forgets_the_server(
    live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MODELPLANE_HOME", raising=False)
    monkeypatch.chdir(tmp_path)  # where a saved login applies
    _cli(["login", live_server.url, "--token", live_server.admin_token or ""])
    assert load_settings().is_remote

    result = _cli(["login", "--logout"])

    assert result.exit_code == 0
    assert not load_settings().is_remote


def test_token_create_list_and_revoke_through_the_server(live_server: LiveServer) -> None:
    env = live_server.client_env()

    created = _cli(["token", "create", "carol", "-o", "json"], env=env)
    payload = json.loads(created.stdout)
    secret, token_id = payload["secret"], payload["token"]["id"]
    listed = json.loads(_cli(["token", "list", "-o", "json"], env=env).stdout)
    as_carol = live_server.store(token=secret)
    owner = as_carol.whoami().owner
    as_carol.close()
    revoked = _cli(["token", "revoke", token_id, "-y"], env=env)
    after = httpx.get(f"{live_server.url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"})

    assert created.exit_code == 0 and secret.startswith("mp_")
    assert token_id in [t["id"] for t in listed["items"]]
    assert all("secret" not in t for t in listed["items"])
    assert owner == "carol"
    assert revoked.exit_code == 0 and "Revoked" in revoked.output
    assert after.status_code == 401


def test_token_commands_work_on_the_database_directly(tmp_path: Path) -> None:
    env = {"MODELPLANE_STORE_URL": f"sqlite:///{tmp_path / 'store.db'}"}

    created = _cli(["token", "create", "dave"], env=env)
    listed = _cli(["token", "list"], env=env)

    assert created.exit_code == 0 and "shown only now" in created.output
    assert "dave" in listed.output


def test_the_first_start_prints_an_admin_token_once(tmp_path: Path) -> None:
    first = LiveServer(tmp_path, env_admin_token=False)
    with first:
        printed = re.search(r"^\s+(mp_\S+)$", first.log(), re.MULTILINE)
        assert printed is not None, first.log()
        me = httpx.get(f"{first.url}/api/v1/me", headers={"Authorization": f"Bearer {printed.group(1)}"})
        assert me.status_code == 200 and me.json()["owner"] == "admin"
    second = LiveServer(tmp_path, env_admin_token=False)
    with second:
        assert "mp_" not in second.log()
        assert "first API token" not in second.log()


def test_a_short_admin_token_from_the_environment_is_refused(tmp_path: Path) -> None:
    server = LiveServer(tmp_path, env={"MODELPLANE_ADMIN_TOKEN": "short"})
    server.admin_token = None

    with pytest.raises(RuntimeError, match="too short"):
        server.start()


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelplane", *args], env=env, capture_output=True, text=True, timeout=120
    )


def _server_env(tmp_path: Path) -> dict[str, str]:
    """A `server start` on an empty SQLite store with no MODELPLANE_ADMIN_TOKEN (a first start)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPLANE_")}
    env.update(MODELPLANE_HOME=str(tmp_path / "home"), MODELPLANE_CONFIG=str(tmp_path / "c.json"))
    return env


def test_start_on_a_busy_port_fails_before_making_a_token(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = _run(
            ["server", "start", "--port", str(port), "--store-url", f"sqlite:///{store}"],
            _server_env(tmp_path),
        )

    assert started.returncode == 1
    assert f"Cannot listen on 127.0.0.1:{port}" in started.stderr
    assert "--port" in started.stderr
    assert "first API token" not in started.stderr
    opened = SqlMetadataStore(f"sqlite:///{store}")
    try:
        assert opened.list_tokens() == []
    finally:
        opened.close()


def test_start_without_the_server_extra_names_it(tmp_path: Path) -> None:
    # As after `pip install modelplane` alone: the [server] extra's packages are not found.
    program = """
import sys

class WithoutTheServerExtra:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("fastapi", "fastapi_offline", "starlette", "uvicorn"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, WithoutTheServerExtra())
from modelplane.cli import main
main(["server", "start", "--port", sys.argv[1]], prog_name="modelplane")
"""

    ran = subprocess.run(
        [sys.executable, "-c", program, str(free_port())],
        env=_server_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert ran.returncode == 1
    assert "needs the Python package 'starlette'" in ran.stderr
    assert "pip install 'modelplane[server]'" in ran.stderr
    assert "Traceback" not in ran.stderr


@pytest.mark.slow
def test_daemon_start_status_and_stop(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPLANE_")}
    env.update(MODELPLANE_HOME=str(tmp_path / "home"), MODELPLANE_CONFIG=str(tmp_path / "c.json"))
    env["MODELPLANE_ADMIN_TOKEN"] = "daemon-token-0123456789"
    port = free_port()

    started = _run(["server", "start", "--daemon", "--port", str(port)], env)
    try:
        status = _run(["server", "status", "-o", "json"], env)
        health = httpx.get(f"http://127.0.0.1:{port}/health")
    finally:
        stopped = _run(["server", "stop"], env)
    after = _run(["server", "status", "-o", "json"], env)

    assert started.returncode == 0, started.stderr
    assert f"http://127.0.0.1:{port}" in started.stdout
    assert json.loads(status.stdout)["running"] is True
    assert health.status_code == 200
    assert stopped.returncode == 0 and "Stopped" in stopped.stdout
    assert after.returncode == 1 and json.loads(after.stdout)["running"] is False
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/health")


def test_a_viewer_token_reads_but_cannot_promote(live_server: LiveServer, admin, unique: str) -> None:  # noqa: ANN001
    admin.create_model(unique)
    admin.create_model_version(unique)
    created = _cli(["token", "create", "vera", "--role", "viewer", "-o", "json"], env=live_server.client_env())
    secret = json.loads(created.stdout)["secret"]
    env = live_server.client_env(secret)

    listed = _cli(["model", "version", "list", unique, "-o", "json"], env=env)
    promoted = _cli(["model", "version", "update", unique, "1", "-s", "production"], env=env)
    tokens = _cli(["token", "list"], env=env)

    assert json.loads(created.stdout)["token"]["role"] == "viewer"
    assert listed.exit_code == 0 and json.loads(listed.stdout)["total"] == 1
    assert promoted.exit_code == 1
    assert "is a viewer token" in promoted.output and "--role editor" in promoted.output
    assert tokens.exit_code == 1 and "needs admin" in tokens.output
    assert admin.get_model_version(unique, 1).stage.value == "none"


def test_token_create_expires_makes_a_token_that_ends_on_its_own(tmp_path: Path) -> None:
    env = {"MODELPLANE_STORE_URL": f"sqlite:///{tmp_path / 'store.db'}"}
    made = _cli(["token", "create", "temp", "--expires", "2h", "-o", "json"], env=env)
    token = json.loads(made.stdout)["token"]
    assert made.exit_code == 0 and token["expires"] is not None
    listed = _cli(["token", "list"], env=env)
    assert "EXPIRES" in listed.stdout
    bad = _cli(["token", "create", "temp", "--expires", "soon"], env=env)
    assert bad.exit_code == 2 and "not a duration" in bad.output
    too_long = _cli(["token", "create", "temp", "--expires", "40d"], env=env)
    assert too_long.exit_code == 1 and "30 days" in too_long.output
