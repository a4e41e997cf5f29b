"""Users: every API token belongs to one, and single sign-on signs users in.

Revision ID: 0013_users
Revises: 0012_idempotency_keys
Create Date: 2026-12-03

The owners of the tokens already stored become users, each with the highest role among their
tokens (so no token loses anything it could do) and set by an admin; every token gets its owner's
user.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0013_users"
down_revision = "0012_idempotency_keys"
branch_labels = None
depends_on = None

_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}
_TIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
_RANK = {"viewer": 0, "editor": 1, "admin": 2}


def _owners_become_users() -> None:
    conn = op.get_bind()
    tokens = sa.table(
        "api_tokens",
        sa.column("id", sa.String),
        sa.column("owner", sa.String),
        sa.column("role", sa.String),
        sa.column("created", _TIME),
        sa.column("user_id", sa.String),
    )
    users = sa.table(
        "users",
        sa.column("id", sa.String),
        sa.column("name", sa.String),
        sa.column("role", sa.String),
        sa.column("role_from", sa.String),
        sa.column("created", _TIME),
    )
    found: dict[str, tuple[str, datetime]] = {}
    for owner, role, created in conn.execute(
        sa.select(tokens.c.owner, tokens.c.role, tokens.c.created)
    ).fetchall():
        role = role if role in _RANK else "admin"
        if owner in found:
            best, first = found[owner]
            role = role if _RANK[role] > _RANK[best] else best
            created = min(created, first)
        found[owner] = (role, created)
    for owner, (role, created) in found.items():
        user_id = uuid.uuid4().hex
        conn.execute(
            users.insert().values(
                id=user_id, name=owner, role=role, role_from="admin", created=created
            )
        )
        conn.execute(tokens.update().where(tokens.c.owner == owner).values(user_id=user_id))


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("role_from", sa.String(16), nullable=False),
        sa.Column("issuer", sa.String(1000), nullable=True),
        sa.Column("subject", sa.String(255), nullable=True),
        sa.Column("created", _TIME, nullable=False),
        sa.Column("last_sign_in", _TIME, nullable=True),
        sa.Column("disabled", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
        **_OPTIONS,
    )
    op.add_column("api_tokens", sa.Column("user_id", sa.String(32), nullable=True))
    _owners_become_users()
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("user_id", existing_type=sa.String(32), nullable=False)
        batch.create_foreign_key(
            op.f("fk_api_tokens_user_id"), "users", ["user_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_index(op.f("ix_api_tokens_user_id"), ["user_id"])


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_index(op.f("ix_api_tokens_user_id"))
        batch.drop_constraint(op.f("fk_api_tokens_user_id"), type_="foreignkey")
        batch.drop_column("user_id")
    op.drop_table("users")
