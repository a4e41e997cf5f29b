"""The inference service's HTTP face: MLflow's scoring protocol plus health, readiness, version
and Prometheus metrics.

- ``POST /invocations``: ``{"predictions": [...]}``; every answer carries
  ``X-Modelplane-Model-Version``. Input that does not fit the model is a 400 naming the column or
  shape; a model that fails is a 500; no version loaded yet is a 503.
- ``GET /health``: the process is up. ``GET /ready``: a version is loaded and answered its smoke
  request (503 until then). ``GET /version``: what is served, following which stage, since when.
- ``GET /metrics``: requests, errors and a latency histogram per version.

The scoring route reads the raw body and writes raw JSON (no request model), so a request costs
what parsing and the model cost.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from modelplane.errors import InvalidInputError, ServiceUnavailableError
from modelplane.serving.service import Service

__all__ = ["OPTIONS_ENV", "VERSION_HEADER", "app_from_env", "create_app", "invoke", "readiness"]

logger = logging.getLogger("modelplane.serve")
VERSION_HEADER = "X-Modelplane-Model-Version"
# The options of `modelplane serve`, as JSON, for worker processes uvicorn starts.
OPTIONS_ENV = "MODELPLANE_SERVE_OPTIONS"


def _error(status: int, exc: Exception, version: int | None) -> tuple[int, bytes, dict[str, str]]:
    body: dict[str, Any] = {
        "error_code": type(exc).__name__,
        "message": getattr(exc, "message", None) or str(exc),
    }
    hint = getattr(exc, "hint", None)
    if hint:
        body["hint"] = hint
    headers = {VERSION_HEADER: str(version)} if version is not None else {}
    return status, json.dumps(body).encode(), headers


def invoke(service: Service, body: bytes) -> tuple[int, bytes, dict[str, str]]:
    """The status, JSON body and headers answering a scoring request (any server's route)."""
    try:
        answer, version = service.predict(body)
    except InvalidInputError as exc:
        return _error(400, exc, _serving(service))
    except ServiceUnavailableError as exc:
        return _error(503, exc, None)
    except Exception as exc:  # noqa: BLE001 - the model failed: logged, answered 500
        logger.exception("Model version %s failed to answer.", _serving(service))
        return _error(500, exc, _serving(service))
    return 200, answer, {VERSION_HEADER: str(version)}


def readiness(service: Service) -> tuple[int, dict[str, Any]]:
    if service.primary is None:
        return 503, {"status": "not ready", "message": service.message or "Loading the model."}
    return 200, {"status": "ready", "version": service.primary.number}


def create_app(service: Service) -> FastAPI:
    """An app answering with ``service``; it starts following the stage when the app starts and
    records the deployment stopped when the app stops."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        service.start()
        try:
            yield
        finally:
            service.stop()

    app = FastAPI(
        title=f"modelplane serve: {service.model}",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.service = service

    @app.post("/invocations")
    async def invocations(request: Request) -> Response:
        status, body, headers = invoke(service, await request.body())
        return Response(body, status_code=status, media_type="application/json", headers=headers)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready")
    async def ready() -> Response:
        status, body = readiness(service)
        return JSONResponse(body, status_code=status)

    @app.get("/version")
    async def version() -> dict[str, Any]:
        return service.describe()

    @app.get("/metrics")
    async def metrics() -> Response:
        data, content_type = service.traffic.exposition()
        return Response(data, media_type=content_type)

    return app


def _serving(service: Service) -> int | None:
    primary = service.primary
    return primary.number if primary is not None else None


def log_to_stderr() -> None:
    """The service's own log lines (swaps, refusals, cut-offs) beside uvicorn's, once."""
    if logger.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def app_from_env() -> FastAPI:
    """The app of a ``modelplane serve`` process (each of several uvicorn workers builds its
    own), from the options in ``OPTIONS_ENV``."""
    from modelplane.client import Client

    log_to_stderr()
    options = json.loads(os.environ[OPTIONS_ENV])
    return create_app(Service(Client(), **options))
