"""Contract: API tokens."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from modelplane.enums import TokenRole
from modelplane.errors import AuthError, InvalidInputError, NotFoundError
from modelplane.metadata.sql.store import SqlMetadataStore
from modelplane.metadata.store import MetadataStore


def test_create_token_returns_a_secret_once(store: MetadataStore) -> None:
    token, secret = store.create_token("ana")

    assert secret.startswith("mp_") and len(secret) > 40
    assert (token.owner, token.revoked, token.last_used) == ("ana", None, None)
    assert secret not in str(store.list_tokens())


def test_authenticate_finds_the_live_token_and_notes_its_use(store: MetadataStore) -> None:
    token, secret = store.create_token("ana")
    store.create_token("bob")

    found = store.authenticate(secret)

    assert found.id == token.id and found.owner == "ana"
    assert found.last_used is not None
    assert next(t for t in store.list_tokens() if t.id == token.id).last_used is not None


@pytest.mark.parametrize("secret", ["", "mp_wrong", "x" * 200], ids=["empty", "wrong", "long"])
def test_authenticate_rejects_unknown_secrets(store: MetadataStore, secret: str) -> None:
    store.create_token("ana")

    with pytest.raises(AuthError):
        store.authenticate(secret)


def test_revoked_tokens_no_longer_authenticate(store: MetadataStore) -> None:
    token, secret = store.create_token("ana")

    revoked = store.revoke_token(token.id)
    again = store.revoke_token(token.id)

    assert revoked.revoked is not None and again.revoked == revoked.revoked
    with pytest.raises(AuthError, match="revoked"):
        store.authenticate(secret)


def test_token_errors(store: MetadataStore) -> None:
    with pytest.raises(NotFoundError):
        store.revoke_token("f" * 32)
    with pytest.raises(InvalidInputError):
        store.create_token("")
    assert store.list_tokens() == []


def test_list_tokens_newest_first(store: MetadataStore) -> None:
    first, _ = store.create_token("ana")
    second, _ = store.create_token("bob")

    assert [t.id for t in store.list_tokens()] == [second.id, first.id]


def test_tokens_have_a_role_editor_by_default(store: MetadataStore) -> None:
    editor, editor_secret = store.create_token("ana")
    viewer, viewer_secret = store.create_token("bob", role="viewer")
    admin, _ = store.create_token("cy", role=TokenRole.ADMIN)

    assert (editor.role, viewer.role, admin.role) == (TokenRole.EDITOR, TokenRole.VIEWER, TokenRole.ADMIN)
    assert store.authenticate(viewer_secret).role is TokenRole.VIEWER
    assert store.authenticate(editor_secret).role is TokenRole.EDITOR
    assert {t.owner: t.role for t in store.list_tokens()} == {
        "ana": TokenRole.EDITOR, "bob": TokenRole.VIEWER, "cy": TokenRole.ADMIN,
    }  # fmt: skip


@pytest.mark.parametrize("role", ["root", "", 3, None])
def test_an_unknown_role_is_refused_and_creates_nothing(store: MetadataStore, role: object) -> None:
    with pytest.raises(InvalidInputError, match="role"):
        store.create_token("ana", role=role)  # type: ignore[arg-type]
    assert store.list_tokens() == []


def test_a_token_may_expire(store: MetadataStore) -> None:
    token, secret = store.create_token("session", role="viewer", expires_in=3600)
    assert token.expires is not None
    assert (token.expires - token.created).total_seconds() == pytest.approx(3600)
    assert store.authenticate(secret).id == token.id
    assert store.create_token("forever").token.expires is None
    for bad in (0, -1, 40 * 24 * 3600, "soon", True):
        with pytest.raises(InvalidInputError):
            store.create_token("session", expires_in=bad)  # type: ignore[arg-type]


def test_an_expired_token_is_refused_by_the_stores_clock(sql_store: SqlMetadataStore) -> None:
    now = [datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)]
    clocked = SqlMetadataStore(sql_store.url, clock=lambda: now[0])
    try:
        token, secret = clocked.create_token("session", role="viewer", expires_in=60)
        now[0] += timedelta(seconds=59)
        assert clocked.authenticate(secret).id == token.id
        now[0] += timedelta(seconds=2)
        with pytest.raises(AuthError, match="expired"):
            clocked.authenticate(secret)
    finally:
        clocked.close()
