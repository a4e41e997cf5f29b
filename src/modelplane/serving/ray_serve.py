"""``modelplane serve --ray``: the same service on Ray Serve, one ``Service`` per replica.

Each replica follows the stage on its own (its own follower thread, its own deployment record),
with the same load-check-swap, so every replica answers wholly with one version or the other.
Requests reach the replicas through Ray Serve's HTTP proxy on the head node at HOST:PORT; the
routes are those of the local service (``app.py``).
"""

from __future__ import annotations

import json
import signal
import threading
from typing import Any

from modelplane.client import Client
from modelplane.config import Settings
from modelplane.errors import ConfigError
from modelplane.execution.ray_cluster import (
    check_process_local_stores,
    connect,
    nodes_elsewhere,
    require_remote_reachable,
    require_shared_stores,
)
from modelplane.serving.app import invoke, readiness
from modelplane.serving.service import Service

__all__ = ["ServiceReplica", "run_on_ray"]

APP_NAME = "modelplane-serve"


class ServiceReplica:
    """One Ray Serve replica: a ``Service`` over the stores named by ``settings``."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        import os

        from modelplane.serving.app import log_to_stderr

        log_to_stderr()
        self.service = Service(Client(settings), host=os.uname().nodename, **options)
        self.service.start()

    async def __call__(self, request: Any) -> Any:
        from starlette.responses import JSONResponse, Response

        path, method = request.url.path.rstrip("/") or "/", request.method
        if path == "/invocations" and method == "POST":
            status, body, headers = invoke(self.service, await request.body())
            return Response(body, status_code=status, media_type="application/json", headers=headers)
        if method != "GET":
            return JSONResponse({"message": f"{method} {path} is not a route."}, status_code=405)
        if path == "/health":
            return JSONResponse({"status": "ok"})
        if path == "/ready":
            status, answer = readiness(self.service)
            return JSONResponse(answer, status_code=status)
        if path == "/version":
            return JSONResponse(self.service.describe())
        if path == "/metrics":
            data, content_type = self.service.traffic.exposition()
            return Response(data, media_type=content_type)
        return JSONResponse({"message": f"{path} is not a route."}, status_code=404)

    def __del__(self) -> None:  # Ray Serve calls it when it stops the replica
        service = getattr(self, "service", None)
        if service is not None:
            service.stop()


def _check_stores(client: Client) -> None:
    check_process_local_stores(client)
    foreign = nodes_elsewhere()
    if foreign:
        require_shared_stores(client, "Ray Serve replicas may run on other machines.")
        require_remote_reachable(client, foreign)


def run_on_ray(options: dict[str, Any], *, address: str, host: str, port: int, replicas: int) -> None:
    """Deploy ``replicas`` replicas behind Ray Serve's proxy at ``host:port`` and block until
    SIGINT or SIGTERM, then take the application down (each replica records it stopped)."""
    try:
        from ray import serve
    except ImportError:
        raise ConfigError(
            "modelplane serve --ray needs Ray Serve.", hint="pip install 'modelplane[serve-ray]'"
        ) from None
    client = Client()
    connect(address or None)
    _check_stores(client)
    serve.start(proxy_location="HeadOnly", http_options={"host": host, "port": port})
    deployment = serve.deployment(
        ServiceReplica,
        name="modelplane-service",
        num_replicas=replicas,
        ray_actor_options={"num_cpus": 0},
        health_check_period_s=2,
    )
    serve.run(deployment.bind(client.settings, options), name=APP_NAME, route_prefix="/")
    print(
        f"Ray Serve: {replicas} replica(s) of model {options['model']!r} at http://{host}:{port} "
        f"({json.dumps({'stage': options['stage'], 'version': options['version']})})",
        flush=True,
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    serve.delete(APP_NAME)
    serve.shutdown()
