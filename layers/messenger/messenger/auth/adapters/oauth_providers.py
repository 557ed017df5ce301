"""The configured OpenID Connect providers (OAUTH_PROVIDERS) and their client secrets.

In AWS a client secret is a Secrets Manager secret (its ARN in the configuration, the secret
string the client secret), fetched on first need through Powertools Parameters, which caches it;
boto3 is imported only on that path. Locally the configuration may carry the secret itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from messenger.auth.oauth import Provider

if TYPE_CHECKING:
    from collections.abc import Mapping

    from messenger.platform.settings import OAuthProviderSettings

SECRET_MAX_AGE_SECONDS = 300


class ConfiguredProviders:
    def __init__(self, configured: Mapping[str, OAuthProviderSettings]) -> None:
        self.configured = dict(configured)

    def get(self, name: str) -> Provider | None:
        spec = self.configured.get(name)
        if spec is None:
            return None
        return Provider(
            name=name,
            issuer=spec.issuer,
            client_id=spec.client_id,
            redirect_uris=spec.redirect_uris,
            scopes=spec.scopes,
        )

    def client_secret(self, provider: str) -> str | None:
        spec = self.configured[provider]
        if spec.client_secret:
            return spec.client_secret
        if not spec.client_secret_arn:
            return None  # a public client: PKCE alone
        from aws_lambda_powertools.utilities import parameters

        secret = parameters.get_secret(spec.client_secret_arn, max_age=SECRET_MAX_AGE_SECONDS)
        return str(secret)
