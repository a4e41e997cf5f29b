"""API tokens get a role: viewer (read), editor (also write), admin (also tokens and webhooks).

Revision ID: 0005_token_roles
Revises: 0004_webhooks
Create Date: 2026-11-27

Tokens made before could do everything, so they become admins.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_token_roles"
down_revision = "0004_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "api_tokens", sa.Column("role", sa.String(16), nullable=False, server_default="admin")
    )


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("role")
