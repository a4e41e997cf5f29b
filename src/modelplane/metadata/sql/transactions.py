"""The SQL store's core: one engine, one clock, and transactions that retry races and speak
modelplane errors.

Every store method runs its queries through ``StoreCore.write`` or ``StoreCore.read``; nothing
else touches the engine. Each transaction takes one time from the store's clock (``utcnow()``
inside it returns that time). The clock is the database's on a database server, so hosts sharing
one PostgreSQL judge heartbeats alike, and the process's own on SQLite (the store lives in it);
tests pass their own.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelplane.errors import AlreadyExistsError, InvalidInputError, StoreError
from modelplane.metadata.reads import Missing, Row, Runner
from modelplane.metadata.sql import direct
from modelplane.metadata.sql.queries import statement
from modelplane.metadata.sql.rows import TRANSACTION_TIME
from modelplane.metadata.sql.engine import (
    BUSY_TIMEOUT_ENV,
    IMMEDIATE,
    busy_timeout,
    describe_db_error,
    display_url,
    ensure_schema,
    is_transient,
    make_engine,
)

__all__ = ["Clock", "StoreCore"]

Clock = Callable[[], datetime]

T = TypeVar("T")
# Enough for 8 processes hammering one model on a 2-core machine; each retry sleeps a little longer.
_ATTEMPTS = 10


class StoreCore:
    """Owns the engine; runs callables in transactions, retrying deadlocks and lost races."""

    def __init__(self, url: str, *, clock: Clock | None = None) -> None:
        self.url = url
        self._engine = make_engine(url)
        # A busy database is retried for this long in all, not per attempt: each SQLite attempt
        # already waits up to the busy timeout for the other writer.
        self._patience = busy_timeout()
        self._dialect = self._engine.dialect.name
        # On SQLite a writer takes the database lock at BEGIN, so two writers queue up (busy
        # timeout) instead of one failing when it tries to upgrade its read lock.
        self._write_engine = (
            self._engine.execution_options(**{IMMEDIATE: True})
            if self._dialect == "sqlite"
            else self._engine
        )
        # The connection of an ``atomically`` block running in this thread, if any.
        self._batch = threading.local()
        try:
            ensure_schema(self._engine, url)
            self._clock = clock or self._database_clock()
        except BaseException:
            self._engine.dispose()
            raise

    def _database_clock(self) -> Clock:
        """The database server's time, as this process's clock plus the offset measured once."""
        if self._dialect == "sqlite":
            return _local_now
        query = "SELECT UTC_TIMESTAMP(6)" if self._dialect in ("mysql", "mariadb") else "SELECT now()"
        before = _local_now()
        with self._engine.connect() as conn:
            remote = conn.execute(sa.text(query)).scalar_one()
        after = _local_now()
        if remote.tzinfo is None:
            remote = remote.replace(tzinfo=timezone.utc)
        offset = remote - (before + (after - before) / 2)
        if abs(offset) < timedelta(milliseconds=50):  # within what one round trip can tell
            return _local_now
        return lambda: _local_now() + offset

    def now(self) -> datetime:
        """The store's time: the current transaction's, or the clock's outside one."""
        return TRANSACTION_TIME.get() or self._clock()

    def close(self) -> None:
        self._engine.dispose()

    def write(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in one write transaction.

        A unique-key or foreign-key violation means another writer won a race between our checks
        and our insert (the checks themselves run inside ``work`` and raise modelplane errors), so
        the whole transaction runs again and its checks now see the winner's row.
        """
        conn = getattr(self._batch, "conn", None)
        if conn is not None:
            return work(conn)
        return self._run(work, self._write_engine)

    def read(self, work: Callable[[Connection], T]) -> T:
        conn = getattr(self._batch, "conn", None)
        if conn is not None:
            return work(conn)
        return self._run(work, self._engine)

    def runner(self, conn: Connection) -> Runner:
        """Runs the declared queries (``queries.py``) on ``conn``, for ``metadata.reads``."""

        def run(name: str, variant: Mapping[str, Any], params: Mapping[str, Any]) -> list[Row]:
            return direct.rows(conn, statement(name, self._dialect, dict(variant)), params)

        return run

    def reading(
        self, work: Callable[[Runner], T], slow: Callable[[Connection], T] | None = None
    ) -> T:
        """Run ``work`` (a function of ``metadata.reads``) with a runner of the declared queries,
        in one read transaction. When it finds nothing (``Missing``), ``slow`` runs in the same
        transaction: the long way round (ids, say), or the ``NotFoundError`` saying what exists."""

        def over(conn: Connection) -> T:
            try:
                return work(self.runner(conn))
            except Missing:
                if slow is None:
                    raise
                return slow(conn)

        return self.read(over)

    def atomically(self, work: Callable[[Any], T]) -> T:
        """Run ``work(store)`` so that every store call it makes shares one write transaction: how
        the store builds one operation out of others (a step's outputs, links and completion).

        On a lost race the whole of ``work`` runs again, so it must only make store calls.
        """
        if getattr(self._batch, "conn", None) is not None:
            return work(self)

        def run_all(conn: Connection) -> T:
            self._batch.conn = conn
            try:
                return work(self)
            finally:
                self._batch.conn = None

        return self._run(run_all, self._write_engine)

    def _run(self, work: Callable[[Connection], T], engine: sa.Engine) -> T:
        started = time.monotonic()
        for attempt in range(_ATTEMPTS):
            last = attempt == _ATTEMPTS - 1
            moment = TRANSACTION_TIME.set(self._clock())
            committing = False
            try:
                with engine.begin() as conn:
                    result = work(conn)
                    committing = True
                return result
            except sa.exc.IntegrityError as exc:
                if last:
                    raise AlreadyExistsError(
                        "The change conflicts with data already in the store: "
                        f"{describe_db_error(exc)}",
                        hint="Retry the call; if it keeps failing, report it with this message.",
                    ) from None
            except sa.exc.DataError as exc:
                raise InvalidInputError(
                    f"A value does not fit the metadata store: {describe_db_error(exc)}",
                    hint="Shorten the value or check its type.",
                ) from None
            except sa.exc.DBAPIError as exc:
                if exc.connection_invalidated and committing:
                    # Not run again: the COMMIT may have landed before the connection went.
                    raise StoreError(
                        f"The connection to the metadata store at {display_url(self.url)} was "
                        "lost while the change was being committed, so it may or may not have "
                        f"been saved: {describe_db_error(exc)}",
                        hint="Look at what the store holds now before you make the change again.",
                    ) from None
                if exc.connection_invalidated and not last:
                    # The server closed a pooled connection (a restart, an idle timeout): the
                    # transaction died with it before its COMMIT, so it runs again on a new one.
                    continue
                waited = time.monotonic() - started
                if last or not is_transient(exc) or waited >= self._patience:
                    raise self._store_error(exc, waited) from None
            except sa.exc.SQLAlchemyError as exc:
                raise StoreError(
                    f"The metadata store at {display_url(self.url)} failed: {exc}",
                    hint="Report this with the message above.",
                ) from None
            finally:
                TRANSACTION_TIME.reset(moment)
            time.sleep(random.uniform(0.001, 0.01) * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _store_error(self, exc: sa.exc.DBAPIError, waited: float) -> StoreError:
        if is_transient(exc):
            return StoreError(
                f"The metadata store at {display_url(self.url)} stayed busy for {waited:.1f} s: "
                f"{describe_db_error(exc)}",
                hint="Another process holds a long write lock; retry when it finishes, or let "
                f"writes wait longer with {BUSY_TIMEOUT_ENV} (seconds, now {self._patience:g}).",
            )
        return StoreError(
            f"The metadata store at {display_url(self.url)} failed: {describe_db_error(exc)}",
            hint="Check that the database is reachable and not full, then retry.",
        )


def _local_now() -> datetime:
    return datetime.now(timezone.utc)
