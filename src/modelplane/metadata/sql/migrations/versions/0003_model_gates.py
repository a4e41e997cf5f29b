"""Models keep promotion gates: rules a version's metadata must meet to enter a stage.

Revision ID: 0003_model_gates
Revises: 0002_run_process
Create Date: 2026-11-27

Nullable, read as "no gates": MySQL cannot give a JSON column a default, and the models already
stored have none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_model_gates"
down_revision = "0002_run_process"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("models", sa.Column("gates", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("models") as batch:
        batch.drop_column("gates")
