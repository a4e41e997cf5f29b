"""Bearer-token checks for the API, the admin token given by the environment, and the first-start
admin token. Tokens live hashed in the metadata store; this module never stores a secret.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from modelplane.enums import TokenRole
from modelplane.errors import AuthError, ConfigError, PermissionDeniedError
from modelplane.metadata.operations import PROJECT_HEADER, Scope
from modelplane.metadata.records import TokenRecord
from modelplane.config import DEFAULT_PROJECT, check_project_name

if TYPE_CHECKING:
    from modelplane.metadata.store import MetadataStore

__all__ = [
    "ADMIN_OWNER",
    "ADMIN_OWNER_ENV",
    "ADMIN_TOKEN_ENV",
    "AUTH_CACHE_SECONDS",
    "MIN_ADMIN_TOKEN_LENGTH",
    "SESSION_COOKIE",
    "SESSION_SECONDS",
    "TokenCheck",
    "bootstrap_admin_token",
    "check_admin_token",
]

ADMIN_TOKEN_ENV = "MODELPLANE_ADMIN_TOKEN"
# Who the environment's admin token acts as (recorded as the actor of its stage changes).
ADMIN_OWNER_ENV = "MODELPLANE_ADMIN_OWNER"
ADMIN_OWNER = "admin"
# How long a token found in the store is trusted without another lookup: a store lookup costs
# about as much as the call it guards, and a revoke made through the server applies at once anyway.
AUTH_CACHE_SECONDS = 2.0
MIN_ADMIN_TOKEN_LENGTH = 16
# The dashboard's sign-in: a session token in an HttpOnly, SameSite=Strict cookie, ending on its own
# after SESSION_SECONDS or at logout (API clients keep sending bearer tokens).
SESSION_COOKIE = "modelplane_session"
SESSION_SECONDS = 12 * 3600
_CACHE_LIMIT = 1024
_LOGIN_HINT = (
    "Send the header 'Authorization: Bearer <token>'. Set MODELPLANE_API_TOKEN or run "
    "`modelplane login URL --token TOKEN`; an admin makes tokens with "
    "`modelplane token create OWNER`."
)


def check_admin_token(secret: str | None) -> str | None:
    """``secret`` if it is long enough to be an admin token (or ``None`` when not given)."""
    if secret is None or secret == "":
        return None
    if len(secret) < MIN_ADMIN_TOKEN_LENGTH or secret != secret.strip():
        raise ConfigError(
            f"{ADMIN_TOKEN_ENV} is too short or has surrounding spaces.",
            hint=f"Use at least {MIN_ADMIN_TOKEN_LENGTH} random characters, e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`.",
        )
    return secret


def _same_origin(request: Request) -> None:
    """A change made with the session cookie must come from the dashboard's own pages. The cookie
    is SameSite=Strict already; this also refuses a cross-origin form that carries it."""
    if request.method in _SAFE_METHODS:
        return
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    if origin is not None and origin != own:
        raise PermissionDeniedError(
            f"A request from {origin} may not use this server's sign-in session.",
            hint="Send an API token in the Authorization header instead.",
        )


def bootstrap_admin_token(store: MetadataStore) -> str | None:
    """On a store with no tokens at all, create one for ``admin`` and return its secret (to be
    shown once); otherwise ``None``."""
    if store.list_tokens():
        return None
    return store.create_token(ADMIN_OWNER, role=TokenRole.ADMIN, all_projects=True).secret


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _bearer_secret(request: Request) -> str:
    """The token of a request: its ``Authorization: Bearer`` header (API clients), else the
    dashboard's session cookie."""
    header = request.headers.get("authorization")
    if not header:
        session = request.cookies.get(SESSION_COOKIE)
        if session:
            _same_origin(request)
            return session
        raise AuthError("This request carries no API token.", hint=_LOGIN_HINT)
    scheme, _, secret = header.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise AuthError("The Authorization header is not 'Bearer <token>'.", hint=_LOGIN_HINT)
    return secret


class TokenCheck:
    """Finds the token a request carries; ``require(role)`` is each API route's dependency.

    A token found in the store is remembered for ``cache_seconds`` (keyed by the secret's hash), so
    a burst of requests costs one store lookup. ``forget()`` drops that memory; the revoke route
    calls it, so a token revoked through this server fails on its very next request. Wrong tokens
    are never remembered.
    """

    def __init__(
        self,
        store: MetadataStore,
        *,
        admin_token: str | None = None,
        admin_owner: str = ADMIN_OWNER,
        cache_seconds: float = AUTH_CACHE_SECONDS,
    ) -> None:
        self._store = store
        self._admin = check_admin_token(admin_token)
        self._admin_record = TokenRecord(
            id="environment",
            owner=admin_owner,
            role=TokenRole.ADMIN,
            created=datetime.now(timezone.utc),
            roles={"*": TokenRole.ADMIN},
        )
        self._ttl = cache_seconds
        self._cache: dict[bytes, tuple[TokenRecord, float]] = {}
        self._lock = threading.Lock()

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()

    def require(
        self, needed: TokenRole, scope: Scope = "project"
    ) -> Callable[[Request], Awaitable[TokenRecord]]:
        """The route dependency that lets through tokens with at least the role ``needed`` where
        the call acts (``scope``; each store operation declares both, see
        ``metadata/operations.py``), and sets ``request.state.store`` to the store of that
        project."""

        async def check(request: Request) -> TokenRecord:
            return await self._check(request, needed, scope)

        return check

    async def identify(self, secret: str) -> TokenRecord:
        """The token with ``secret`` (the environment's admin token included), or AuthError."""
        if self._admin is not None and hmac.compare_digest(secret.encode(), self._admin.encode()):
            return self._admin_record
        return await self._lookup(secret)

    async def _check(self, request: Request, needed: TokenRole, scope: Scope) -> TokenRecord:
        token = await self.identify(_bearer_secret(request))
        # Known before any refusal below, so the access log names who was refused (a 403).
        request.state.token = token
        if scope == "token":  # any valid token: what it may see is the route's to filter
            request.state.project = None
            request.state.store = request.app.state.stores.control
            return token
        if scope == "named":
            project = str(request.path_params.get("project", ""))
        elif scope == "server":
            project = DEFAULT_PROJECT
        else:
            project = request.headers.get(PROJECT_HEADER) or DEFAULT_PROJECT
        check_project_name(project)
        role = token.role_in(project)
        if scope == "server" and (role is None or role.rank < needed.rank):
            raise PermissionDeniedError(
                f"{request.method} {request.url.path} acts on the whole server: it needs "
                f"{needed} in the project 'default', where the token of '{token.owner}' "
                + (f"is a {role} token." if role else "has no role."),
                hint="Ask a server admin (an admin of the project default) to do it, or to give "
                f"you the role (`modelplane user set-role {token.owner} {needed}`).",
            )
        if role is None:
            raise PermissionDeniedError(
                f"The token of '{token.owner}' has no role in the project '{project}'"
                + (f" (it is bound to '{token.project}')." if token.project else "."),
                hint="Choose a project you are a member of (--project, MODELPLANE_PROJECT or "
                "`modelplane project use NAME`; `modelplane project list` shows yours), or ask "
                f"an admin of '{project}' to add you (`modelplane project add-member {project} "
                f"{token.owner} viewer`).",
            )
        if role.rank < needed.rank:
            where = f" in the project '{project}'"
            raise PermissionDeniedError(
                f"The token of '{token.owner}' is a {role} token{where}; {request.method} "
                f"{request.url.path} needs {needed}.",
                hint="Ask an admin for a token with that role "
                f"(`modelplane token create OWNER --role {needed}`).",
            )
        request.state.project = project
        if scope == "project":
            stores = request.app.state.stores
            store = stores.opened(project)  # a dict lookup; opening one waits on the database
            request.state.store = store or await run_in_threadpool(stores.get, project)
        else:
            request.state.store = request.app.state.stores.control
        return token

    async def _lookup(self, secret: str) -> TokenRecord:
        key = hashlib.sha256(secret.encode()).digest()
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is not None and cached[1] > now:
            return cached[0]
        token = await run_in_threadpool(self._store.authenticate, secret)
        if self._ttl > 0:
            with self._lock:
                if len(self._cache) >= _CACHE_LIMIT:
                    self._cache.clear()
                self._cache[key] = (token, now + self._ttl)
        return token
