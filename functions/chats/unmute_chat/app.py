"""DELETE /v1/chats/{chat_id}/mute: notifications for this chat again (idempotent)."""

from __future__ import annotations

import uuid

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import mute_service
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, no_content, request_context

app = create_resolver()
chats = mute_service()


@app.delete(
    "/v1/chats/<chat_id>/mute",
    summary="Unmute a chat",
    tags=["chats"],
    responses=problem_responses(
        "chat_not_found",
        "not_participant",
        "validation_failed",
        no_content="Unmuted (or was not muted)",
        path=True,
    ),
)
def unmute_chat(chat_id: uuid.UUID) -> Response[str]:
    chats.unmute(request_context(app), chat_id)
    return no_content()


lambda_handler = entrypoint(app)
