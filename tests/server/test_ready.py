"""``GET /ready`` on real server processes: 200 while the database and the artifact store work,
503 naming the one that does not (a SQLite file deleted, replaced or overwritten; an artifact
root turned into a file; a PostgreSQL database that refuses connections), and 200 again once it
is repaired. No token is needed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest
import sqlalchemy as sa

from modelplane.metadata.sql.engine import make_engine
from tests.server.live import LiveServer
from tests.store.backends import POSTGRES_URL, ServerDatabase


def _ready(server: LiveServer) -> tuple[int, dict[str, Any]]:
    response = httpx.get(f"{server.url}/ready", timeout=30)
    return response.status_code, response.json()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(tmp_path / "server") as server:
        yield server


def test_a_working_server_is_ready_without_a_token(live_server: LiveServer) -> None:
    status, body = _ready(live_server)

    assert status == 200
    assert body == {"status": "ready", "checks": {"database": "ok", "artifacts": "ok"}}


def test_an_artifact_root_replaced_by_a_file_is_named_until_it_is_a_folder_again(
    own_server: LiveServer,
) -> None:
    root = Path(own_server.artifact_uri)
    assert _ready(own_server)[0] == 200
    shutil.rmtree(root)
    root.write_text("not a folder")

    status, body = _ready(own_server)

    assert status == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["artifacts"] != "ok" and str(root) in body["checks"]["artifacts"]
    root.unlink()
    assert _ready(own_server) == (200, {"status": "ready", "checks": {"database": "ok", "artifacts": "ok"}})
    assert not any((root / ".tmp").iterdir())  # the check leaves nothing behind


def _delete(path: Path) -> None:
    for name in (path.name, path.name + "-wal", path.name + "-shm"):
        (path.parent / name).unlink(missing_ok=True)


def _replace(path: Path) -> None:
    copy = path.with_name("copy.db")
    shutil.copyfile(path, copy)
    os.replace(copy, path)


def _overwrite(path: Path) -> None:
    with open(path, "r+b") as file:
        file.write(b"\0" * 512)


@pytest.mark.parametrize(
    ("damage", "named"),
    [(_delete, "was deleted"), (_replace, "was replaced"), (_overwrite, "")],
    ids=["deleted", "replaced", "overwritten"],
)
def test_a_damaged_sqlite_file_is_named(
    own_server: LiveServer, damage: Callable[[Path], None], named: str
) -> None:
    database = own_server.root / "store.db"
    assert _ready(own_server)[0] == 200

    damage(database)
    status, body = _ready(own_server)

    assert status == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["artifacts"] == "ok"
    assert str(database) in body["checks"]["database"] and named in body["checks"]["database"]


def test_a_postgresql_database_that_refuses_connections_is_named(tmp_path: Path) -> None:
    database = ServerDatabase(POSTGRES_URL)
    name = sa.make_url(database.url).database
    admin = make_engine(POSTGRES_URL)

    def allow(connections: bool) -> None:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(connections).lower()}'))
            if not connections:
                conn.execute(
                    sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                    {"name": name},
                )

    try:
        with LiveServer(tmp_path / "server", store_url=database.url) as server:
            assert _ready(server)[0] == 200
            allow(False)
            status, body = _ready(server)
            allow(True)
            assert _ready(server)[0] == 200
    finally:
        allow(True)
        admin.dispose()
        database._drop()

    assert status == 503
    assert body["checks"]["artifacts"] == "ok"
    assert "not currently accepting connections" in body["checks"]["database"]
