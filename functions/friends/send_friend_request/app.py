"""POST /v1/friends/requests: ask a user (by nickname) to be friends; a mutual request accepts."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger.bootstrap import friends_service
from messenger.friends.models import FriendRequestBody, FriendshipStatus
from messenger.platform.observability import MetricUnit, logger, metrics
from messenger.web.api_docs import problem_responses
from messenger.web.http import caller_id, create_resolver, respond

app = create_resolver()
friends = friends_service()


@app.post(
    "/v1/friends/requests",
    summary="Send a friend request",
    tags=["friends"],
    responses=problem_responses(
        "user_not_found",
        "rate_limited",
        "already_friends",
        "request_pending",
        "request_rejected",
        "cannot_befriend_self",
        ok={201: "Requested", 200: "They had asked you: now friends"},
        body=True,
    ),
)
def send_friend_request(body: FriendRequestBody) -> Response[FriendshipStatus]:
    decision = friends.request(
        caller_id(app), body.nickname, correlation_id=logger.get_correlation_id()
    )
    created = decision.answer == "requested"
    metrics.add_metric(name=f"Friendships{decision.answer.title()}", unit=MetricUnit.Count, value=1)
    return respond(
        FriendshipStatus(status=decision.answer),
        HTTPStatus.CREATED if created else HTTPStatus.OK,
    )


@metrics.log_metrics  # EMF to stdout; empty when the request added none
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
