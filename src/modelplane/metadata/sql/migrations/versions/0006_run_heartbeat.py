"""Runs get a heartbeat: the last time their process said it was alive.

Revision ID: 0006_run_heartbeat
Revises: 0005_token_roles
Create Date: 2026-11-27

A run whose process keeps quiet for many heartbeat periods was abandoned, and any client or the
server can say so, not only the host that ran it. Runs from before have none and are left alone.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0006_run_heartbeat"
down_revision = "0005_token_roles"
branch_labels = None
depends_on = None

_TIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.add_column("pipeline_runs", sa.Column("heartbeat", _TIME, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pipeline_runs") as batch:
        batch.drop_column("heartbeat")
