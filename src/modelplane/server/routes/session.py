"""Routes about the caller rather than the store: which token a request carries, and the
dashboard's sign-in session (a cookie, so that deep links open in a new tab without a token)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from modelplane.errors import AuthError
from modelplane.metadata.records import TokenRecord
from modelplane.server.api import TokenDep, encode_result
from modelplane.server.auth import SESSION_COOKIE, SESSION_SECONDS

__all__ = ["router", "set_session_cookie", "signin_router"]

router = APIRouter(tags=["tokens"])  # behind the token check
signin_router = APIRouter(tags=["tokens"])  # open: these routes check the token themselves
_ENCODE = encode_result(TokenRecord)


class SignIn(BaseModel):
    token: str = Field(min_length=1, max_length=512, description="An API token (mp_…)")


@router.get("/api/v1/me", response_model=TokenRecord, summary="The token this request carries")
async def me(token: TokenDep) -> Response:
    return _ENCODE(token)


@signin_router.post(
    "/api/v1/session",
    response_model=TokenRecord,
    summary="Sign in: trade an API token for a session cookie (HttpOnly, SameSite=Strict)",
)
async def sign_in(body: SignIn, request: Request) -> Response:
    """The token is checked, then a session of the same owner and role is made: a token of its own
    that ends after ``SESSION_SECONDS`` or at sign-out, kept in the cookie (never readable by
    scripts). The API token itself is not stored in the browser."""
    checks = request.app.state.token_check
    who = await checks.identify(body.token.strip())
    # The session acts where the token does: in its one project, or in every project of its user.
    store = request.app.state.stores.control
    if who.project is not None:
        store = await run_in_threadpool(request.app.state.stores.get, who.project)
    session, secret = await run_in_threadpool(
        lambda: store.create_token(
            who.owner,
            role=who.role,
            expires_in=SESSION_SECONDS,
            all_projects=who.project is None,
        )
    )
    response = _ENCODE(session)
    set_session_cookie(response, request, secret)
    return response


def set_session_cookie(response: Response, request: Request, secret: str) -> None:
    """Keep a session's secret in the dashboard's cookie: HttpOnly (no script reads it) and
    SameSite=Strict (no other site's page sends it), Secure over https."""
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=SESSION_SECONDS,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


@signin_router.delete("/api/v1/session", status_code=204, summary="Sign out: end the session on the server")
async def sign_out(request: Request) -> Response:
    """Revokes the session's token (a copy of the cookie no longer works) and drops the cookie."""
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        checks = request.app.state.token_check
        try:
            session = await checks.identify(secret)
        except AuthError:
            session = None  # already ended
        if session is not None and session.expires is not None:  # never an API token
            stores = request.app.state.stores
            store = stores.control if session.project is None else stores.get(session.project)
            await run_in_threadpool(store.revoke_token, session.id)
            checks.forget()
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
