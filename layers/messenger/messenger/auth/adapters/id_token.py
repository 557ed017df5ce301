"""ID token verification with maintained libraries, the way authlib's own OpenID client does it.

joserfc checks the signature against the provider's key set (only the algorithms the provider
announces, never `none`); authlib's `CodeIDToken` checks the claims: issuer, audience (and `azp`),
expiry and issue time with a small clock leeway, nonce, and `at_hash` against the access token.
Only the OAuth callback loads this module (the JOSE stack costs its cold start ~60 ms).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet, KeySetSerialization
from joserfc.jws import JWSRegistry

from messenger.auth.oauth import OAuthFailed

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


def _keys(document: dict[str, Any]) -> KeySet:
    return KeySet.import_key_set(cast("KeySetSerialization", document))


class JoseIdTokenVerifier:
    def __init__(self, leeway_seconds: int = 60) -> None:
        self.leeway = leeway_seconds

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
        registry = JWSRegistry(algorithms=list(algorithms or ["RS256"]), strict_check_header=False)
        try:
            try:
                token = jwt.decode(id_token, _keys(key_set(False)), registry=registry)
            except InvalidKeyIdError:  # a key we have not seen: the provider rotated its keys
                token = jwt.decode(id_token, _keys(key_set(True)), registry=registry)
            claims = CodeIDToken(
                token.claims,
                token.header,
                {
                    "iss": {"essential": True, "value": issuer},
                    "aud": {"essential": True, "value": client_id},
                    "nonce": {"essential": True, "value": nonce},
                },
                {"nonce": nonce, "client_id": client_id, "access_token": access_token},
            )
            claims.validate(leeway=self.leeway)
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise OAuthFailed(f"The ID token failed verification: {exc}") from exc
        return dict(claims)
