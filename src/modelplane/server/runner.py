"""Running the server: in the foreground under uvicorn (one process, or ``workers`` processes
built by ``app_from_environment``), or in the background with a state file (``<home>/server.json``)
that ``server stop`` and ``server status`` read. uvicorn and httpx are imported only when used.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from modelplane.config import Settings, load_settings
from modelplane.errors import ConfigError, StoreError
from modelplane.metadata.sql.engine import display_url
from modelplane.server import sso_settings
from modelplane.server.auth import ADMIN_OWNER, ADMIN_OWNER_ENV, ADMIN_TOKEN_ENV, check_admin_token

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "ServerState",
    "admin_owner_from_environment",
    "admin_token_from_environment",
    "app_from_environment",
    "check_port_free",
    "display_url",
    "health",
    "is_loopback",
    "metrics_token_from_environment",
    "process_alive",
    "read_state",
    "serve",
    "server_settings",
    "server_url",
    "start_background",
    "stop_background",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8237
STATE_FILE = "server.json"
LOG_FILE = "server.log"


@dataclass(frozen=True)
class ServerState:
    """What a background server left behind: its process id, address and log file."""

    pid: int
    url: str
    log: str
    store_url: str
    artifact_uri: str


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def server_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{port}"


def check_port_free(host: str, port: int) -> None:
    """Refuse, before anything is created, to start a server on an address it cannot bind.

    Binds every address ``host`` resolves to as uvicorn will (with SO_REUSEADDR, so a port left in
    TIME_WAIT by a server that just stopped counts as free) and lets go at once.
    """
    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        addresses = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
        for family, kind, proto, _, address in addresses:
            with socket.socket(family, kind, proto) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(address)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"Cannot listen on {shown}: {reason} (another server or program listens there).",
                hint=f"Stop what listens on port {port} (`modelplane server stop` stops a server "
                "started with --daemon), or choose another port with --port.",
            ) from None
        if exc.errno == errno.EACCES:
            hint = "Ports below 1024 need privileges: choose another port with --port."
        else:
            hint = "Check --host: it must be an address of this machine, e.g. 127.0.0.1 or 0.0.0.0."
        raise ConfigError(f"Cannot listen on {shown}: {reason}.", hint=hint) from None


def server_settings(store_url: str | None, artifact_uri: str | None) -> Settings:
    """The settings a server runs with: the options given, else the usual settings (a database,
    never another server)."""
    settings = load_settings(store_url=store_url, artifact_uri=artifact_uri)
    if settings.is_remote:
        raise ConfigError(
            f"The server needs a database, but the store URL in force is {settings.store_url}.",
            hint="Pass --store-url sqlite:///path/store.db or postgresql+psycopg://user@host/db.",
        )
    artifact = settings.artifact_uri
    if "://" not in artifact:
        artifact = os.path.abspath(os.path.expanduser(artifact))
    return settings.with_overrides(artifact_uri=artifact)


def admin_token_from_environment() -> str | None:
    return check_admin_token(os.environ.get(ADMIN_TOKEN_ENV))


def admin_owner_from_environment() -> str:
    return os.environ.get(ADMIN_OWNER_ENV) or ADMIN_OWNER


WEBHOOK_BACKOFF_ENV = "MODELPLANE_WEBHOOK_BACKOFF"
REAP_SECONDS_ENV = "MODELPLANE_REAP_SECONDS"
METRICS_TOKEN_ENV = "MODELPLANE_METRICS_TOKEN"
# What ``serve`` hands its worker processes (JSON: the options of ``server start``); set only there.
WORKER_OPTIONS_ENV = "MODELPLANE_SERVER_OPTIONS"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def metrics_token_from_environment() -> str | None:
    """``MODELPLANE_METRICS_TOKEN``: the bearer secret ``/metrics`` asks for (unset: open)."""
    raw = os.environ.get(METRICS_TOKEN_ENV)
    if not raw:
        return None
    if len(raw) < 16 or raw != raw.strip():
        raise ConfigError(
            f"{METRICS_TOKEN_ENV} is too short or has surrounding spaces.",
            hint="Use at least 16 random characters, e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`.",
        )
    return raw


def webhook_backoff_from_environment() -> tuple[float, ...]:
    """``MODELPLANE_WEBHOOK_BACKOFF``: seconds between webhook attempts, comma-separated."""
    from modelplane.server.webhooks import DEFAULT_BACKOFF

    raw = os.environ.get(WEBHOOK_BACKOFF_ENV)
    if not raw:
        return DEFAULT_BACKOFF
    try:
        pauses = tuple(float(part) for part in raw.split(","))
    except ValueError:
        pauses = (-1.0,)
    if any(pause < 0 for pause in pauses):
        raise ConfigError(
            f"{WEBHOOK_BACKOFF_ENV}={raw!r} is not a list of pauses in seconds.",
            hint="Write e.g. 10,30,120 (the pause before the 2nd, 3rd, 4th attempt).",
        )
    return pauses


def app_from_environment() -> Any:
    """An app from ``MODELPLANE_*`` variables, for ``uvicorn --factory`` or a process manager,
    and for each worker process of ``modelplane server start --workers N``."""
    from modelplane.server.app import create_app

    options = json.loads(os.environ.get(WORKER_OPTIONS_ENV) or "{}")
    return create_app(
        server_settings(options.get("store_url"), options.get("artifact_uri")),
        admin_token=admin_token_from_environment(),
        admin_owner=admin_owner_from_environment(),
        webhook_interval=1.0 if options.get("webhooks", True) else None,
        webhook_backoff=webhook_backoff_from_environment(),
        reap_interval=reap_interval_from_environment(),
        log_requests=options.get("log_requests", False),
        metrics_token=metrics_token_from_environment(),
        sso=sso_settings.from_environment(),
    )


def reap_interval_from_environment() -> float:
    """``MODELPLANE_REAP_SECONDS``: how often the server looks for abandoned runs (default 60)."""
    raw = os.environ.get(REAP_SECONDS_ENV)
    if not raw:
        return 60.0
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if value <= 0:
        raise ConfigError(
            f"{REAP_SECONDS_ENV}={raw!r} is not a positive number of seconds.",
            hint="Leave it unset for the default of 60 s.",
        )
    return value


def serve(
    settings: Settings,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    admin_token: str | None = None,
    access_log: bool = True,
    log_level: str = "info",
    webhooks: bool = True,
    log_format: str = "text",
    workers: int = 1,
) -> None:
    """Run the server until it is stopped (Ctrl-C or SIGTERM); ``webhooks`` runs the webhook
    dispatcher in it too. ``log_format`` ``json`` logs JSON lines, one per request when
    ``access_log`` (``server.logs``). ``workers`` above 1 runs that many processes, each with
    its own app, sharing the port; their metrics are added up through a folder of counter files
    (``PROMETHEUS_MULTIPROC_DIR``, a fresh temporary one unless set)."""
    import uvicorn

    from modelplane.server.logs import log_config

    json_requests = log_format == "json" and access_log
    common: dict[str, Any] = dict(
        host=host,
        port=port,
        log_level=log_level,
        access_log=access_log and not json_requests,
        proxy_headers=True,
        server_header=False,
    )
    configured = log_config(log_format, log_level)
    if configured is not None:  # else uvicorn's own text format
        common["log_config"] = configured
    if workers > 1:
        _serve_workers(settings, workers, webhooks, json_requests, common)
        return
    from modelplane.server.app import create_app

    app = create_app(
        settings,
        admin_token=admin_token,
        admin_owner=admin_owner_from_environment(),
        webhook_interval=1.0 if webhooks else None,
        webhook_backoff=webhook_backoff_from_environment(),
        reap_interval=reap_interval_from_environment(),
        log_requests=json_requests,
        metrics_token=metrics_token_from_environment(),
        sso=sso_settings.from_environment(),
    )
    uvicorn.Server(uvicorn.Config(app, **common)).run()


def _serve_workers(
    settings: Settings, workers: int, webhooks: bool, log_requests: bool, common: dict[str, Any]
) -> None:
    import uvicorn

    options = {
        "store_url": settings.store_url,
        "artifact_uri": settings.artifact_uri,
        "webhooks": webhooks,
        "log_requests": log_requests,
    }
    os.environ[WORKER_OPTIONS_ENV] = json.dumps(options)
    own_folder = None
    if not os.environ.get(MULTIPROC_ENV):
        own_folder = tempfile.mkdtemp(prefix="modelplane-metrics-")
        os.environ[MULTIPROC_ENV] = own_folder
    try:
        uvicorn.run(
            "modelplane.server.runner:app_from_environment", factory=True, workers=workers, **common
        )
    finally:
        if own_folder is not None:
            shutil.rmtree(own_folder, ignore_errors=True)


def _state_path(home: Path) -> Path:
    return home / STATE_FILE


def read_state(home: Path) -> ServerState | None:
    path = _state_path(home)
    if not path.is_file():
        return None
    try:
        return ServerState(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def health(url: str, timeout: float = 2.0) -> bool:
    import httpx

    try:
        return httpx.get(f"{url}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def start_background(
    settings: Settings,
    *,
    host: str,
    port: int,
    access_log: bool = True,
    webhooks: bool = True,
    log_format: str = "text",
    workers: int = 1,
    wait_seconds: float = 30.0,
) -> ServerState:
    """Start ``modelplane server start`` as a detached process and wait until it answers."""
    running = read_state(settings.home)
    if running is not None and process_alive(running.pid):
        raise ConfigError(
            f"A modelplane server started from {settings.home} is already running at "
            f"{running.url} (pid {running.pid}).",
            hint="Stop it with `modelplane server stop`, or use another MODELPLANE_HOME.",
        )
    settings.home.mkdir(parents=True, exist_ok=True)
    log_path = settings.home / LOG_FILE
    command = [sys.executable, "-m", "modelplane", "server", "start", "--host", host]
    command += ["--port", str(port)] + ([] if access_log else ["--no-access-log"])
    command += [] if webhooks else ["--no-webhooks"]
    command += ["--log-format", log_format, "--workers", str(workers)]
    # The URLs go by environment, not argv: a database password must not show in `ps`.
    env = dict(
        os.environ,
        MODELPLANE_HOME=str(settings.home),
        MODELPLANE_STORE_URL=settings.store_url,
        MODELPLANE_ARTIFACT_URI=settings.artifact_uri,
    )
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = server_url(host, port)
    shown = display_url(settings.store_url)
    state = ServerState(process.pid, url, str(log_path), shown, settings.artifact_uri)
    deadline = time.monotonic() + wait_seconds
    while not health(url, timeout=1.0):
        if process.poll() is not None or time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            raise StoreError(
                f"The background server did not start at {url}.",
                hint=f"See its log: {log_path}.",
            )
        time.sleep(0.1)
    _state_path(settings.home).write_text(json.dumps(asdict(state), indent=2))
    return state


def stop_background(home: Path, wait_seconds: float = 15.0) -> ServerState:
    """Stop the background server started from ``home`` (SIGTERM, then SIGKILL after a wait)."""
    state = read_state(home)
    if state is None:
        raise StoreError(
            f"No background server was started from {home}.",
            hint="Start one with `modelplane server start --daemon`; "
            "a foreground server stops with Ctrl-C.",
        )
    if process_alive(state.pid):
        os.kill(state.pid, signal.SIGTERM)
        deadline = time.monotonic() + wait_seconds
        while process_alive(state.pid) and time.monotonic() < deadline:
            _reap(state.pid)
            time.sleep(0.1)
        if process_alive(state.pid):
            os.kill(state.pid, signal.SIGKILL)
    _state_path(home).unlink(missing_ok=True)
    return state


def _reap(pid: int) -> None:
    """Collect the exit status when the server is our own child, so it does not linger."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
