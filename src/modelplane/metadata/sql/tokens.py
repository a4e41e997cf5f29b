"""API tokens in the SQL store: only a sha256 of each secret is kept. Each token belongs to a user
(``users.py``), whose role caps it and whose disabling revokes it."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelplane.enums import TokenRole
from modelplane.errors import AuthError, InvalidInputError, NotFoundError
from modelplane.metadata.records import NewToken, TokenRecord
from modelplane.metadata.sql.rows import new_id, utcnow
from modelplane.metadata.sql.tables import api_tokens, users
from modelplane.metadata.sql.transactions import StoreCore
from modelplane.metadata.sql.members import memberships
from modelplane.metadata.sql.users import parse_role, user_for_token
from modelplane.versioning import check_name
from modelplane.config import DEFAULT_PROJECT

__all__ = ["TOKEN_PREFIX", "TokensMixin"]

TOKEN_PREFIX = "mp_"
# Recording every use would make each API request a write; once a minute is enough to see
# which tokens are alive.
_LAST_USED_EVERY = timedelta(minutes=1)
_COLUMNS = (
    api_tokens.c.id,
    api_tokens.c.owner,
    api_tokens.c.role,
    api_tokens.c.created,
    api_tokens.c.revoked,
    api_tokens.c.last_used,
    api_tokens.c.expires,
    api_tokens.c.user_id,
    api_tokens.c.project,
)
MAX_EXPIRES_IN = 30 * 24 * 3600.0


def _rank(role: TokenRole) -> int:
    return role.rank


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _listed(project: str) -> sa.ColumnElement[bool]:
    """The tokens a project's admins see and may revoke: those bound to it (in ``default``, also
    those for every project)."""
    if project == DEFAULT_PROJECT:
        return sa.or_(api_tokens.c.project == project, api_tokens.c.project.is_(None))
    return api_tokens.c.project == project


class TokensMixin(StoreCore):
    project: str

    def create_token(
        self,
        owner: str,
        *,
        role: TokenRole | str = TokenRole.EDITOR,
        expires_in: float | None = None,
        all_projects: bool = False,
    ) -> NewToken:
        check_name(owner, "token owner")
        if all_projects and self.project != DEFAULT_PROJECT:
            raise InvalidInputError(
                f"A token for every project is made in the project 'default', not {self.project!r}.",
                hint="Leave out all_projects (--all-projects) for a token of this project.",
            )
        bound = None if all_projects else self.project
        if expires_in is not None and (
            isinstance(expires_in, bool)
            or not isinstance(expires_in, (int, float))
            or not 0 < expires_in <= MAX_EXPIRES_IN
        ):
            raise InvalidInputError(
                f"expires_in={expires_in!r} is not a number of seconds up to 30 days.",
                hint="Leave it out for a token that lasts until revoked.",
            )
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        wanted = parse_role(role)
        values = {"id": new_id(), "owner": owner, "role": wanted.value, "project": bound}

        def work(conn: Connection) -> TokenRecord:
            now = utcnow()
            ends = None if expires_in is None else now + timedelta(seconds=expires_in)
            row = {**values, "created": now, "expires": ends}
            row["user_id"] = user_for_token(conn, owner, wanted, bound)
            conn.execute(api_tokens.insert().values(secret_hash=_hash(secret), **row))
            return TokenRecord.model_validate(row)

        return NewToken(self.write(work), secret)

    def list_tokens(self) -> list[TokenRecord]:
        def work(conn: Connection) -> list[TokenRecord]:
            rows = conn.execute(
                sa.select(*_COLUMNS)
                .where(_listed(self.project))
                .order_by(api_tokens.c.created.desc(), api_tokens.c.id.desc())
            )
            return [TokenRecord.model_validate(dict(row._mapping)) for row in rows]

        return self.read(work)

    def revoke_token(self, token_id: str) -> TokenRecord:
        def work(conn: Connection) -> TokenRecord:
            row = conn.execute(
                sa.select(*_COLUMNS)
                .where(api_tokens.c.id == token_id, _listed(self.project))
                .with_for_update()
            ).first()
            if row is None:
                raise NotFoundError(
                    f"API token {token_id!r} does not exist in the project {self.project!r}.",
                    hint="List tokens to find its id (`modelplane token list`).",
                )
            values = dict(row._mapping)
            if values["revoked"] is None:
                values["revoked"] = utcnow()
                conn.execute(
                    api_tokens.update()
                    .where(api_tokens.c.id == token_id)
                    .values(revoked=values["revoked"])
                )
            return TokenRecord.model_validate(values)

        return self.write(work)

    def authenticate(self, secret: str) -> TokenRecord:
        if not isinstance(secret, str) or not secret:
            raise AuthError(
                "No API token was given.", hint="Log in with `modelplane login` or pass a token."
            )
        digest = _hash(secret)

        def find(conn: Connection) -> tuple[TokenRecord, datetime]:
            row = conn.execute(
                sa.select(
                    *_COLUMNS, users.c.role.label("user_role"), users.c.disabled.label("disabled")
                )
                .join(users, users.c.id == api_tokens.c.user_id)
                .where(api_tokens.c.secret_hash == digest)
            ).first()
            if row is None or row.revoked is not None:
                raise AuthError(
                    "The API token is unknown or revoked.",
                    hint="Ask the server's admin for a new token and log in again with "
                    "`modelplane login`.",
                )
            if row.disabled is not None:
                raise AuthError(
                    f"The user {row.owner!r} is disabled.",
                    hint="Ask the server's admin to enable you again.",
                )
            values = dict(row._mapping)
            values["roles"] = _roles(conn, values)
            own, server = TokenRole(row.role), values.pop("user_role")
            values["role"] = own if server is None else min(TokenRole(server), own, key=_rank)
            return TokenRecord.model_validate(values), utcnow()  # the store's time

        token, now = self.read(find)
        if token.expires is not None and token.expires <= now:
            raise AuthError(
                "The API token has expired.", hint="Sign in again (or log in with a new token)."
            )
        if token.last_used is not None and now - token.last_used < _LAST_USED_EVERY:
            return token

        def touch(conn: Connection) -> None:
            conn.execute(
                api_tokens.update().where(api_tokens.c.id == token.id).values(last_used=now)
            )

        self.write(touch)
        return token.model_copy(update={"last_used": now})


def _roles(conn: Connection, token: dict[str, object]) -> dict[str, TokenRole]:
    """What the token may do in each project: its own role, capped by its user's role there; a
    server admin's (an admin of ``default``) in every project ("*")."""
    own = TokenRole(str(token["role"]))
    server = token["user_role"]
    if server == TokenRole.ADMIN.value:
        found = {"*": own}
    else:
        held = memberships(conn, str(token["user_id"]))
        if server is not None:
            held[DEFAULT_PROJECT] = TokenRole(str(server))
        found = {name: min(role, own, key=_rank) for name, role in held.items()}
    bound = token["project"]
    if bound is None:
        return found
    role = found.get(str(bound)) or found.get("*")
    return {} if role is None else {str(bound): role}
