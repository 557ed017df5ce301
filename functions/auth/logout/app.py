"""POST /v1/auth/logout: revoke the calling token (refused from the next request on) and close
the WebSocket connections opened with it."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger.bootstrap import logout_service
from messenger.kernel.errors import Unauthenticated
from messenger.platform.observability import logger
from messenger.web.api_docs import problem_responses
from messenger.web.bearer import bearer_token
from messenger.web.http import create_resolver, no_content

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


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
