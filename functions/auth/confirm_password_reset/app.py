"""POST /v1/auth/password/reset/confirm: set a new password with the reset mail's token (open
route); every session of the account ends."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from messenger.auth.models import ResetConfirmRequest
from messenger.bootstrap import reset_confirm_service
from messenger.web.api_docs import Refusal, problem_responses
from messenger.web.http import create_resolver, entrypoint, no_content

app = create_resolver()
mails = reset_confirm_service()


@app.post(
    "/v1/auth/password/reset/confirm",
    summary="Set a new password with a reset token",
    description=(
        "Every session of the account is revoked and the login throttle of its email cleared;"
        " an account that signed in only with a provider gets a password this way. 400"
        " invalid_token when the token is unknown, expired or used; 422 for a password outside"
        " 8..128."
    ),
    tags=["auth"],
    responses=problem_responses(
        Refusal(400, "invalid_token"), no_content="Password set", body=True
    ),
)
def confirm_password_reset(body: ResetConfirmRequest) -> Response[str]:
    client_ip = app.current_event.request_context.http.source_ip
    mails.confirm_reset(body.token, body.new_password, client_ip)
    return no_content()


lambda_handler = entrypoint(app)
