"""Contract: API tokens."""

from __future__ import annotations

import pytest

from modelplane.errors import AuthError, InvalidInputError, NotFoundError
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
