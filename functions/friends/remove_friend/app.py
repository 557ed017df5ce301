"""DELETE /v1/friends/{nickname}: end the friendship, or cancel my pending request to that user."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger.bootstrap import friends_service
from messenger.platform.observability import logger
from messenger.web.api_docs import Refusal, problem_responses
from messenger.web.http import caller_id, create_resolver, no_content

app = create_resolver()
friends = friends_service()


@app.delete(
    "/v1/friends/<nickname>",
    summary="Remove a friend or cancel a request",
    tags=["friends"],
    responses=problem_responses(Refusal(404, "not_friends"), no_content="Removed", path=True),
)
def remove_friend(nickname: str) -> Response[str]:
    friends.remove(caller_id(app), nickname, correlation_id=logger.get_correlation_id())
    return no_content()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
