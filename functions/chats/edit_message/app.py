"""PATCH /v1/chats/{chat_id}/messages/{message_id}: the author replaces a message's content."""

from __future__ import annotations

import uuid
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger.chats.models import EditMessageRequest, Message
from messenger.chats.wiring import chats_service
from messenger.platform.observability import logger
from messenger.web.api_docs import problem_responses
from messenger.web.http import caller_id, create_resolver, respond

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
    message = chats.edit(
        caller_id(app), chat_id, message_id, body.content, logger.get_correlation_id()
    )
    return respond(message)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
