"""Idempotency keys: a write the server ran for a client's key, with its answer, so a retry of
that write is answered from the record instead of running again.

Revision ID: 0012_idempotency_keys
Revises: 0011_deployments
Create Date: 2026-12-04
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0012_idempotency_keys"
down_revision = "0011_deployments"
branch_labels = None
depends_on = None

_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}
_TIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
_LONG_TEXT = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("request_key", sa.String(128), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("operation", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", _LONG_TEXT, nullable=False),
        sa.Column("created", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("owner", "request_key", name=op.f("pk_idempotency_keys")),
        **_OPTIONS,
    )
    op.create_index(op.f("ix_idempotency_keys_created"), "idempotency_keys", ["created"])


def downgrade() -> None:
    op.drop_table("idempotency_keys")
