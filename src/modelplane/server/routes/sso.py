"""Single sign-on routes (only on a server started with ``MODELPLANE_OIDC_ISSUER``).

The dashboard: ``GET /api/v1/sso/login`` sends the browser to the identity provider with a fresh
state, nonce and PKCE challenge, and keeps those (and the PKCE verifier) in a short-lived cookie
signed with a key derived from the client secret, so any worker of the server can finish the
sign-in. The provider sends the browser back to ``GET /api/v1/sso/callback``, which checks the
state, trades the code (``oidc.OidcClient``) and opens the same 12-hour session a pasted token
opens. That cookie is ``SameSite=Lax`` (the provider's redirect back is a navigation from another
site, which a ``Strict`` cookie would not come along on) and ``HttpOnly``, scoped to
``/api/v1/sso`` and gone after the callback or 10 minutes; the session cookie stays ``Strict``.

The CLI (``modelplane login URL --sso``) runs the flow itself with a loopback redirect (RFC 8252)
and its own state, nonce and verifier, then ``POST /api/v1/sso/token`` has the server trade the code
(the client secret never leaves the server) for a token lasting ``CLI_SESSION_SECONDS``.

``GET /api/v1/sso`` tells the dashboard and the CLI that sign-on is on, and where. Codes, tokens
and secrets never go into a URL this server makes, nor into its logs: the access log shows the
callback's path without its query.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import time
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from modelplane.errors import AuthError, InvalidInputError, ModelplaneError
from modelplane.metadata.records import NewToken
from modelplane.server.api import encode_result, json_response
from modelplane.server.auth import SESSION_SECONDS
from modelplane.server.oidc import Identity, OidcClient
from modelplane.server.routes.session import set_session_cookie
from modelplane.server.sso_settings import CLI_SESSION_SECONDS, SsoSettings

__all__ = ["FLOW_COOKIE", "install", "router"]

logger = logging.getLogger("modelplane.server.sso")

router = APIRouter(tags=["sign-in"])  # open: each route checks what it is given
FLOW_COOKIE = "modelplane_sso"
FLOW_SECONDS = 600
_CALLBACK = "/api/v1/sso/callback"
_NEXT = re.compile(r"^#/[!-~]{0,500}$")  # a dashboard route: printable ASCII, no spaces
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_ENCODE_TOKEN = encode_result(NewToken)


def _oidc(request: Request) -> OidcClient:
    return request.app.state.oidc  # type: ignore[no-any-return]


def _flow_key(settings: SsoSettings) -> bytes:
    return hmac.new(settings.client_secret.encode(), b"modelplane sso flow", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _seal(settings: SsoSettings, flow: dict[str, Any]) -> str:
    payload = _b64(json.dumps(flow, separators=(",", ":")).encode())
    mac = hmac.new(_flow_key(settings), payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{_b64(mac)}"


def _unseal(settings: SsoSettings, cookie: str | None) -> dict[str, Any]:
    """The sign-in this browser started here, or ``AuthError``."""
    try:
        if not cookie:
            raise ValueError("no cookie")
        payload, mac = cookie.split(".")
        expected = hmac.new(_flow_key(settings), payload.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(mac)):
            raise ValueError("bad mac")
        flow = json.loads(_unb64(payload))
        if not isinstance(flow, dict) or flow.get("exp", 0) < time.time():
            raise ValueError("expired")
        return flow
    except (ValueError, TypeError, json.JSONDecodeError):
        raise AuthError(
            "This browser has no sign-in in progress here (it ended, expired after 10 minutes, "
            "or was started in another browser).",
            hint="Start again from the dashboard's Sign in button.",
        ) from None


def _redirect_uri(request: Request) -> str:
    pinned = _oidc(request).settings.redirect_uri
    return pinned or str(request.base_url).rstrip("/") + _CALLBACK


def _to_dashboard(fragment: str) -> RedirectResponse:
    return RedirectResponse("/" + fragment, status_code=303)


def _refused(exc: ModelplaneError) -> RedirectResponse:
    """Back to the login page, which shows what went wrong (the message names no secret)."""
    logger.warning("Single sign-on refused: %s", exc.message)
    return _to_dashboard("#/login?error=" + quote(exc.message, safe=""))


def _drop_flow(response: Response, request: Request) -> None:
    response.delete_cookie(
        FLOW_COOKIE,
        path="/api/v1/sso",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


async def _sign_in(request: Request, who: Identity, seconds: float) -> NewToken:
    settings = _oidc(request).settings
    store = request.app.state.client.store
    made: NewToken = await run_in_threadpool(
        store.sign_in_user,
        who.name,
        issuer=who.issuer,
        subject=who.subject,
        role=who.role,
        default_role=settings.default_role,
        project_roles=who.project_roles,
        expires_in=seconds,
    )
    # A sign-in may change the user's roles (the provider's claim): no cached token keeps old ones.
    request.app.state.token_check.forget()
    logger.info("%s signed in with single sign-on as %s", who.name, made.token.role)
    return made


@router.get("/api/v1/sso", summary="Whether single sign-on is on, and with which provider")
async def sso_info(request: Request) -> Response:
    oidc = _oidc(request)
    provider = await oidc.provider()
    return json_response(
        {
            "issuer": oidc.settings.issuer,
            "client_id": oidc.settings.client_id,
            "authorization_endpoint": provider["authorization_endpoint"],
            "scope": oidc.settings.scope,
            "cli_session_seconds": CLI_SESSION_SECONDS,
        }
    )


@router.get("/api/v1/sso/login", summary="Dashboard sign-in: go to the identity provider")
async def sso_login(request: Request, next: str = "#/models") -> Response:
    try:
        start = await _oidc(request).authorization(_redirect_uri(request))
    except ModelplaneError as exc:
        return _refused(exc)
    flow = {
        "state": start.state,
        "nonce": start.nonce,
        "verifier": start.verifier,
        "next": next if _NEXT.match(next) else "#/models",
        "exp": int(time.time()) + FLOW_SECONDS,
    }
    response = RedirectResponse(start.url, status_code=302)
    response.set_cookie(
        FLOW_COOKIE,
        _seal(_oidc(request).settings, flow),
        max_age=FLOW_SECONDS,
        path="/api/v1/sso",
        httponly=True,
        samesite="lax",  # it must come along on the provider's redirect back (a cross-site GET)
        secure=request.url.scheme == "https",
    )
    return response


@router.get(_CALLBACK, summary="Dashboard sign-in: where the identity provider sends the browser back")
async def sso_callback(request: Request) -> Response:
    query = request.query_params
    try:
        flow = _unseal(_oidc(request).settings, request.cookies.get(FLOW_COOKIE))
        state = query.get("state") or ""
        if not hmac.compare_digest(state.encode(), str(flow["state"]).encode()):
            raise AuthError(
                "The sign-in's state does not match the one this browser started.",
                hint="Start again from the dashboard's Sign in button.",
            )
        if query.get("error"):
            raise AuthError(
                f"The identity provider did not sign you in ({query['error'][:100]}).",
                hint="Try again, or ask the provider's admin.",
            )
        who = await _oidc(request).identity(
            code=query.get("code") or "",
            verifier=str(flow["verifier"]),
            redirect_uri=_redirect_uri(request),
            nonce=str(flow["nonce"]),
        )
        made = await _sign_in(request, who, SESSION_SECONDS)
    except ModelplaneError as exc:
        response = _refused(exc)
    else:
        response = _to_dashboard(str(flow["next"]))
        set_session_cookie(response, request, made.secret)
    _drop_flow(response, request)
    return response


class CliSignIn(BaseModel):
    code: str = Field(min_length=1, max_length=4096)
    code_verifier: str = Field(min_length=43, max_length=128)
    redirect_uri: str = Field(min_length=1, max_length=500)
    nonce: str = Field(min_length=16, max_length=256)


@router.post(
    "/api/v1/sso/token",
    response_model=None,
    summary="CLI sign-in: trade the code the provider sent to the CLI's loopback for a token",
)
async def sso_token(body: CliSignIn, request: Request) -> Response:
    target = urlsplit(body.redirect_uri)
    if target.scheme != "http" or target.hostname not in _LOOPBACK or target.port is None:
        raise InvalidInputError(
            f"{body.redirect_uri!r} is not a loopback redirect (http://127.0.0.1:PORT/…).",
            hint="Only `modelplane login --sso` on the user's machine trades codes here.",
        )
    try:
        who = await _oidc(request).identity(
            code=body.code,
            verifier=body.code_verifier,
            redirect_uri=body.redirect_uri,
            nonce=body.nonce,
        )
        return _ENCODE_TOKEN(await _sign_in(request, who, CLI_SESSION_SECONDS))
    except ModelplaneError as exc:
        logger.warning("Single sign-on from the CLI refused: %s", exc.message)
        raise


class _HideQueries(logging.Filter):
    """Drops the query (a one-time code and state) from the access log's line for the callback."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            if args[2].startswith(_CALLBACK + "?"):
                record.args = (*args[:2], _CALLBACK + "?…", *args[3:])
        return True


def install(app: FastAPI, settings: SsoSettings) -> None:
    """Turn single sign-on on for ``app``."""
    app.state.oidc = OidcClient(settings)
    app.include_router(router)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _HideQueries) for f in access.filters):
        access.addFilter(_HideQueries())
