"""Signing in to the dashboard through single sign-on, in headless Chromium: a real server, a real
OpenID Connect provider process (``oidc-provider-mock``, behind the recording proxy of
``tests/server/oidc_provider.py``), the authorization code flow with PKCE, logout, and the admin
page's users."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from tests.server.live import LiveServer
from tests.server.oidc_provider import ProviderProxy, running_provider, s256
from tests.server.test_sso import sso_env

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SESSION = "modelplane_session"
# The provider's pages link a stylesheet on a CDN: nothing leaves loopback in these tests.
OFF_LOOPBACK = re.compile(r"^(?!https?://127\.0\.0\.1[:/]).*")


@pytest.fixture(scope="module")
def provider() -> Iterator[ProviderProxy]:
    with running_provider() as proxy:
        yield proxy


@pytest.fixture(scope="module")
def server(provider: ProviderProxy, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("sso-dashboard"), env=sso_env(provider.url)) as live:
        yield live


@pytest.fixture
def tab(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route(OFF_LOOPBACK, lambda route: route.abort())
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("dialog", lambda dialog: dialog.accept())
    yield page
    context.close()


def person(provider: ProviderProxy, *groups: str) -> str:
    sub = f"p{uuid.uuid4().hex[:10]}"
    provider.set_user(sub, email=f"{sub}@example.com", groups=list(groups))
    return sub


def sso_sign_in(tab: Any, server: LiveServer, sub: str, hash: str = "#/models") -> None:
    """From a deep link to the provider's form and back, as a person would."""
    tab.goto(f"{server.url}/{hash}")
    tab.click("[data-testid=sso-sign-in]")
    tab.wait_for_selector("input[name=sub]")  # the provider's page now
    tab.fill("input[name=sub]", sub)
    tab.press("input[name=sub]", "Enter")


def test_sign_in_through_the_provider_with_pkce_then_log_out(
    tab: Any, server: LiveServer, provider: ProviderProxy
) -> None:
    sub = person(provider, "ml-team")

    sso_sign_in(tab, server, sub, "#/runs")
    tab.wait_for_selector("[data-testid=owner]")

    assert tab.url == f"{server.url}/#/runs"  # back where the deep link pointed
    assert f"Signed in as {sub}@example.com (editor)" in tab.inner_text("[data-testid=owner]")
    asked = provider.authorize_queries[-1]
    form, _ = provider.token_requests[-1]
    assert asked["code_challenge_method"] == "S256" and asked["code_challenge"] == s256(form["code_verifier"])
    cookies = {c["name"]: c for c in tab.context.cookies(server.url)}
    assert cookies[SESSION]["httpOnly"] and cookies[SESSION]["sameSite"] == "Strict"
    assert "modelplane_sso" not in cookies  # the sign-in's own cookie is spent
    assert SESSION not in tab.evaluate("document.cookie")
    assert tab.evaluate("Object.keys(sessionStorage).length + Object.keys(localStorage).length") == 0
    secret = cookies[SESSION]["value"]

    tab.click("[data-testid=logout]")
    tab.wait_for_selector("[data-testid=login-form]")
    assert httpx.get(f"{server.url}/api/v1/me", cookies={SESSION: secret}).status_code == 401
    assert tab.errors == []


def test_a_refused_sign_in_comes_back_to_the_login_page_saying_why(
    tab: Any, server: LiveServer, provider: ProviderProxy
) -> None:
    sso_sign_in(tab, server, person(provider, "cooks"))

    tab.wait_for_selector("[data-testid=login-form] [data-testid=error]")
    assert "has no role on this modelplane server" in tab.inner_text("[data-testid=error]")
    assert SESSION not in {c["name"] for c in tab.context.cookies(server.url)}
    assert tab.errors == []


def test_an_admin_signed_in_by_sso_sets_roles_and_disables_users(
    browser: Any, tab: Any, server: LiveServer, provider: ProviderProxy, tmp_path: Path
) -> None:
    member = person(provider, "ml-team")
    other = browser.new_context()
    other.route(OFF_LOOPBACK, lambda route: route.abort())
    member_tab = other.new_page()
    try:
        sso_sign_in(member_tab, server, member)
        member_tab.wait_for_selector("[data-testid=owner]")

        sso_sign_in(tab, server, person(provider, "ml-admins"), "#/admin")
        row = tab.locator(f"[data-testid=user-row][data-name='{member}@example.com']")
        row.wait_for()
        assert "sign-in" in row.inner_text()  # the role came from the provider's groups
        row.locator("[data-testid=user-role]").select_option("viewer")
        # drawn again from the store: the new role is the one the page now marks as chosen
        tab.wait_for_selector(
            f"[data-testid=user-row][data-name='{member}@example.com'] option[value=viewer][selected]",
            state="attached",
        )
        me = member_tab.evaluate("fetch('api/v1/me').then((r) => r.json())")
        assert me["role"] == "viewer"  # their open session is capped at once

        tab.locator(f"[data-testid=user-row][data-name='{member}@example.com'] [data-testid=user-disable]").click()
        tab.wait_for_selector(f"[data-testid=user-row][data-name='{member}@example.com'][data-disabled=yes]")
        member_tab.reload()
        member_tab.wait_for_selector("[data-testid=login-form]")  # their session ended with it
        assert tab.errors == []
    finally:
        other.close()
