"""Security of the server: tokens on every API route, artifact content confined to the artifact
root, metacharacters stored literally, oversized bodies refused, loopback by default."""

from __future__ import annotations

import os
import pickle
import re
import uuid
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from modelplane.artifacts.materializers import PICKLE_FALLBACK
from modelplane.artifacts.store import FsspecArtifactStore, new_artifact_id
from modelplane.enums import TokenRole
from modelplane.errors import InvalidInputError
from modelplane.metadata.http import HttpMetadataStore
from modelplane.metadata.store import store_operations
from tests.server.live import LiveServer
from tests.store.state import snapshot


@pytest.fixture
def victim(admin: HttpMetadataStore, save_artifact: Any, unique: str) -> dict[str, str]:
    """Something behind every route, so that a request that got through would change it."""
    admin.create_model(unique)
    v1 = admin.create_model_version(unique)
    admin.create_model_version(unique)
    admin.set_stage(unique, 1, "production")
    pipeline = admin.save_pipeline(f"{unique}-pipeline", {})
    run = admin.create_run(pipeline_id=pipeline.id, model_version_id=v1.id)
    step = admin.create_step_run(run_id=run.id, name="train", step_name="train", cache_key="key")
    artifact = save_artifact({"weights": [1, 2, 3]}, name=f"{unique}-artifact")
    token, secret = admin.create_token(f"{unique}-bob")
    # Only for archiving, so the stage changes above leave nothing for the dispatcher to send.
    hook = admin.create_webhook("http://127.0.0.1:9/hook", stages=["archived"], secret="s")
    return {
        "model": unique, "version": "1", "pipeline": pipeline.id, "run": run.id, "run_id": run.id,
        "step_run_id": step.id, "artifact_version_id": artifact.id, "name": artifact.name,
        "cache_key": "key", "target": "model_version", "target_id": v1.id,
        "model_version_id": v1.id, "token_id": token.id, "stage": "production",
        "file_name": "data.json", "secret": secret, "webhook_id": hook.id,
        "delivery_id": "0" * 32, "user": f"{unique}-bob", "deployment_id": "0" * 32,
        "project": "default",
    }  # fmt: skip


def _body(victim: dict[str, str], root: str) -> dict[str, Any]:
    """One body that is valid for every route (fields a route does not know are ignored)."""
    new_id = uuid.uuid4().hex
    return {
        "name": "intruder", "owner": "intruder", "secret": victim["secret"], "stage": "production",
        "force": True, "reason": "x", "status": "failed", "error": "x", "pipeline_id": victim["pipeline"],
        "run_id": victim["run"], "step_name": "s", "spec": {}, "metadata": {"hacked": True},
        "artifact_version_id": victim["artifact_version_id"], "kind": "data", "overwrite": True,
        "id": new_id, "type": "data", "materializer": "m:M", "data_type": "builtins:str",
        "uri": f"{root}/{new_id}", "content_hash": "sha256:00", "size": 1, "new_name": "intruder2",
        "add_tags": ["x"], "tags": ["x"], "version": None, "role": "admin", "issuer": "https://x",
        "subject": "intruder", "expires_in": 60,
    }  # fmt: skip


def _api_routes(live_server: LiveServer) -> list[tuple[str, str]]:
    schema = httpx.get(f"{live_server.url}/openapi.json").json()
    return [
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        # Sign-in and sign-out take no credentials by design: sign-in checks the token in its body
        # (test_api.py::test_a_session_cookie_is_made_from_a_token_and_guarded), single sign-on
        # the provider's ID token (test_sso.py; its routes exist only on a server with SSO on).
        if path.startswith("/api/v1/") and path != "/api/v1/session"
        and not path.startswith("/api/v1/sso")
        for method in operations
    ]


def _fill(path: str, victim: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: victim[m.group(1)], path)


@pytest.fixture
def revoked_token(admin: HttpMetadataStore) -> str:
    token, secret = admin.create_token("leaver")
    admin.revoke_token(token.id)
    return secret


@pytest.mark.parametrize("credential", ["none", "wrong", "revoked", "basic-scheme"])
def test_every_api_route_refuses_bad_credentials_and_changes_nothing(
    live_server: LiveServer,
    admin: HttpMetadataStore,
    victim: dict[str, str],
    revoked_token: str,
    credential: str,
) -> None:
    headers = {
        "none": {},
        "wrong": {"Authorization": "Bearer mp_" + "x" * 43},
        "revoked": {"Authorization": f"Bearer {revoked_token}"},
        "basic-scheme": {"Authorization": f"Basic {live_server.admin_token}"},
    }[credential]
    routes = _api_routes(live_server)
    assert len(routes) >= 40
    before = snapshot(admin)

    with httpx.Client(base_url=live_server.url, headers=headers) as http:
        for method, path in routes:
            response = http.request(method, _fill(path, victim), json=_body(victim, live_server.artifact_uri))
            assert response.status_code == 401, (method, path, response.text)
            assert response.json()["error"]["type"] == "AuthError"
            assert response.headers["www-authenticate"] == "Bearer"

    assert snapshot(admin) == before


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_a_token_may_only_do_what_its_role_allows_and_a_refusal_changes_nothing(
    live_server: LiveServer, admin: HttpMetadataStore, victim: dict[str, str], role: str
) -> None:
    _, secret = admin.create_token(f"limited-{role}", role=role)
    before = snapshot(admin)
    refused, allowed = [], []

    # The role each route needs is the one its store operation declares (viewer for the rest).
    needed = {(op.verb, "/api/v1" + op.path): op.role for op in store_operations()}
    held = TokenRole(role)
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {secret}"}) as http:
        for method, path in _api_routes(live_server):
            need = needed.get((method, path), TokenRole.VIEWER)
            if need.rank <= held.rank and method != "GET":
                continue  # allowed changes are covered by the contract suite over HTTP
            response = http.request(method, _fill(path, victim), json=_body(victim, live_server.artifact_uri))
            if need.rank > held.rank:
                assert response.status_code == 403, (method, path, response.text)
                assert response.json()["error"]["type"] == "PermissionDeniedError"
                assert f"is a {role} token" in response.json()["error"]["message"]
                refused.append(path)
            else:
                assert response.status_code not in (401, 403), (method, path, response.text)
                allowed.append(path)

    assert refused and allowed
    after = snapshot(admin)
    after["tokens"] = [t for t in after["tokens"] if t["owner"] != f"limited-{role}"]
    before["tokens"] = [t for t in before["tokens"] if t["owner"] != f"limited-{role}"]
    assert after == before


def test_a_valid_token_reaches_the_same_routes(live_server: LiveServer, victim: dict[str, str]) -> None:
    headers = {"Authorization": f"Bearer {victim['secret']}"}
    with httpx.Client(base_url=live_server.url, headers=headers) as http:
        for method, path in _api_routes(live_server):
            if method == "GET":
                assert http.get(_fill(path, victim)).status_code != 401, path


JSON_MATERIALIZER = "modelplane.artifacts.builtin_materializers:JsonMaterializer"


@pytest.fixture
def outside_file(tmp_path: Path) -> Path:
    """A folder outside the artifact root that looks like a JSON artifact."""
    secret = tmp_path / "outside" / "data.json"
    secret.parent.mkdir()
    secret.write_text('"top secret"')
    return secret


def _get(live_server: LiveServer, raw_path: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {live_server.admin_token}"}
    return httpx.get(f"{live_server.url}{raw_path}", headers=headers)


def test_artifact_uris_outside_the_root_are_refused(
    live_server: LiveServer, admin: HttpMetadataStore, outside_file: Path
) -> None:
    folder = outside_file.parent
    forged_id = new_artifact_id()
    os.symlink(folder, folder.parent / forged_id)
    uris = [
        str(folder),
        f"{live_server.artifact_uri}/../{folder.parent.name}/{forged_id}",
        f"file://{folder}",
        f"{live_server.artifact_uri}/{forged_id}/../../{folder.parent.name}/{forged_id}",
    ]
    for uri in uris:
        record = admin.create_artifact_version(
            id=new_artifact_id(), name="forged", type="data", materializer=JSON_MATERIALIZER,
            data_type="builtins:str", uri=uri, content_hash="sha256:00", size=12,
        )  # fmt: skip
        for suffix in ("files", "files/data.json", "preview"):
            response = _get(live_server, f"/api/v1/artifact-versions/{record.id}/{suffix}")
            assert response.status_code in (404, 422), (uri, suffix)
            assert "top secret" not in response.text


@pytest.mark.parametrize(
    "file_path",
    [
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "%2E%2E/%2E%2E/%2E%2E/etc/passwd",
        "%2Fetc%2Fpasswd",
        "sub/..%2F..%2Fdata.json",
        "%2E%2E%5C%2E%2E%5Cdata.json",
    ],
)
def test_file_names_cannot_climb_out_of_the_artifact_folder(
    live_server: LiveServer, save_artifact: Any, file_path: str
) -> None:
    record = save_artifact({"a": 1})

    response = _get(live_server, f"/api/v1/artifact-versions/{record.id}/files/{file_path}")

    assert response.status_code in (404, 422)
    assert "root:" not in response.text


def test_a_symlink_inside_an_artifact_folder_is_not_followed_out(
    live_server: LiveServer, save_artifact: Any, outside_file: Path
) -> None:
    record = save_artifact({"a": 1})
    os.symlink(outside_file, Path(live_server.artifact_uri) / record.id / "link.txt")

    response = _get(live_server, f"/api/v1/artifact-versions/{record.id}/files/link.txt")

    assert response.status_code == 422
    assert "top secret" not in response.text


def test_a_symlinked_artifact_folder_is_not_followed_out(
    live_server: LiveServer, admin: HttpMetadataStore, outside_file: Path
) -> None:
    forged_id = new_artifact_id()
    os.symlink(outside_file.parent, Path(live_server.artifact_uri) / forged_id)
    record = admin.create_artifact_version(
        id=forged_id, name="forged", type="data", materializer=JSON_MATERIALIZER,
        data_type="builtins:str", uri=f"{live_server.artifact_uri}/{forged_id}",
        content_hash="sha256:00", size=12,
    )  # fmt: skip

    for suffix in ("files", "files/data.json", "preview"):
        response = _get(live_server, f"/api/v1/artifact-versions/{record.id}/{suffix}")
        assert response.status_code == 422, suffix
        assert "top secret" not in response.text


def test_downloads_are_attachments_that_browsers_do_not_sniff(
    live_server: LiveServer, save_artifact: Any
) -> None:
    record = save_artifact("<script>alert(1)</script>")

    response = _get(live_server, f"/api/v1/artifact-versions/{record.id}/files/data.json")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.headers["x-content-type-options"] == "nosniff"


class _Trap:
    """Unpickling this creates a file: proof that a pickle was loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize(
    "materializer",
    [PICKLE_FALLBACK, "modelplane.integrations.sklearn:SklearnEstimatorMaterializer", "evil_module:Loader"],
    ids=["cloudpickle", "sklearn", "third-party"],
)
def test_previews_never_unpickle(
    live_server: LiveServer, admin: HttpMetadataStore, tmp_path: Path, materializer: str
) -> None:
    marker = tmp_path / "unpickled"
    artifacts = FsspecArtifactStore(live_server.artifact_uri)
    artifact_id = new_artifact_id()
    with artifacts.begin_write(artifact_id) as write:
        with write.folder.open("value.pkl", "wb") as fileobj:
            fileobj.write(pickle.dumps(_Trap(marker)))
        written = write.commit()
    record = admin.create_artifact_version(
        id=artifact_id, name="trap", type="model", materializer=materializer,
        data_type="builtins:object", uri=written.uri, content_hash=written.content_hash,
        size=written.size, metadata={"estimator": "SVC"},
    )  # fmt: skip

    preview = _get(live_server, f"/api/v1/artifact-versions/{record.id}/preview").json()
    download = _get(live_server, f"/api/v1/artifact-versions/{record.id}/files/value.pkl")

    assert preview["loaded"] is False
    assert preview["metadata"] == {"estimator": "SVC"}
    assert download.content == pickle.dumps(_Trap(marker))
    assert not marker.exists()


METACHARACTER_NAMES = [
    "x'; DROP TABLE models; --",
    '" OR 1=1 --',
    "a%' OR '%'='",
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    "back\\slash & ampersand",
]


@pytest.mark.parametrize("suffix", METACHARACTER_NAMES)
def test_names_with_sql_and_html_metacharacters_are_stored_literally(
    admin: HttpMetadataStore, unique: str, suffix: str
) -> None:
    name = f"{unique}{suffix}"
    counts = admin.info().counts

    admin.create_model(name, description=suffix, tags=[suffix])
    version = admin.create_model_version(name, name=f"v{suffix}", description=suffix)

    assert admin.get_model(name).description == suffix
    assert admin.get_model(name).tags == [suffix]
    assert admin.get_model_version(name, f"v{suffix}").id == version.id
    assert [m.name for m in admin.list_models(name=suffix).items if m.name == name] == [name]
    assert [m.name for m in admin.list_models(tag=suffix).items] == [name]
    assert admin.info().counts["models"] == counts["models"] + 1


def test_a_like_pattern_in_a_search_matches_literally(admin: HttpMetadataStore, unique: str) -> None:
    admin.create_model(f"{unique}-plain")

    assert admin.list_models(name=f"{unique}%").items == []
    assert admin.list_models(name=f"{unique}_plain").items == []


@pytest.fixture
def raw_client(live_server: LiveServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {live_server.admin_token}"}
    with httpx.Client(base_url=live_server.url, headers=headers, timeout=60) as http:
        yield http


def test_oversized_bodies_are_refused_with_413(
    raw_client: httpx.Client, admin: HttpMetadataStore, unique: str
) -> None:
    big = {"name": unique, "card": {"description": "x" * (11 << 20)}}

    response = raw_client.post("/api/v1/models", json=big)

    assert response.status_code == 413
    assert response.json()["error"]["type"] == "InvalidInputError"
    assert admin.list_models(name=unique).total == 0


def test_oversized_chunked_bodies_without_a_length_are_refused(
    raw_client: httpx.Client, admin: HttpMetadataStore, unique: str
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "' + unique.encode() + b'", "card": {"description": "'
        for _ in range(12):
            yield b"x" * (1 << 20)
        yield b'"}}'

    response = raw_client.post(
        "/api/v1/models", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert admin.list_models(name=unique).total == 0


def test_the_http_store_reports_an_oversized_call_as_invalid_input(
    admin: HttpMetadataStore, unique: str
) -> None:
    with pytest.raises(InvalidInputError, match="larger than the server's limit"):
        admin.create_model(unique, description="x" * (11 << 20))


def test_the_server_binds_to_loopback_by_default(live_server: LiveServer) -> None:
    assert "--host" not in live_server.command()
    assert f"Uvicorn running on http://127.0.0.1:{live_server.port}" in live_server.log()


def test_dashboard_pages_carry_a_strict_content_security_policy(live_server: LiveServer) -> None:
    for path in ("/", "/static/app.js"):
        response = httpx.get(f"{live_server.url}{path}")
        assert response.status_code == 200
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
