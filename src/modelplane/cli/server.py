"""``modelplane server start|stop|status``: run the REST API and dashboard."""

from __future__ import annotations

from typing import Callable

import click

from modelplane.cli import output
from modelplane.cli.options import output_option

__all__ = ["server"]


@click.group()
def server() -> None:
    """Run the modelplane server: REST API at /api/v1, OpenAPI at /docs, dashboard at /.

    Every API call needs a bearer token. The first start on an empty store prints an admin
    token once; or set MODELPLANE_ADMIN_TOKEN (16+ characters) before starting. Single sign-on
    with an OpenID Connect provider is on when MODELPLANE_OIDC_ISSUER, MODELPLANE_OIDC_CLIENT_ID
    and MODELPLANE_OIDC_CLIENT_SECRET are set (docs/server.md).
    """


@server.command()
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to bind; loopback by default."
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8237,
    show_default=True,
    help="Port to listen on.",
)
@click.option(
    "--store-url",
    help="Database URL (sqlite:///…, postgresql+psycopg://…); default: the store in force.",
)
@click.option(
    "--artifact-uri", help="Artifact store clients read and write (shared folder or s3://…)."
)
@click.option(
    "--daemon", is_flag=True, help="Run in the background; stop it with `modelplane server stop`."
)
@click.option(
    "--access-log/--no-access-log", default=True, show_default=True, help="Log every request."
)
@click.option(
    "--webhooks/--no-webhooks",
    default=True,
    show_default=True,
    help="Send webhook deliveries from this process (turn off when `modelplane webhook deliver "
    "--watch` runs elsewhere).",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    envvar="MODELPLANE_LOG_FORMAT",
    help="json: one JSON object per line (a line per request with its route, status, duration, "
    "request id and user). Env: MODELPLANE_LOG_FORMAT.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    envvar="MODELPLANE_WORKERS",
    help="Server processes sharing the port (use PostgreSQL or MySQL with more than one). "
    "Env: MODELPLANE_WORKERS.",
)
def start(
    host: str,
    port: int,
    store_url: str | None,
    artifact_uri: str | None,
    daemon: bool,
    access_log: bool,
    webhooks: bool,
    log_format: str,
    workers: int,
) -> None:
    """Start the server (in the foreground unless --daemon).

    Open routes for operators: /health (the process answers), /ready (the database and the
    artifact store work; 503 naming what does not) and /metrics (Prometheus; behind a bearer
    secret when MODELPLANE_METRICS_TOKEN is set).
    """
    from modelplane.server import runner

    settings = runner.server_settings(store_url, artifact_uri)
    admin_token = runner.admin_token_from_environment()
    runner.metrics_token_from_environment()  # a bad one fails now, not in each worker
    sso = runner.sso_settings.from_environment()  # bad MODELPLANE_OIDC_* fail before anything starts
    runner.check_port_free(host, port)  # before a first token is made and shown for nothing
    _announce_first_token(settings, admin_token)
    say = _logger_of(log_format)
    if not runner.is_loopback(host):
        say(
            f"Listening on {host}: anyone who can reach this address can try tokens. "
            "Serve it behind a TLS reverse proxy (docs/server.md).",
            True,
        )
    if daemon:
        state = runner.start_background(
            settings,
            host=host,
            port=port,
            access_log=access_log,
            webhooks=webhooks,
            log_format=log_format,
            workers=workers,
        )
        output.message(
            f"modelplane server running at {state.url} (pid {state.pid}); log: {state.log}"
        )
        return
    say(
        f"modelplane server at {runner.server_url(host, port)} — store "
        f"{runner.display_url(settings.store_url)}, artifacts {settings.artifact_uri}"
        + (f", {workers} workers" if workers > 1 else "")
        + (f", single sign-on with {sso.issuer}" if sso else ""),
        False,
    )
    runner.serve(
        settings,
        host=host,
        port=port,
        admin_token=admin_token,
        access_log=access_log,
        webhooks=webhooks,
        log_format=log_format,
        workers=workers,
    )


def _logger_of(log_format: str) -> Callable[[str, bool], None]:
    """How the start messages reach stderr: as text, or as JSON lines like the server's log."""
    if log_format == "text":
        return lambda text, _warning: output.message(text, err=True)
    import logging

    from modelplane.server.logs import json_line

    return lambda text, warning: json_line(text, level=logging.WARNING if warning else logging.INFO)


def _announce_first_token(settings: object, admin_token: str | None) -> None:
    """On a store without tokens (and no MODELPLANE_ADMIN_TOKEN), create and print one, once."""
    if admin_token is not None:
        return
    from modelplane.cli import session
    from modelplane.server.auth import bootstrap_admin_token

    secret = bootstrap_admin_token(session.client_for(settings).store)  # type: ignore[arg-type]
    if secret is not None:
        output.message(
            "Created the first API token (owner 'admin'). It is shown only now; keep it safe:\n\n"
            f"    {secret}\n\n"
            "Clients use it with `modelplane login URL --token TOKEN` or MODELPLANE_API_TOKEN.",
            err=True,
        )


@server.command()
def stop() -> None:
    """Stop the background server started from this MODELPLANE_HOME."""
    from modelplane.cli import session
    from modelplane.server import runner

    state = runner.stop_background(session.settings().home)
    output.message(f"Stopped the modelplane server at {state.url} (pid {state.pid}).")


@server.command()
@output_option
def status(fmt: str) -> None:
    """Show whether the background server of this MODELPLANE_HOME is running."""
    from modelplane.cli import session
    from modelplane.server import runner

    state = runner.read_state(session.settings().home)
    alive = state is not None and runner.process_alive(state.pid)
    healthy = alive and state is not None and runner.health(state.url)
    info = {
        "running": bool(healthy),
        "pid": state.pid if state else None,
        "url": state.url if state else None,
        "store_url": state.store_url if state else None,
        "artifact_uri": state.artifact_uri if state else None,
        "log": state.log if state else None,
    }
    if fmt == "json":
        output.emit_json(info)
    else:
        output.fields([(key, "" if value is None else value) for key, value in info.items()])
    if not healthy:
        raise click.exceptions.Exit(1)
