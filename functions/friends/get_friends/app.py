"""GET /v1/friends: a page of friends by nickname, and (first page) incoming/outgoing requests."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger.bootstrap import friends_reader
from messenger.friends.models import DEFAULT_PAGE, MAX_PAGE, FriendsOverview
from messenger.platform.observability import logger
from messenger.web.api_docs import problem_responses
from messenger.web.http import caller_id, create_resolver, respond

app = create_resolver()
friends = friends_reader()


@app.get(
    "/v1/friends",
    summary="List friends and friend requests",
    tags=["friends"],
    responses=problem_responses(
        "validation_failed", ok={200: "A page of friends and (first page) pending requests"}
    ),
)
def get_friends(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response[FriendsOverview]:
    return respond(friends.overview(caller_id(app), limit, cursor))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
