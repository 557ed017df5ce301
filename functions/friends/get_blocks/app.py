"""GET /v1/blocks: whom the caller blocked, newest first."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from messenger.bootstrap import blocks_reader
from messenger.friends.models import BlockedUser
from messenger.kernel.pagination import MAX_CURSOR, Page
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, request_context, respond

app = create_resolver()
friends = blocks_reader()


@app.get(
    "/v1/blocks",
    summary="List blocked users",
    tags=["blocks"],
    responses=problem_responses("validation_failed", ok={200: "A page of blocked users"}),
)
def get_blocks(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR)] = None,
) -> Response[Page[BlockedUser]]:
    return respond(friends.blocks(request_context(app), limit, cursor))


lambda_handler = entrypoint(app)
