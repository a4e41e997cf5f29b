"""Adds the ``http`` backend to the store contract suite: ``HttpMetadataStore`` against a real
``modelplane server start`` process on loopback, over a SQLite file.

One server runs for the whole session; before each test every table of its database is emptied
(through SQL, beside the server) so each test sees an empty store. The server's admin token comes
from the environment and is owned by ``ana``: over HTTP the stage-history actor is always the
token's owner, and the contract tests record stage changes as ``ana``.

The contract modules run on it through small wrappers, ``tests/store/test_http_store_*.py``:
each star-imports one ``test_store_*.py`` module and this module's ``store`` fixture, which
overrides the conftest's (``test_http_backend.py`` checks that no contract module lacks one).
MODELPLANE_TEST_BACKENDS without ``http`` in it skips them. ``register()`` adds the backend to the
conftest's table instead, for a conftest that prefers one parametrized ``store`` fixture.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from modelplane.metadata.sql.engine import make_engine
from modelplane.metadata.sql.tables import ALL_TABLES
from modelplane.metadata.store import MetadataStore
from tests.server.live import LiveServer
from tests.store.backends import register_backend

__all__ = ["http_store", "register", "store"]

ACTOR = "ana"


@functools.cache
def _server() -> tuple[LiveServer, sa.Engine]:
    root = Path(tempfile.mkdtemp(prefix="modelplane-http-backend-"))
    server = LiveServer(root, admin_owner=ACTOR).start()
    engine = make_engine(server.store_url)

    def stop() -> None:
        server.stop()
        engine.dispose()
        shutil.rmtree(root, ignore_errors=True)

    atexit.register(stop)
    return server, engine


@contextlib.contextmanager
def http_store(tmp_path: Path) -> Iterator[MetadataStore]:
    server, engine = _server()
    with engine.begin() as conn:
        for table in ALL_TABLES:
            conn.execute(table.delete())
    store = server.store()
    try:
        yield store
    finally:
        store.close()


def register() -> None:
    register_backend("http", http_store)


def _wanted() -> bool:
    names = [n.strip() for n in os.environ.get("MODELPLANE_TEST_BACKENDS", "").split(",") if n.strip()]
    return not names or "http" in names


# Read at import, like backends.py: the autouse fixture clears MODELPLANE_* for each test.
_WANTED = _wanted()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MetadataStore]:
    """An empty ``HttpMetadataStore`` on the shared server process."""
    if not _WANTED:
        pytest.skip("MODELPLANE_TEST_BACKENDS leaves out http")
    with http_store(tmp_path) as opened:
        yield opened
