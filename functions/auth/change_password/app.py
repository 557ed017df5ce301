"""POST /v1/auth/password: change the password (the current one required); other sessions end."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from messenger.auth.models import ChangePasswordRequest
from messenger.bootstrap import password_service
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, no_content, request_context

app = create_resolver()
passwords = password_service()


@app.post(
    "/v1/auth/password",
    summary="Change my password",
    description=(
        "Every other session of the account is revoked; the calling one stays. 401"
        " invalid_credentials for a wrong current password (it counts toward the login"
        " throttle: 429 once over); 409 no_password for an account that signs in only with a"
        " provider (a password reset sets one); 422 for a new password outside 8..128."
    ),
    tags=["auth"],
    responses=problem_responses(
        "invalid_credentials",
        "no_password",
        "rate_limited",
        no_content="Password changed",
        body=True,
    ),
)
def change_password(body: ChangePasswordRequest) -> Response[str]:
    client_ip = app.current_event.request_context.http.source_ip
    passwords.change_password(request_context(app), body, client_ip)
    return no_content()


lambda_handler = entrypoint(app)
