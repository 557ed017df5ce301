"""POST /v1/auth/refresh: a new access and refresh token for a live refresh token (rotation)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from messenger.auth.models import LoginResponse, RefreshRequest
from messenger.bootstrap import refresh_service
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, respond

app = create_resolver()
sessions = refresh_service()


@app.post(
    "/v1/auth/refresh",
    summary="Refresh the access token",
    description=(
        "Answers a new login response: a new access token and a new refresh token; the one"
        " presented stops working. 401 invalid_token when it is unknown, expired or revoked, and"
        " when it was already used: that also revokes its whole session (reuse detection)."
    ),
    tags=["auth"],
    responses=problem_responses("invalid_token", ok={200: "New tokens"}, body=True),
)
def refresh(body: RefreshRequest) -> Response[LoginResponse]:
    return respond(LoginResponse.of(sessions.refresh(body.refresh_token)))


lambda_handler = entrypoint(app)
