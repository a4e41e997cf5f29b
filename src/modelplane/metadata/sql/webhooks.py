"""Promotion events in the SQL store: webhooks, and a delivery log used as an outbox.

Every stage change writes one pending delivery per matching webhook **in its own transaction**
(``metadata.event_writes``), so an event is never lost between the change and the send, whatever
crashes. Dispatchers claim due deliveries (moving their next attempt ahead, under row locks that
other dispatchers skip), send them, and record the outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from modelplane.enums import ModelStages
from modelplane.errors import InvalidInputError, NotFoundError
from modelplane.metadata.reads import check_page
from modelplane.metadata.records import Page, WebhookDeliveryRecord, WebhookRecord
from modelplane.metadata.arguments import check_text
from modelplane.metadata.sql.rows import count, new_id, page, utcnow
from modelplane.metadata.sql.tables import webhook_deliveries, webhooks
from modelplane.metadata.sql.transactions import StoreCore
from modelplane.versioning import check_name, parse_stage

__all__ = ["WebhooksMixin"]

_STATUSES = ("pending", "delivered", "failed")
_DELIVERY_SELECT = sa.select(webhook_deliveries, webhooks.c.url).join(
    webhooks, webhooks.c.id == webhook_deliveries.c.webhook_id
)


def _webhook_record(row: Row[Any]) -> WebhookRecord:
    values = dict(row._mapping)
    values["has_secret"] = bool(values.pop("secret", None))
    return WebhookRecord.model_validate(values)


def _delivery_record(row: Row[Any], secret: str | None = None) -> WebhookDeliveryRecord:
    return WebhookDeliveryRecord.model_validate({**row._mapping, "secret": secret})


def _check_url(url: str) -> str:
    check_text(url, "webhook URL", 2000)
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError(
            f"The webhook URL {url!r} is not an http(s) URL.",
            hint="Give the full address the events go to, e.g. https://ci.example.com/hooks/models.",
        )
    return url


def _check_stages(stages: Sequence[ModelStages | str]) -> list[str]:
    if isinstance(stages, (str, bytes)) or not isinstance(stages, (list, tuple)):
        raise InvalidInputError(
            f"Webhook stages must be a list, not {type(stages).__name__}.",
            hint="For example ['production'], or [] for every stage.",
        )
    checked = []
    for stage in stages:
        parsed = parse_stage(stage)
        if parsed is ModelStages.LATEST:
            raise InvalidInputError(
                "No version ever moves into 'latest'; it is virtual.",
                hint="Use none, staging, production or archived.",
            )
        checked.append(parsed.value)
    return sorted(set(checked))


class WebhooksMixin(StoreCore):
    def create_webhook(
        self,
        url: str,
        *,
        model: str | None = None,
        stages: Sequence[ModelStages | str] = (),
        secret: str | None = None,
    ) -> WebhookRecord:
        values = {
            "id": new_id(),
            "url": _check_url(url),
            "model": check_name(model, "model") if model is not None else None,
            "stages": _check_stages(stages),
            "secret": check_text(secret, "webhook secret", 255) or None,
        }

        def work(conn: Connection) -> WebhookRecord:
            conn.execute(webhooks.insert(), {**values, "created": utcnow()})
            query = sa.select(webhooks).where(webhooks.c.id == values["id"])
            return _webhook_record(conn.execute(query).one())

        return self.write(work)

    def list_webhooks(self) -> list[WebhookRecord]:
        query = sa.select(webhooks).order_by(webhooks.c.created, webhooks.c.id)
        return self.read(lambda conn: [_webhook_record(row) for row in conn.execute(query)])

    def delete_webhook(self, webhook_id: str) -> None:
        def work(conn: Connection) -> None:
            deleted = conn.execute(webhooks.delete().where(webhooks.c.id == webhook_id)).rowcount
            if not deleted:
                raise NotFoundError(
                    f"There is no webhook with id {webhook_id!r}.",
                    hint="See the webhooks with `modelplane webhook list`.",
                )

        self.write(work)

    def list_webhook_deliveries(
        self,
        *,
        webhook_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[WebhookDeliveryRecord]:
        check_page(limit, offset)
        if status is not None and status not in _STATUSES:
            raise InvalidInputError(
                f"Unknown delivery status {status!r}.", hint=f"Use one of: {', '.join(_STATUSES)}."
            )
        query = _DELIVERY_SELECT
        if webhook_id is not None:
            query = query.where(webhook_deliveries.c.webhook_id == webhook_id)
        if status is not None:
            query = query.where(webhook_deliveries.c.status == status)

        def work(conn: Connection) -> Page[WebhookDeliveryRecord]:
            ordered = query.order_by(
                webhook_deliveries.c.created.desc(), webhook_deliveries.c.id.desc()
            )
            rows = conn.execute(ordered.limit(limit).offset(offset))
            return page([_delivery_record(row) for row in rows], count(conn, query), limit, offset)

        return self.read(work)

    def claim_webhook_deliveries(
        self, *, limit: int = 20, lease_seconds: float = 60.0
    ) -> list[WebhookDeliveryRecord]:
        check_page(limit, 0)
        if not 0 < lease_seconds <= 86_400:
            raise InvalidInputError(
                f"The lease of {lease_seconds} s is out of range.", hint="Use 1 s to one day."
            )

        def work(conn: Connection) -> list[WebhookDeliveryRecord]:
            now = utcnow()
            due = (
                sa.select(webhook_deliveries.c.id)
                .where(webhook_deliveries.c.status == "pending")
                .where(webhook_deliveries.c.next_attempt <= now)
                .order_by(webhook_deliveries.c.next_attempt, webhook_deliveries.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            ids = [row.id for row in conn.execute(due)]
            if not ids:
                return []
            conn.execute(
                webhook_deliveries.update()
                .where(webhook_deliveries.c.id.in_(ids))
                .values(next_attempt=now + timedelta(seconds=lease_seconds))
            )
            rows = conn.execute(
                sa.select(webhook_deliveries, webhooks.c.url, webhooks.c.secret)
                .join(webhooks, webhooks.c.id == webhook_deliveries.c.webhook_id)
                .where(webhook_deliveries.c.id.in_(ids))
                .order_by(webhook_deliveries.c.created, webhook_deliveries.c.id)
            )
            return [_delivery_record(row, row.secret) for row in rows]

        return self.write(work)

    def finish_webhook_delivery(
        self,
        delivery_id: str,
        *,
        delivered: bool,
        status_code: int | None = None,
        error: str | None = None,
        retry_in: float | None = None,
    ) -> WebhookDeliveryRecord:
        check_text(error, "delivery error", 10_000)
        if not isinstance(delivered, bool):
            raise InvalidInputError(
                f"delivered must be true or false, not {delivered!r}.", hint="Pass a bool."
            )
        if retry_in is not None and not 0 <= retry_in <= 7 * 86_400:
            raise InvalidInputError(
                f"A retry in {retry_in} s is out of range.", hint="Use 0 s to one week."
            )

        def work(conn: Connection) -> WebhookDeliveryRecord:
            row = _locked_delivery(conn, delivery_id)
            now = utcnow()
            values: dict[str, Any] = {
                "attempts": row.attempts + 1,
                "last_status_code": status_code,
                "last_error": None if delivered else error,
            }
            if delivered:
                values.update(status="delivered", delivered=now)
            elif retry_in is None:
                values.update(status="failed")
            else:
                values.update(status="pending", next_attempt=now + timedelta(seconds=retry_in))
            return _updated(conn, delivery_id, values)

        return self.write(work)

    def redeliver_webhook_delivery(self, delivery_id: str) -> WebhookDeliveryRecord:
        def work(conn: Connection) -> WebhookDeliveryRecord:
            row = _locked_delivery(conn, delivery_id)
            if row.status == "pending":
                return _delivery_record(row)  # already on its way
            values = {"status": "pending", "next_attempt": utcnow(), "delivered": None}
            return _updated(conn, delivery_id, values)

        return self.write(work)


def _locked_delivery(conn: Connection, delivery_id: str) -> Row[Any]:
    """The delivery's row, locked until commit, or the NotFoundError."""
    row = conn.execute(
        _DELIVERY_SELECT.where(webhook_deliveries.c.id == delivery_id).with_for_update()
    ).first()
    if row is None:
        raise NotFoundError(
            f"There is no webhook delivery with id {delivery_id!r}.",
            hint="It was deleted with its webhook.",
        )
    return row


def _updated(conn: Connection, delivery_id: str, values: dict[str, Any]) -> WebhookDeliveryRecord:
    conn.execute(
        webhook_deliveries.update().where(webhook_deliveries.c.id == delivery_id).values(**values)
    )
    return _delivery_record(
        conn.execute(_DELIVERY_SELECT.where(webhook_deliveries.c.id == delivery_id)).one()
    )
