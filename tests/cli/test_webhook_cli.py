"""``modelplane webhook``: create, list, see deliveries, and send them without a server."""

from __future__ import annotations

import hashlib
import hmac
import sys

import pytest

from modelplane.client import Client
from tests.cli.conftest import Cli, store_state
from tests.server.receiver import Receiver


def test_create_list_deliver_and_delete(cli: Cli, client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    client.create_model("iris")
    client.create_model_version("iris")
    monkeypatch.setenv("HOOK_SECRET", "s3")
    with Receiver() as receiver:
        created = cli("webhook", "create", receiver.url, "--stage", "production", "--secret-env", "HOOK_SECRET", "-o", "json")
        hook_id = created.json()["id"]
        listed = cli("webhook", "list")
        cli("model", "version", "update", "iris", "1", "-s", "staging")
        cli("model", "version", "update", "iris", "1", "-s", "production")
        pending = cli("webhook", "deliveries", "-o", "json").json()
        sent = cli("webhook", "deliver")
        (request,) = receiver.received

    assert created.exit_code == 0 and created.json()["has_secret"] is True
    assert hook_id in listed.stdout and "production" in listed.stdout and "s3" not in listed.stdout
    assert [d["status"] for d in pending["items"]] == ["pending"]  # only the production change
    assert sent.exit_code == 0 and "Sent 1 of 1" in sent.stderr + sent.stdout
    assert request.json()["to_stage"] == "production"
    signature = "sha256=" + hmac.new(b"s3", request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Modelplane-Signature"] == signature
    delivered = cli("webhook", "deliveries", "--status", "delivered")
    assert "iris v1: staging → production" in delivered.stdout
    assert cli("webhook", "delete", hook_id, "-y").exit_code == 0
    assert cli("webhook", "list", "-o", "json").json()["items"] == []


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("webhook", "create", "ftp://example.com"), 1, "is not an http(s) URL"),
        (("webhook", "create", "https://x.example.com", "--stage", "gold"), 2, "Invalid value for '--stage'"),
        (("webhook", "create", "https://x.example.com", "--secret-env", "NOT_SET_ANYWHERE"), 1, "NOT_SET_ANYWHERE"),
        (("webhook", "delete", "f" * 32, "-y"), 1, "no webhook"),
        (("webhook", "deliveries", "--status", "lost"), 2, "Invalid value"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    cli: Cli, client: Client, args: tuple[str, ...], code: int, message: str
) -> None:
    before = store_state(client)
    ran = cli(*args)
    assert ran.exit_code == code and message in ran.stderr
    assert "Traceback" not in ran.stderr
    assert client.store.list_webhooks() == [] and store_state(client) == before


def test_deliver_without_the_server_extra_names_it(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "httpx", None)  # as if `pip install modelplane` alone

    ran = cli("webhook", "deliver")

    assert ran.exit_code == 1
    assert "needs httpx" in ran.stderr and "modelplane[client]" in ran.stderr
