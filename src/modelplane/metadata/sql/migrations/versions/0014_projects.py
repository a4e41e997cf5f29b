"""Projects: the registry of projects and their members, and tokens bound to one project.

Revision ID: 0014_projects
Revises: 0013_users
Create Date: 2026-12-03

Everything already stored belongs to the project ``default``: its pipelines, runs, artifacts,
models and webhooks stay in these tables, which are ``default``'s own (another project gets tables
of its own, made when it is created). Users keep their role, which is now their role in
``default``; the tokens already made keep acting wherever their user may (``project`` NULL). A
user may now have no role in ``default`` (a member of other projects only), so ``users.role``
becomes nullable.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0014_projects"
down_revision = "0013_users"
branch_labels = None
depends_on = None

_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}
_TIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    projects = op.create_table(
        "projects",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("name", name=op.f("uq_projects_name")),
        **_OPTIONS,
    )
    op.create_table(
        "project_members",
        sa.Column("project_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("role_from", sa.String(16), nullable=False),
        sa.Column("created", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_project_members_project_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_project_members_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("project_id", "user_id", name=op.f("pk_project_members")),
        **_OPTIONS,
    )
    op.create_index(op.f("ix_project_members_user_id"), "project_members", ["user_id"])
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    op.bulk_insert(
        projects,
        [{"id": uuid.uuid4().hex, "name": "default", "description": None, "created": now}],
    )
    op.add_column("api_tokens", sa.Column("project", sa.String(255), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.alter_column("role", existing_type=sa.String(16), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.alter_column("role", existing_type=sa.String(16), nullable=False)
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("project")
    op.drop_index(op.f("ix_project_members_user_id"), "project_members")
    op.drop_table("project_members")
    op.drop_table("projects")
