"""Metric series: points logged with ``log_metrics`` (a key, a step, a number, when, and where).

Revision ID: 0009_metric_points
Revises: 0008_stage_change_kind
Create Date: 2026-12-03

One row per point. A point belongs to the model version it was logged to (gone with it), and
remembers the run and step run that logged it (kept when those are deleted).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0009_metric_points"
down_revision = "0008_stage_change_kind"
branch_labels = None
depends_on = None

_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}
_TIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _fk(name: str, target: str, ondelete: str) -> sa.Column[Any]:
    return sa.Column(
        name,
        sa.String(32),
        sa.ForeignKey(target, name=op.f(f"fk_metric_points_{name}"), ondelete=ondelete),
        nullable=True,
    )


def upgrade() -> None:
    op.create_table(
        "metric_points",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        _fk("model_version_id", "model_versions.id", "CASCADE"),
        _fk("run_id", "pipeline_runs.id", "SET NULL"),
        _fk("step_run_id", "step_runs.id", "SET NULL"),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("created", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_points")),
        **_OPTIONS,
    )
    op.create_index(
        op.f("ix_metric_points_model_version_id_key_step"),
        "metric_points",
        ["model_version_id", "key", "step"],
    )
    op.create_index(op.f("ix_metric_points_run_id_key_step"), "metric_points", ["run_id", "key", "step"])
    op.create_index(op.f("ix_metric_points_step_run_id"), "metric_points", ["step_run_id"])


def downgrade() -> None:
    op.drop_table("metric_points")
