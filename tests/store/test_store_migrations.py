"""The SQL schema: migrations from empty to head on every dialect, and refusing newer databases."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from modelplane.enums import TokenRole
from modelplane.errors import SchemaVersionError
from modelplane.metadata.sql.engine import (
    SCHEMA_HEAD,
    current_revision,
    head_revision,
    known_revisions,
    make_engine,
    upgrade,
)
from modelplane.metadata.sql.store import SqlMetadataStore
from modelplane.metadata.sql.tables import metadata
from tests.store.backends import sql_url


def _differences_from_tables_py(engine: sa.Engine) -> list[object]:
    """What Alembic's autogenerate would change to make the database match ``tables.py``."""
    with engine.connect() as conn:
        return list(
            compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
        )


def test_schema_head_constant_matches_the_migration_chain() -> None:
    assert head_revision() == SCHEMA_HEAD
    assert SCHEMA_HEAD in known_revisions()


def test_a_fresh_database_is_migrated_to_head_and_matches_tables_py(
    sql_backend: str, tmp_path: Path
) -> None:
    url = sql_url(sql_backend, tmp_path, fresh=True)
    engine = make_engine(url)
    try:
        assert current_revision(engine) is None

        SqlMetadataStore(url).close()

        assert current_revision(engine) == SCHEMA_HEAD
        assert _differences_from_tables_py(engine) == []
    finally:
        engine.dispose()


def test_opening_a_current_database_again_changes_nothing(sql_backend: str, tmp_path: Path) -> None:
    url = sql_url(sql_backend, tmp_path, fresh=True)
    first = SqlMetadataStore(url)
    first.create_model("iris")
    first.close()

    second = SqlMetadataStore(url)
    try:
        assert [m.name for m in second.list_models().items] == ["iris"]
        assert second.info().schema_revision == SCHEMA_HEAD
        upgrade(second._engine)  # an explicit upgrade at head is a no-op too
        assert second.get_model("iris").name == "iris"
    finally:
        second.close()


def test_a_database_from_a_newer_modelplane_is_refused(sql_backend: str, tmp_path: Path) -> None:
    url = sql_url(sql_backend, tmp_path, fresh=True)
    SqlMetadataStore(url).close()
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))

        with pytest.raises(SchemaVersionError, match="0099_from_the_future") as caught:
            SqlMetadataStore(url)
        assert "Upgrade modelplane" in (caught.value.hint or "")
    finally:
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE alembic_version SET version_num = :head"), {"head": SCHEMA_HEAD}
            )
        engine.dispose()


def test_a_schema_another_process_creates_mid_check_is_waited_for_not_an_error(
    sql_backend: str, tmp_path: Path
) -> None:
    # The window CI once hit on MariaDB: this opener's "SELECT ... FROM alembic_version" fails
    # because the table does not exist yet, and by the time it inspects the database another
    # opener has created it. A second real engine plays that other process, at that moment.
    url = sql_url(sql_backend, tmp_path, fresh=True)
    engine, other = make_engine(url), make_engine(url)
    interfered: list[bool] = []

    def other_opener_creates_the_table(context: sa.engine.ExceptionContext) -> None:
        if not interfered and "alembic_version" in (context.statement or ""):
            interfered.append(True)
            with other.begin() as conn:
                conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))

    sa.event.listen(engine, "handle_error", other_opener_creates_the_table)
    try:
        assert current_revision(engine) is None  # created but not yet stamped
        assert interfered == [True]
        store = SqlMetadataStore(url)  # waits for / completes the other opener's migration
        try:
            assert store.info().schema_revision == SCHEMA_HEAD
        finally:
            store.close()
    finally:
        engine.dispose()
        other.dispose()


def test_a_database_at_the_first_revision_upgrades_and_keeps_its_runs(
    sql_backend: str, tmp_path: Path
) -> None:
    # A store made by the first release (0001): opening it with this modelplane runs every later
    # migration; the runs already there keep everything and have no process, and old tokens
    # become admins.
    url = sql_url(sql_backend, tmp_path, fresh=True)
    engine = make_engine(url)
    try:
        upgrade(engine, "0001_initial")
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO pipelines (id, name, spec, created, updated) "
                    "VALUES ('p1', 'train', '{}', :now, :now)"
                ),
                {"now": "2026-11-01 10:00:00"},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO pipeline_runs (id, name, pipeline_id, status, orchestrator, "
                    "parameters, config, extra, created) VALUES ('r1', 'train-old', 'p1', "
                    "'running', 'local', '{}', '{}', '{}', :now)"
                ),
                {"now": "2026-11-01 10:00:00"},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO api_tokens (id, owner, secret_hash, created) "
                    "VALUES ('t1', 'ops', :hash, :now)"
                ),
                {"hash": "0" * 64, "now": "2026-11-01 10:00:00"},
            )
        assert current_revision(engine) == "0001_initial"

        store = SqlMetadataStore(url)
        try:
            assert store.info().schema_revision == SCHEMA_HEAD
            old = store.get_run("train-old")
            assert (old.pipeline_name, old.status.value, old.host, old.pid) == (
                "train", "running", None, None
            )
            assert store.list_runs(status="running").total == 1
            # Tokens from before roles could do everything: they stay able to.
            assert [(t.owner, t.role.value) for t in store.list_tokens()] == [("ops", "admin")]
            assert store.create_model("m").gates == {} and store.list_webhooks() == []
        finally:
            store.close()
        assert _differences_from_tables_py(engine) == []
    finally:
        engine.dispose()


def test_the_owners_of_older_tokens_become_users_with_their_highest_role(
    sql_backend: str, tmp_path: Path
) -> None:
    # 0013: every token belongs to a user. The owners of the tokens already stored become users,
    # each with the highest role among their tokens, so no token loses what it could do.
    url = sql_url(sql_backend, tmp_path, fresh=True)
    engine = make_engine(url)
    try:
        upgrade(engine, "0012_idempotency_keys")
        tokens = [
            ("t1", "ops", "admin", "2026-11-01 10:00:00"),
            ("t2", "ci", "viewer", "2026-11-02 10:00:00"),
            ("t3", "ci", "editor", "2026-11-03 10:00:00"),
            ("t4", "ci", "viewer", "2026-11-04 10:00:00"),
        ]
        with engine.begin() as conn:
            for token_id, owner, role, created in tokens:
                conn.execute(
                    sa.text(
                        "INSERT INTO api_tokens (id, owner, secret_hash, role, created) "
                        "VALUES (:id, :owner, :hash, :role, :created)"
                    ),
                    {"id": token_id, "owner": owner, "hash": token_id * 16, "role": role, "created": created},
                )

        store = SqlMetadataStore(url)
        try:
            found = {u.name: u for u in store.list_users()}
            assert {name: (u.role.value, u.role_from, u.live_tokens) for name, u in found.items()} == {
                "ops": ("admin", "admin", 1), "ci": ("editor", "admin", 3),
            }  # fmt: skip
            assert found["ci"].created.isoformat().startswith("2026-11-02T10:00:00")
            owners = {t.id: (t.owner, t.user_id) for t in store.list_tokens()}
            assert owners == {
                "t1": ("ops", found["ops"].id), "t2": ("ci", found["ci"].id),
                "t3": ("ci", found["ci"].id), "t4": ("ci", found["ci"].id),
            }  # fmt: skip
            store.disable_user("ci")  # the user now owns the tokens made before users existed
            assert {t.id for t in store.list_tokens() if t.revoked is not None} == {"t2", "t3", "t4"}
        finally:
            store.close()
        assert _differences_from_tables_py(engine) == []
    finally:
        engine.dispose()


def test_what_was_stored_before_projects_is_the_project_default(
    sql_backend: str, tmp_path: Path
) -> None:
    # 0014: projects. The models, runs and tokens already stored are default's; users keep their
    # role, now their role in default (an admin there is a server admin); old tokens keep acting
    # wherever their user may.
    url = sql_url(sql_backend, tmp_path, fresh=True)
    engine = make_engine(url)
    try:
        upgrade(engine, "0013_users")
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO models (id, name, tags, last_version_number, created, updated) "
                    "VALUES ('m1', 'iris', '[]', 0, '2026-11-01 10:00:00', '2026-11-01 10:00:00')"
                )
            )
            for user_id, name, role in (("u1", "ops", "admin"), ("u2", "ci", "editor")):
                conn.execute(
                    sa.text(
                        "INSERT INTO users (id, name, role, role_from, created) "
                        "VALUES (:id, :name, :role, 'admin', '2026-11-01 10:00:00')"
                    ),
                    {"id": user_id, "name": name, "role": role},
                )
                conn.execute(
                    sa.text(
                        "INSERT INTO api_tokens (id, owner, user_id, secret_hash, role, created) "
                        "VALUES (:id, :owner, :user_id, :hash, :role, '2026-11-01 10:00:00')"
                    ),
                    {
                        "id": f"t-{name}", "owner": name, "user_id": user_id,
                        "hash": hashlib.sha256(f"secret-{name}".encode()).hexdigest(),
                        "role": role,
                    },
                )  # fmt: skip

        store = SqlMetadataStore(url)
        try:
            assert [p.name for p in store.list_projects()] == ["default"]
            assert [m.name for m in store.list_models().items] == ["iris"]
            assert {(m.user, m.role.value) for m in store.list_project_members("default")} == {
                ("ops", "admin"), ("ci", "editor"),
            }  # fmt: skip
            assert {t.id: t.project for t in store.list_tokens()} == {"t-ops": None, "t-ci": None}
            assert store.authenticate("secret-ops").roles == {"*": TokenRole.ADMIN}
            assert store.authenticate("secret-ci").roles == {"default": TokenRole.EDITOR}
            # A project made now is empty: nothing of default went into it.
            store.create_project("vision")
            vision = SqlMetadataStore(url, project="vision")
            try:
                assert vision.list_models().total == 0
            finally:
                vision.close()
            store.delete_project("vision")
        finally:
            store.close()
        assert _differences_from_tables_py(engine) == []
    finally:
        engine.dispose()
