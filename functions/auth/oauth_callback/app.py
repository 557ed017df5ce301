"""POST /v1/auth/oauth/{provider}/callback: redeem the provider's code for a session token."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from messenger.auth.models import LoginResponse, OAuthCallbackRequest
from messenger.bootstrap import oauth_callback_service
from messenger.platform.observability import logger
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, request_context, respond

app = create_resolver()
oauth = oauth_callback_service()


@app.post(
    "/v1/auth/oauth/<provider>/callback",
    summary="Finish signing in with an OpenID Connect provider",
    description=(
        "Redeems the code, verifies the ID token and answers the login response. 400"
        " invalid_state (unknown, expired or used); 401 oauth_failed (the provider refused or the"
        " ID token failed a check); 404 provider_not_found; 409 email_unverified (an account with"
        " this email exists and the provider does not say the email is verified)."
    ),
    tags=["auth"],
    responses=problem_responses(
        "invalid_state",
        "oauth_failed",
        "provider_not_found",
        "email_unverified",
        ok={200: "Signed in"},
        body=True,
        path=True,
    ),
)
def oauth_callback(provider: str, body: OAuthCallbackRequest) -> Response[LoginResponse]:
    user_agent = app.current_event.request_context.http.user_agent
    session = oauth.callback(request_context(app), provider, body.code, body.state, user_agent)
    logger.info(
        "Signed in with OAuth", extra={"provider": provider, "user_id": str(session.user_id)}
    )
    return respond(session)


lambda_handler = entrypoint(app)
