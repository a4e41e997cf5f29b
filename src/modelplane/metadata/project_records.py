"""The records of projects and their members (``metadata/store_projects.py``)."""

from __future__ import annotations

from datetime import datetime

from modelplane.enums import TokenRole
from modelplane.metadata.record_base import Record

__all__ = ["ProjectMemberRecord", "ProjectRecord"]


class ProjectRecord(Record):
    """A project: its own pipelines, runs, artifacts, models and webhooks, apart from every other
    project's. ``members`` counts the users with a role in it."""

    id: str
    name: str
    description: str | None = None
    created: datetime
    members: int = 0


class ProjectMemberRecord(Record):
    """A user's role in a project (in ``default``: the user's role on the server)."""

    project: str
    user: str
    role: TokenRole
    role_from: str = "admin"  # admin: given by an admin; sso: the provider's claim at sign-in
    created: datetime | None = None
    disabled: datetime | None = None
