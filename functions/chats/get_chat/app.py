"""GET /v1/chats/{chat_id}: the chat, its members with their read and delivered markers."""

from __future__ import annotations

import uuid
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger.chats.models import ChatDetails
from messenger.chats.wiring import chats_reader
from messenger.platform.observability import logger
from messenger.web.api_docs import problem_responses
from messenger.web.http import caller_id, create_resolver, respond

app = create_resolver()
chats = chats_reader()


@app.get(
    "/v1/chats/<chat_id>",
    summary="Read one chat with its members",
    tags=["chats"],
    responses=problem_responses(
        "chat_not_found",
        "not_participant",
        "validation_failed",
        ok={200: "The chat, its members and my mute"},
        path=True,
    ),
)
def get_chat(chat_id: uuid.UUID) -> Response[ChatDetails]:
    return respond(chats.chat(caller_id(app), chat_id))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
