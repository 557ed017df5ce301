"""DELETE /v1/auth/sessions?others=true: end every session of the caller but the calling one."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from messenger.bootstrap import logout_service
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, no_content, request_context

app = create_resolver()
sessions = logout_service()


@app.delete(
    "/v1/auth/sessions",
    summary="Revoke my other sessions",
    description=(
        "Every session of the caller except the one making the request ends (tokens refused,"
        " connections closed, devices removed). `others` must be `true` (422 otherwise): there"
        " is no way to end every session at once here (log out the last one)."
    ),
    tags=["auth"],
    responses=problem_responses("validation_failed", no_content="Revoked"),
)
def revoke_other_sessions(others: Annotated[Literal["true"], Query()]) -> Response[str]:
    ctx = request_context(app)
    sessions.revoke_other_sessions(ctx.caller, ctx.session_id)
    return no_content()


lambda_handler = entrypoint(app)
