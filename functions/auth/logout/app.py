"""POST /v1/auth/logout: revoke the calling token (refused from the next request on) and close
the WebSocket connections opened with it."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import logout_service
from messenger.kernel.errors import Unauthenticated
from messenger.web.api_docs import problem_responses
from messenger.web.bearer import bearer_token
from messenger.web.http import create_resolver, entrypoint, no_content

app = create_resolver()
sessions = logout_service()


@app.post(
    "/v1/auth/logout",
    summary="Log out",
    tags=["auth"],
    responses=problem_responses("unauthorized", no_content="Logged out"),
)
def logout() -> Response[str]:
    token = bearer_token(app.current_event.headers)
    if token is None:
        raise Unauthenticated("unauthorized", "A bearer token is required")
    sessions.logout(token)
    return no_content()


lambda_handler = entrypoint(app)
