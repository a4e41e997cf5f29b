"""``create_app`` in process: the error table, the 500 path, and reads in worker threads (the
mode used for database servers)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from modelplane.config import load_settings
from modelplane.errors import (
    AlreadyExistsError,
    ArtifactError,
    AuthError,
    InvalidInputError,
    MaterializerError,
    ModelplaneError,
    NotFoundError,
    SchemaVersionError,
    StageConflictError,
    StoreError,
)
from modelplane.server.app import create_app, status_for

TOKEN = "in-process-admin-token"


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFoundError, 404),
        (AlreadyExistsError, 409),
        (StageConflictError, 409),
        (InvalidInputError, 422),
        (AuthError, 401),
        (ArtifactError, 422),
        (MaterializerError, 422),
        (StoreError, 503),
        (SchemaVersionError, 503),
        (ModelplaneError, 500),
    ],
)
def test_error_classes_map_to_statuses(error: type[ModelplaneError], status: int) -> None:
    assert status_for(error("x")) == status


def _app(tmp_path: Path, **options: Any) -> Any:
    settings = load_settings(store_url=f"sqlite:///{tmp_path / 'store.db'}", artifact_uri=str(tmp_path / "art"))
    return create_app(settings, admin_token=TOKEN, **options)


async def _requests(app: Any, calls: list[tuple[str, str, Any]]) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://server", headers=headers) as http:
        return [await http.request(method, path, json=body) for method, path, body in calls]


def test_reads_in_worker_threads_answer_like_inline_reads(tmp_path: Path) -> None:
    app = _app(tmp_path, inline_reads=False)
    calls = [
        ("POST", "/api/v1/models", {"name": "iris", "card": {"license": "MIT"}}),
        ("POST", "/api/v1/models/iris/versions", {}),
        ("PUT", "/api/v1/models/iris/versions/1/stage", {"stage": "production"}),
        ("GET", "/api/v1/models/iris", None),
        ("GET", "/api/v1/models/iris/versions/production", None),
        ("GET", "/api/v1/models?name=ir", None),
        ("GET", "/api/v1/models/nope", None),
    ]

    responses = asyncio.run(_requests(app, calls))

    assert [r.status_code for r in responses] == [200, 200, 200, 200, 200, 200, 404]
    assert responses[3].json()["license"] == "MIT"
    assert responses[4].json()["number"] == 1
    assert responses[5].json()["total"] == 1
    assert responses[6].json()["error"]["type"] == "NotFoundError"


def test_an_unexpected_error_is_a_500_without_internals(tmp_path: Path) -> None:
    app = _app(tmp_path)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internal detail")

    (response,) = asyncio.run(_requests(app, [("GET", "/boom", None)]))

    assert response.status_code == 500
    assert response.json()["error"]["type"] == "ModelplaneError"
    assert "secret internal detail" not in response.text


def test_unknown_routes_and_bad_bodies_use_the_error_shape(tmp_path: Path) -> None:
    app = _app(tmp_path)

    unknown, bad_json = asyncio.run(
        _requests(app, [("GET", "/api/v1/nothing-here", None), ("POST", "/api/v1/models", None)])
    )

    assert (unknown.status_code, unknown.json()["error"]["type"]) == (404, "NotFoundError")
    assert (bad_json.status_code, bad_json.json()["error"]["type"]) == (422, "InvalidInputError")


def test_the_server_refuses_to_front_another_server(tmp_path: Path) -> None:
    from modelplane.errors import ConfigError

    settings = load_settings(store_url="http://127.0.0.1:1", artifact_uri=str(tmp_path))
    with pytest.raises(ConfigError, match="needs a database"):
        create_app(settings)
