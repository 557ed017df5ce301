"""PUT /v1/chats/{chat_id}/mute: no device notifications for this chat until then (or unmuted)."""

from __future__ import annotations

import uuid

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import mute_service
from messenger.chats.models import MuteRequest
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, no_content, request_context

app = create_resolver()
chats = mute_service()


@app.put(
    "/v1/chats/<chat_id>/mute",
    summary="Mute a chat",
    tags=["chats"],
    responses=problem_responses(
        "chat_not_found",
        "not_participant",
        no_content="Muted (unread counts and WebSocket frames go on)",
        body=True,
        path=True,
    ),
)
def mute_chat(chat_id: uuid.UUID, body: MuteRequest) -> Response[str]:
    chats.mute(request_context(app), chat_id, body.until)
    return no_content()


lambda_handler = entrypoint(app)
