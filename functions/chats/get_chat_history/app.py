"""GET /v1/chats/{chat_id}/messages: newest first; next_cursor walks back with no gaps/repeats."""

from __future__ import annotations

import uuid
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from messenger.bootstrap import chats_reader
from messenger.chats.models import Message
from messenger.kernel.pagination import Page
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, request_context, respond

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
    return respond(chats.history(request_context(app), chat_id, limit, cursor))


lambda_handler = entrypoint(app)
