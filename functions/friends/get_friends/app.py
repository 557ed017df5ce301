"""GET /v1/friends: friends, incoming and outgoing requests, with each user's current profile."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger.api_docs import problem_responses
from messenger.friends.models import FriendsOverview
from messenger.friends.wiring import friends_reader
from messenger.http import caller_id, create_resolver, respond
from messenger.observability import logger

app = create_resolver()
friends = friends_reader()


@app.get(
    "/v1/friends",
    summary="List friends and friend requests",
    tags=["friends"],
    responses=problem_responses(ok={200: "Friends and pending requests"}),
)
def get_friends() -> Response[FriendsOverview]:
    return respond(friends.overview(caller_id(app)))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
