"""Stage changes get a kind: a plain move, or a rollback that gives back an earlier tenure.

Revision ID: 0008_stage_change_kind
Revises: 0007_run_lifecycle
Create Date: 2026-12-01

A rollback must know which promotions earlier rollbacks already undid, so that two rollbacks in a
row walk back two holders instead of toggling between the last two. Changes made before are moves.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_stage_change_kind"
down_revision = "0007_run_lifecycle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "stage_changes", sa.Column("kind", sa.String(16), nullable=False, server_default="move")
    )


def downgrade() -> None:
    with op.batch_alter_table("stage_changes") as batch:
        batch.drop_column("kind")
