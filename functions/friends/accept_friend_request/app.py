"""POST /v1/friends/requests/{nickname}/accept: accept the pending request from that user."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger.bootstrap import friends_service
from messenger.friends.models import FriendshipStatus
from messenger.platform.observability import logger
from messenger.web.api_docs import problem_responses
from messenger.web.http import caller_id, create_resolver, respond

app = create_resolver()
friends = friends_service()


@app.post(
    "/v1/friends/requests/<nickname>/accept",
    summary="Accept a friend request",
    tags=["friends"],
    responses=problem_responses("request_not_found", ok={200: "Accepted"}, path=True),
)
def accept_friend_request(nickname: str) -> Response[FriendshipStatus]:
    decision = friends.answer(
        caller_id(app), nickname, accept=True, correlation_id=logger.get_correlation_id()
    )
    return respond(FriendshipStatus(status=decision.answer))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
