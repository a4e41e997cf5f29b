"""Run-lifecycle inputs become columns, and model versions record who made them.

Revision ID: 0007_run_lifecycle
Revises: 0006_run_heartbeat
Create Date: 2026-12-02

``pipeline_runs.heartbeat_seconds`` and ``pipeline_runs.discard_on_failure`` were keys of the run's
``config``; the store now judges silence and discards versions from columns it owns. Runs written
before keep working: their values are copied from ``config``. ``model_versions.created_by`` is
new and empty for older versions.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0007_run_lifecycle"
down_revision = "0006_run_heartbeat"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("pipeline_runs", sa.Column("heartbeat_seconds", sa.Float(), nullable=True))
    op.add_column("pipeline_runs", sa.Column("discard_on_failure", sa.JSON(), nullable=True))
    op.add_column("model_versions", sa.Column("created_by", sa.String(255), nullable=True))
    runs = sa.table(
        "pipeline_runs",
        sa.column("id", sa.String),
        sa.column("status", sa.String),
        sa.column("config", sa.JSON),
        sa.column("heartbeat_seconds", sa.Float),
        sa.column("discard_on_failure", sa.JSON),
    )
    conn = op.get_bind()
    # Only unfinished runs still need these values; finished ones are never judged again.
    rows = conn.execute(sa.select(runs.c.id, runs.c.config).where(runs.c.status == "running"))
    for run_id, config in rows.fetchall():
        config = json.loads(config) if isinstance(config, str) else (config or {})
        conn.execute(
            runs.update()
            .where(runs.c.id == run_id)
            .values(
                heartbeat_seconds=config.get("heartbeat_seconds"),
                discard_on_failure=list(config.get("discard_on_failure") or []),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("model_versions") as batch:
        batch.drop_column("created_by")
    with op.batch_alter_table("pipeline_runs") as batch:
        batch.drop_column("discard_on_failure")
        batch.drop_column("heartbeat_seconds")
