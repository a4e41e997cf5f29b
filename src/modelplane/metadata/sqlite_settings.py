"""How every connection to a SQLite store is set up, by the SQL store's engine and by the local
store's own connection alike: how long a write waits for another process's lock, WAL, and
foreign keys (which deletes rely on to cascade). Standard library only."""

from __future__ import annotations

import os
import sqlite3

from modelplane.errors import ConfigError

__all__ = ["BUSY_TIMEOUT_ENV", "DEFAULT_BUSY_TIMEOUT", "busy_timeout", "configure"]

BUSY_TIMEOUT_ENV = "MODELPLANE_BUSY_TIMEOUT"
DEFAULT_BUSY_TIMEOUT = 30.0


def busy_timeout() -> float:
    """Seconds a write waits for a lock another process holds: ``MODELPLANE_BUSY_TIMEOUT``, or 30.
    SQLite's busy timeout, and how long the store retries a busy database before it fails."""
    raw = os.environ.get(BUSY_TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_BUSY_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 86_400:
        raise ConfigError(
            f"{BUSY_TIMEOUT_ENV}={raw!r} is not a number of seconds from 0 to 86400.",
            hint=f"Set the seconds a write may wait for another process's lock, or leave it unset "
            f"for {DEFAULT_BUSY_TIMEOUT:g}.",
        )
    return value


def configure(
    connection: sqlite3.Connection, *, in_memory: bool = False, wait: float | None = None
) -> None:
    """Set up a new connection: transactions begun by the caller (``BEGIN IMMEDIATE`` for a
    writer), the busy timeout (``wait`` seconds, else ``busy_timeout()``), WAL for a file, and
    foreign keys."""
    # The driver's own transaction handling never begins before DDL and cannot BEGIN IMMEDIATE.
    connection.isolation_level = None
    cursor = connection.cursor()
    # The busy timeout first: switching a new file to WAL needs a lock another opener may hold.
    seconds = busy_timeout() if wait is None else wait
    cursor.execute(f"PRAGMA busy_timeout = {max(1, round(seconds * 1000))}")
    if not in_memory:
        cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()
