"""Alembic environment: runs the migration chain on the connection ``engine.upgrade`` hands over.

Modelplane runs migrations itself (``engine.upgrade``). To write a new migration, a developer can
use the Alembic CLI with ``alembic.ini`` beside this file, e.g.
``alembic -c src/modelplane/metadata/sql/migrations/alembic.ini -x url=sqlite:///dev.db revision
--autogenerate -m "add x"``, then edit the result to be dialect-neutral.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from modelplane.metadata.sql.engine import make_engine
from modelplane.metadata.sql.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("Pass the database with -x url=sqlite:///path/to/store.db")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline (--sql) migrations are not supported; run them against a database.")
_run_online()
