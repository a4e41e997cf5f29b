"""Wrong JSON types are a 422 naming the field, never a 500; the OpenAPI document says what each
route takes (types and bounds from the declarations) and which error statuses it answers.

The sweep is generated from the declarations (``store_operations()``), so an operation added later
is swept too, against a real server process.
"""

from __future__ import annotations

import inspect
import typing
import uuid
from datetime import datetime, timezone
from typing import Any, Iterator

import httpx
import pytest
from pydantic import BaseModel

from modelplane.metadata.operations import Operation
from modelplane.metadata.store import store_operations
from tests.server.live import LiveServer

WRONG_VALUES: tuple[Any, ...] = (None, 5, "x", [], {})
BODY_OPERATIONS = [op for op in store_operations() if op.has_body and op.wire_params]


@pytest.fixture
def api(live_server: LiveServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {live_server.admin_token}"}
    with httpx.Client(base_url=f"{live_server.url}/api/v1", headers=headers, timeout=30) as client:
        yield client


def _ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


@pytest.fixture
def things(api: httpx.Client) -> dict[str, str]:
    """Path arguments that name real things, so a request gets past the lookups to its body."""
    model = f"typed-{uuid.uuid4().hex[:8]}"
    _ok(api.post("/models", json={"name": model}))
    version = _ok(api.post(f"/models/{model}/versions", json={}))
    pipeline = _ok(api.post("/pipelines", json={"name": model, "spec": {}}))
    run = _ok(api.post("/runs", json={"pipeline_id": pipeline["id"]}))
    step = _ok(
        api.post("/step-runs", json={"run_id": run["id"], "name": "s", "step_name": "s"})
    )
    return {
        "model": model, "version": "1", "stage": "staging", "run": run["id"],
        "run_id": run["id"], "step_run_id": step["id"], "model_version_id": version["id"],
        "target": "model_version", "target_id": version["id"], "pipeline": pipeline["id"],
        "delivery_id": "f" * 32, "webhook_id": "f" * 32, "token_id": "f" * 32,
        "artifact_version_id": "f" * 32, "deployment_id": "f" * 32, "user": model,
        "project": "default",
    }  # fmt: skip


def plain(hint: Any) -> Any:
    return typing.get_args(hint)[0] if typing.get_origin(hint) is typing.Annotated else hint


def _plausible(hint: Any) -> Any:
    """A value of the declared type (for the fields not under test)."""
    hint = plain(hint)
    members = [m for m in typing.get_args(hint) if m is not type(None)]
    if type(None) in typing.get_args(hint):
        return None
    if members and typing.get_origin(hint) not in (list, dict):
        origin = typing.get_origin(hint)
        if origin is None or "Union" in str(origin) or "UnionType" in str(origin):
            return _plausible(members[0])
    origin = typing.get_origin(hint)
    if origin is not None and origin is not dict and "Mapping" not in str(origin):
        return []
    if origin is dict or hint is dict:
        return {}
    if isinstance(hint, type):
        if issubclass(hint, bool):
            return False
        if issubclass(hint, int):
            return 1
        if issubclass(hint, float):
            return 1.0
        if issubclass(hint, str) and hasattr(hint, "__members__"):
            return next(iter(hint.__members__.values())).value  # type: ignore[attr-defined]
        if issubclass(hint, datetime):
            return datetime.now(timezone.utc).isoformat()
        if issubclass(hint, BaseModel):
            return {}
    return "x"


def _base_body(op: Operation) -> dict[str, Any]:
    body = {}
    for p in op.wire_params:
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            continue
        body[p.name] = _plausible(op.hints.get(p.name, Any))
    return body


def _path(op: Operation, things: dict[str, str]) -> str:
    path = op.path
    for name in op.path_params:
        path = path.replace("{" + name + "}", things[name])
    return path


@pytest.mark.parametrize("op", BODY_OPERATIONS, ids=lambda op: op.name)
def test_no_wrong_json_type_in_any_body_field_is_a_server_error(
    op: Operation, api: httpx.Client, things: dict[str, str]
) -> None:
    failures = []
    for p in op.wire_params:
        for wrong in WRONG_VALUES:
            body = {**_base_body(op), p.name: wrong}
            response = api.request(op.verb, _path(op, things), json=body)
            if response.status_code >= 500:
                failures.append(f"{p.name}={wrong!r}: {response.status_code} {response.text}")
    assert not failures, f"{op.verb} {op.path}:\n" + "\n".join(failures)


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("PATCH", "/models/{model}", {"add_tags": None}, "add_tags"),
        ("PATCH", "/models/{model}", {"add_tags": 5}, "add_tags"),
        ("POST", "/models", {"name": "t", "tags": None}, "tags"),
        ("POST", "/models/{model}/versions", {"tags": None}, "tags"),
        ("POST", "/models/{model}/ensure-version", {"version": None, "tags": None}, "tags"),
        ("PATCH", "/models/{model}/versions/1", {"remove_tags": {}}, "remove_tags"),
        ("POST", "/models", {"name": 5}, "name"),
    ],
)
def test_a_wrong_json_type_is_422_naming_the_field_and_what_it_takes(
    api: httpx.Client, things: dict[str, str], method: str, path: str, body: Any, field: str
) -> None:
    response = api.request(method, path.format(**things), json=body)

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["type"] == "InvalidInputError"
    assert f"{field}:" in error["message"]
    assert f"Send {field} as " in error["hint"]


def test_a_page_limit_below_one_is_refused_by_the_route_naming_it(api: httpx.Client) -> None:
    response = api.get("/models", params={"limit": 0})

    assert response.status_code == 422
    assert "limit" in response.json()["error"]["message"]
    assert "≥ 1" in response.json()["error"]["hint"]


def test_the_openapi_document_types_bodies_bounds_pages_and_lists_error_statuses(
    live_server: LiveServer,
) -> None:
    schema = httpx.get(f"{live_server.url}/openapi.json").json()
    paths, components = schema["paths"], schema["components"]["schemas"]

    update = components["UpdateModelBody"]["properties"]
    assert update["add_tags"]["type"] == "array"
    assert update["add_tags"]["items"] == {"type": "string"}
    limit = next(p for p in paths["/api/v1/models"]["get"]["parameters"] if p["name"] == "limit")
    bounds = next(s for s in limit["schema"]["anyOf"] if s.get("type") == "integer")
    assert (bounds["minimum"], bounds["maximum"]) == (1, 1000)

    patch = paths["/api/v1/models/{model}"]["patch"]["responses"]
    assert {"401", "403", "404", "409", "413", "422", "503"} <= set(patch)
    assert patch["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
    info = paths["/api/v1/info"]["get"]["responses"]
    assert set(info) == {"200", "401", "503"}
    for op in store_operations():
        answers = paths["/api/v1" + op.path][op.verb.lower()]["responses"]
        assert {"401", "503"} <= set(answers), op.name
        assert ("403" in answers) == (op.role != "viewer"), op.name
