"""Single sign-on settings from MODELPLANE_OIDC_*: what is accepted, and what is refused before the
server starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from modelplane.cli import main
from modelplane.enums import TokenRole
from modelplane.errors import ConfigError
from modelplane.server.sso_settings import from_environment, parse_roles

BASE = {
    "MODELPLANE_OIDC_ISSUER": "https://login.example.com/realms/ml",
    "MODELPLANE_OIDC_CLIENT_ID": "modelplane",
    "MODELPLANE_OIDC_CLIENT_SECRET": "s3cret",
}


def test_no_issuer_means_no_single_sign_on() -> None:
    assert from_environment({}) is None


def test_the_settings_and_their_defaults() -> None:
    settings = from_environment({**BASE, "MODELPLANE_OIDC_ROLES": "ml-admins=admin, ml-team=Editor"})

    assert settings is not None
    assert settings.roles == {"ml-admins": TokenRole.ADMIN, "ml-team": TokenRole.EDITOR}
    assert (settings.name_claim, settings.role_claim, settings.default_role) == ("email", "groups", None)
    assert settings.scope == "openid email profile" and settings.redirect_uri is None
    assert settings.discovery_url == "https://login.example.com/realms/ml/.well-known/openid-configuration"
    assert "s3cret" not in repr(settings)
    assert from_environment({**BASE, "MODELPLANE_OIDC_DEFAULT_ROLE": "viewer"}).default_role is TokenRole.VIEWER  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"MODELPLANE_OIDC_ISSUER": "http://login.example.com"}, "not an https"),
        ({"MODELPLANE_OIDC_CLIENT_SECRET": ""}, "client secret"),
        ({"MODELPLANE_OIDC_ROLES": "ml-team:editor"}, "GROUP=ROLE"),
        ({"MODELPLANE_OIDC_ROLES": "ml-team=root"}, "GROUP=ROLE"),
        ({"MODELPLANE_OIDC_DEFAULT_ROLE": "admin"}, "everyone"),
        ({"MODELPLANE_OIDC_DEFAULT_ROLE": "guest"}, "not a role"),
        ({"MODELPLANE_OIDC_SCOPES": "email"}, "openid"),
    ],
)
def test_bad_settings_are_refused_naming_the_variable(extra: dict[str, str], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        from_environment({**BASE, **extra})


def test_plain_http_is_accepted_only_for_a_provider_on_loopback() -> None:
    assert from_environment({**BASE, "MODELPLANE_OIDC_ISSUER": "http://127.0.0.1:9400"}) is not None


def test_parse_roles_reads_an_empty_list_as_no_mapping() -> None:
    assert parse_roles("") == {} and parse_roles(" , ") == {}


def test_server_start_refuses_bad_settings_before_anything_starts(tmp_path: Path) -> None:
    env = {
        "MODELPLANE_OIDC_ISSUER": "https://login.example.com",
        "MODELPLANE_OIDC_CLIENT_ID": "",
        "MODELPLANE_OIDC_CLIENT_SECRET": "",
        "MODELPLANE_HOME": str(tmp_path),
    }
    started = CliRunner().invoke(
        main, ["server", "start", "--store-url", f"sqlite:///{tmp_path / 'store.db'}"], env=env
    )

    assert started.exit_code == 1 and "client id and a client secret" in started.output
    assert not (tmp_path / "store.db").exists()  # no store made, no first token printed
