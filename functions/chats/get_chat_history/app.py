"""GET /v1/chats/{chat_id}/messages: newest first; next_cursor walks back with no gaps/repeats."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger.bootstrap import chats_reader
from messenger.chats.models import Message
from messenger.kernel.pagination import Page
from messenger.platform.observability import logger
from messenger.web.api_docs import problem_responses
from messenger.web.http import caller_id, create_resolver, respond

app = create_resolver()
chats = chats_reader()


@app.get(
    "/v1/chats/<chat_id>/messages",
    summary="Read a chat's history",
    tags=["chats"],
    responses=problem_responses(
        "chat_not_found",
        "not_participant",
        "validation_failed",
        ok={200: "Messages, newest first"},
        path=True,
    ),
)
def get_chat_history(
    chat_id: uuid.UUID,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response[Page[Message]]:
    return respond(chats.history(caller_id(app), chat_id, limit, cursor))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
