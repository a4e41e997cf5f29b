"""The users half of the ``MetadataStore`` contract: who holds tokens, with which role, signed in
how. Declared as in ``store.py`` (which holds the conventions every operation follows);
``MetadataStore`` inherits these operations. Every one of them is for admins.

A user is known by name: the ``owner`` of their tokens and the actor of their stage changes.
``create_token`` makes the user of a new name; single sign-on (``sign_in_user``) makes or finds
it by the identity provider's name claim. A user's ``role`` caps every token of theirs, so a
change of role applies to tokens already handed out, and disabling a user revokes all their tokens
and sessions in the same transaction.
"""

from __future__ import annotations

from typing import Annotated, Protocol

from modelplane.enums import TokenRole
from modelplane.metadata.operations import operation
from modelplane.metadata.record_base import Bounds
from modelplane.metadata.records import NewToken, UserRecord

__all__ = ["UserOperations"]

_ADMIN = TokenRole.ADMIN


class UserOperations(Protocol):
    @operation('GET', '/users', role=_ADMIN, scope="server")
    def list_users(self) -> list[UserRecord]:
        """Every user by name, disabled ones included, with how many live tokens each holds."""

    @operation('GET', '/users/{user}', role=_ADMIN, scope="server")
    def get_user(self, user: str) -> UserRecord: ...

    @operation('PUT', '/users/{user}/role', role=_ADMIN, scope="server")
    def set_user_role(self, user: str, role: TokenRole | str) -> UserRecord:
        """Give ``user`` the ``role`` (an unknown name becomes a user, so a role can be given
        before a first sign-in). Their tokens act with at most this role from now on; a token
        with a higher one of its own is capped, not revoked."""

    @operation('POST', '/users/{user}/disable', role=_ADMIN, scope="server")
    def disable_user(self, user: str) -> UserRecord:
        """Disable ``user`` and revoke every token and session of theirs in the same
        transaction: none of them works from then on, and no new one is made or signed in."""

    @operation('POST', '/users/{user}/enable', role=_ADMIN, scope="server")
    def enable_user(self, user: str) -> UserRecord:
        """Let ``user`` sign in and hold tokens again; the tokens revoked when it was disabled
        stay revoked."""

    @operation('POST', '/users/{user}/sign-in', role=_ADMIN, scope="server")
    def sign_in_user(
        self,
        user: str,
        *,
        issuer: str,
        subject: str,
        role: TokenRole | None = None,
        default_role: TokenRole | None = None,
        project_roles: dict[str, TokenRole] | None = None,
        expires_in: Annotated[float, Bounds(gt=0, le=2_592_000)],
    ) -> NewToken:
        """A session token for ``user`` whom the identity provider ``issuer`` vouched for as
        ``subject``, in one transaction (the server calls this after checking the ID token).

        Their role: ``role`` when the provider's claim grants one; else the role an admin gave
        them; else ``default_role``. ``project_roles`` are the roles the claim grants in other
        projects (by name): they replace those it granted at earlier sign-ins, and a project it
        no longer names loses the role it gave there. With no role anywhere the sign-in is
        refused (``PermissionDeniedError``) and nothing is recorded. A disabled user, or a name already
        bound to another identity, is refused too. The session ends after ``expires_in``
        seconds."""
