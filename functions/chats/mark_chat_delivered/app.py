"""POST /v1/chats/{chat_id}/delivered: my device got everything up to message_id."""

from __future__ import annotations

import uuid

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import chats_service
from messenger.chats.models import MarkDeliveredRequest
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, no_content, request_context

app = create_resolver()
chats = chats_service()


@app.post(
    "/v1/chats/<chat_id>/delivered",
    summary="Mark a chat delivered",
    tags=["chats"],
    responses=problem_responses(
        "chat_not_found",
        "not_participant",
        "message_not_found",
        no_content="Marked delivered (markers only move forward)",
        body=True,
        path=True,
    ),
)
def mark_chat_delivered(chat_id: uuid.UUID, body: MarkDeliveredRequest) -> Response[str]:
    chats.mark_delivered(request_context(app), chat_id, body.message_id)
    return no_content()


lambda_handler = entrypoint(app)
