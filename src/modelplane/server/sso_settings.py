"""Single sign-on settings: which OpenID Connect provider the server trusts, and how its claims
become modelplane users and roles. Read from ``MODELPLANE_OIDC_*`` when the server starts
(``from_environment``), never at import; nothing here talks to the provider (``oidc.py`` does).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from modelplane.enums import TokenRole
from modelplane.errors import ConfigError

__all__ = [
    "CLI_SESSION_SECONDS",
    "ENV_PREFIX",
    "SsoSettings",
    "from_environment",
    "parse_project_roles",
    "parse_roles",
]

ENV_PREFIX = "MODELPLANE_OIDC_"
# How long a token made by `modelplane login --sso` lasts (the dashboard's sessions last 12 h).
CLI_SESSION_SECONDS = 7 * 24 * 3600
_GROUP = re.compile(r"^[^=,\s][^=,]*$")
_PROJECT = re.compile(r"[a-z][a-z0-9-]{0,39}")  # a project name (config.check_project_name)


@dataclass(frozen=True)
class SsoSettings:
    """``issuer``: the provider's issuer URL (its discovery document is
    ``<issuer>/.well-known/openid-configuration``); ``client_id`` and ``client_secret``: this
    server's registration there (a confidential client).

    ``name_claim`` names the user (``email`` by default; an ``email`` with ``email_verified:
    false`` is refused). ``roles`` maps values of ``role_claim`` (a list of groups, or one string;
    a dotted name reaches into nested claims such as ``realm_access.roles``) to roles: the highest
    one granted wins. A user the claim grants nothing keeps the role an admin gave them, else gets
    ``default_role``, else cannot sign in. ``redirect_uri`` pins the dashboard's callback URL
    (default: this server's own address as the request shows it)."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str = "openid email profile"
    name_claim: str = "email"
    role_claim: str = "groups"
    roles: Mapping[str, TokenRole] = field(default_factory=dict)
    # group → {project: role}: roles in projects other than default (``GROUP=PROJECT:ROLE``).
    project_roles: Mapping[str, Mapping[str, TokenRole]] = field(default_factory=dict)
    default_role: TokenRole | None = None
    redirect_uri: str | None = None

    def __post_init__(self) -> None:
        parts = urlsplit(self.issuer)
        loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
            raise ConfigError(
                f"{ENV_PREFIX}ISSUER={self.issuer!r} is not an https:// URL.",
                hint="Use the provider's issuer URL (plain http only for a provider on loopback).",
            )
        if not self.client_id or not self.client_secret:
            raise ConfigError(
                "Single sign-on needs a client id and a client secret.",
                hint=f"Set {ENV_PREFIX}CLIENT_ID and {ENV_PREFIX}CLIENT_SECRET to this server's "
                "registration at the provider.",
            )
        if "openid" not in self.scope.split():
            raise ConfigError(
                f"{ENV_PREFIX}SCOPES={self.scope!r} lacks 'openid'.",
                hint="Keep 'openid' and add what the name and role claims need.",
            )
        if self.default_role is TokenRole.ADMIN:
            raise ConfigError(
                f"{ENV_PREFIX}DEFAULT_ROLE=admin would make everyone the provider knows an admin.",
                hint="Use none, viewer or editor; map an admin group in MODELPLANE_OIDC_ROLES.",
            )

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


def _items(text: str) -> list[tuple[str, str, str]]:
    """``GROUP=ROLE`` and ``GROUP=PROJECT:ROLE`` items as (group, project or "", role)."""
    found = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        group, _, granted = item.rpartition("=")
        project, _, role = granted.strip().rpartition(":")
        group, project, role = group.strip(), project.strip(), role.strip().lower()
        if (
            not _GROUP.match(group)
            or role not in {r.value for r in TokenRole}
            or (project and not _PROJECT.fullmatch(project))
        ):
            raise ConfigError(
                f"{ENV_PREFIX}ROLES has {item!r}, which is not GROUP=ROLE or GROUP=PROJECT:ROLE.",
                hint="Write e.g. 'ml-admins=admin,ml-team=editor,vision-team=vision:editor' "
                "(a role alone is the role in the project default, which is the server role).",
            )
        found.append((group, project, role))
    return found


def parse_roles(text: str) -> dict[str, TokenRole]:
    """``'ml-admins=admin,ml-team=editor'`` → ``{"ml-admins": ADMIN, "ml-team": EDITOR}``: the
    roles in default (the server roles); ``GROUP=PROJECT:ROLE`` items are ``parse_project_roles``'."""
    return {group: TokenRole(role) for group, project, role in _items(text) if not project}


def parse_project_roles(text: str) -> dict[str, dict[str, TokenRole]]:
    """``'vision-team=vision:editor'`` → ``{"vision-team": {"vision": EDITOR}}``."""
    found: dict[str, dict[str, TokenRole]] = {}
    for group, project, role in _items(text):
        if project:
            found.setdefault(group, {})[project] = TokenRole(role)
    return found


def _default_role(text: str) -> TokenRole | None:
    if text.strip().lower() in ("", "none"):
        return None
    try:
        return TokenRole(text.strip().lower())
    except ValueError:
        raise ConfigError(
            f"{ENV_PREFIX}DEFAULT_ROLE={text!r} is not a role.",
            hint="Use none (the default: an admin or the role claim must grant one), viewer or "
            "editor.",
        ) from None


def from_environment(environ: Mapping[str, str] | None = None) -> SsoSettings | None:
    """The settings ``MODELPLANE_OIDC_*`` give, or ``None`` when no issuer is set (no SSO)."""
    env = os.environ if environ is None else environ

    def get(name: str, default: str = "") -> str:
        return env.get(ENV_PREFIX + name, default).strip()

    issuer = get("ISSUER")
    if not issuer:
        return None
    return SsoSettings(
        issuer=issuer,
        client_id=get("CLIENT_ID"),
        client_secret=get("CLIENT_SECRET"),
        scope=get("SCOPES", "openid email profile"),
        name_claim=get("NAME_CLAIM", "email"),
        role_claim=get("ROLE_CLAIM", "groups"),
        roles=parse_roles(get("ROLES")),
        project_roles=parse_project_roles(get("ROLES")),
        default_role=_default_role(get("DEFAULT_ROLE")),
        redirect_uri=get("REDIRECT_URI") or None,
    )
