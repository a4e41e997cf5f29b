"""Projects are walls: a token or session of project A can neither see nor change anything of
project B, on every API route, and lists only its own projects.

Every route of the server (from its OpenAPI document) is called with B's ids and names in the
path and body, by three kinds of credential that belong to A only: a token bound to A, a token of
every project of a user who is a member of A only, and a dashboard session of that user; each
asks for B, for A, and for no project (``default``, where they have no role). B's state is the
same afterwards, nothing of B's is ever in an answer, and asking for B is always refused.
"""

from __future__ import annotations

import uuid
from typing import Any, Iterator

import httpx
import pytest

from modelplane.artifacts.materializers import save_value
from modelplane.artifacts.store import FsspecArtifactStore, new_artifact_id
from modelplane.errors import PermissionDeniedError
from modelplane.metadata.http import HttpMetadataStore
from tests.server.live import LiveServer
from tests.server.test_security import _api_routes
from tests.store.state import snapshot

PROJECT = "X-Modelplane-Project"
# Routes whose answer is about the caller, not a project (the caller's token, their projects).
_ABOUT_THE_CALLER = {("GET", "/api/v1/me"), ("GET", "/api/v1/projects")}


@pytest.fixture
def walls(live_server: LiveServer, admin: HttpMetadataStore) -> Iterator[dict[str, Any]]:
    """Projects A and B; in B, something behind every route, marked with a secret string."""
    a, b = f"a-{uuid.uuid4().hex[:8]}", f"b-{uuid.uuid4().hex[:8]}"
    admin.create_project(a)
    admin.create_project(b)
    marker = f"secret-of-b-{uuid.uuid4().hex}"
    in_b = live_server.store(project=b)
    model = f"model-{uuid.uuid4().hex[:8]}"
    in_b.create_model(model, description=marker)
    v1 = in_b.create_model_version(model, description=marker)
    in_b.create_model_version(model)
    in_b.set_stage(model, 1, "production")
    pipeline = in_b.save_pipeline(f"pipeline-{uuid.uuid4().hex[:8]}", {"note": marker})
    run = in_b.create_run(pipeline_id=pipeline.id, model_version_id=v1.id, parameters={"m": marker})
    step = in_b.create_step_run(run_id=run.id, name="train", step_name="train", cache_key="key")
    in_b.append_step_logs(step.id, marker)
    files = FsspecArtifactStore(f"{live_server.artifact_uri}/projects/{b}")
    artifact_id = new_artifact_id()
    saved = save_value(files, artifact_id, {"weights": marker})
    artifact = in_b.create_artifact_version(
        id=artifact_id, name=f"artifact-{uuid.uuid4().hex[:8]}", type=saved.type,
        materializer=saved.materializer, data_type=saved.data_type, uri=saved.uri,
        content_hash=saved.content_hash, size=saved.size, metadata={"m": marker},
    )  # fmt: skip
    in_b.link_artifact(v1.id, artifact.id, name="model", kind="model")
    member = f"member-of-b-{uuid.uuid4().hex[:6]}"
    b_token, b_secret = in_b.create_token(member, role="admin")
    hook = in_b.create_webhook("http://127.0.0.1:9/hook", stages=["archived"], secret=marker)

    # Credentials of A only.
    in_a = live_server.store(project=a)
    _, bound = in_a.create_token(f"bound-{uuid.uuid4().hex[:6]}", role="admin")
    alex = f"alex-{uuid.uuid4().hex[:6]}"
    admin.set_project_member(a, alex, "admin")
    _, everywhere = admin.create_token(alex, role="admin", all_projects=True)
    session = httpx.post(f"{live_server.url}/api/v1/session", json={"token": everywhere})
    assert session.status_code == 200, session.text

    things = {
        "model": model, "version": "1", "pipeline": pipeline.id, "run": run.id, "run_id": run.id,
        "step_run_id": step.id, "artifact_version_id": artifact.id, "name": artifact.name,
        "cache_key": "key", "target": "model_version", "target_id": v1.id,
        "model_version_id": v1.id, "token_id": b_token.id, "stage": "production",
        "file_name": "data.json", "webhook_id": hook.id, "delivery_id": "0" * 32,
        "user": member, "deployment_id": "0" * 32, "project": b,
    }  # fmt: skip
    yield {
        "a": a, "b": b, "in_b": in_b, "marker": marker, "things": things, "secret": b_secret,
        "credentials": {
            "token bound to A": {"Authorization": f"Bearer {bound}"},
            "token of every project of a member of A": {"Authorization": f"Bearer {everywhere}"},
            "session of a member of A": {
                "Cookie": f"modelplane_session={session.cookies['modelplane_session']}",
                "Origin": live_server.url,
            },
        },
    }  # fmt: skip
    in_a.close()
    in_b.close()
    for name in (a, b):
        admin.delete_project(name)


def _body(things: dict[str, str], secret: str, root: str) -> dict[str, Any]:
    """A body naming B's things in every field a route may read."""
    new_id = uuid.uuid4().hex
    return {
        "name": things["model"], "owner": things["user"], "secret": secret, "stage": "production",
        "force": True, "reason": "x", "status": "failed", "error": "x",
        "pipeline_id": things["pipeline"], "run_id": things["run"], "step_name": "s", "spec": {},
        "metadata": {"hacked": True}, "artifact_version_id": things["artifact_version_id"],
        "kind": "data", "overwrite": True, "id": new_id, "type": "data", "materializer": "m:M",
        "data_type": "builtins:str", "uri": f"{root}/{things['artifact_version_id']}",
        "content_hash": "sha256:00", "size": 1, "new_name": "intruder2", "add_tags": ["x"],
        "tags": ["x"], "version": None, "role": "admin", "issuer": "https://x",
        "subject": "intruder", "expires_in": 60, "model_version_id": things["model_version_id"],
        "points": [{"model_version_id": things["model_version_id"], "key": "k", "value": 1.0}],
    }  # fmt: skip


def _path(path: str, things: dict[str, str]) -> str:
    for name, value in things.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, path
    return path


def test_a_token_or_session_of_one_project_can_neither_see_nor_change_another(
    live_server: LiveServer, walls: dict[str, Any]
) -> None:
    in_b: HttpMetadataStore = walls["in_b"]

    def state() -> dict[str, Any]:
        # Users are the server's, not a project's (A's admins may make users for A): B's part of
        # them is its members, compared instead.
        found = snapshot(in_b)
        del found["users"]
        found["members"] = [m.model_dump() for m in in_b.list_project_members(walls["b"])]
        return found

    before = state()
    routes = _api_routes(live_server)
    assert len(routes) >= 50
    marker, things = walls["marker"], walls["things"]
    body = _body(things, walls["secret"], f"{live_server.artifact_uri}/projects/{walls['b']}")
    leaks, let_in = [], []

    for credential, headers in walls["credentials"].items():
        with httpx.Client(base_url=live_server.url, headers=headers) as http:
            for asked in (walls["b"], walls["a"], None):
                chosen = {PROJECT: asked} if asked else {}
                for method, route in routes:
                    answer = http.request(method, _path(route, things), json=body, headers=chosen)
                    where = (credential, asked, method, route, answer.status_code)
                    if marker in answer.text:
                        leaks.append(where)
                    about_b = asked == walls["b"] or "{project}" in route
                    if (method, route) in _ABOUT_THE_CALLER:
                        continue
                    if about_b or asked is None:  # B, or default: no role there
                        if answer.status_code != 403:
                            let_in.append(where)

    assert leaks == []
    assert let_in == []
    assert state() == before


def test_the_listing_of_projects_shows_only_ones_own(
    live_server: LiveServer, walls: dict[str, Any]
) -> None:
    for headers in walls["credentials"].values():
        listed = httpx.get(f"{live_server.url}/api/v1/projects", headers=headers)
        assert [p["name"] for p in listed.json()] == [walls["a"]]
    admin_listing = httpx.get(
        f"{live_server.url}/api/v1/projects",
        headers={"Authorization": f"Bearer {live_server.admin_token}"},
    ).json()
    assert {walls["a"], walls["b"], "default"} <= {p["name"] for p in admin_listing}


def test_a_record_of_one_project_cannot_serve_the_bytes_of_another(
    live_server: LiveServer, walls: dict[str, Any]
) -> None:
    # A record made in A that points at B's artifact folder: the server serves a project's
    # versions only from that project's folder, so B's bytes stay unread.
    in_a = live_server.store(project=walls["a"])
    forged = in_a.create_artifact_version(
        id=new_artifact_id(), name="forged", type="data",
        materializer="modelplane.artifacts.builtin_materializers:JsonMaterializer",
        data_type="builtins:dict", content_hash="sha256:00", size=1,
        uri=f"{live_server.artifact_uri}/projects/{walls['b']}/{walls['things']['artifact_version_id']}",
    )  # fmt: skip
    in_a.close()
    headers = {"Authorization": f"Bearer {live_server.admin_token}", PROJECT: walls["a"]}
    for suffix in ("files", "files/data.json", "preview", "visualizations"):
        answer = httpx.get(
            f"{live_server.url}/api/v1/artifact-versions/{forged.id}/{suffix}", headers=headers
        )
        assert answer.status_code in (404, 422), (suffix, answer.text)
        assert walls["marker"] not in answer.text


def test_a_projects_admin_makes_tokens_for_new_names_and_themselves_not_for_other_people(
    live_server: LiveServer, admin: HttpMetadataStore
) -> None:
    project = f"t-{uuid.uuid4().hex[:8]}"
    admin.create_project(project)
    boss = f"boss-{uuid.uuid4().hex[:6]}"
    other = f"someone-{uuid.uuid4().hex[:6]}"
    admin.set_project_member(project, boss, "admin")
    admin.set_project_member(project, other, "viewer")
    _, secret = admin.create_token(boss, role="admin", all_projects=True)
    as_boss = live_server.store(token=secret, project=project)
    try:
        bot = as_boss.create_token(f"ci-{uuid.uuid4().hex[:6]}", role="editor")
        assert bot.token.project == project
        assert as_boss.create_token(boss, role="viewer").token.owner == boss
        with pytest.raises(PermissionDeniedError, match="may not make a token for the existing"):
            as_boss.create_token(other, role="viewer")
        assert other not in {t.owner for t in as_boss.list_tokens()}
        # A server admin may.
        assert live_server.store(project=project).create_token(other, role="viewer").token.owner == other
    finally:
        as_boss.close()
        admin.delete_project(project)
