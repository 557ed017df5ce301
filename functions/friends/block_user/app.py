"""PUT /v1/blocks/{user_id}: block a user (idempotent); ends the friendship both ways."""

from __future__ import annotations

import uuid

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import friends_service
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, no_content, request_context

app = create_resolver()
friends = friends_service()


@app.put(
    "/v1/blocks/<user_id>",
    summary="Block a user",
    tags=["blocks"],
    responses=problem_responses(
        "user_not_found",
        "cannot_block_self",
        "validation_failed",
        no_content="Blocked (or already)",
        path=True,
    ),
)
def block_user(user_id: uuid.UUID) -> Response[str]:
    friends.block(request_context(app), user_id)
    return no_content()


lambda_handler = entrypoint(app)
