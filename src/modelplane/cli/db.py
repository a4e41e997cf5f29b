"""``modelplane db …``: the schema revision of the metadata database, and upgrading it.

Stores upgrade themselves when opened, so ``db upgrade`` is for doing it on purpose: before a
deployment, or on a server database that many clients share.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterator

import click
import sqlalchemy as sa

from modelplane.cli import output, session
from modelplane.cli.lazy import OrderedGroup
from modelplane.cli.options import output_option
from modelplane.config import Settings
from modelplane.errors import ConfigError, StoreError
from modelplane.metadata.sql import engine as sql_engine

__all__ = ["db"]


def _sql_url(settings: Settings) -> str:
    if settings.is_remote:
        raise ConfigError(
            f"The store is the server {settings.store_url}; its database is managed there.",
            hint="Run `modelplane db …` on the server, or set MODELPLANE_STORE_URL to the "
            "database URL itself.",
        )
    return settings.store_url


def _missing_sqlite_file(url: str) -> Path | None:
    # Connecting would create an empty file; `db current` only reads.
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix) and "?" not in url and ":memory:" not in url:
            path = Path(url[len(prefix) :])
            return None if path.exists() else path
    return None


@contextlib.contextmanager
def _engine(url: str) -> Iterator[sa.Engine]:
    engine = sql_engine.make_engine(url)
    try:
        yield engine
    except sa.exc.DBAPIError as exc:
        raise StoreError(
            f"The metadata store at {sql_engine.display_url(url)} cannot be used: "
            f"{sql_engine.describe_db_error(exc)}",
            hint="Check that the database server is running and the URL, user and password "
            "are right.",
        ) from None
    finally:
        engine.dispose()


def _state(revision: str | None, head: str) -> str:
    if revision == head:
        return "up to date"
    if revision is None or revision in sql_engine.known_revisions():
        return "behind; run `modelplane db upgrade`"
    return "unknown revision, written by a newer modelplane; upgrade modelplane"


@click.group(cls=OrderedGroup)
def db() -> None:
    """Show and upgrade the metadata database schema."""


@db.command()
@output_option
def current(fmt: str) -> None:
    """Show the schema revision and the newest one known.

    The newest is the head of the migrations shipped with this modelplane.
    """
    url = _sql_url(session.settings())
    head = sql_engine.head_revision()
    missing = _missing_sqlite_file(url)
    revision = None
    if missing is None:
        with _engine(url) as engine:
            revision = sql_engine.current_revision(engine)
    data: dict[str, Any] = {
        "store_url": sql_engine.display_url(url),
        "revision": revision,
        "head": head,
        "up_to_date": revision == head,
    }
    if fmt == "json":
        output.emit_json(data)
        return
    state = (
        f"no database yet at {missing}; it is created on first use"
        if missing
        else _state(revision, head)
    )
    output.message(f"Store:    {data['store_url']}")
    output.message(f"Revision: {revision or 'none'} ({state})")
    output.message(f"Head:     {head}")


@db.command()
def upgrade() -> None:
    """Migrate the database to the newest schema, with the tables of every project.

    Safe to run twice, and by several processes at once.
    """
    url = _sql_url(session.settings())
    head = sql_engine.head_revision()
    _upgrade_one(url, head, "")
    with _engine(url) as engine, engine.connect() as conn:
        names = conn.execute(
            sa.text("SELECT name FROM projects WHERE name <> 'default' ORDER BY name")
        ).scalars().all()
    from modelplane.metadata.sql.projects import project_url

    for name in names:
        _upgrade_one(project_url(url, name), head, f"The project '{name}': ")


def _upgrade_one(url: str, head: str, which: str) -> None:
    with _engine(url) as engine:
        before = sql_engine.current_revision(engine)
        if before == head:
            output.message(f"{which}Already at {head}; nothing to do.")
            return
        if before is not None and before not in sql_engine.known_revisions():
            raise StoreError(
                f"{which}The database is at revision {before!r}, which this modelplane does not "
                "know.",
                hint="A newer modelplane wrote it: upgrade modelplane (pip install -U modelplane).",
            )
        sql_engine.upgrade(engine)
    output.message(
        f"{which}Upgraded {sql_engine.display_url(url)} from {before or 'an empty database'} "
        f"to {head}."
    )
