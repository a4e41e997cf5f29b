"""API tokens may expire: the dashboard's sign-in sessions are tokens that end on their own.

Revision ID: 0010_token_expiry
Revises: 0009_metric_points
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0010_token_expiry"
down_revision = "0009_metric_points"
branch_labels = None
depends_on = None

_TIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.add_column("api_tokens", sa.Column("expires", _TIME, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires")
