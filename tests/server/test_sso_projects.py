"""Single sign-on and projects, against a real OpenID Connect provider process: the role claim
grants roles per project (``GROUP=PROJECT:ROLE``), a session acts in each project with the role
held there, and a role the provider stops granting goes at the next sign-in."""

from __future__ import annotations

import uuid
from typing import Iterator

import httpx
import pytest

from modelplane.metadata.http import HttpMetadataStore
from tests.server.live import LiveServer
from tests.server.oidc_provider import ProviderProxy, running_provider, sign_in

CLIENT_SECRET = "client-secret-" + uuid.uuid4().hex
PROJECT = "X-Modelplane-Project"


@pytest.fixture(scope="module")
def provider() -> Iterator[ProviderProxy]:
    with running_provider() as proxy:
        yield proxy


@pytest.fixture(scope="module")
def server(provider: ProviderProxy, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {
        "MODELPLANE_OIDC_ISSUER": provider.url,
        "MODELPLANE_OIDC_CLIENT_ID": "modelplane-dashboard",
        "MODELPLANE_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "MODELPLANE_OIDC_ROLES": "ml-admins=admin,analysts=viewer,vision-team=vision:editor,"
        "vision-leads=vision:admin,fraud-team=fraud:viewer,ghosts=nowhere:admin",
    }
    with LiveServer(tmp_path_factory.mktemp("sso-projects"), env=env) as live:
        admin = live.store()
        for name in ("vision", "fraud"):
            admin.create_project(name)
        admin.close()
        yield live


def person(provider: ProviderProxy, *groups: str) -> str:
    sub = f"p{uuid.uuid4().hex[:10]}"
    provider.set_user(sub, email=f"{sub}@example.com", groups=list(groups))
    return sub


def _session(server: LiveServer, sub: str) -> httpx.Client:
    back, browser = sign_in(server.url, sub, next="#/models")
    assert back.status_code == 303 and back.headers["location"] == "/#/models", back.text
    return browser


def test_the_claim_grants_roles_per_project_and_the_session_acts_with_each(
    server: LiveServer, provider: ProviderProxy
) -> None:
    sub = person(provider, "vision-team", "fraud-team", "ghosts")
    browser = _session(server, sub)
    api = f"{server.url}/api/v1"

    me = browser.get(f"{api}/me").json()
    assert me["roles"] == {"vision": "editor", "fraud": "viewer"}  # a project of no name: none
    listed = [p["name"] for p in browser.get(f"{api}/projects").json()]
    assert listed == ["fraud", "vision"]  # not default: no role there

    origin = {"Origin": server.url}
    made = browser.post(f"{api}/models", json={"name": "cnn"}, headers={PROJECT: "vision", **origin})
    assert made.status_code == 200, made.text
    refused = browser.post(f"{api}/models", json={"name": "cnn"}, headers={PROJECT: "fraud", **origin})
    assert refused.status_code == 403 and "is a viewer token in the project 'fraud'" in refused.text
    assert browser.get(f"{api}/models", headers={PROJECT: "default"}).status_code == 403
    assert browser.get(f"{api}/models", headers={PROJECT: "fraud"}).json()["total"] == 0

    admin = server.store()
    members = {m.user: (m.role.value, m.role_from) for m in admin.list_project_members("vision")}
    assert members[f"{sub}@example.com"] == ("editor", "sso")
    admin.close()


def test_a_project_role_the_provider_stops_granting_goes_at_the_next_sign_in(
    server: LiveServer, provider: ProviderProxy
) -> None:
    sub = person(provider, "vision-leads", "analysts")
    first = _session(server, sub)
    assert first.get(f"{server.url}/api/v1/me").json()["roles"] == {
        "vision": "admin", "default": "viewer",
    }  # fmt: skip

    provider.set_user(sub, email=f"{sub}@example.com", groups=["analysts"])
    later = _session(server, sub)
    assert later.get(f"{server.url}/api/v1/me").json()["roles"] == {"default": "viewer"}
    # The earlier session loses the role too: roles are the user's, read at each request.
    assert first.get(
        f"{server.url}/api/v1/models", headers={PROJECT: "vision"}
    ).status_code == 403


def test_a_role_an_admin_gave_in_a_project_lets_someone_no_group_maps_sign_in(
    server: LiveServer, provider: ProviderProxy
) -> None:
    sub = person(provider, "cooks")
    refused, _ = sign_in(server.url, sub)
    assert "has no role" in refused.headers["location"].replace("%20", " ")

    admin: HttpMetadataStore = server.store()
    admin.set_project_member("fraud", f"{sub}@example.com", "editor")
    admin.close()
    browser = _session(server, sub)
    assert browser.get(f"{server.url}/api/v1/me").json()["roles"] == {"fraud": "editor"}
    # An admin's grant is not the provider's: the next sign-in keeps it.
    assert _session(server, sub).get(f"{server.url}/api/v1/me").json()["roles"] == {
        "fraud": "editor"
    }
