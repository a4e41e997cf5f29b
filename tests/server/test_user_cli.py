"""`modelplane user list|set-role|disable|enable`, as docs/server.md shows them: through a server
with an admin token, and directly on the database."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
from click.testing import CliRunner, Result

from modelplane.cli import main
from tests.server.live import LiveServer


def _cli(args: list[str], env: dict[str, str]) -> Result:
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def _users(env: dict[str, str]) -> dict[str, dict[str, object]]:
    listed = _cli(["user", "list", "-o", "json"], env)
    assert listed.exit_code == 0, listed.output
    return {u["name"]: u for u in json.loads(listed.stdout)["items"]}


def test_an_admin_manages_users_through_the_server(live_server: LiveServer) -> None:
    env = live_server.client_env()
    alice = f"alice-{uuid.uuid4().hex[:6]}@example.com"
    made = json.loads(_cli(["token", "create", alice, "-o", "json"], env).stdout)
    secret = made["secret"]

    given = _cli(["user", "set-role", alice, "viewer"], env)
    table = _cli(["user", "list"], env)
    capped = httpx.get(f"{live_server.url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    disabled = _cli(["user", "disable", alice, "--yes"], env)
    refused = httpx.get(f"{live_server.url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    after = _users(env)[alice]
    enabled = _cli(["user", "enable", alice], env)

    assert given.exit_code == 0 and f"'{alice}' is now viewer." in given.output
    assert alice in table.output and "NAME" in table.output and "LAST SIGN-IN" in table.output
    assert capped.json()["role"] == "viewer"  # the editor token now acts as a viewer
    assert disabled.exit_code == 0 and "revoked" in disabled.output
    assert refused.status_code == 401
    assert after["disabled"] is not None and after["live_tokens"] == 0
    assert enabled.exit_code == 0 and _users(env)[alice]["disabled"] is None


def test_a_role_can_be_given_before_the_first_sign_in_on_the_database_directly(tmp_path: Path) -> None:
    env = {"MODELPLANE_STORE_URL": f"sqlite:///{tmp_path / 'store.db'}"}

    given = _cli(["user", "set-role", "bob@example.com", "editor", "-o", "json"], env)
    unknown = _cli(["user", "disable", "nobody", "--yes"], env)
    bad = _cli(["user", "set-role", "bob@example.com", "root"], env)

    assert given.exit_code == 0
    assert json.loads(given.stdout)["role"] == "editor"
    assert _users(env)["bob@example.com"]["role_from"] == "admin"
    assert unknown.exit_code == 1 and "There is no user 'nobody'" in unknown.output
    assert "Traceback" not in unknown.output
    assert bad.exit_code == 2  # click refuses a role it does not know


def test_only_admins_manage_users(live_server: LiveServer) -> None:
    admin = live_server.store()
    _, secret = admin.create_token(f"ed-{uuid.uuid4().hex[:6]}", role="editor")
    admin.close()
    env = live_server.client_env(secret)

    listed = _cli(["user", "list"], env)

    assert listed.exit_code == 1 and "needs admin" in listed.output
