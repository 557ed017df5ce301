"""DELETE /v1/chats/{chat_id}/messages/{message_id}?for=everyone|me: a tombstone for everyone
(the author), or hidden from the caller's own history (any participant)."""

from __future__ import annotations

import uuid
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from messenger.bootstrap import chats_service
from messenger.chats.models import DeleteScope
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, no_content, request_context

app = create_resolver()
chats = chats_service()


@app.delete(
    "/v1/chats/<chat_id>/messages/<message_id>",
    summary="Delete a message (for everyone, or for me)",
    tags=["chats"],
    responses=problem_responses(
        "chat_not_found",
        "not_participant",
        "message_not_found",
        "not_author",
        "validation_failed",
        no_content="Deleted",
        path=True,
    ),
)
def delete_message(
    chat_id: uuid.UUID,
    message_id: uuid.UUID,
    scope: Annotated[
        DeleteScope,
        Query(alias="for", description="everyone: a tombstone for all; me: hidden for me"),
    ],
) -> Response[str]:
    chats.delete(request_context(app), chat_id, message_id, scope)
    return no_content()


lambda_handler = entrypoint(app)
