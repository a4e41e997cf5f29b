"""The OpenID Connect relying party of the server: authorization code flow with PKCE (S256), the
code exchange, and the ID token check, with Authlib (and joserfc, Authlib's JOSE library).

``OidcClient.authorization`` starts a sign-in (state, nonce and a PKCE verifier, fresh each time);
``OidcClient.identity`` finishes it: trades the code at the provider's token endpoint (this server
authenticates as a confidential client, sending the verifier), then accepts the ID token only if
its signature verifies against the provider's published keys (JWKS, fetched again once when the
kept ones do not fit: the provider may have rotated them), its ``iss`` is the configured issuer, its ``aud`` is this client, it has
not expired (60 s of leeway for clocks) and its ``nonce`` is the one this sign-in sent. Only then
are its claims mapped to a user name and a role (``SsoSettings``).

Every failure is an ``AuthError`` saying what was wrong, never carrying a token or a code.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
)
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from modelplane.enums import TokenRole
from modelplane.errors import AuthError, ConfigError
from modelplane.server.sso_settings import SsoSettings

__all__ = ["Identity", "OidcClient", "SignInStart"]

logger = logging.getLogger("modelplane.server.sso")

LEEWAY_SECONDS = 60
_TIMEOUT = 10.0
# Signatures by the provider's published public keys only: never "none", never a shared secret.
_ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
_DISCOVERY_SECONDS = 3600.0


@dataclass(frozen=True)
class SignInStart:
    """Where to send the browser, and what the callback must see again (kept in a cookie)."""

    url: str
    state: str
    nonce: str
    verifier: str


@dataclass(frozen=True)
class Identity:
    """Who the provider vouched for: the user's name, their ``sub`` at ``issuer``, and the role
    the role claim grants (``None``: it grants none)."""

    name: str
    issuer: str
    subject: str
    role: TokenRole | None
    # The roles the claim grants in projects other than default, by project name.
    project_roles: dict[str, TokenRole] = field(default_factory=dict)


def _refuse(message: str, hint: str = "Sign in again; if it keeps failing, tell the server's admin.") -> AuthError:
    return AuthError(message, hint=hint)


def _claim(claims: dict[str, Any], path: str) -> Any:
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


class OidcClient:
    """One provider, as ``settings`` name it. Its discovery document and keys are fetched on
    first use and kept (the document for an hour)."""

    def __init__(self, settings: SsoSettings, *, timeout: float = _TIMEOUT) -> None:
        self.settings = settings
        self._timeout = timeout
        self._provider: dict[str, Any] | None = None
        self._loaded = 0.0
        self._keys: KeySet | None = None

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as http:
                response = await http.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            found = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise _refuse(
                f"The identity provider's {what} at {url} cannot be read ({type(exc).__name__}).",
                hint="Check that the provider is up and MODELPLANE_OIDC_ISSUER is right.",
            ) from None
        if not isinstance(found, dict):
            raise _refuse(f"The identity provider's {what} at {url} is not a JSON object.")
        return found

    async def provider(self) -> dict[str, Any]:
        """The provider's discovery document, checked to be the configured issuer's."""
        if self._provider is not None and time.monotonic() - self._loaded < _DISCOVERY_SECONDS:
            return self._provider
        found = await self._get_json(self.settings.discovery_url, "discovery document")
        issuer = found.get("issuer")
        if not isinstance(issuer, str) or issuer.rstrip("/") != self.settings.issuer.rstrip("/"):
            raise ConfigError(
                f"The provider at {self.settings.discovery_url} says its issuer is {issuer!r}, "
                f"not {self.settings.issuer!r}.",
                hint="Set MODELPLANE_OIDC_ISSUER to the issuer the provider names.",
            )
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(found.get(key), str):
                raise ConfigError(
                    f"The provider's discovery document has no {key}.",
                    hint="Use an OpenID Connect provider that supports the authorization code flow.",
                )
        self._provider, self._loaded = found, time.monotonic()
        return found

    async def authorization(self, redirect_uri: str) -> SignInStart:
        """A new sign-in: the provider's authorization URL with a fresh state, nonce and PKCE
        challenge (S256) for ``redirect_uri``."""
        provider = await self.provider()
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        url = prepare_grant_uri(
            provider["authorization_endpoint"],
            self.settings.client_id,
            "code",
            redirect_uri=redirect_uri,
            scope=self.settings.scope,
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
        )
        return SignInStart(url=url, state=state, nonce=nonce, verifier=verifier)

    async def identity(self, *, code: str, verifier: str, redirect_uri: str, nonce: str) -> Identity:
        """Trade ``code`` for tokens and return who the checked ID token names."""
        provider = await self.provider()
        tokens = await self._exchange(provider["token_endpoint"], code, verifier, redirect_uri)
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise _refuse("The identity provider answered without an ID token.")
        claims = await self._verify(id_token, provider, nonce, tokens.get("access_token"))
        return Identity(
            name=self._name(claims),
            issuer=str(claims["iss"]),
            subject=str(claims["sub"]),
            role=self.role_for(claims),
            project_roles=self.project_roles_for(claims),
        )

    async def _exchange(self, endpoint: str, code: str, verifier: str, redirect_uri: str) -> dict[str, Any]:
        body = prepare_token_request(
            "authorization_code", code=code, redirect_uri=redirect_uri, code_verifier=verifier
        )
        # RFC 6749 §2.3.1: the id and secret are form-encoded before they go into Basic auth.
        auth = httpx.BasicAuth(quote(self.settings.client_id, safe=""), quote(self.settings.client_secret, safe=""))
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as http:
                response = await http.post(
                    endpoint,
                    content=body,
                    auth=auth,
                    headers={
                        "Content-Type": "application/x-www-form-urlencoded",
                        "Accept": "application/json",
                    },
                )
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise _refuse(f"The identity provider's token endpoint failed ({type(exc).__name__}).") from None
        if response.status_code != 200 or not isinstance(answer, dict):
            error = answer.get("error") if isinstance(answer, dict) else None
            raise _refuse(
                f"The identity provider refused the sign-in code (HTTP {response.status_code}"
                f"{', ' + str(error) if error else ''})."
            )
        return answer

    async def _key_set(self, provider: dict[str, Any], refresh: bool) -> KeySet:
        if self._keys is None or refresh:
            published = await self._get_json(provider["jwks_uri"], "key set (JWKS)")
            try:
                self._keys = KeySet.import_key_set(published)  # type: ignore[arg-type]
            except (JoseError, ValueError, KeyError, TypeError):
                raise _refuse("The identity provider's key set (JWKS) cannot be read.") from None
        return self._keys

    async def _verify(
        self, id_token: str, provider: dict[str, Any], nonce: str, access_token: object
    ) -> dict[str, Any]:
        offered = provider.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [alg for alg in offered if alg in _ASYMMETRIC]
        registry = JWSRegistry(algorithms=algorithms, strict_check_header=False)
        try:
            try:
                token = jwt.decode(id_token, await self._key_set(provider, False), registry=registry)
            except (InvalidKeyIdError, BadSignatureError):
                # The provider may have rotated its keys since they were fetched: fetch them
                # again, once (only a token the provider's token endpoint returned gets here).
                token = jwt.decode(id_token, await self._key_set(provider, True), registry=registry)
            params: dict[str, Any] = {"nonce": nonce, "client_id": self.settings.client_id}
            if isinstance(access_token, str):
                params["access_token"] = access_token  # checks at_hash when the token has one
            claims = CodeIDToken(
                token.claims,
                token.header,
                {
                    "iss": {"essential": True, "value": provider["issuer"]},
                    "aud": {"essential": True, "value": self.settings.client_id},
                    "nonce": {"essential": True, "value": nonce},
                },
                params,
            )
            claims.validate(leeway=LEEWAY_SECONDS)
        except BadSignatureError:
            raise _refuse(
                "The ID token's signature does not verify against the identity provider's keys."
            ) from None
        except ExpiredTokenError:
            raise _refuse("The ID token has expired.") from None
        except ClaimError as exc:
            raise _refuse(f"The ID token's {exc.claim!r} claim is missing or wrong.") from None
        except (JoseError, ValueError) as exc:
            raise _refuse(f"The ID token cannot be read ({type(exc).__name__}).") from None
        return dict(claims)

    def _name(self, claims: dict[str, Any]) -> str:
        claim = self.settings.name_claim
        name = _claim(claims, claim)
        if not isinstance(name, str) or not name.strip():
            raise _refuse(
                f"The ID token has no {claim!r} claim to name the user.",
                hint="The server's admin sets MODELPLANE_OIDC_NAME_CLAIM (and the scopes that "
                "bring it, MODELPLANE_OIDC_SCOPES).",
            )
        if claim == "email" and claims.get("email_verified") is False:
            raise _refuse(
                f"The identity provider has not verified the email {name!r}.",
                hint="Verify it with the provider, then sign in again.",
            )
        return name.strip()

    def _groups(self, claims: dict[str, Any]) -> list[str]:
        value = _claim(claims, self.settings.role_claim)
        groups = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        return [g for g in groups if isinstance(g, str)]

    def role_for(self, claims: dict[str, Any]) -> TokenRole | None:
        """The highest role that the role claim's groups map to, or ``None``."""
        if not self.settings.roles:
            return None
        granted = [self.settings.roles[g] for g in self._groups(claims) if g in self.settings.roles]
        return max(granted, key=lambda role: role.rank, default=None)

    def project_roles_for(self, claims: dict[str, Any]) -> dict[str, TokenRole]:
        """The highest role the claim's groups map to in each project (``GROUP=PROJECT:ROLE``)."""
        found: dict[str, TokenRole] = {}
        for group in self._groups(claims):
            for project, role in self.settings.project_roles.get(group, {}).items():
                if project not in found or role.rank > found[project].rank:
                    found[project] = role
        return found
