"""Request ids and JSON logs on real server processes: every answer carries ``X-Request-Id`` (the
client's when it is sane, else a new one), and ``--log-format json`` writes one JSON object per
line, a line per request naming its route, status, duration, request id and user."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from tests.server.live import LiveServer

NEW_ID = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        (None, False),
        ("trace-4bf92f3577b34da6", True),
        ("a/b:c.d_e+f=g@h-1", True),
        ("has spaces in it", False),
        ("x" * 129, False),
        ("", False),
        ("<script>", False),
    ],
)
def test_every_answer_carries_a_request_id(live_server: LiveServer, sent: str | None, kept: bool) -> None:
    headers = {} if sent is None else {"X-Request-Id": sent}

    answers = [
        httpx.get(f"{live_server.url}{path}", headers=headers)
        for path in ("/health", "/api/v1/models", "/no/such/page", "/static/style.css")
    ]

    assert [a.status_code for a in answers] == [200, 401, 404, 200]
    ids = {a.headers["x-request-id"] for a in answers}
    if kept:
        assert ids == {sent}
    else:
        assert len(ids) == len(answers) and all(NEW_ID.fullmatch(i) for i in ids)


def test_a_refused_body_still_carries_the_request_id(live_server: LiveServer) -> None:
    answer = httpx.post(
        f"{live_server.url}/api/v1/models",
        content=b"x" * (11 << 20),
        headers={"X-Request-Id": "big-body-1", "Content-Type": "application/json"},
    )

    assert answer.status_code == 413
    assert answer.headers["x-request-id"] == "big-body-1"


@pytest.fixture(scope="module")
def json_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("json-log-server")
    with LiveServer(root, extra_args=("--log-format", "json", "--access-log")) as server:
        yield server


def _records(server: LiveServer) -> list[dict[str, Any]]:
    return [json.loads(line) for line in list(server.lines)]


def _request_line(server: LiveServer, request_id: str) -> dict[str, Any]:
    """The request's line, which the server writes just after the answer has gone out."""
    deadline = time.monotonic() + 30
    while True:
        found = [r for r in _records(server) if r.get("request_id") == request_id]
        if found:
            (record,) = found
            return record
        assert time.monotonic() < deadline, f"no log line for {request_id}:\n{server.log()}"
        time.sleep(0.02)


def test_json_logs_have_one_line_per_request(json_server: LiveServer) -> None:
    token = {"Authorization": f"Bearer {json_server.admin_token}"}
    httpx.post(
        f"{json_server.url}/api/v1/models", json={"name": "logged/model"}, headers={**token, "X-Request-Id": "create-1"}
    )
    httpx.get(f"{json_server.url}/api/v1/models/logged%2Fmodel", headers={**token, "X-Request-Id": "get-1"})
    httpx.get(f"{json_server.url}/api/v1/models/logged%2Fmodel", headers={"X-Request-Id": "anonymous-1"})
    httpx.get(f"{json_server.url}/ready", headers={"X-Request-Id": "ready-1"})

    created = _request_line(json_server, "create-1")
    got = _request_line(json_server, "get-1")
    anonymous = _request_line(json_server, "anonymous-1")
    ready = _request_line(json_server, "ready-1")

    assert {k: created[k] for k in ("level", "logger", "method", "route", "status", "user")} == {
        "level": "INFO",
        "logger": "modelplane.server.access",
        "method": "POST",
        "route": "/api/v1/models",
        "status": 200,
        "user": "admin",
    }
    assert (got["route"], got["status"], got["user"]) == ("/api/v1/models/{model}", 200, "admin")
    assert got["path"] == "/api/v1/models/logged/model"
    assert (anonymous["status"], anonymous["user"]) == (401, None)
    assert (ready["route"], ready["status"]) == ("/ready", 200)
    for record in (created, got, anonymous, ready):
        assert isinstance(record["duration_ms"], float) and record["duration_ms"] >= 0
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["time"])


def test_everything_the_json_server_logs_is_json(json_server: LiveServer) -> None:
    httpx.get(f"{json_server.url}/health")

    records = _records(json_server)  # json.loads fails on any line that is not JSON

    assert all({"time", "level", "logger", "message"} <= record.keys() for record in records)
    assert any("Uvicorn running on" in record["message"] for record in records)
    assert any(record["message"].startswith("modelplane server at") for record in records)


def test_text_logs_stay_uvicorns_and_without_an_access_log_no_request_lines(tmp_path: Path) -> None:
    with LiveServer(tmp_path / "quiet", extra_args=("--log-format", "json")) as quiet:
        httpx.get(f"{quiet.url}/health", headers={"X-Request-Id": "unlogged-1"})
    with LiveServer(tmp_path / "text", extra_args=("--access-log",)) as text:
        httpx.get(f"{text.url}/health", headers={"X-Request-Id": "text-1"})

    assert not any(r.get("request_id") == "unlogged-1" for r in _records(quiet))
    assert any('"GET /health HTTP/1.1" 200' in line for line in text.lines)
    assert not any(line.startswith("{") for line in text.lines)
