"""Users in the SQL store: the holders of API tokens, their roles, disabling, and single sign-on.

``tokens.py`` makes and checks tokens; the rules about whose they are live here: a new owner
becomes a user (``user_for_token``), a user's role caps their tokens, and disabling a user revokes
all of them in the transaction that disables it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelplane.enums import TokenRole
from modelplane.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from modelplane.metadata.records import NewToken, UserRecord
from modelplane.metadata.sql.members import (
    apply_granted_roles,
    membership,
    memberships,
    project_exists,
    set_membership,
)
from modelplane.metadata.sql.rows import new_id, utcnow
from modelplane.metadata.sql.tables import api_tokens, users
from modelplane.metadata.sql.transactions import StoreCore
from modelplane.versioning import check_name
from modelplane.config import DEFAULT_PROJECT, check_project_name

__all__ = [
    "FROM_ADMIN",
    "FROM_SSO",
    "UsersMixin",
    "find_user",
    "insert_user",
    "parse_role",
    "user_for_token",
]

FROM_ADMIN = "admin"
FROM_SSO = "sso"
_ROLE_HINT = (
    "Use viewer (read only), editor (also change models and runs) or admin (also manage users, "
    "tokens and webhooks)."
)


def parse_role(role: object, what: str = "token role") -> TokenRole:
    try:
        return TokenRole(role.lower() if isinstance(role, str) else role)
    except ValueError:
        raise InvalidInputError(f"Unknown {what} {role!r}.", hint=_ROLE_HINT) from None


def _live_tokens(now: datetime) -> sa.ScalarSelect[Any]:
    return (
        sa.select(sa.func.count())
        .where(
            api_tokens.c.user_id == users.c.id,
            api_tokens.c.revoked.is_(None),
            sa.or_(api_tokens.c.expires.is_(None), api_tokens.c.expires > now),
        )
        .scalar_subquery()
    )


def _select(now: datetime) -> sa.Select[Any]:
    return sa.select(*users.c, _live_tokens(now).label("live_tokens"))


def find_user(conn: Connection, name: str, *, lock: bool = False) -> dict[str, Any] | None:
    query = sa.select(*users.c).where(users.c.name == name)
    row = conn.execute(query.with_for_update() if lock else query).first()
    return None if row is None else dict(row._mapping)


def _record(conn: Connection, user_id: str) -> UserRecord:
    row = conn.execute(_select(utcnow()).where(users.c.id == user_id)).one()
    return UserRecord.model_validate(dict(row._mapping))


def _missing(name: str) -> NotFoundError:
    return NotFoundError(
        f"There is no user {name!r}.",
        hint="List users with `modelplane user list`; a user appears with their first token or "
        "sign-in, or when an admin gives them a role (`modelplane user set-role NAME ROLE`).",
    )


def _disabled(name: str) -> PermissionDeniedError:
    return PermissionDeniedError(
        f"The user {name!r} is disabled.",
        hint=f"An admin enables them again with `modelplane user enable {name}`.",
    )


def insert_user(conn: Connection, name: str, role: TokenRole | None, role_from: str) -> dict[str, Any]:
    values = {
        "id": new_id(),
        "name": name,
        "role": None if role is None else role.value,
        "role_from": role_from,
        "created": utcnow(),
    }
    conn.execute(users.insert().values(**values))
    return values


def user_for_token(
    conn: Connection, owner: str, role: TokenRole, project: str | None
) -> str:
    """The id of the user a new token of ``owner`` with ``role`` for ``project`` (None: every
    project) belongs to. A new name becomes a user with that role in ``project``, and a user
    without a role in a project other than ``default`` becomes a member with it; refused for a
    disabled user or a role above the user's there."""
    found = find_user(conn, owner, lock=True)
    if found is None:
        in_default = project in (None, DEFAULT_PROJECT)
        found = insert_user(conn, owner, role if in_default else None, FROM_ADMIN)
    elif found["disabled"] is not None:
        raise _disabled(owner)
    user_id = str(found["id"])
    own = None if found["role"] is None else TokenRole(found["role"])
    if project is None:
        held = _highest(own, *memberships(conn, user_id).values())
        where = "in any project"
    elif project == DEFAULT_PROJECT:
        held, where = own, f"in the project {project!r}"
    else:
        held, where = membership(conn, project, user_id), f"in the project {project!r}"
        if held is None:
            set_membership(conn, project_exists(conn, project), user_id, role)
            held = role
    if held is None:
        raise InvalidInputError(
            f"The user {owner!r} has no role {where}.",
            hint=f"Give them one first (`modelplane project add-member PROJECT {owner} ROLE`).",
        )
    if role.rank > held.rank:
        raise InvalidInputError(
            f"The user {owner!r} holds the {held} role {where}; a token of theirs cannot have the "
            f"{role} role.",
            hint=f"Give them the role first (`modelplane user set-role {owner} {role}`, or "
            f"`modelplane project add-member PROJECT {owner} {role}`), or make a token with "
            f"--role {held}.",
        )
    return user_id


def _highest(*roles: TokenRole | None) -> TokenRole | None:
    return max((r for r in roles if r is not None), key=lambda r: r.rank, default=None)


class UsersMixin(StoreCore):
    def list_users(self) -> list[UserRecord]:
        def work(conn: Connection) -> list[UserRecord]:
            rows = conn.execute(_select(utcnow()).order_by(users.c.name))
            return [UserRecord.model_validate(dict(row._mapping)) for row in rows]

        return self.read(work)

    def get_user(self, user: str) -> UserRecord:
        def work(conn: Connection) -> UserRecord:
            found = find_user(conn, user)
            if found is None:
                raise _missing(user)
            return _record(conn, found["id"])

        return self.read(work)

    def set_user_role(self, user: str, role: TokenRole | str) -> UserRecord:
        check_name(user, "user")
        wanted = parse_role(role, "role")

        def work(conn: Connection) -> UserRecord:
            found = find_user(conn, user, lock=True)
            if found is None:
                return _record(conn, insert_user(conn, user, wanted, FROM_ADMIN)["id"])
            conn.execute(
                users.update()
                .where(users.c.id == found["id"])
                .values(role=wanted.value, role_from=FROM_ADMIN)
            )
            return _record(conn, found["id"])

        return self.write(work)

    def disable_user(self, user: str) -> UserRecord:
        def work(conn: Connection) -> UserRecord:
            found = find_user(conn, user, lock=True)
            if found is None:
                raise _missing(user)
            now = utcnow()
            if found["disabled"] is None:
                conn.execute(users.update().where(users.c.id == found["id"]).values(disabled=now))
            conn.execute(
                api_tokens.update()
                .where(api_tokens.c.user_id == found["id"], api_tokens.c.revoked.is_(None))
                .values(revoked=now)
            )
            return _record(conn, found["id"])

        return self.write(work)

    def enable_user(self, user: str) -> UserRecord:
        def work(conn: Connection) -> UserRecord:
            found = find_user(conn, user, lock=True)
            if found is None:
                raise _missing(user)
            conn.execute(users.update().where(users.c.id == found["id"]).values(disabled=None))
            return _record(conn, found["id"])

        return self.write(work)

    def sign_in_user(
        self,
        user: str,
        *,
        issuer: str,
        subject: str,
        role: TokenRole | None = None,
        default_role: TokenRole | None = None,
        project_roles: dict[str, TokenRole] | None = None,
        expires_in: float,
    ) -> NewToken:
        check_name(user, "user")
        check_name(subject, "subject")
        if not isinstance(issuer, str) or not issuer.startswith(("https://", "http://")):
            raise InvalidInputError(
                f"The issuer {issuer!r} is not an http(s) URL.", hint="Pass the ID token's iss."
            )
        granted = None if role is None else parse_role(role, "role")
        fallback = None if default_role is None else parse_role(default_role, "default role")
        in_projects = {
            check_project_name(name): parse_role(granted_there, "role")
            for name, granted_there in (project_roles or {}).items()
        }

        def work(conn: Connection) -> TokenRole:
            found = find_user(conn, user, lock=True)
            if found is not None:
                if found["disabled"] is not None:
                    raise _disabled(user)
                bound = (found["issuer"], found["subject"])
                if found["subject"] is not None and bound != (issuer, subject):
                    raise PermissionDeniedError(
                        f"The user {user!r} signs in as another identity of the provider.",
                        hint="Two identities carry this name; an admin can tell which is which "
                        "with `modelplane user list`.",
                    )
            if granted is not None:
                chosen, source = granted, FROM_SSO
            elif found is not None and found["role_from"] == FROM_ADMIN and (
                found["role"] is not None or memberships(conn, found["id"])
            ):
                chosen = None if found["role"] is None else TokenRole(found["role"])
                source = FROM_ADMIN
            elif fallback is not None:
                chosen, source = fallback, FROM_SSO
            elif in_projects or (found is not None and memberships(conn, found["id"])):
                # A member of other projects only (no role in default): the claim or an admin
                # gave them one there. Whether any is left is checked once the claim applied.
                # A role in default the provider granted before lapses with its grant.
                chosen, source = None, FROM_SSO
            else:
                raise PermissionDeniedError(
                    f"{user!r} signed in, but has no role on this modelplane server.",
                    hint=f"Ask an admin to give you one (`modelplane user set-role {user} "
                    "viewer`), or to add you to a group that MODELPLANE_OIDC_ROLES maps to a role.",
                )
            now = utcnow()
            values = {
                "role": None if chosen is None else chosen.value,
                "role_from": source,
                "issuer": issuer,
                "subject": subject,
                "last_sign_in": now,
            }
            user_id = str(insert_user(conn, user, chosen, source)["id"] if found is None else found["id"])
            conn.execute(users.update().where(users.c.id == user_id).values(**values))
            apply_granted_roles(conn, user_id, in_projects)
            highest = _highest(chosen, *memberships(conn, user_id).values())
            if highest is None:  # the claim named only projects that do not exist
                raise PermissionDeniedError(
                    f"{user!r} signed in, but has no role in any project of this server.",
                    hint="Ask an admin to add you to a project (`modelplane project add-member "
                    f"PROJECT {user} viewer`).",
                )
            return highest

        def both(store: Any) -> NewToken:
            # One transaction: the token is made by create_token on the same connection, so it
            # passes the same checks as any other token of the user. A session acts in every
            # project the user is a member of, with their role in each.
            highest = store.write(work)
            return store.create_token(  # type: ignore[no-any-return]
                user, role=highest, expires_in=expires_in, all_projects=True
            )

        return self.atomically(both)
