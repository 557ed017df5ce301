"""GET /v1/users/search?q=<prefix>: profiles whose nickname starts with q, case-insensitively."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from messenger.bootstrap import users_service
from messenger.kernel.fields import TEXT_RULE, Text
from messenger.kernel.pagination import Page
from messenger.users.models import Profile
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, respond

app = create_resolver()
users = users_service()


@app.get(
    "/v1/users/search",
    summary="Search users by nickname prefix",
    tags=["users"],
    responses=problem_responses("validation_failed", ok={200: "Matching profiles"}),
)
def search_users(
    q: Annotated[Text, Query(min_length=1, max_length=32, description=TEXT_RULE)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response[Page[Profile]]:
    return respond(users.search(q, limit, cursor))


lambda_handler = entrypoint(app)
