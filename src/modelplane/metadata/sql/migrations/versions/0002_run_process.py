"""Runs record the host and process that drive them, so runs whose process died can be found.

Revision ID: 0002_run_process
Revises: 0001_initial
Create Date: 2026-11-27

Both columns are nullable: runs recorded before this revision have no process, and a run created
through an API by something other than a pipeline call may not have one either. The index on
``status`` serves "which runs are still running on this host", asked at the start of every run.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_run_process"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Adding nullable columns and an index needs no table copy, even on SQLite.
    op.add_column("pipeline_runs", sa.Column("host", sa.String(255), nullable=True))
    op.add_column("pipeline_runs", sa.Column("pid", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_pipeline_runs_status"), "pipeline_runs", ["status"])


def downgrade() -> None:
    op.drop_index(op.f("ix_pipeline_runs_status"), table_name="pipeline_runs")
    with op.batch_alter_table("pipeline_runs") as batch:
        batch.drop_column("pid")
        batch.drop_column("host")
