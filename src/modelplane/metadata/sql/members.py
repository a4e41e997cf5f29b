"""Who is a member of which project, in the SQL store: the rows of ``project_members`` (every
project but ``default``, where a user's role is ``users.role``)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelplane.enums import TokenRole
from modelplane.errors import NotFoundError
from modelplane.metadata.sql.rows import utcnow
from modelplane.metadata.sql.tables import project_members, projects

__all__ = [
    "apply_granted_roles",
    "membership",
    "memberships",
    "missing_project",
    "project_exists",
    "set_membership",
]


def set_membership(
    conn: Connection, project_id: str, user_id: str, role: TokenRole, role_from: str = "admin"
) -> None:
    """Give ``user_id`` the ``role`` in the project, set by an admin or (``sso``) by the
    identity provider's claim."""
    updated = conn.execute(
        project_members.update()
        .where(project_members.c.project_id == project_id, project_members.c.user_id == user_id)
        .values(role=role.value, role_from=role_from)
    )
    if updated.rowcount == 0:
        conn.execute(
            project_members.insert().values(
                project_id=project_id,
                user_id=user_id,
                role=role.value,
                role_from=role_from,
                created=utcnow(),
            )
        )


def apply_granted_roles(conn: Connection, user_id: str, granted: dict[str, TokenRole]) -> None:
    """At a single sign-on: the roles the provider's claim grants in projects (``granted``, by
    project name; names of no project are ignored) replace those it granted before, and the
    memberships it granted and no longer does go. Roles an admin gave are left as they are unless
    the claim grants one in the same project, which then wins (as for the server role)."""
    known = dict(
        conn.execute(
            sa.select(projects.c.name, projects.c.id).where(projects.c.name.in_(list(granted)))
        ).all()
    ) if granted else {}
    for name, role in granted.items():
        if name in known:
            set_membership(conn, known[name], user_id, role, "sso")
    lapsed = project_members.delete().where(
        project_members.c.user_id == user_id, project_members.c.role_from == "sso"
    )
    if known:
        lapsed = lapsed.where(project_members.c.project_id.not_in(list(known.values())))
    conn.execute(lapsed)


def membership(conn: Connection, project: str, user_id: str) -> TokenRole | None:
    """``user_id``'s role in ``project`` (not ``default``), or None."""
    found = conn.execute(
        sa.select(project_members.c.role)
        .join(projects, projects.c.id == project_members.c.project_id)
        .where(projects.c.name == project, project_members.c.user_id == user_id)
    ).scalar()
    return None if found is None else TokenRole(found)


def memberships(conn: Connection, user_id: str) -> dict[str, TokenRole]:
    """Every project but ``default`` where ``user_id`` has a role, with that role."""
    rows = conn.execute(
        sa.select(projects.c.name, project_members.c.role)
        .join(projects, projects.c.id == project_members.c.project_id)
        .where(project_members.c.user_id == user_id)
    )
    return {name: TokenRole(role) for name, role in rows}


def project_exists(conn: Connection, project: str, *, lock: bool = False) -> str:
    """The id of ``project``, or the NotFoundError naming it."""
    query = sa.select(projects.c.id).where(projects.c.name == project)
    found = conn.execute(query.with_for_update() if lock else query).scalar()
    if found is None:
        raise missing_project(project)
    return str(found)


def missing_project(project: str) -> NotFoundError:
    return NotFoundError(
        f"There is no project {project!r}.",
        hint="List the projects with `modelplane project list`; a server admin creates one with "
        f"`modelplane project create {project}`.",
    )
