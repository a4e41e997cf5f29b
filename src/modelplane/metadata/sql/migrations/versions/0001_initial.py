"""The initial schema: pipelines, runs, artifacts, models, versions, links, stage history, tokens.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-27

Written out in full rather than from ``tables.py``: a migration is a frozen snapshot, and later
changes to ``tables.py`` come with their own migration.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}
_TIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
_LONG_TEXT = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
_MEDIUM_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
_SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_CARD = ("license", "description", "audience", "use_cases", "limitations", "trade_offs", "ethics")


def _id() -> sa.Column[Any]:
    return sa.Column("id", sa.String(32), nullable=False)


def _ref(
    table: str, name: str, target: str, ondelete: str, nullable: bool = False
) -> sa.Column[Any]:
    return sa.Column(
        name,
        sa.String(32),
        sa.ForeignKey(f"{target}.id", name=op.f(f"fk_{table}_{name}"), ondelete=ondelete),
        nullable=nullable,
    )


def _name(name: str = "name", nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.String(255), nullable=nullable)


def _time(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, _TIME, nullable=nullable)


def _json(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.JSON(), nullable=False)


def _table(name: str, *items: Any) -> None:
    if not any(isinstance(item, sa.PrimaryKeyConstraint) for item in items):
        items = (*items, sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")))
    op.create_table(name, *items, **_OPTIONS)


def _index(table: str, *columns: str) -> None:
    op.create_index(op.f(f"ix_{table}_{'_'.join(columns)}"), table, list(columns))


def upgrade() -> None:
    _table(
        "pipelines",
        _id(),
        _name(),
        _json("spec"),
        _time("created"),
        _time("updated"),
        sa.UniqueConstraint("name", name=op.f("uq_pipelines_name")),
    )
    _table(
        "models",
        _id(),
        _name(),
        *(sa.Column(field, sa.Text(), nullable=True) for field in _CARD),
        _json("tags"),
        sa.Column("last_version_number", sa.Integer(), nullable=False, server_default="0"),
        _time("created"),
        _time("updated"),
        sa.UniqueConstraint("name", name=op.f("uq_models_name")),
    )
    _table(
        "model_versions",
        _id(),
        _ref("model_versions", "model_id", "models", "CASCADE"),
        sa.Column("number", sa.Integer(), nullable=False),
        _name(),
        sa.Column("description", sa.Text(), nullable=True),
        _json("tags"),
        sa.Column("stage", sa.String(16), nullable=False),
        _json("metadata"),
        _time("created"),
        _time("updated"),
        sa.UniqueConstraint("model_id", "number", name=op.f("uq_model_versions_model_id_number")),
        sa.UniqueConstraint("model_id", "name", name=op.f("uq_model_versions_model_id_name")),
    )
    _index("model_versions", "model_id", "stage")
    _table(
        "pipeline_runs",
        _id(),
        _name(),
        _ref("pipeline_runs", "pipeline_id", "pipelines", "CASCADE"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("orchestrator", sa.String(64), nullable=False),
        _json("parameters"),
        _json("config"),
        _json("extra"),
        _ref("pipeline_runs", "model_version_id", "model_versions", "SET NULL", nullable=True),
        _time("created"),
        _time("ended", nullable=True),
        sa.Column("error", _MEDIUM_TEXT, nullable=True),
        sa.UniqueConstraint("name", name=op.f("uq_pipeline_runs_name")),
    )
    _index("pipeline_runs", "pipeline_id", "created")
    _index("pipeline_runs", "created")
    _index("pipeline_runs", "model_version_id")
    _table(
        "step_runs",
        _id(),
        _ref("step_runs", "run_id", "pipeline_runs", "CASCADE"),
        _name(),
        _name("step_name"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("cache_key", sa.String(128), nullable=True),
        sa.Column("source_hash", sa.String(128), nullable=True),
        _json("parameters"),
        _json("upstream"),
        sa.Column("cached_from", sa.String(32), nullable=True),
        _json("metadata"),
        sa.Column("logs", _LONG_TEXT, nullable=True),
        sa.Column("error", _MEDIUM_TEXT, nullable=True),
        _time("created"),
        _time("ended", nullable=True),
        sa.UniqueConstraint("run_id", "name", name=op.f("uq_step_runs_run_id_name")),
    )
    _index("step_runs", "cache_key", "created")
    _table(
        "artifacts",
        _id(),
        _name(),
        sa.Column("last_version", sa.Integer(), nullable=False, server_default="0"),
        _time("created"),
        sa.UniqueConstraint("name", name=op.f("uq_artifacts_name")),
    )
    _table(
        "artifact_versions",
        _id(),
        _ref("artifact_versions", "artifact_id", "artifacts", "CASCADE"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("materializer", sa.Text(), nullable=False),
        sa.Column("data_type", sa.Text(), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(128), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        _ref("artifact_versions", "producer_step_run_id", "step_runs", "SET NULL", nullable=True),
        _json("metadata"),
        _json("tags"),
        _time("created"),
        sa.UniqueConstraint(
            "artifact_id", "version", name=op.f("uq_artifact_versions_artifact_id_version")
        ),
    )
    _index("artifact_versions", "producer_step_run_id")
    _index("artifact_versions", "created")
    _table(
        "step_run_artifacts",
        sa.Column("id", _SERIAL, nullable=False),
        _ref("step_run_artifacts", "step_run_id", "step_runs", "CASCADE"),
        sa.Column("direction", sa.String(8), nullable=False),
        _name(),
        _ref(
            "step_run_artifacts",
            "artifact_version_id",
            "artifact_versions",
            "SET NULL",
            nullable=True,
        ),
        sa.UniqueConstraint(
            "step_run_id",
            "direction",
            "name",
            name=op.f("uq_step_run_artifacts_step_run_id_direction_name"),
        ),
    )
    _index("step_run_artifacts", "artifact_version_id")
    _table(
        "model_version_artifacts",
        _id(),
        _ref("model_version_artifacts", "model_version_id", "model_versions", "CASCADE"),
        _ref("model_version_artifacts", "artifact_version_id", "artifact_versions", "CASCADE"),
        _name(),
        sa.Column("kind", sa.String(32), nullable=False),
        _time("created"),
    )
    _index("model_version_artifacts", "model_version_id", "name")
    _index("model_version_artifacts", "artifact_version_id")
    _table(
        "model_version_runs",
        _ref("model_version_runs", "model_version_id", "model_versions", "CASCADE"),
        _ref("model_version_runs", "run_id", "pipeline_runs", "CASCADE"),
        _time("created"),
        sa.PrimaryKeyConstraint("model_version_id", "run_id", name=op.f("pk_model_version_runs")),
    )
    _index("model_version_runs", "run_id")
    _table(
        "stage_changes",
        sa.Column("id", _SERIAL, nullable=False),
        _ref("stage_changes", "model_id", "models", "CASCADE"),
        _ref("stage_changes", "model_version_id", "model_versions", "SET NULL", nullable=True),
        sa.Column("version_number", sa.Integer(), nullable=False),
        _name("version_name"),
        sa.Column("from_stage", sa.String(16), nullable=False),
        sa.Column("to_stage", sa.String(16), nullable=False),
        _name("actor", nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        _time("created"),
    )
    _index("stage_changes", "model_id", "id")
    _index("stage_changes", "model_version_id")
    _table(
        "api_tokens",
        _id(),
        _name("owner"),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        _time("created"),
        _time("revoked", nullable=True),
        _time("last_used", nullable=True),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_api_tokens_secret_hash")),
    )


def downgrade() -> None:
    for table in (
        "api_tokens",
        "stage_changes",
        "model_version_runs",
        "model_version_artifacts",
        "step_run_artifacts",
        "artifact_versions",
        "artifacts",
        "step_runs",
        "pipeline_runs",
        "model_versions",
        "models",
        "pipelines",
    ):
        op.drop_table(table)
