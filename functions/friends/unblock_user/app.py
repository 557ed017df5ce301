"""DELETE /v1/blocks/{user_id}: unblock a user (idempotent); the friendship does not come back."""

from __future__ import annotations

import uuid

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import friends_service
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, no_content, request_context

app = create_resolver()
friends = friends_service()


@app.delete(
    "/v1/blocks/<user_id>",
    summary="Unblock a user",
    tags=["blocks"],
    responses=problem_responses(
        "validation_failed", no_content="Unblocked (or was not blocked)", path=True
    ),
)
def unblock_user(user_id: uuid.UUID) -> Response[str]:
    friends.unblock(request_context(app), user_id)
    return no_content()


lambda_handler = entrypoint(app)
