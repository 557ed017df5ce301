"""POST /v1/chats/{chat_id}/read: my unread count now counts only messages after message_id."""

from __future__ import annotations

import uuid

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import chats_service
from messenger.chats.models import MarkReadRequest
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, no_content, request_context

app = create_resolver()
chats = chats_service()


@app.post(
    "/v1/chats/<chat_id>/read",
    summary="Mark a chat read",
    tags=["chats"],
    responses=problem_responses(
        "chat_not_found",
        "not_participant",
        "message_not_found",
        no_content="Marked read",
        body=True,
        path=True,
    ),
)
def mark_chat_read(chat_id: uuid.UUID, body: MarkReadRequest) -> Response[str]:
    chats.mark_read(request_context(app), chat_id, body.message_id)
    return no_content()


lambda_handler = entrypoint(app)
