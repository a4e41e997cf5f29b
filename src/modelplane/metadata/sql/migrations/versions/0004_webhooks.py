"""Promotion events: webhooks, and the delivery log every stage change writes into.

Revision ID: 0004_webhooks
Revises: 0003_model_gates
Create Date: 2026-11-27
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0004_webhooks"
down_revision = "0003_model_gates"
branch_labels = None
depends_on = None

_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}
_TIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("model", sa.String(255), nullable=True),
        sa.Column("stages", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(255), nullable=True),
        sa.Column("created", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
        **_OPTIONS,
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column(
            "webhook_id",
            sa.String(32),
            sa.ForeignKey(
                "webhooks.id", name=op.f("fk_webhook_deliveries_webhook_id"), ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column("stage_change_id", sa.BigInteger(), nullable=True),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt", _TIME, nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created", _TIME, nullable=False),
        sa.Column("delivered", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        **_OPTIONS,
    )
    op.create_index(
        op.f("ix_webhook_deliveries_status_next_attempt"),
        "webhook_deliveries",
        ["status", "next_attempt"],
    )
    op.create_index(
        op.f("ix_webhook_deliveries_webhook_id_created"),
        "webhook_deliveries",
        ["webhook_id", "created"],
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
