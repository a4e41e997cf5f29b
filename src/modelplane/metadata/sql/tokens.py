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
from modelplane.metadata.sql.users import parse_role, user_for_token
from modelplane.versioning import check_name

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
)
MAX_EXPIRES_IN = 30 * 24 * 3600.0


def _rank(role: TokenRole) -> int:
    return role.rank


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TokensMixin(StoreCore):
    def create_token(
        self,
        owner: str,
        *,
        role: TokenRole | str = TokenRole.EDITOR,
        expires_in: float | None = None,
    ) -> NewToken:
        check_name(owner, "token owner")
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
        values = {"id": new_id(), "owner": owner, "role": wanted.value}

        def work(conn: Connection) -> TokenRecord:
            now = utcnow()
            ends = None if expires_in is None else now + timedelta(seconds=expires_in)
            row = {**values, "created": now, "expires": ends}
            row["user_id"] = user_for_token(conn, owner, wanted)
            conn.execute(api_tokens.insert().values(secret_hash=_hash(secret), **row))
            return TokenRecord.model_validate(row)

        return NewToken(self.write(work), secret)

    def list_tokens(self) -> list[TokenRecord]:
        def work(conn: Connection) -> list[TokenRecord]:
            rows = conn.execute(
                sa.select(*_COLUMNS).order_by(api_tokens.c.created.desc(), api_tokens.c.id.desc())
            )
            return [TokenRecord.model_validate(dict(row._mapping)) for row in rows]

        return self.read(work)

    def revoke_token(self, token_id: str) -> TokenRecord:
        def work(conn: Connection) -> TokenRecord:
            row = conn.execute(
                sa.select(*_COLUMNS).where(api_tokens.c.id == token_id).with_for_update()
            ).first()
            if row is None:
                raise NotFoundError(
                    f"API token {token_id!r} does not exist.", hint="List tokens to find its id."
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
            capped = min(TokenRole(values.pop("user_role")), TokenRole(row.role), key=_rank)
            values["role"] = capped
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
