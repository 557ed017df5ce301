"""GET /v1/auth/oauth/{provider}/start: the provider's authorization URL (code flow with PKCE)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from messenger.auth.models import OAuthStartResponse
from messenger.bootstrap import oauth_start_service
from messenger.kernel.fields import TEXT_RULE, Text
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, respond

app = create_resolver()
oauth = oauth_start_service()


@app.get(
    "/v1/auth/oauth/<provider>/start",
    summary="Start signing in with an OpenID Connect provider",
    description=(
        "Authorization code flow with PKCE: answers the provider's authorization URL; state and"
        " nonce are kept for 10 minutes. 404 provider_not_found; 422 validation_failed when the"
        " redirect_uri is not configured for the provider."
    ),
    tags=["auth"],
    responses=problem_responses(
        "provider_not_found",
        "validation_failed",
        ok={200: "The provider's authorization URL"},
        path=True,
    ),
)
def oauth_start(
    provider: str,
    redirect_uri: Annotated[Text, Query(min_length=1, max_length=2048, description=TEXT_RULE)],
) -> Response[OAuthStartResponse]:
    return respond(oauth.start(provider, redirect_uri))


lambda_handler = entrypoint(app)
