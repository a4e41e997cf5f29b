"""Contract: users — the holders of tokens, their roles, disabling, and single sign-on."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from modelplane.enums import TokenRole
from modelplane.errors import AuthError, InvalidInputError, NotFoundError, PermissionDeniedError
from modelplane.metadata.sql.store import SqlMetadataStore
from modelplane.metadata.store import MetadataStore
from tests.store.state import snapshot

ISSUER = "https://idp.example.com"
HOUR = 3600.0


def _roles(store: MetadataStore) -> dict[str, tuple[str, str]]:
    return {u.name: (u.role.value, u.role_from) for u in store.list_users()}


def test_a_tokens_owner_becomes_a_user_with_its_role(store: MetadataStore) -> None:
    first, _ = store.create_token("ana", role="viewer")
    second, _ = store.create_token("ana", role="viewer")
    store.create_token("bob", role="admin")

    assert _roles(store) == {"ana": ("viewer", "admin"), "bob": ("admin", "admin")}
    ana = store.get_user("ana")
    assert first.user_id == second.user_id == ana.id
    assert (ana.live_tokens, ana.disabled, ana.last_sign_in, ana.subject) == (2, None, None, None)
    assert [u.name for u in store.list_users()] == ["ana", "bob"]  # by name
    assert {t.user_id for t in store.list_tokens()} == {u.id for u in store.list_users()}


def test_a_token_may_not_do_more_than_its_user(store: MetadataStore) -> None:
    store.create_token("ana", role="viewer")
    before = snapshot(store)

    with pytest.raises(InvalidInputError, match="viewer role") as refused:
        store.create_token("ana", role="editor")

    assert "set-role ana editor" in (refused.value.hint or "")
    assert snapshot(store) == before


def test_a_users_role_caps_the_tokens_they_already_hold(store: MetadataStore) -> None:
    token, secret = store.create_token("ana", role="admin")

    store.set_user_role("ana", "viewer")
    assert store.authenticate(secret).role is TokenRole.VIEWER
    assert next(t for t in store.list_tokens() if t.id == token.id).role is TokenRole.ADMIN

    store.set_user_role("ana", TokenRole.ADMIN)
    assert store.authenticate(secret).role is TokenRole.ADMIN


def test_an_admin_may_give_a_role_before_the_first_sign_in(store: MetadataStore) -> None:
    made = store.set_user_role("carol@example.com", "editor")

    assert (made.name, made.role, made.role_from, made.live_tokens) == (
        "carol@example.com", TokenRole.EDITOR, "admin", 0
    )  # fmt: skip
    assert store.get_user("carol@example.com") == made


def test_disabling_a_user_revokes_every_token_and_session_at_once(store: MetadataStore) -> None:
    _, api_secret = store.create_token("ana", role="editor")
    _, session_secret = store.create_token("ana", role="viewer", expires_in=HOUR)
    _, sso_secret = store.sign_in_user("ana", issuer=ISSUER, subject="s-ana", expires_in=HOUR)
    _, other_secret = store.create_token("bob")

    disabled = store.disable_user("ana")

    assert disabled.disabled is not None and disabled.live_tokens == 0
    for secret in (api_secret, session_secret, sso_secret):
        with pytest.raises(AuthError):
            store.authenticate(secret)
    assert all(t.revoked is not None for t in store.list_tokens() if t.owner == "ana")
    assert store.authenticate(other_secret).owner == "bob"
    assert store.disable_user("ana").disabled == disabled.disabled  # again: nothing changes


def test_a_disabled_user_gets_no_token_and_no_sign_in_until_enabled(store: MetadataStore) -> None:
    store.create_token("ana")
    store.disable_user("ana")
    before = snapshot(store)

    with pytest.raises(PermissionDeniedError, match="disabled"):
        store.create_token("ana")
    with pytest.raises(PermissionDeniedError, match="disabled"):
        store.sign_in_user("ana", issuer=ISSUER, subject="s-ana", role="viewer", expires_in=HOUR)
    assert snapshot(store) == before

    enabled = store.enable_user("ana")
    assert enabled.disabled is None and enabled.live_tokens == 0  # old tokens stay revoked
    _, secret = store.create_token("ana")
    assert store.authenticate(secret).owner == "ana"


def test_signing_in_makes_the_user_and_a_session(store: MetadataStore) -> None:
    session, secret = store.sign_in_user(
        "dora@example.com", issuer=ISSUER, subject="s-dora", role="editor", expires_in=HOUR
    )

    assert (session.owner, session.role) == ("dora@example.com", TokenRole.EDITOR)
    assert session.expires is not None
    assert (session.expires - session.created).total_seconds() == pytest.approx(HOUR)
    assert store.authenticate(secret).id == session.id
    dora = store.get_user("dora@example.com")
    assert (dora.role, dora.role_from, dora.issuer, dora.subject) == (
        TokenRole.EDITOR, "sso", ISSUER, "s-dora"
    )  # fmt: skip
    assert dora.last_sign_in == session.created and session.user_id == dora.id


def test_without_a_role_a_sign_in_is_refused_and_records_nothing(store: MetadataStore) -> None:
    before = snapshot(store)

    with pytest.raises(PermissionDeniedError, match="no role") as refused:
        store.sign_in_user("eve", issuer=ISSUER, subject="s-eve", expires_in=HOUR)

    assert "set-role eve" in (refused.value.hint or "")
    assert snapshot(store) == before


def test_the_default_role_lets_new_users_in(store: MetadataStore) -> None:
    session, _ = store.sign_in_user(
        "eve", issuer=ISSUER, subject="s-eve", default_role="viewer", expires_in=HOUR
    )

    assert session.role is TokenRole.VIEWER
    assert _roles(store) == {"eve": ("viewer", "sso")}


def test_a_role_an_admin_gave_stands_when_the_claim_grants_none(store: MetadataStore) -> None:
    store.set_user_role("fay", "admin")

    session, _ = store.sign_in_user(
        "fay", issuer=ISSUER, subject="s-fay", default_role="viewer", expires_in=HOUR
    )

    assert session.role is TokenRole.ADMIN
    assert _roles(store) == {"fay": ("admin", "admin")}


def test_the_claim_decides_when_it_grants_a_role(store: MetadataStore) -> None:
    store.set_user_role("gus", "admin")

    session, _ = store.sign_in_user(
        "gus", issuer=ISSUER, subject="s-gus", role="editor", expires_in=HOUR
    )

    assert session.role is TokenRole.EDITOR
    assert _roles(store) == {"gus": ("editor", "sso")}


def test_a_role_from_the_claim_lapses_when_the_claim_no_longer_grants_it(
    store: MetadataStore,
) -> None:
    _, first = store.sign_in_user("hal", issuer=ISSUER, subject="s-hal", role="admin", expires_in=HOUR)

    with pytest.raises(PermissionDeniedError, match="no role"):
        store.sign_in_user("hal", issuer=ISSUER, subject="s-hal", expires_in=HOUR)
    later, _ = store.sign_in_user(
        "hal", issuer=ISSUER, subject="s-hal", default_role="viewer", expires_in=HOUR
    )

    assert later.role is TokenRole.VIEWER
    assert store.authenticate(first).role is TokenRole.VIEWER  # the earlier session is capped too


def test_a_name_stays_bound_to_the_identity_that_first_signed_in(store: MetadataStore) -> None:
    store.sign_in_user("ivy", issuer=ISSUER, subject="s-ivy", role="viewer", expires_in=HOUR)
    before = snapshot(store)

    with pytest.raises(PermissionDeniedError, match="another identity"):
        store.sign_in_user("ivy", issuer=ISSUER, subject="s-impostor", role="admin", expires_in=HOUR)
    with pytest.raises(PermissionDeniedError, match="another identity"):
        store.sign_in_user(
            "ivy", issuer="https://other.example.com", subject="s-ivy", role="admin", expires_in=HOUR
        )
    assert snapshot(store) == before


def test_user_errors_name_the_user_and_change_nothing(store: MetadataStore) -> None:
    store.create_token("ana")
    before = snapshot(store)

    for call in (store.get_user, store.disable_user, store.enable_user):
        with pytest.raises(NotFoundError, match="nobody"):
            call("nobody")
    with pytest.raises(InvalidInputError, match="role"):
        store.set_user_role("ana", "root")
    with pytest.raises(InvalidInputError):
        store.set_user_role("", "viewer")
    with pytest.raises(InvalidInputError):
        store.sign_in_user("ana", issuer="not a url", subject="s", role="viewer", expires_in=HOUR)
    with pytest.raises(InvalidInputError):
        store.sign_in_user("ana", issuer=ISSUER, subject="s", role="viewer", expires_in=0)
    assert snapshot(store) == before


def test_a_signed_in_session_ends_by_the_stores_clock(sql_store: SqlMetadataStore) -> None:
    now = [datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)]
    clocked = SqlMetadataStore(sql_store.url, clock=lambda: now[0])
    try:
        _, secret = clocked.sign_in_user("jo", issuer=ISSUER, subject="s-jo", role="viewer", expires_in=60)
        now[0] += timedelta(seconds=61)
        with pytest.raises(AuthError, match="expired"):
            clocked.authenticate(secret)
        assert clocked.get_user("jo").live_tokens == 0
    finally:
        clocked.close()
