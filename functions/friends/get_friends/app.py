"""GET /v1/friends: a page of friends by nickname, and (first page) incoming/outgoing requests."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from messenger.bootstrap import friends_reader
from messenger.friends.models import DEFAULT_PAGE, MAX_PAGE, FriendsOverview
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, request_context, respond

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
    return respond(friends.overview(request_context(app), limit, cursor))


lambda_handler = entrypoint(app)
