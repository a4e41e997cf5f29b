"""A request refused with 403 carried a valid token: its access log line names the token's owner,
as docs/deploy.md says of ``user`` (the owner of the token, when the request carried a valid one).
Found by the walk-through of docs/deploy.md, where an operator looks for who asked for a project
they are not a member of."""

from __future__ import annotations

import json
import time
from typing import Any, Iterator

import httpx
import pytest

from tests.server.live import LiveServer


@pytest.fixture(scope="module")
def json_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("refused-log-server")
    with LiveServer(root, extra_args=("--log-format", "json", "--access-log")) as server:
        yield server


def _request_line(server: LiveServer, request_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        found = [
            record
            for record in (json.loads(line) for line in list(server.lines))
            if record.get("request_id") == request_id
        ]
        if found:
            (record,) = found
            return record
        assert time.monotonic() < deadline, f"no log line for {request_id}:\n{server.log()}"
        time.sleep(0.02)


def test_a_request_refused_for_its_project_or_its_role_logs_who_made_it(
    json_server: LiveServer,
) -> None:
    admin = json_server.store()
    try:
        admin.create_project("vision")
        _, viewer = admin.create_token("dana", role="viewer")  # a member of default only
    finally:
        admin.close()
    bearer = {"Authorization": f"Bearer {viewer}"}

    elsewhere = httpx.get(
        f"{json_server.url}/api/v1/models",
        headers={**bearer, "X-Modelplane-Project": "vision", "X-Request-Id": "elsewhere-1"},
    )
    beyond = httpx.post(
        f"{json_server.url}/api/v1/models",
        json={"name": "m"},
        headers={**bearer, "X-Request-Id": "beyond-1"},
    )
    forged = httpx.get(
        f"{json_server.url}/api/v1/models",
        headers={"Authorization": "Bearer mp_no", "X-Request-Id": "forged-1"},
    )

    assert (elsewhere.status_code, beyond.status_code, forged.status_code) == (403, 403, 401)
    assert _request_line(json_server, "elsewhere-1")["user"] == "dana"
    assert _request_line(json_server, "beyond-1")["user"] == "dana"
    assert _request_line(json_server, "forged-1")["user"] is None
