"""Adds the ``http`` backend to the store contract suite: ``HttpMetadataStore`` against a real
``modelplane server start`` process on loopback, over a SQLite file.

One server runs for the whole session; before each test every table of its database is emptied
(through SQL, beside the server) so each test sees an empty store. The server's admin token comes
from the environment and is owned by ``ana``: over HTTP the stage-history actor is always the
token's owner, and the contract tests record stage changes as ``ana``.

``tests/store/conftest.py`` calls ``register()``, so every contract test that takes the ``store``
fixture also runs here; MODELPLANE_TEST_BACKENDS without ``http`` in it leaves them out.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa

from modelplane.metadata.sql.engine import make_engine
from modelplane.metadata.store import MetadataStore
from tests.server.live import LiveServer
from tests.store.backends import empty_tables, register_backend

__all__ = ["http_store", "live_server", "register"]

ACTOR = "ana"


@functools.cache
def _server() -> tuple[LiveServer, sa.Engine]:
    root = Path(tempfile.mkdtemp(prefix="modelplane-http-backend-"))
    # No dispatcher: the contract tests drive the delivery log themselves.
    server = LiveServer(root, admin_owner=ACTOR, extra_args=("--no-webhooks",)).start()
    engine = make_engine(server.store_url)

    def stop() -> None:
        server.stop()
        engine.dispose()
        shutil.rmtree(root, ignore_errors=True)

    atexit.register(stop)
    return server, engine


def live_server() -> LiveServer:
    """The server behind the ``http`` backend."""
    return _server()[0]


@contextlib.contextmanager
def http_store(tmp_path: Path) -> Iterator[MetadataStore]:
    server, engine = _server()
    with engine.begin() as conn:
        empty_tables(conn)
    store = server.store()
    try:
        yield store
    finally:
        store.close()


def register() -> None:
    register_backend("http", http_store)
