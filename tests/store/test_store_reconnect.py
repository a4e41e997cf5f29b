"""Pooled connections to a database server that the server closed (a restart, an idle timeout,
an operator's kill) are replaced without failing the user's call, and a write lands once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import NullPool

from modelplane.errors import StoreError
from modelplane.metadata.sql import engine as engine_module
from modelplane.metadata.sql.engine import make_engine, normalize_url
from modelplane.metadata.sql.store import SqlMetadataStore
from tests.store.backends import BACKENDS, enabled_backends, sql_url

SERVERS = [name for name in enabled_backends(sql_only=True) if name != "sqlite"]

pytestmark = pytest.mark.skipif(not SERVERS, reason="no database server backend is enabled")

_OWN_ID = {"postgresql": "SELECT pg_backend_pid()", "mysql": "SELECT CONNECTION_ID()"}
_KILL = {"postgresql": "SELECT pg_terminate_backend({})", "mysql": "KILL {}"}


@pytest.fixture(params=SERVERS)
def server(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(server: str, tmp_path: Path) -> Iterator[SqlMetadataStore]:
    with BACKENDS[server](tmp_path) as opened:
        assert isinstance(opened, SqlMetadataStore)
        yield opened


def _pooled_ids(engine: sa.Engine, backend: str) -> set[int]:
    """The server's ids of the connections ``engine``'s pool holds (checked out one by one)."""
    ids: set[int] = set()
    held = []
    for _ in range(engine.pool.checkedin()):
        conn = engine.connect()
        held.append(conn)
        ids.add(int(conn.execute(sa.text(_OWN_ID[backend])).scalar_one()))
    for conn in held:
        conn.close()
    return ids


def _kill(url: str, backend: str, ids: set[int]) -> None:
    """Close those connections from the server's side, as a restart or an operator would."""
    admin = sa.create_engine(normalize_url(url), poolclass=NullPool)
    try:
        with admin.connect() as conn:
            for server_id in ids:
                conn.execute(sa.text(_KILL[backend].format(server_id)))
            conn.commit()
    finally:
        admin.dispose()


def test_a_write_on_a_connection_the_server_closed_runs_again_on_a_new_one(
    store: SqlMetadataStore, server: str, tmp_path: Path
) -> None:
    store.create_model("before")
    ids = _pooled_ids(store._engine, server)
    assert ids, "the store keeps its connection in the pool"

    _kill(sql_url(server, tmp_path), server, ids)
    store.create_model("after")  # used moments ago, so not pinged: the first statement fails

    assert sorted(model.name for model in store.list_models()) == ["after", "before"]
    assert not ids & _pooled_ids(store._engine, server)


def test_a_read_on_a_connection_the_server_closed_runs_again_on_a_new_one(
    store: SqlMetadataStore, server: str, tmp_path: Path
) -> None:
    store.create_model("kept")
    _kill(sql_url(server, tmp_path), server, _pooled_ids(store._engine, server))

    assert store.get_model("kept").name == "kept"


def test_a_connection_lost_while_committing_is_not_run_again_and_says_so(
    store: SqlMetadataStore, server: str, tmp_path: Path
) -> None:
    store.create_model("before")
    url = sql_url(server, tmp_path)
    commits = []

    def lose_the_connection(conn: sa.Connection) -> None:  # SQLAlchemy calls it before COMMIT
        commits.append(conn)
        _kill(url, server, {int(conn.exec_driver_sql(_OWN_ID[server]).scalar_one())})

    event.listen(store._engine, "commit", lose_the_connection)
    try:
        with pytest.raises(StoreError, match="lost while the change was being committed") as caught:
            store.create_model("lost")
    finally:
        event.remove(store._engine, "commit", lose_the_connection)
    assert "before you make the change again" in (caught.value.hint or "")
    assert len(commits) == 1  # not run again
    # The server rolled it back (the COMMIT never reached it), and the store works on.
    assert [model.name for model in store.list_models()] == ["before"]
    store.create_model("after")
    assert sorted(model.name for model in store.list_models()) == ["after", "before"]


@pytest.mark.parametrize("idle", [True, False], ids=["idle: pinged", "recent: trusted"])
def test_a_connection_idle_for_a_while_is_pinged_before_it_is_lent(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, idle: bool
) -> None:
    url = sql_url(server, tmp_path)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        _kill(url, server, _pooled_ids(engine, server))
        monkeypatch.setattr(engine_module, "PING_AFTER_IDLE", 0.0 if idle else 3600.0)

        with engine.connect() as conn:
            if idle:  # the ping found it closed, and the pool lent a new connection
                assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1
            else:  # trusted without a round trip; the store's retry is what replaces it
                with pytest.raises(sa.exc.DBAPIError) as caught:
                    conn.execute(sa.text("SELECT 1"))
                assert caught.value.connection_invalidated
    finally:
        engine.dispose()
