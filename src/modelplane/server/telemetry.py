"""What the server tells its operators: Prometheus metrics (``GET /metrics``), a request id on
every response, and one log record per request.

``Telemetry`` owns one ``CollectorRegistry`` per app (never prometheus_client's global one), so
several apps in one process keep separate counts. ``RequestTelemetry`` is the outermost
middleware: it takes the request id from ``X-Request-Id`` when it is sane (else makes one),
echoes it, times the request, counts it under its route template (``/api/v1/models/{model}``,
never the raw path, so label values stay few) and logs it. ``RouteProbe``, the innermost
middleware, reports which route served the request, from the scope the router filled in.

When ``PROMETHEUS_MULTIPROC_DIR`` is set (``modelplane server start --workers N`` sets it), the
counters live in files there and ``/metrics`` adds up every worker's; the pool gauges are those of
the worker that answers.
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from typing import Any, Awaitable, Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from modelplane._version import __version__
from modelplane.server.asgi import App, Message, Receive, Scope, Send
from modelplane.server.logs import REQUEST_ID

__all__ = [
    "REQUEST_ID_HEADER",
    "RequestTelemetry",
    "RouteProbe",
    "Telemetry",
    "request_id_from",
]

REQUEST_ID_HEADER = "X-Request-Id"
# An incoming id is kept when it is short printable ASCII without spaces (a proxy's or a
# client's id, so one id follows a request through every log); anything else is replaced.
_SANE_ID = re.compile(rb"[A-Za-z0-9][A-Za-z0-9._:/+=@-]{0,127}")
# Seconds; API calls take about a millisecond, downloads and slow databases much longer.
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_UNMATCHED = "unmatched"
# Any other method a client makes up is counted as "other", so label values stay few.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_TRACE = "modelplane.trace"

access_logger = logging.getLogger("modelplane.server.access")


def request_id_from(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The incoming ``X-Request-Id`` when it is sane, else a new one (32 hex digits)."""
    for name, value in headers:
        if name == b"x-request-id":
            if _SANE_ID.fullmatch(value):
                return value.decode("ascii")
            break
    return uuid.uuid4().hex


class _Pools(Collector):
    """The database connection pool of each store this collector watches, read at scrape time:
    size, connections checked out, overflow. Pools without those numbers (an in-memory SQLite
    database's single shared connection) are left out."""

    def __init__(self) -> None:
        self._pools: list[tuple[str, Any]] = []

    def watch(self, database: str, pool: Any) -> None:
        if all(hasattr(pool, name) for name in ("size", "checkedout", "overflow")):
            self._pools.append((database, pool))

    def collect(self) -> Iterable[Metric]:
        info = GaugeMetricFamily(
            "modelplane_info", "The modelplane version serving.", labels=["version"]
        )
        info.add_metric([__version__], 1.0)
        yield info
        families = {
            "size": GaugeMetricFamily(
                "modelplane_db_pool_size", "Connections the pool keeps open.", labels=["database"]
            ),
            "checkedout": GaugeMetricFamily(
                "modelplane_db_pool_checked_out",
                "Connections in use by requests now.",
                labels=["database"],
            ),
            "overflow": GaugeMetricFamily(
                "modelplane_db_pool_overflow",
                "Connections open beyond the pool size (negative: not all of it opened yet).",
                labels=["database"],
            ),
        }
        for database, pool in self._pools:
            for method, family in families.items():
                family.add_metric([database], float(getattr(pool, method)()))
        if self._pools:
            yield from families.values()


class Telemetry:
    """The metrics of one app, and the hooks that count what it does."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        registry = self.registry
        self.requests = Counter(
            "modelplane_http_requests",
            "Requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.errors = Counter(
            "modelplane_http_request_errors",
            "Requests that failed on the server's side (status 500 and over).",
            ["method", "route"],
            registry=registry,
        )
        self.latency = Histogram(
            "modelplane_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer.",
            ["method", "route"],
            buckets=_BUCKETS,
            registry=registry,
        )
        self.runs_started = Counter(
            "modelplane_runs_started",
            "Pipeline runs created through this server.",
            registry=registry,
        )
        self.runs_failed = Counter(
            "modelplane_runs_failed",
            "Pipeline runs marked failed through this server, by who failed them "
            "(client: the run's own process; reaper: found abandoned).",
            ["by"],
            registry=registry,
        )
        self.stage_changes = Counter(
            "modelplane_stage_changes",
            "Stage moves and rollbacks made through this server, by the stage moved into.",
            ["stage"],
            registry=registry,
        )
        self.webhook_attempts = Counter(
            "modelplane_webhook_deliveries",
            "Webhook delivery attempts by this server's dispatcher, by outcome "
            "(delivered, retrying, failed: given up).",
            ["outcome"],
            registry=registry,
        )
        self._pools = _Pools()
        registry.register(self._pools)
        self._children: dict[tuple[str, str, int], tuple[Any, Any, Any]] = {}

    def watch_pool(self, database: str, pool: Any) -> None:
        self._pools.watch(database, pool)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            error = self.errors.labels(method, route) if status >= 500 else None
            children = (self.requests.labels(method, route, str(status)), error,
                        self.latency.labels(method, route))  # fmt: skip
            self._children[key] = children
        children[0].inc()
        if children[1] is not None:
            children[1].inc()
        children[2].observe(seconds)

    def runs_reaped(self, count: int) -> None:
        self.runs_failed.labels("reaper").inc(count)

    def webhook_attempt(self, delivered: bool, retrying: bool) -> None:
        outcome = "delivered" if delivered else "retrying" if retrying else "failed"
        self.webhook_attempts.labels(outcome).inc()

    def exposition(self) -> bytes:
        """The metrics in Prometheus' text format: this app's, or every worker's when the
        counters are kept in ``PROMETHEUS_MULTIPROC_DIR``."""
        if not self.multiprocess:
            return generate_latest(self.registry)
        from prometheus_client import multiprocess

        combined = CollectorRegistry()
        multiprocess.MultiProcessCollector(combined)  # type: ignore[no-untyped-call]
        combined.register(self._pools)
        return generate_latest(combined)

    content_type = CONTENT_TYPE_LATEST


class _Trace:
    __slots__ = ("route",)

    def __init__(self) -> None:
        self.route: Any = None


class RouteProbe:
    """The innermost middleware: after the app ran, tells ``RequestTelemetry`` which route (if
    any) the router chose. Outer middleware may pass a copy of the scope inward, so the route is
    handed back through a small object both copies share."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            trace = scope.get(_TRACE)
            if trace is not None:
                trace.route = scope.get("route")


ErrorAnswer = Callable[[Scope, Exception], Awaitable[Any]]


class RequestTelemetry:
    """The outermost middleware: request id, metrics and the request log line.

    ``on_error`` turns an exception no handler took into the 500 answer (the app's own handler),
    so that answer carries the request id and is counted; ``log_requests`` logs one record per
    request on ``modelplane.server.access`` (the JSON log's request lines).
    """

    def __init__(
        self, app: App, telemetry: Telemetry, on_error: ErrorAnswer, log_requests: bool = False
    ) -> None:
        self.app = app
        self.telemetry = telemetry
        self.on_error = on_error
        self.log_requests = log_requests
        self._templates: dict[int, str] = {}

    def _template(self, route: Any) -> str:
        if route is None:
            return _UNMATCHED
        found = self._templates.get(id(route))
        if found is None:
            found = getattr(route, "path_format", None) or _UNMATCHED
            self._templates[id(route)] = found
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_from(scope.get("headers", ()))
        trace = _Trace()
        scope = dict(scope)
        scope[_TRACE] = trace
        scope.setdefault("state", {})["request_id"] = request_id
        token = REQUEST_ID.set(request_id)
        status = 500
        started_answer = False
        echoed = (b"x-request-id", request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_answer
            if message["type"] == "http.response.start":
                status = message["status"]
                started_answer = True
                message = dict(message, headers=[*message.get("headers", []), echoed])
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            status = 500
            if started_answer:  # nothing more can be sent: the server drops the connection
                raise
            response = await self.on_error(scope, exc)
            await response(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            method = scope["method"] if scope["method"] in _METHODS else "other"
            route = self._template(trace.route)
            self.telemetry.observe(method, route, status, seconds)
            if self.log_requests:
                self._log(scope, method, route, status, seconds, request_id)
            REQUEST_ID.reset(token)

    def _log(
        self, scope: Scope, method: str, route: str, status: int, seconds: float, request_id: str
    ) -> None:
        token = scope.get("state", {}).get("token")
        client = scope.get("client")
        access_logger.info(
            "%s %s %d",
            method,
            scope.get("path", ""),
            status,
            extra={
                "method": method,
                "route": route,
                "path": scope.get("path", ""),
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
                "request_id": request_id,
                "user": getattr(token, "owner", None),
                "client": client[0] if client else None,
            },
        )
