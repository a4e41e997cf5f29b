"""The REST API as clients see it: every store call has a route, errors cross as the same classes,
the stage-history actor is the token's owner, and names survive URL paths."""

from __future__ import annotations

import inspect
import re

import httpx
import pytest

from modelplane.client import Client
from modelplane.config import load_settings
from modelplane.enums import SINGLE_HOLDER_STAGES
from modelplane.errors import (
    AlreadyExistsError,
    AuthError,
    InvalidInputError,
    NotFoundError,
    StageConflictError,
)
from modelplane.metadata.http import HttpMetadataStore
from modelplane.metadata.store import MetadataStore, store_operations
from tests.server.live import LiveServer


def _protocol_methods() -> list[str]:
    # The protocol is declared in parts (store.py, store_models.py): walk every base.
    return sorted(
        name
        for klass in MetadataStore.__mro__
        if klass is not object
        for name, value in vars(klass).items()
        if callable(value) and not name.startswith("_")
    )


def test_health_needs_no_token(live_server: LiveServer) -> None:
    response = httpx.get(f"{live_server.url}/health")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_openapi_schema_and_docs_page_are_served(live_server: LiveServer) -> None:
    schema = httpx.get(f"{live_server.url}/openapi.json").json()
    docs = httpx.get(f"{live_server.url}/docs")

    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    # Everything the page loads comes from this server (it works without internet access).
    assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", docs.text)
    assert assets and all(url.startswith("/docs-assets/") for url in assets), assets
    for url in assets:
        assert httpx.get(f"{live_server.url}{url}").status_code == 200, url
    assert "/api/v1/models/{model}/versions/{version}/stage" in schema["paths"]
    assert "/health" in schema["paths"]


@pytest.mark.parametrize("method", _protocol_methods())
def test_http_store_has_every_store_call_with_the_same_signature(method: str) -> None:
    expected = inspect.signature(getattr(MetadataStore, method))
    actual = inspect.signature(getattr(HttpMetadataStore, method))

    assert list(actual.parameters) == list(expected.parameters)
    for name, parameter in expected.parameters.items():
        assert actual.parameters[name].kind == parameter.kind, name
        assert actual.parameters[name].default == parameter.default, name


def test_missing_things_raise_not_found_with_status_404(
    live_server: LiveServer, admin: HttpMetadataStore, unique: str
) -> None:
    with pytest.raises(NotFoundError, match=unique) as caught:
        admin.get_model(unique)
    assert caught.value.hint

    raw = httpx.get(
        f"{live_server.url}/api/v1/models/{unique}",
        headers={"Authorization": f"Bearer {live_server.admin_token}"},
    )
    assert raw.status_code == 404
    assert raw.json()["error"]["type"] == "NotFoundError"


def test_duplicate_names_raise_already_exists(admin: HttpMetadataStore, unique: str) -> None:
    admin.create_model(unique)

    with pytest.raises(AlreadyExistsError, match=unique):
        admin.create_model(unique)


def test_held_stage_raises_stage_conflict_and_changes_nothing(
    admin: HttpMetadataStore, unique: str
) -> None:
    admin.create_model(unique)
    admin.create_model_version(unique)
    admin.create_model_version(unique)
    admin.set_stage(unique, 1, "production")

    with pytest.raises(StageConflictError):
        admin.set_stage(unique, 2, "production")
    with pytest.raises(StageConflictError):
        admin.set_stage(unique, 2, "production", force=True, expected_current=0)

    assert admin.get_model_version(unique, "production").number == 1
    assert admin.get_model_version(unique, 2).stage.value == "none"


@pytest.mark.parametrize("bad", ["", " padded", "tab\tname"], ids=["empty", "padded", "control"])
def test_invalid_names_raise_invalid_input(admin: HttpMetadataStore, bad: str) -> None:
    with pytest.raises(InvalidInputError):
        admin.create_model(bad)


def test_wrong_token_raises_auth_error(live_server: LiveServer) -> None:
    store = live_server.store(token="mp_not-a-real-token")
    try:
        with pytest.raises(AuthError):
            store.list_models()
    finally:
        store.close()


def test_stage_history_actor_is_the_tokens_owner_not_what_the_client_says(
    live_server: LiveServer, admin: HttpMetadataStore, unique: str
) -> None:
    admin.create_model(unique)
    admin.create_model_version(unique)
    admin.create_model_version(unique)
    _, secret = admin.create_token("alice")
    alice = live_server.store(token=secret)
    try:
        alice.set_stage(unique, 1, "production", actor="mallory", reason="first")
        alice.set_stage(unique, 2, "production", force=True, actor="mallory")
        alice.rollback_stage(unique, "production", actor="mallory", reason="oops")
    finally:
        alice.close()

    changes = admin.list_stage_changes(unique).items
    assert len(changes) == 5
    assert {change.actor for change in changes} == {"alice"}


def test_a_versions_creator_is_the_tokens_owner_not_what_the_client_says(
    live_server: LiveServer, admin: HttpMetadataStore, unique: str
) -> None:
    admin.create_model(unique)
    _, secret = admin.create_token("alice")
    alice = live_server.store(token=secret)
    try:
        made = alice.create_model_version(unique, created_by="mallory")
        ensured = alice.ensure_model_version(unique, None, created_by="mallory")
    finally:
        alice.close()

    assert made.created_by == ensured.version.created_by == "alice"
    assert {v.created_by for v in admin.list_model_versions(unique).items} == {"alice"}
    raw = httpx.get(
        f"{live_server.url}/api/v1/models/{unique}/versions/1",
        headers={"Authorization": f"Bearer {live_server.admin_token}"},
    ).json()
    assert raw["created_by"] == "alice"


def test_every_store_operation_is_a_route_with_its_declared_role(live_server: LiveServer) -> None:
    schema = httpx.get(f"{live_server.url}/openapi.json").json()
    routes = {
        (method.upper(), path): spec
        for path, methods in schema["paths"].items()
        for method, spec in methods.items()
    }
    for op in store_operations():
        spec = routes.pop((op.verb, "/api/v1" + op.path))
        said = spec["description"]
        if op.scope == "token":
            assert said == "Needs any valid token.", op.name
            continue
        # The role, and the project it must be held in.
        assert said.startswith(f"Needs the {op.role} role in the project "), (op.name, said)
        where = {"project": "the request names", "server": "default", "named": "the path names"}
        assert where[op.scope] in said, (op.name, said)
    # What is left is not a store call: artifact bytes, who the caller is, and the sign-in session.
    left = {path for _, path in routes if path.startswith("/api/")}
    assert all("/artifact-versions/" in path or path in ("/api/v1/me", "/api/v1/session") for path in left)


def test_info_tells_clients_the_servers_artifact_uri(
    live_server: LiveServer, admin: HttpMetadataStore
) -> None:
    info = admin.info()

    assert info.artifact_uri == live_server.artifact_uri
    assert info.url == live_server.url
    assert info.schema_revision


def test_info_names_the_single_holder_stages_for_the_dashboard(live_server: LiveServer) -> None:
    raw = httpx.get(
        f"{live_server.url}/api/v1/info",
        headers={"Authorization": f"Bearer {live_server.admin_token}"},
    ).json()

    assert raw["single_holder_stages"] == [stage.value for stage in SINGLE_HOLDER_STAGES]


def test_whoami_names_the_tokens_owner(live_server: LiveServer, admin: HttpMetadataStore) -> None:
    record, secret = admin.create_token("bob")
    bob = live_server.store(token=secret)
    try:
        assert bob.whoami().owner == "bob"
        assert bob.whoami().id == record.id
    finally:
        bob.close()
    assert admin.whoami().owner == "admin"


@pytest.mark.parametrize(
    "suffix",
    ["a/b", "100%", "50%2F", "q?x=1&y", "frag#1", "dots.v1", "..x", "sp ace", "ünïcödé", "a+b", "semi;colon"],
)
def test_names_with_url_metacharacters_survive_paths(
    admin: HttpMetadataStore, unique: str, suffix: str
) -> None:
    name = f"{unique}-{suffix}"
    created = admin.create_model(name, description=suffix)
    version = admin.create_model_version(name, name=f"v-{suffix}")
    admin.set_stage(name, version.number, "staging")

    assert admin.get_model(name).id == created.id
    assert admin.get_model(created.id).description == suffix
    assert admin.get_model_version(name, f"v-{suffix}").id == version.id
    assert admin.get_model_version(name, "staging").id == version.id
    assert [m.name for m in admin.list_models(name=name).items] == [name]
    admin.delete_model(name)
    with pytest.raises(NotFoundError):
        admin.get_model(name)


def test_client_uses_the_server_from_the_environment(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch, unique: str
) -> None:
    for key, value in live_server.client_env().items():
        monkeypatch.setenv(key, value)
    client = Client(load_settings())

    client.create_model(unique, license="MIT")

    assert isinstance(client.store, HttpMetadataStore)
    assert client.artifact_store.root == live_server.artifact_uri
    admin = live_server.store()
    try:
        assert admin.get_model(unique).license == "MIT"
    finally:
        admin.close()


def test_a_session_cookie_is_made_from_a_token_and_guarded(live_server: LiveServer) -> None:
    base = f"{live_server.url}/api/v1"
    refused = httpx.post(f"{base}/session", json={"token": "mp_wrong"})
    assert refused.status_code == 401 and "set-cookie" not in refused.headers

    made = httpx.post(f"{base}/session", json={"token": live_server.admin_token})
    assert made.status_code == 200
    header = made.headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=strict" in header and "path=/" in header
    session = made.json()
    assert session["owner"] == "admin" and session["expires"] is not None
    cookies = {"modelplane_session": made.cookies["modelplane_session"]}

    assert httpx.get(f"{base}/me", cookies=cookies).json()["id"] == session["id"]
    # a change carried by the cookie from another site's page is refused
    evil = httpx.post(f"{base}/models", json={"name": "csrf"}, cookies=cookies, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403
    own = httpx.post(f"{base}/models", json={"name": "from-dashboard"}, cookies=cookies, headers={"Origin": live_server.url})
    assert own.status_code == 201 or own.status_code == 200

    ended = httpx.delete(f"{base}/session", cookies=cookies)
    assert ended.status_code == 204
    assert httpx.get(f"{base}/me", cookies=cookies).status_code == 401
    # signing out never revokes an API token, even one sent as the cookie
    httpx.delete(f"{base}/session", cookies={"modelplane_session": live_server.admin_token})
    assert httpx.get(f"{base}/me", headers={"Authorization": f"Bearer {live_server.admin_token}"}).status_code == 200
