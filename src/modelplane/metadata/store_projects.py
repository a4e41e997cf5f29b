"""The projects half of the ``MetadataStore`` contract: which projects exist and who may do what in
each. Declared as in ``store.py``; ``MetadataStore`` inherits these operations.

A project keeps its pipelines, runs, artifacts, models, webhooks and deployments apart from every
other project's: names are unique per project, and a store opened on one project (``project=`` of
the SQL store, ``X-Modelplane-Project`` over HTTP) neither sees nor changes another's. ``default``
always exists; a user's role there is their server role (``set_user_role``), and its admins are
the server's admins, who alone create and delete projects. Every other project has members, each
with a role, given by its admins.
"""

from __future__ import annotations

from typing import Protocol

from modelplane.enums import TokenRole
from modelplane.metadata.operations import operation
from modelplane.metadata.project_records import ProjectMemberRecord, ProjectRecord

__all__ = ["ProjectOperations"]

_ADMIN = TokenRole.ADMIN


class ProjectOperations(Protocol):
    @operation('GET', '/projects', scope="token")
    def list_projects(self) -> list[ProjectRecord]:
        """The projects, by name (through a server: those the caller may use)."""

    @operation('GET', '/projects/{project}', scope="named")
    def get_project(self, project: str) -> ProjectRecord: ...

    @operation('POST', '/projects', role=_ADMIN, scope="server")
    def create_project(self, name: str, *, description: str | None = None) -> ProjectRecord:
        """A new, empty project with tables of its own (a schema on PostgreSQL, a database on
        MySQL, a file beside the store on SQLite)."""

    @operation('DELETE', '/projects/{project}', role=_ADMIN, scope="server")
    def delete_project(self, project: str) -> None:
        """Delete the project with everything in it, its memberships and the tokens bound to it.
        ``default`` cannot be deleted."""

    @operation('GET', '/projects/{project}/members', scope="named")
    def list_project_members(self, project: str) -> list[ProjectMemberRecord]:
        """The users with a role in ``project``, by name."""

    @operation('PUT', '/projects/{project}/members/{user}', role=_ADMIN, scope="named")
    def set_project_member(
        self, project: str, user: str, role: TokenRole | str
    ) -> ProjectMemberRecord:
        """Give ``user`` the ``role`` in ``project`` (an unknown name becomes a user with no role
        elsewhere). In ``default`` this is their server role, as ``set_user_role``."""

    @operation('DELETE', '/projects/{project}/members/{user}', role=_ADMIN, scope="named")
    def remove_project_member(self, project: str, user: str) -> None:
        """Take ``user``'s role in ``project`` away, and revoke their tokens bound to it, in one
        transaction; their tokens for every project stop working there at once."""
