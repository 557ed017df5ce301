"""GET /v1/auth/sessions: the caller's live sessions (one per login), newest first."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from messenger.auth.models import SessionPage
from messenger.bootstrap import session_listing
from messenger.kernel.pagination import MAX_CURSOR
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, request_context, respond

app = create_resolver()
sessions = session_listing()


@app.get(
    "/v1/auth/sessions",
    summary="List my sessions",
    description=(
        "Every live session of the caller (a login not logged out, revoked or expired), newest"
        " first; `current` marks the one making this request. `last_used_at` moves on each"
        " refresh of the session's access token, not on every request."
    ),
    tags=["auth"],
    responses=problem_responses("validation_failed", ok={200: "My sessions, newest first"}),
)
def list_sessions(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR)] = None,
) -> Response[SessionPage]:
    return respond(sessions.list_sessions(request_context(app), limit, cursor))


lambda_handler = entrypoint(app)
