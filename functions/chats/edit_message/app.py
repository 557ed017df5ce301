"""PATCH /v1/chats/{chat_id}/messages/{message_id}: the author replaces a message's content."""

from __future__ import annotations

import uuid

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import chats_service
from messenger.chats.models import EditMessageRequest, Message
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, request_context, respond

app = create_resolver()
chats = chats_service()


@app.patch(
    "/v1/chats/<chat_id>/messages/<message_id>",
    summary="Edit a message",
    tags=["chats"],
    responses=problem_responses(
        "chat_not_found",
        "not_participant",
        "message_not_found",
        "not_author",
        "message_not_editable",
        ok={200: "Edited: the message with edited_at"},
        body=True,
        path=True,
    ),
)
def edit_message(
    chat_id: uuid.UUID, message_id: uuid.UUID, body: EditMessageRequest
) -> Response[Message]:
    message = chats.edit(request_context(app), chat_id, message_id, body.content)
    return respond(message)


lambda_handler = entrypoint(app)
