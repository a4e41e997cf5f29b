"""``modelplane webhook …``: announce stage changes to URLs, see what was sent, send what is due.

Every stage change writes a delivery per matching webhook in the same transaction (nothing is
lost); a server sends them in the background, or ``modelplane webhook deliver`` does.
"""

from __future__ import annotations

import os
import time
from typing import Any

import click

from modelplane.cli import output, session
from modelplane.cli.lazy import OrderedGroup
from modelplane.cli.options import confirm, offset_of, output_option, paging_options, yes_option
from modelplane.cli.output import Column
from modelplane.errors import ConfigError

__all__ = ["webhook"]

_STAGE_CHOICES = ["none", "staging", "production", "archived"]
WEBHOOK_COLUMNS = (
    Column("ID", "id"),
    Column("URL", "url", max_width=50),
    Column("MODEL", lambda r: r["model"] or "(all)"),
    Column("STAGES", lambda r: ", ".join(r["stages"]) or "(all)"),
    Column("SIGNED", lambda r: "yes" if r["has_secret"] else "no"),
    Column("CREATED", "created", output.when),
)


def _event(row: dict[str, Any]) -> str:
    p = row["payload"]
    return f"{p.get('model')} v{p.get('version')}: {p.get('from_stage')} → {p.get('to_stage')}"


DELIVERY_COLUMNS = (
    Column("ID", "id"),
    Column("CHANGE", _event),
    Column("URL", "url", max_width=40),
    Column("STATUS", "status"),
    Column("ATTEMPTS", "attempts"),
    Column("LAST ERROR", lambda r: r["last_error"] or "", max_width=40),
    Column("CREATED", "created", output.when),
)


@click.group(cls=OrderedGroup)
def webhook() -> None:
    """Announce model stage changes to URLs (CI, chat, deployment), with a delivery log.

    Each change is POSTed as JSON; with a secret, X-Modelplane-Signature carries
    sha256=HMAC(secret, body). Failed sends are retried with growing pauses.
    """


@webhook.command()
@click.argument("url")
@click.option("--model", help="Only changes of this model (default: every model).")
@click.option(
    "--stage",
    "stages",
    multiple=True,
    type=click.Choice(_STAGE_CHOICES, case_sensitive=False),
    help="Only changes into this stage; repeat for several (default: every stage).",
)
@click.option(
    "--secret-env",
    metavar="VAR",
    help="Sign deliveries with the secret in environment variable VAR (kept out of shell history).",
)
@output_option
def create(
    url: str, model: str | None, stages: tuple[str, ...], secret_env: str | None, fmt: str
) -> None:
    """Send every later stage change (filtered by --model and --stage) to URL."""
    secret = None
    if secret_env is not None:
        secret = os.environ.get(secret_env)
        if not secret:
            raise ConfigError(
                f"The environment variable {secret_env} is not set or empty.",
                hint=f"export {secret_env}=… first, or leave out --secret-env.",
            )
    record = session.writer().create_webhook(
        url, model=model, stages=[s.lower() for s in stages], secret=secret
    )
    if fmt == "json":
        output.emit_json(record)
    else:
        output.message(f"Created webhook {record.id} → {record.url}.")


@webhook.command("list")
@output_option
def list_webhooks(fmt: str) -> None:
    """List webhooks (never their secrets)."""
    records = session.client().list_webhooks()
    empty = "No webhooks yet: add one with `modelplane webhook create URL`."
    output.listing(output.whole_page(records), WEBHOOK_COLUMNS, fmt=fmt, empty=empty)


@webhook.command()
@click.argument("webhook_id")
@yes_option
def delete(webhook_id: str, yes: bool) -> None:
    """Delete the webhook WEBHOOK_ID and its delivery log."""
    confirm(f"Delete webhook {webhook_id} and its delivery log?", yes=yes)
    session.writer().delete_webhook(webhook_id)
    output.message(f"Deleted webhook {webhook_id}.")


@webhook.command()
@click.option("--webhook", "webhook_id", help="Only deliveries to this webhook.")
@click.option(
    "--status",
    type=click.Choice(["pending", "delivered", "failed"]),
    help="Only deliveries with this status.",
)
@paging_options
@output_option
def deliveries(
    webhook_id: str | None, status: str | None, limit: int, page: int, fmt: str
) -> None:
    """List deliveries, newest first: what was announced where, and how sending went."""
    found = session.client().list_webhook_deliveries(
        webhook_id=webhook_id, status=status, limit=limit, offset=offset_of(limit, page)
    )
    output.listing(found, DELIVERY_COLUMNS, fmt=fmt, empty="No deliveries match.")


@webhook.command()
@click.option("--watch", is_flag=True, help="Keep sending as changes come, until interrupted.")
@click.option(
    "--interval",
    type=click.FloatRange(0.1, 3600),
    default=1.0,
    show_default=True,
    help="Seconds between looks at the log with --watch.",
)
def deliver(watch: bool, interval: float) -> None:
    """Send the deliveries that are due (a server does this by itself unless --no-webhooks)."""
    from modelplane.server.webhooks import Dispatcher

    with Dispatcher(session.client().store) as dispatcher:
        while True:
            sent = dispatcher.deliver_due()
            if sent or not watch:
                ok = sum(1 for d in sent if d.status == "delivered")
                output.message(f"Sent {ok} of {len(sent)} due deliveries.", err=watch)
            if not watch:
                return
            time.sleep(interval)
