"""``create_app``: the modelplane server as a FastAPI app over one ``Client``.

``/api/v1/…`` (bearer token required) covers every ``MetadataStore`` call, ``/health`` and
``/ready`` are open, ``/metrics`` is open unless given a token, ``/docs`` is the OpenAPI page and
``/`` the dashboard. Only modelplane errors are mapped to HTTP
codes, through ``ERROR_STATUS``; anything else is a logged 500.
"""

from __future__ import annotations

import contextlib
import hmac
import importlib.resources
import json
import logging
import os
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from modelplane._version import __version__
from modelplane.client import Client
from modelplane.config import Settings
from modelplane.metadata.local_store import LocalStore
from modelplane.errors import (
    AlreadyExistsError,
    ArtifactError,
    AuthError,
    PermissionDeniedError,
    ConfigError,
    InvalidInputError,
    ModelplaneError,
    NotFoundError,
    PipelineDefinitionError,
    PipelineRunError,
    StageConflictError,
    StoreError,
)
from modelplane.periodic import Periodic
from modelplane.server.api import inline_reader, threaded_reader
from modelplane.server.asgi import BodyLimit, KeepEncodedSlashes, SecurityHeaders, error_body
from modelplane.server.auth import ADMIN_OWNER, AUTH_CACHE_SECONDS, TokenCheck
from modelplane.server.previews import PREVIEW_MAX_BYTES
from modelplane.enums import TokenRole
from modelplane.server.routes import content, session
from modelplane.server.routes.operations import add_operation_routes
from modelplane.server.reaper import reaper
from modelplane.server.projects import ProjectStores
from modelplane.server.readiness import Readiness
from modelplane.server.telemetry import RequestTelemetry, RouteProbe, Telemetry
from modelplane.server.sso_settings import SsoSettings
from modelplane.server.webhooks import DEFAULT_BACKOFF, Dispatcher

__all__ = [
    "DASHBOARD_DIR",
    "ERROR_STATUS",
    "MAX_BODY_BYTES",
    "MAX_DOWNLOAD_BYTES",
    "create_app",
    "status_for",
]

logger = logging.getLogger("modelplane.server")

MAX_BODY_BYTES = 10 << 20
MAX_DOWNLOAD_BYTES = 512 << 20
DASHBOARD_DIR = Path(__file__).with_name("dashboard")

# Our error classes → HTTP status. The most specific class along the MRO wins.
ERROR_STATUS: dict[type[ModelplaneError], int] = {
    NotFoundError: 404,
    AlreadyExistsError: 409,
    StageConflictError: 409,
    InvalidInputError: 422,
    PermissionDeniedError: 403,
    AuthError: 401,
    ArtifactError: 422,
    ConfigError: 400,
    PipelineDefinitionError: 400,
    PipelineRunError: 400,
    StoreError: 503,
}


def status_for(error: ModelplaneError | type[ModelplaneError]) -> int:
    """The HTTP status of an error (or of an error class)."""
    for cls in (error if isinstance(error, type) else type(error)).__mro__:
        if cls in ERROR_STATUS:
            return ERROR_STATUS[cls]
    return 500


def _wire_name(error: ModelplaneError) -> str:
    """The name of the nearest class of ``modelplane.errors``, which clients can rebuild."""
    for cls in type(error).__mro__:
        if cls.__module__ == "modelplane.errors":
            return cls.__name__
    return "ModelplaneError"


def _error_response(status: int, name: str, message: str, hint: str | None) -> Response:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return Response(
        error_body(name, message, hint), status, headers=headers, media_type="application/json"
    )


async def _on_modelplane_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ModelplaneError)
    status = status_for(exc)
    if status >= 500:
        logger.error("%s %s failed: %s", request.method, request.url.path, exc)
    return _error_response(status, _wire_name(exc), exc.message, exc.hint)


def _problem(item: dict[str, Any]) -> tuple[str, str]:
    """The argument a validation problem is about (``tags``, or ``body`` for the whole body),
    and the problem in words: ``add_tags: Input should be a valid list (got null)``."""
    loc = [str(part) for part in item.get("loc", ())]
    if len(loc) > 1 and loc[0] in ("body", "query", "path"):
        loc = loc[1:]
    where = ".".join(loc) or "body"
    text = f"{where}: {item.get('msg', 'invalid')}"
    if "input" in item and item.get("type") != "missing":
        shown = json.dumps(item["input"], default=repr)
        text += f" (got {shown if len(shown) <= 60 else shown[:57] + '...'})"
    return loc[0] if loc else "body", text


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [_problem(item) for item in exc.errors()[:5]]
    where = f"{request.method} {request.url.path}"
    message = f"The request to {where} is invalid: {'; '.join(text for _, text in problems)}."
    route = request.scope.get("route")
    expects: dict[str, str] = getattr(getattr(route, "endpoint", None), "__expects__", {})
    named = dict.fromkeys(name for name, _ in problems)
    fixes = [f"{name} as {expects[name]}" for name in named if name in expects]
    if fixes:
        hint = f"Send {'; '.join(fixes)} (the API schema is at /docs)."
    elif problems and problems[0][0] == "body":
        hint = "Send the arguments as one JSON object (the API schema is at /docs)."
    else:
        hint = "See the API schema at /docs."
    return _error_response(422, "InvalidInputError", message, hint)


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        message = f"There is no {request.url.path} on this modelplane server."
        return _error_response(404, "NotFoundError", message, "See the API at /docs.")
    message = f"{request.method} {request.url.path}: {exc.detail}"
    return _error_response(exc.status_code, "InvalidInputError", message, "See the API at /docs.")


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("%s %s failed unexpectedly", request.method, request.url.path)
    message = f"The server failed on {request.method} {request.url.path} ({type(exc).__name__})."
    return _error_response(500, "ModelplaneError", message, "The server log has the traceback.")


def _add_error_handlers(app: FastAPI) -> None:
    handlers: dict[Any, Any] = {
        ModelplaneError: _on_modelplane_error,
        RequestValidationError: _on_validation_error,
        StarletteHTTPException: _on_http_error,
        Exception: _on_unexpected,
    }
    for exc_class, handler in handlers.items():
        app.add_exception_handler(exc_class, handler)


def _artifact_uri(client: Client) -> str:
    uri = client.settings.artifact_uri
    return uri if "://" in uri else os.path.abspath(os.path.expanduser(uri))


def _add_api(app: FastAPI, token_check: TokenCheck) -> None:
    add_operation_routes(app, token_check.require, status_for)
    viewer = [Depends(token_check.require(TokenRole.VIEWER))]
    app.include_router(content.router, prefix="/api/v1", dependencies=viewer)
    # /me answers any valid token, a member of other projects than default included.
    app.include_router(session.router, dependencies=[Depends(token_check.require(TokenRole.VIEWER, "token"))])
    app.include_router(session.signin_router)


def _add_api_docs(app: FastAPI) -> None:
    # Swagger UI from the fastapi-offline package's copy, served here: FastAPI's default page
    # loads it from a CDN, so it is blank on a server without internet access.
    from fastapi.openapi.docs import get_swagger_ui_html

    assets = importlib.resources.files("fastapi_offline") / "static"

    @app.get("/docs", include_in_schema=False)
    async def api_docs() -> Response:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="modelplane API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon.png",
        )

    app.mount("/docs-assets", StaticFiles(directory=str(assets)), name="docs-assets")


def _add_dashboard(app: FastAPI) -> None:
    index = DASHBOARD_DIR / "index.html"

    @app.get("/", include_in_schema=False)
    async def dashboard() -> Response:
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=DASHBOARD_DIR), name="static")


def _add_operator_routes(app: FastAPI, metrics_token: str | None) -> None:
    """``/ready`` (open, like ``/health``) and ``/metrics`` (open, or behind its own secret)."""

    @app.get("/ready", tags=["store"], summary="Readiness: database and artifact store; no token")
    async def ready() -> Response:
        ok, checks = await app.state.readiness.check()
        body = {"status": "ready" if ok else "unavailable", "checks": checks}
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        if metrics_token is not None:
            scheme, _, secret = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                secret.strip().encode(), metrics_token.encode()
            ):
                return _error_response(
                    401,
                    "AuthError",
                    "GET /metrics needs the metrics token of this server.",
                    "Send 'Authorization: Bearer <MODELPLANE_METRICS_TOKEN>' (in Prometheus: "
                    "authorization.credentials_file of the scrape job).",
                )
        telemetry: Telemetry = app.state.telemetry
        return Response(telemetry.exposition(), media_type=telemetry.content_type)


def _watch_pool(telemetry: Telemetry, client: Client) -> None:
    # The SQL store keeps its engine to itself; its pool is read, never used, from here.
    engine = getattr(client.store, "_engine", None)
    if engine is not None:
        telemetry.watch_pool(engine.dialect.name, engine.pool)


def create_app(
    source: Settings | Client,
    *,
    admin_token: str | None = None,
    admin_owner: str = ADMIN_OWNER,
    max_body_bytes: int = MAX_BODY_BYTES,
    max_download_bytes: int = MAX_DOWNLOAD_BYTES,
    max_preview_bytes: int | None = None,
    auth_cache_seconds: float = AUTH_CACHE_SECONDS,
    inline_reads: bool | None = None,
    webhook_interval: float | None = 1.0,
    webhook_backoff: Sequence[float] = DEFAULT_BACKOFF,
    reap_interval: float | None = 60.0,
    log_requests: bool = False,
    metrics_token: str | None = None,
    sso: SsoSettings | None = None,
) -> FastAPI:
    """The server app over ``source``'s SQL store and artifact store.

    ``admin_token`` is an extra secret (from ``MODELPLANE_ADMIN_TOKEN``) accepted as
    ``admin_owner`` without being stored. A token found in the store is trusted for
    ``auth_cache_seconds`` without another lookup (0 turns that off): a revoke through this server
    applies at once, one made elsewhere (another worker, the database directly) within that time.
    ``inline_reads`` runs read calls in the event loop (default: when the store is SQLite; see
    ``server.api``). While it serves, a background dispatcher sends webhook deliveries every
    ``webhook_interval`` seconds (``None``: not from this process), retrying after
    ``webhook_backoff``; every ``reap_interval`` seconds it marks failed the runs whose process
    is gone (``None``: never). ``log_requests`` logs one record per request on
    ``modelplane.server.access`` (the JSON log's request lines; see ``server.logs``);
    ``metrics_token``, when given, is the bearer secret ``/metrics`` asks for; ``sso`` turns on single sign-on with an OpenID Connect provider
    (``server/routes/sso.py``).
    """
    client = source if isinstance(source, Client) else Client(source)
    if client.settings.is_remote:
        raise ConfigError(
            f"The server needs a database, but its store URL is {client.settings.store_url}.",
            hint="Pass --store-url sqlite:///… or postgresql+psycopg://… to "
            "`modelplane server start`.",
        )
    if isinstance(client.store, LocalStore):
        # Every call the server makes runs in the SQL store's transactions (idempotency keys).
        client = Client(client.settings, store=client.store.full, artifact_store=client.artifact_store)
    # The server hands out only bytes under its own artifact root, whatever URI a record holds.
    client.artifact_store.read_anywhere = False
    stores = ProjectStores(client.store, client.artifact_store)
    token_check = TokenCheck(
        client.store,
        admin_token=admin_token,
        admin_owner=admin_owner,
        cache_seconds=auth_cache_seconds,
    )
    telemetry = Telemetry()
    _watch_pool(telemetry, client)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        dispatcher: Dispatcher | None = None
        reaping: Periodic | None = None
        if webhook_interval is not None:
            dispatcher = Dispatcher(
                stores.every, backoff=webhook_backoff, on_attempt=telemetry.webhook_attempt
            )
            dispatcher.start(webhook_interval or 1.0)
        if reap_interval is not None:
            reaping = reaper(client, reap_interval, telemetry.runs_reaped, stores.every)
            reaping.start()
        try:
            yield
        finally:
            if reaping is not None:
                reaping.stop()
            if dispatcher is not None:
                dispatcher.stop()
            stores.close()

    app = FastAPI(
        lifespan=lifespan,
        title="modelplane",
        version=__version__,
        summary="Pipelines, artifacts and the Model Control Plane over one metadata store.",
        docs_url=None,  # served by _add_api_docs, without a CDN
        redoc_url=None,
    )
    app.state.client = client
    app.state.stores = stores
    app.state.token_check = token_check
    app.state.telemetry = telemetry
    app.state.readiness = Readiness(client.store, client.artifact_store, client.settings.store_url)
    app.state.artifact_uri = _artifact_uri(client)
    app.state.max_download_bytes = max_download_bytes
    app.state.max_preview_bytes = max_preview_bytes or PREVIEW_MAX_BYTES
    if inline_reads is None:
        inline_reads = client.settings.store_url.startswith("sqlite")
    app.state.reader = inline_reader if inline_reads else threaded_reader
    _add_error_handlers(app)

    @app.get("/health", tags=["store"], summary="Liveness; needs no token")
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    _add_operator_routes(app, metrics_token)
    _add_api(app, token_check)
    if sso is not None:
        from modelplane.server.routes import sso as sso_routes  # Authlib: only when it is on

        sso_routes.install(app, sso)
    _add_api_docs(app)
    _add_dashboard(app)

    async def unexpected(scope: dict[str, Any], exc: Exception) -> Response:
        return await _on_unexpected(Request(scope), exc)

    # Innermost first: the route probe sees the router's scope, request telemetry sees everything.
    app.add_middleware(RouteProbe)
    app.add_middleware(KeepEncodedSlashes)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.add_middleware(SecurityHeaders, dashboard_prefixes=("/static/",))
    app.add_middleware(
        RequestTelemetry, telemetry=telemetry, on_error=unexpected, log_requests=log_requests
    )
    return app
