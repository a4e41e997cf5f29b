"""Keyed writes in the SQL store (``metadata/idempotency.py``): ``once`` runs a write and records
its answer under the caller's key in the write's own transaction, or answers a repeat of the key
from that record without running anything.

One transaction for both is the point: a server killed after the commit but before its answer
reached the client still knows the key when the client retries. Two requests with one key at once
(a client that gave up waiting and retried) cannot both record: the key is the primary key, so the
second's insert fails, its whole transaction (the write included) rolls back and runs again, and
then finds the first's record.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

from sqlalchemy.engine import Connection, Row

from modelplane.errors import InvalidInputError, ModelplaneError
from modelplane.metadata.idempotency import IDEMPOTENCY_HEADER, KEY_LIFETIME, Answer, check_key
from modelplane.metadata.sql.rows import utcnow
from modelplane.metadata.sql.tables import idempotency_keys
from modelplane.metadata.sql.transactions import StoreCore

__all__ = ["IdempotencyMixin"]

logger = logging.getLogger("modelplane.store")

# How often the store deletes the keys older than KEY_LIFETIME (at the first keyed write after).
PURGE_EVERY = 3600.0
_KEYS = idempotency_keys.c


class IdempotencyMixin(StoreCore):
    # When the next keyed write also deletes the expired keys (monotonic; the first one does).
    _next_purge = 0.0

    def once(
        self, key: str, owner: str, operation: str, digest: str, work: Callable[[], Answer]
    ) -> Answer:
        check_key(key)

        def find(conn: Connection) -> Row[Any] | None:
            where = (_KEYS.owner == owner) & (_KEYS.request_key == key)
            row = conn.execute(idempotency_keys.select().where(where)).first()
            if row is not None and row.created <= utcnow() - KEY_LIFETIME:
                conn.execute(idempotency_keys.delete().where(where))  # expired: a new call
                return None
            return row

        def record(conn: Connection, answer: Answer) -> None:
            conn.execute(
                idempotency_keys.insert().values(
                    request_key=key,
                    owner=owner,
                    operation=operation,
                    digest=digest,
                    status=answer.status,
                    body=answer.body.decode("utf-8"),
                    created=utcnow(),
                )
            )

        def attempt(_store: Any) -> Answer:
            found = self.write(find)
            if found is not None:
                return _replayed(found, key, operation, digest)
            answer = work()
            self.write(lambda conn: record(conn, answer))
            return answer

        answer = self.atomically(attempt)
        self._purge_expired()
        return answer

    def _purge_expired(self) -> None:
        now = time.monotonic()
        if now < self._next_purge:
            return
        self._next_purge = now + PURGE_EVERY

        def purge(conn: Connection) -> None:
            conn.execute(idempotency_keys.delete().where(_KEYS.created < utcnow() - KEY_LIFETIME))

        try:
            self.write(purge)
        except ModelplaneError as exc:  # the write it follows is done; the next hour tries again
            logger.warning("Deleting expired idempotency keys failed: %s", exc)


def _replayed(row: Row[Any], key: str, operation: str, digest: str) -> Answer:
    if row.operation != operation or row.digest != digest:
        used = (
            f"a {operation} call with other arguments"
            if row.operation == operation
            else f"{row.operation}, not {operation}"
        )
        raise InvalidInputError(
            f"The {IDEMPOTENCY_HEADER} {key!r} was already used for {used}; a key names one call.",
            hint="Send a new key with each new call, and the same key only to retry that call "
            "with the same arguments.",
        )
    return Answer(row.status, row.body.encode("utf-8"))
