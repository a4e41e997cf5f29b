"""Deployments: inference services (``modelplane serve``) and the versions they serve.

Revision ID: 0011_deployments
Revises: 0010_token_expiry
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0011_deployments"
down_revision = "0010_token_expiry"
branch_labels = None
depends_on = None

_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}
_TIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _fk(name: str, target: str, ondelete: str, nullable: bool) -> sa.Column[Any]:
    return sa.Column(
        name,
        sa.String(32),
        sa.ForeignKey(target, name=op.f(f"fk_deployments_{name}"), ondelete=ondelete),
        nullable=nullable,
    )


def upgrade() -> None:
    op.create_table(
        "deployments",
        sa.Column("id", sa.String(32), nullable=False),
        _fk("model_id", "models.id", "CASCADE", False),
        sa.Column("stage", sa.String(16), nullable=True),
        sa.Column("pinned_version", sa.Integer(), nullable=True),
        sa.Column("artifact", sa.String(255), nullable=True),
        sa.Column("endpoint", sa.String(2000), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _fk("model_version_id", "model_versions.id", "SET NULL", True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("serving_since", _TIME, nullable=True),
        sa.Column("canary_stage", sa.String(16), nullable=True),
        sa.Column("canary_percent", sa.Float(), nullable=True),
        _fk("canary_version_id", "model_versions.id", "SET NULL", True),
        sa.Column("canary_version", sa.Integer(), nullable=True),
        sa.Column("canary_state", sa.String(16), nullable=True),
        sa.Column("max_error_rate", sa.Float(), nullable=True),
        sa.Column("traffic", sa.JSON(), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("report_seconds", sa.Float(), nullable=False),
        sa.Column("created", _TIME, nullable=False),
        sa.Column("last_seen", _TIME, nullable=False),
        sa.Column("ended", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployments")),
        **_OPTIONS,
    )
    op.create_index(op.f("ix_deployments_model_id_created"), "deployments", ["model_id", "created"])
    op.create_index(op.f("ix_deployments_model_version_id"), "deployments", ["model_version_id"])
    op.create_index(op.f("ix_deployments_canary_version_id"), "deployments", ["canary_version_id"])


def downgrade() -> None:
    op.drop_table("deployments")
