"""GET /v1/chats/{chat_id}: the chat, its members with their read and delivered markers."""

from __future__ import annotations

import uuid

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import chats_reader
from messenger.chats.models import ChatDetails
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, request_context, respond

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
    return respond(chats.chat(request_context(app), chat_id))


lambda_handler = entrypoint(app)
