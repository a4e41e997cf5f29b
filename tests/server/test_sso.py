"""Single sign-on against a real OpenID Connect provider process (``oidc-provider-mock``): the
dashboard's flow driven over HTTP as a browser would (the Chromium run is in
``tests/dashboard/test_sso_dashboard.py``), role mapping, refused ID tokens, logout, disabling, the
CLI's ``login --sso``, and bearer tokens beside it all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest

from modelplane.metadata.http import HttpMetadataStore
from tests.server.live import LiveServer
from tests.server.oidc_provider import MockProvider, ProviderProxy, running_provider, s256, sign_in

CLIENT_SECRET = "client-secret-" + uuid.uuid4().hex
SESSION = "modelplane_session"


@pytest.fixture(scope="module")
def provider() -> Iterator[ProviderProxy]:
    with running_provider() as proxy:
        yield proxy


def sso_env(issuer: str, **extra: str) -> dict[str, str]:
    return {
        "MODELPLANE_OIDC_ISSUER": issuer,
        "MODELPLANE_OIDC_CLIENT_ID": "modelplane-dashboard",
        "MODELPLANE_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "MODELPLANE_OIDC_ROLE_CLAIM": "groups",
        "MODELPLANE_OIDC_ROLES": "ml-admins=admin,ml-team=editor,analysts=viewer",
        **extra,
    }


@pytest.fixture(scope="module")
def server(provider: ProviderProxy, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server with single sign-on through ``provider`` (no default role), logging every request."""
    root = tmp_path_factory.mktemp("sso-server")
    with LiveServer(root, env=sso_env(provider.url), extra_args=("--access-log",)) as live:
        yield live


@pytest.fixture
def admin(server: LiveServer) -> Iterator[HttpMetadataStore]:
    store = server.store()
    yield store
    store.close()


def person(provider: ProviderProxy, *groups: str) -> str:
    """A new person at the provider, in ``groups``; returns their subject (and email prefix)."""
    sub = f"p{uuid.uuid4().hex[:10]}"
    provider.set_user(sub, email=f"{sub}@example.com", groups=list(groups))
    return sub


def refusal(answer: httpx.Response) -> str:
    """The message a refused sign-in shows on the dashboard's login page."""
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location.startswith("/#/login?error="), location
    assert SESSION not in answer.cookies
    return unquote(location.split("error=", 1)[1])


@pytest.mark.parametrize(
    ("groups", "role"),
    [(("ml-team", "cooks"), "editor"), (("analysts", "ml-admins"), "admin"), (("analysts",), "viewer")],
)
def test_a_sign_in_opens_a_session_with_the_highest_role_the_groups_map_to(
    server: LiveServer, provider: ProviderProxy, groups: tuple[str, ...], role: str
) -> None:
    sub = person(provider, *groups)

    back, browser = sign_in(server.url, sub, next="#/runs")

    assert (back.status_code, back.headers["location"]) == (303, "/#/runs")
    cookies = {c.name: c for c in browser.cookies.jar}
    session = cookies[SESSION]
    assert session.has_nonstandard_attr("HttpOnly") and session.get_nonstandard_attr("SameSite") == "strict"
    assert "modelplane_sso" not in cookies  # the sign-in's own cookie is gone once used
    me = browser.get(f"{server.url}/api/v1/me").json()
    assert (me["owner"], me["role"]) == (f"{sub}@example.com", role)
    assert me["expires"] is not None  # a 12-hour session, like a pasted token's


def test_the_flow_uses_pkce_s256_state_and_nonce_and_keeps_the_secret_out_of_the_body(
    server: LiveServer, provider: ProviderProxy
) -> None:
    sub = person(provider, "ml-team")
    back, _ = sign_in(server.url, sub)
    assert back.status_code == 303 and back.headers["location"] == "/#/models"

    asked = provider.authorize_queries[-1]
    form, headers = provider.token_requests[-1]
    assert (asked["response_type"], asked["code_challenge_method"]) == ("code", "S256")
    assert asked["code_challenge"] == s256(form["code_verifier"])  # the verifier behind the challenge
    assert len(form["code_verifier"]) >= 43 and len(asked["state"]) >= 32 and len(asked["nonce"]) >= 32
    assert asked["redirect_uri"] == form["redirect_uri"] == f"{server.url}/api/v1/sso/callback"
    assert "openid" in asked["scope"].split()
    assert headers["authorization"].startswith("Basic ") and "client_secret" not in form
    assert CLIENT_SECRET not in json.dumps(asked)


def test_someone_no_group_maps_is_refused_until_an_admin_gives_a_role(
    server: LiveServer, provider: ProviderProxy, admin: HttpMetadataStore
) -> None:
    sub = person(provider, "cooks")
    name = f"{sub}@example.com"

    message = refusal(sign_in(server.url, sub)[0])
    assert "no role" in message
    assert name not in {u.name for u in admin.list_users()}  # a refusal records nothing

    admin.set_user_role(name, "viewer")
    back, browser = sign_in(server.url, sub)
    assert back.headers["location"] == "/#/models"
    assert browser.get(f"{server.url}/api/v1/me").json()["role"] == "viewer"
    user = admin.get_user(name)
    assert (user.role_from, user.subject, user.issuer) == ("admin", sub, provider.url)


def test_a_forged_id_token_is_refused(
    server: LiveServer, provider: ProviderProxy, admin: HttpMetadataStore
) -> None:
    sub = person(provider, "ml-admins")
    provider.forge = True
    try:
        message = refusal(sign_in(server.url, sub)[0])
    finally:
        provider.forge = False

    assert "signature" in message
    assert f"{sub}@example.com" not in {u.name for u in admin.list_users()}
    assert f"{sub}@example.com" in message or "does not verify" in message


def test_an_expired_id_token_is_refused(
    server: LiveServer, provider: ProviderProxy, admin: HttpMetadataStore
) -> None:
    # Another provider process, whose ID tokens expired an hour before they were issued; the
    # proxy keeps the issuer, and the server fetches the new key set for the new key id.
    expired = MockProvider(token_max_age=-3600).start()
    provider.upstream, real = expired.url, provider.upstream
    try:
        sub = person(provider, "ml-admins")
        message = refusal(sign_in(server.url, sub)[0])
    finally:
        provider.upstream = real
        expired.stop()

    assert "expired" in message
    assert f"{sub}@example.com" not in {u.name for u in admin.list_users()}
    assert sign_in(server.url, person(provider, "ml-team"))[0].headers["location"] == "/#/models"


def test_a_callback_with_another_state_or_without_the_browsers_cookie_is_refused(
    server: LiveServer, provider: ProviderProxy
) -> None:
    sub = person(provider, "ml-admins")
    http = httpx.Client(timeout=30)
    start = http.get(f"{server.url}/api/v1/sso/login")
    form = http.post(start.headers["location"], data={"sub": sub})
    back = urlsplit(form.headers["location"])
    query = parse_qs(back.query)
    forged = f"{server.url}{back.path}?code={query['code'][0]}&state=someone-elses-state"

    assert "state" in refusal(http.get(forged))
    # the flow's cookie is spent: the right state, replayed, no longer works either
    assert "no sign-in in progress" in refusal(http.get(form.headers["location"]))
    # nor does the right link in a browser that never started the sign-in (login CSRF)
    assert "no sign-in in progress" in refusal(httpx.get(form.headers["location"]))


def test_logout_ends_the_sso_session_on_the_server(server: LiveServer, provider: ProviderProxy) -> None:
    _, browser = sign_in(server.url, person(provider, "ml-team"))
    secret = browser.cookies[SESSION]
    assert browser.get(f"{server.url}/api/v1/me").status_code == 200

    assert browser.delete(f"{server.url}/api/v1/session").status_code == 204

    replayed = httpx.get(f"{server.url}/api/v1/me", cookies={SESSION: secret})
    assert replayed.status_code == 401  # a copy of the cookie no longer works


def test_disabling_a_user_ends_their_sessions_and_sign_ins_at_once(
    server: LiveServer, provider: ProviderProxy, admin: HttpMetadataStore
) -> None:
    sub = person(provider, "ml-team")
    name = f"{sub}@example.com"
    _, browser = sign_in(server.url, sub)
    _, secret = admin.create_token(name, role="editor")  # and a token for their scripts

    admin.disable_user(name)

    assert browser.get(f"{server.url}/api/v1/me").status_code == 401
    bearer = httpx.get(f"{server.url}/api/v1/models", headers={"Authorization": f"Bearer {secret}"})
    assert bearer.status_code == 401
    assert "disabled" in refusal(sign_in(server.url, sub)[0])
    admin.enable_user(name)
    assert sign_in(server.url, sub)[0].headers["location"] == "/#/models"


def test_bearer_tokens_keep_working_beside_single_sign_on(
    server: LiveServer, admin: HttpMetadataStore
) -> None:
    _, ci_secret = admin.create_token(f"ci-{uuid.uuid4().hex[:6]}", role="editor")
    ci = server.store(token=ci_secret)
    try:
        made = ci.create_model(f"model-{uuid.uuid4().hex[:8]}")
        assert ci.get_model(made.name).id == made.id
    finally:
        ci.close()
    assert admin.whoami().owner == "admin"  # the environment's admin token too
    assert httpx.get(f"{server.url}/api/v1/models").status_code == 401  # and nothing without one


def test_the_cli_only_trades_codes_sent_to_a_loopback_address(server: LiveServer) -> None:
    body = {"code": "x" * 20, "code_verifier": "v" * 43, "nonce": "n" * 20}
    for target in ("https://evil.example/callback", "http://192.0.2.1:8080/callback", "http://127.0.0.1/callback"):
        answer = httpx.post(f"{server.url}/api/v1/sso/token", json={**body, "redirect_uri": target})
        assert answer.status_code == 422 and answer.json()["error"]["type"] == "InvalidInputError"
    made_up = httpx.post(f"{server.url}/api/v1/sso/token", json={**body, "redirect_uri": "http://127.0.0.1:9/callback"})
    assert made_up.status_code == 401  # the provider refuses a code it never issued


def _login(server: LiveServer, home: Path, *, browser: bool = False, **env_extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPLANE_")}
    env.update(MODELPLANE_HOME=str(home), MODELPLANE_CONFIG=str(home / "config.json"), **env_extra)
    return subprocess.Popen(
        [sys.executable, "-m", "modelplane", "login", server.url, "--sso", *([] if browser else ["--no-browser"])],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=home,
    )  # fmt: skip


# The "browser" `login --sso` opens (through $BROWSER, as Python's webbrowser does): it signs in as
# the subject in its first argument's place at the provider and follows the redirect to the CLI.
PERSON_AT_THE_BROWSER = """
import sys, httpx
form = httpx.post(sys.argv[2], data={"sub": sys.argv[1]})
httpx.get(form.headers["location"])
"""


def _sign_in_address(login: subprocess.Popen[str]) -> str:
    assert login.stderr is not None
    for line in login.stderr:  # the command prints where to sign in, then waits
        if line.strip().startswith("http"):
            return line.strip()
    raise AssertionError(f"login printed no address: {login.communicate()}")


def test_cli_login_with_sso_through_the_browser_flow(
    server: LiveServer, provider: ProviderProxy, tmp_path: Path
) -> None:
    sub = person(provider, "ml-team")
    login = _login(server, tmp_path)
    address = _sign_in_address(login)
    asked = dict(parse_qs(urlsplit(address).query))
    assert asked["code_challenge_method"] == ["S256"] and asked["redirect_uri"][0].startswith("http://127.0.0.1:")

    # The person signs in at the provider, which sends the browser to the CLI's loopback port.
    form = httpx.post(address, data={"sub": sub})
    page = httpx.get(form.headers["location"])
    out, err = login.communicate(timeout=120)

    assert "close this tab" in page.text
    assert login.returncode == 0, err
    assert f"Logged in to {server.url} as '{sub}@example.com' (editor" in out
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["store_url"] == server.url
    me = httpx.get(f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {saved['api_token']}"}).json()
    assert (me["owner"], me["role"]) == (f"{sub}@example.com", "editor")
    form_sent, _ = provider.token_requests[-1]
    assert form_sent["redirect_uri"] == asked["redirect_uri"][0]
    assert s256(form_sent["code_verifier"]) == asked["code_challenge"][0]
    assert saved["api_token"] not in out + err


def test_cli_login_with_sso_opens_the_browser_by_default(
    server: LiveServer, provider: ProviderProxy, tmp_path: Path
) -> None:
    sub = person(provider, "analysts")
    (tmp_path / "person.py").write_text(PERSON_AT_THE_BROWSER)
    browser = tmp_path / "browser.sh"  # webbrowser waits for it: it hands over and returns
    browser.write_text(f'#!/bin/sh\n"{sys.executable}" "{tmp_path / "person.py"}" {sub} "$1" &\n')
    browser.chmod(0o755)

    login = _login(server, tmp_path, browser=True, BROWSER=f"{browser} %s")
    out, err = login.communicate(timeout=120)

    assert login.returncode == 0, err
    assert f"as '{sub}@example.com' (viewer" in out
    assert "No browser" not in err


def test_cli_login_refuses_an_answer_with_another_state(
    server: LiveServer, provider: ProviderProxy, tmp_path: Path
) -> None:
    sub = person(provider, "ml-team")
    login = _login(server, tmp_path)
    address = _sign_in_address(login)
    form = httpx.post(address, data={"sub": sub})
    back = urlsplit(form.headers["location"])
    query = parse_qs(back.query)

    stray = httpx.get(f"http://{back.netloc}{back.path}?code={query['code'][0]}&state=forged")
    assert "another sign-in" in stray.text  # ignored: the command keeps waiting for its own
    # Then the provider's answer to this sign-in is a refusal (RFC 6749 §4.1.2.1: error + state).
    # (The mock's Deny button leaves the state out, so the redirect is written here.)
    refused = httpx.get(f"http://{back.netloc}{back.path}?error=access_denied&state={query['state'][0]}")
    assert "access_denied" in refused.text
    out, err = login.communicate(timeout=120)

    assert login.returncode != 0
    assert "did not sign you in (access_denied)" in err and "Traceback" not in err
    assert not (tmp_path / "config.json").exists()


def test_no_code_or_secret_reaches_the_servers_log(server: LiveServer, provider: ProviderProxy) -> None:
    sub = person(provider, "ml-team")
    http = httpx.Client(timeout=30)
    start = http.get(f"{server.url}/api/v1/sso/login")
    form = http.post(start.headers["location"], data={"sub": sub})
    code = parse_qs(urlsplit(form.headers["location"]).query)["code"][0]
    http.get(form.headers["location"])
    secret = http.cookies[SESSION]
    assert http.delete(f"{server.url}/api/v1/session").status_code == 204

    log = server.log()
    assert "/api/v1/sso/callback?…" in log  # the request is logged, its query is not
    assert code not in log and secret not in log and CLIENT_SECRET not in log
