"""The OpenID Connect provider, over HTTP: discovery, authorization URL, code redemption.

authlib builds the protocol messages (authorization request with PKCE S256, token request,
client authentication); the ID token is verified by an `IdTokenVerifier` (id_token.py: joserfc
and authlib's OpenID claim checks), which only the callback function loads. Requests go through
urllib, so no HTTP client library adds to the cold start. Discovery documents and key sets are
cached in the execution environment; the key set is fetched again when a token names a key the
cached set lacks (the provider rotated its keys).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any, Protocol

from authlib.common.security import is_secure_transport
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from messenger.auth.oauth import OAuthFailed, VerifiedIdentity
from messenger.kernel.errors import Unavailable
from messenger.platform.settings import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from messenger.auth.oauth import Provider

MAX_RESPONSE_BYTES = 1024 * 1024
DISCOVERY_PATH = "/.well-known/openid-configuration"


class ClientSecrets(Protocol):
    def client_secret(self, provider: str) -> str | None: ...


class IdTokenVerifier(Protocol):
    def verify(
        self,
        id_token: str,
        *,
        issuer: str,
        client_id: str,
        nonce: str,
        access_token: str | None,
        algorithms: Sequence[str] | None,
        key_set: Callable[[bool], dict[str, Any]],
    ) -> dict[str, Any]:
        """The ID token's claims once signature, issuer, audience, expiry and nonce hold;
        raise OAuthFailed otherwise. `key_set(True)` fetches the provider's keys again."""


class ProviderUnreachable(Unavailable):
    def __init__(self) -> None:
        super().__init__(
            "The sign-in provider is unreachable; nothing was changed, start signing in again"
        )


def _require_secure(url: object, what: str) -> str:
    # https only; http is accepted for loopback providers (local runs and tests), as RFC 8252 does.
    if not isinstance(url, str) or not is_secure_transport(url):
        raise ConfigurationError(f"{what} must be an https URL: {url!r}")
    return url


def _read(response: Any) -> Any:
    try:
        return json.loads(response.read(MAX_RESPONSE_BYTES))
    except ValueError:
        return None


def _http(
    url: str, timeout: float, data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """(status, parsed JSON or None). Unreachable or timing out: ProviderUnreachable (503)."""
    request = urllib.request.Request(  # noqa: S310 - every URL passed _require_secure
        url,
        data=data,
        headers={"Accept": "application/json", **(headers or {})},
        method="POST" if data is not None else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, _read(response)
    except urllib.error.HTTPError as refused:
        with refused:
            return refused.code, _read(refused)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise ProviderUnreachable() from exc


class _Cache:
    """Values per key for `ttl` seconds, in the execution environment."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, Any]] = {}

    def get(self, key: str, load: Callable[[], Any], force: bool = False) -> Any:
        entry = self._entries.get(key)
        if entry is None or force or time.monotonic() - entry[0] > self.ttl:
            entry = (time.monotonic(), load())
            self._entries[key] = entry
        return entry[1]


class OpenIDConnect:
    def __init__(
        self,
        secrets: ClientSecrets,
        verifier: IdTokenVerifier | None = None,
        *,
        timeout_seconds: float = 5.0,
        metadata_ttl_seconds: float = 3600,
    ) -> None:
        self.secrets = secrets
        self.verifier = verifier
        self.timeout = timeout_seconds
        self._metadata = _Cache(metadata_ttl_seconds)
        self._keys = _Cache(metadata_ttl_seconds)

    # -- metadata ------------------------------------------------------------------------------
    def metadata(self, provider: Provider) -> dict[str, Any]:
        issuer = _require_secure(provider.issuer, f"the issuer of {provider.name}")
        return dict(self._metadata.get(issuer, lambda: self._discover(provider)))

    def _discover(self, provider: Provider) -> dict[str, Any]:
        status, document = _http(provider.issuer.rstrip("/") + DISCOVERY_PATH, self.timeout)
        if status != 200 or not isinstance(document, dict):
            raise ProviderUnreachable()
        # OpenID Connect Discovery 1.0, section 4.3: the issuer must be exactly the configured one.
        if document.get("issuer") != provider.issuer:
            raise ConfigurationError(
                f"{provider.name}: discovery names issuer {document.get('issuer')!r},"
                f" configured {provider.issuer!r}"
            )
        for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            _require_secure(document.get(endpoint), f"{provider.name}'s {endpoint}")
        return document

    def _key_set(self, jwks_uri: str, force: bool) -> dict[str, Any]:
        def load() -> dict[str, Any]:
            status, keys = _http(jwks_uri, self.timeout)
            if status != 200 or not isinstance(keys, dict):
                raise ProviderUnreachable()
            return keys

        keys: dict[str, Any] = self._keys.get(jwks_uri, load, force=force)
        return keys

    # -- the flow ------------------------------------------------------------------------------
    def authorization_url(
        self, provider: Provider, *, redirect_uri: str, state: str, nonce: str, code_verifier: str
    ) -> str:
        metadata = self.metadata(provider)
        url: str = prepare_grant_uri(
            metadata["authorization_endpoint"],
            provider.client_id,
            "code",
            redirect_uri=redirect_uri,
            scope=list(provider.scopes),
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(code_verifier),
            code_challenge_method="S256",
        )
        return url

    def sign_in(
        self, provider: Provider, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> VerifiedIdentity:
        if self.verifier is None:
            raise ConfigurationError("this function was wired without an ID token verifier")
        metadata = self.metadata(provider)
        tokens = self._redeem(provider, metadata, code, redirect_uri, code_verifier)
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise OAuthFailed("The provider answered without an ID token (scope `openid`)")
        access_token = tokens.get("access_token")
        algorithms = [
            alg
            for alg in metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
            if alg != "none"
        ]
        claims = self.verifier.verify(
            id_token,
            issuer=provider.issuer,
            client_id=provider.client_id,
            nonce=nonce,
            access_token=access_token if isinstance(access_token, str) else None,
            algorithms=algorithms,
            key_set=lambda force: self._key_set(metadata["jwks_uri"], force),
        )
        email = claims.get("email")
        return VerifiedIdentity(
            subject=str(claims["sub"]),
            email=email if isinstance(email, str) else None,
            # Some providers send the boolean as a string.
            email_verified=claims.get("email_verified") in (True, "true"),
            claims=claims,
        )

    def _redeem(
        self,
        provider: Provider,
        metadata: dict[str, Any],
        code: str,
        redirect_uri: str,
        code_verifier: str,
    ) -> dict[str, Any]:
        secret = self.secrets.client_secret(provider.name)
        supported = metadata.get("token_endpoint_auth_methods_supported") or [
            "client_secret_basic"  # the default of OpenID Connect Discovery
        ]
        if secret is None:
            method = "none"
        elif "client_secret_basic" in supported or "client_secret_post" not in supported:
            method = "client_secret_basic"
        else:
            method = "client_secret_post"
        body = prepare_token_request(
            "authorization_code", code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        uri, headers, body = ClientAuth(provider.client_id, secret, method).prepare(
            "POST", metadata["token_endpoint"], headers, body
        )
        status, answer = _http(uri, self.timeout, data=body.encode(), headers=headers)
        if status >= 500:
            raise ProviderUnreachable()
        if status != 200 or not isinstance(answer, dict):
            error = answer.get("error") if isinstance(answer, dict) else None
            raise OAuthFailed(f"The provider refused the sign-in ({error or f'HTTP {status}'})")
        return answer
