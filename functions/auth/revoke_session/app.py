"""DELETE /v1/auth/sessions/{session_id}: end one of the caller's sessions."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import logout_service
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, no_content, request_context

app = create_resolver()
sessions = logout_service()


@app.delete(
    "/v1/auth/sessions/<session_id>",
    summary="Revoke a session",
    description=(
        "Its tokens are refused from the next request on, its WebSocket connections closed (and"
        " its push devices removed). 404 session_not_found for an unknown id, another user's, or"
        " one already ended. The caller's own session may be revoked too (a logout)."
    ),
    tags=["auth"],
    responses=problem_responses("session_not_found", no_content="Revoked", path=True),
)
def revoke_session(session_id: str) -> Response[str]:
    sessions.revoke_session(request_context(app).caller, session_id)
    return no_content()


lambda_handler = entrypoint(app)
