"""Projects in the SQL store: where each project's tables live, the registry of projects, and who
may do what in each.

Each project has tables of its own, so nothing of one project can reach another's: ``default``
uses the store's database as it is (everything stored before projects existed is ``default``'s),
and another project ``p`` gets
- on PostgreSQL, the schema ``modelplane_p`` of the same database (its connections' search path);
- on MySQL/MariaDB, the database ``<database>__p`` on the same server;
- on SQLite, the file ``<stem>.projects/p.db`` beside the store's file.
(A ``-`` in the name becomes ``_`` in schema and database names; names never hold ``_``.)

The registry (``projects``, ``project_members``), users and tokens live in ``default``'s database:
``ProjectsMixin`` runs there, and a store opened on another project hands these calls to it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelplane.enums import TokenRole
from modelplane.errors import AlreadyExistsError, ConfigError, InvalidInputError, NotFoundError
from modelplane.metadata.project_records import ProjectMemberRecord, ProjectRecord
from modelplane.metadata.sql.engine import display_url, ensure_schema, make_engine, normalize_url
from modelplane.metadata.sql.rows import new_id, utcnow
from modelplane.metadata.sql.tables import api_tokens, project_members, projects, users
from modelplane.metadata.sql.transactions import StoreCore
from modelplane.metadata.sql.members import missing_project, project_exists, set_membership
from modelplane.metadata.sql.users import FROM_ADMIN, find_user, insert_user, parse_role
from modelplane.versioning import check_name
from modelplane.config import DEFAULT_PROJECT, check_project_name, project_sqlite_path

__all__ = ["ProjectsMixin", "prepare_location", "project_url"]


def _schema(project: str) -> str:
    return "modelplane_" + project.replace("-", "_")


def project_url(url: str, project: str) -> str:
    """The URL of ``project``'s tables for the store at ``url`` (``url`` itself for
    ``default``)."""
    if project == DEFAULT_PROJECT:
        return url
    parsed = normalize_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            raise ConfigError(
                f"The in-memory store {display_url(url)} has only the project 'default'.",
                hint="Keep the store in a file (sqlite:///path/store.db) to have more projects.",
            )
        path = project_sqlite_path(str(Path(database).expanduser()), project)
        return parsed.set(database=path).render_as_string(hide_password=False)
    if backend == "postgresql":
        options = f"-csearch_path={_schema(project)}"
        return parsed.update_query_dict({"options": options}).render_as_string(
            hide_password=False
        )
    database = f"{parsed.database}__{project.replace('-', '_')}"
    return parsed.set(database=database).render_as_string(hide_password=False)


def prepare_location(url: str, project: str) -> None:
    """Make the schema, database or folder that ``project``'s tables go in (if missing)."""
    _on_location(url, project, create=True)


def _drop_location(url: str, project: str) -> None:
    _on_location(url, project, create=False)


def _on_location(url: str, project: str, *, create: bool) -> None:
    """Create (``create``) or drop the schema, database or file of ``project``'s tables."""
    backend = normalize_url(url).get_backend_name()
    where = normalize_url(project_url(url, project)).database or ""
    if backend == "sqlite":
        path = Path(where)
        if create:
            path.parent.mkdir(exist_ok=True)
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    if backend == "postgresql":
        kind, name, cascade = "SCHEMA", f'"{_schema(project)}"', " CASCADE"
    else:
        kind, name, cascade = "DATABASE", f"`{where}`", ""
    statement = (
        f"CREATE {kind} IF NOT EXISTS {name}" if create else f"DROP {kind} IF EXISTS {name}{cascade}"
    )
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(statement))
    finally:
        engine.dispose()


def _members_count() -> sa.ScalarSelect[Any]:
    return (
        sa.select(sa.func.count())
        .where(project_members.c.project_id == projects.c.id)
        .scalar_subquery()
    )


_DEFAULT_MEMBERS = (
    sa.select(sa.func.count()).where(users.c.role.is_not(None)).scalar_subquery()
)


def _project_rows(conn: Connection, name: str | None = None) -> list[ProjectRecord]:
    members = sa.case(
        (projects.c.name == DEFAULT_PROJECT, _DEFAULT_MEMBERS), else_=_members_count()
    )
    query = sa.select(*projects.c, members.label("members")).order_by(projects.c.name)
    if name is not None:
        query = query.where(projects.c.name == name)
    return [ProjectRecord.model_validate(dict(row._mapping)) for row in conn.execute(query)]


def _check_existing(project: object) -> str:
    if not isinstance(project, str):
        raise missing_project(str(project))
    return project


class ProjectsMixin(StoreCore):
    project: str

    def list_projects(self) -> list[ProjectRecord]:
        return self.read(lambda conn: _project_rows(conn))

    def get_project(self, project: str) -> ProjectRecord:
        _check_existing(project)

        def work(conn: Connection) -> ProjectRecord:
            found = _project_rows(conn, project)
            if not found:
                raise missing_project(project)
            return found[0]

        return self.read(work)

    def create_project(self, name: str, *, description: str | None = None) -> ProjectRecord:
        check_project_name(name)
        if description is not None and not isinstance(description, str):
            raise InvalidInputError("A project's description is text.", hint="Pass a string.")
        if name in {p.name for p in self.list_projects()}:
            raise _taken(name)
        # The tables first (idempotent), then the row: a project listed is a project usable.
        prepare_location(self.url, name)
        where = project_url(self.url, name)
        engine = make_engine(where)
        try:
            ensure_schema(engine, where)  # its tables, at the schema revision of this one
        finally:
            engine.dispose()

        def work(conn: Connection) -> ProjectRecord:
            taken = conn.execute(sa.select(projects.c.id).where(projects.c.name == name)).first()
            if taken is not None:
                raise _taken(name)
            values = {"id": new_id(), "name": name, "description": description}
            conn.execute(projects.insert().values(created=utcnow(), **values))
            return _project_rows(conn, name)[0]

        return self.write(work)

    def delete_project(self, project: str) -> None:
        _check_existing(project)
        if project == DEFAULT_PROJECT:
            raise InvalidInputError(
                "The project 'default' cannot be deleted.",
                hint="Delete what is in it instead (models, pipelines, artifacts).",
            )

        def work(conn: Connection) -> None:
            project_id = project_exists(conn, project, lock=True)
            conn.execute(
                api_tokens.update()
                .where(api_tokens.c.project == project, api_tokens.c.revoked.is_(None))
                .values(revoked=utcnow())
            )
            conn.execute(project_members.delete().where(project_members.c.project_id == project_id))
            conn.execute(projects.delete().where(projects.c.id == project_id))

        self.write(work)
        _drop_location(self.url, project)

    def list_project_members(self, project: str) -> list[ProjectMemberRecord]:
        _check_existing(project)

        def work(conn: Connection) -> list[ProjectMemberRecord]:
            project_id = project_exists(conn, project)
            if project == DEFAULT_PROJECT:
                rows = conn.execute(
                    sa.select(
                        users.c.name.label("user"), users.c.role, users.c.role_from,
                        users.c.created, users.c.disabled,
                    )
                    .where(users.c.role.is_not(None))
                    .order_by(users.c.name)
                )
            else:
                rows = conn.execute(
                    sa.select(
                        users.c.name.label("user"), project_members.c.role,
                        project_members.c.role_from, project_members.c.created, users.c.disabled,
                    )
                    .join(users, users.c.id == project_members.c.user_id)
                    .where(project_members.c.project_id == project_id)
                    .order_by(users.c.name)
                )
            return [
                ProjectMemberRecord.model_validate({**row._mapping, "project": project})
                for row in rows
            ]

        return self.read(work)

    def set_project_member(
        self, project: str, user: str, role: TokenRole | str
    ) -> ProjectMemberRecord:
        _check_existing(project)
        check_name(user, "user")
        wanted = parse_role(role, "role")
        if project == DEFAULT_PROJECT:
            record = self.set_user_role(user, wanted)  # type: ignore[attr-defined]
            return ProjectMemberRecord(
                project=project, user=user, role=wanted, created=record.created
            )

        def work(conn: Connection) -> ProjectMemberRecord:
            project_id = project_exists(conn, project)
            found = find_user(conn, user, lock=True)
            user_id = found["id"] if found else insert_user(conn, user, None, FROM_ADMIN)["id"]
            set_membership(conn, project_id, user_id, wanted)
            return _member(conn, project, project_id, user_id)

        return self.write(work)

    def remove_project_member(self, project: str, user: str) -> None:
        _check_existing(project)

        def work(conn: Connection) -> None:
            project_id = project_exists(conn, project)
            found = find_user(conn, user, lock=True)
            if found is None:
                raise NotFoundError(
                    f"There is no user {user!r}.", hint="List members to see who has a role."
                )
            if project == DEFAULT_PROJECT:
                conn.execute(users.update().where(users.c.id == found["id"]).values(role=None))
            else:
                conn.execute(
                    project_members.delete().where(
                        project_members.c.project_id == project_id,
                        project_members.c.user_id == found["id"],
                    )
                )
            conn.execute(
                api_tokens.update()
                .where(
                    api_tokens.c.user_id == found["id"],
                    api_tokens.c.project == project,
                    api_tokens.c.revoked.is_(None),
                )
                .values(revoked=utcnow())
            )

        self.write(work)


def _member(conn: Connection, project: str, project_id: str, user_id: str) -> ProjectMemberRecord:
    row = conn.execute(
        sa.select(
            users.c.name.label("user"), project_members.c.role, project_members.c.role_from,
            project_members.c.created, users.c.disabled,
        )
        .join(users, users.c.id == project_members.c.user_id)
        .where(project_members.c.project_id == project_id, project_members.c.user_id == user_id)
    ).one()
    return ProjectMemberRecord.model_validate({**row._mapping, "project": project})


def _taken(name: str) -> AlreadyExistsError:
    return AlreadyExistsError(
        f"The project {name!r} already exists.",
        hint="Pick another name, or use it with `modelplane project use NAME`.",
    )
