"""DELETE /v1/chats/{chat_id}/members/{user_id}: leave, or remove a member (an admin removes
members, the owner anyone)."""

from __future__ import annotations

import uuid

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import group_service
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, no_content, request_context

app = create_resolver()
chats = group_service()


@app.delete(
    "/v1/chats/<chat_id>/members/<user_id>",
    summary="Remove a member, or leave",
    tags=["groups"],
    responses=problem_responses(
        "chat_not_found",
        "not_participant",
        "not_admin",
        "direct_chat",
        "not_member",
        "validation_failed",
        no_content="Removed (or left)",
        path=True,
    ),
)
def remove_chat_member(chat_id: uuid.UUID, user_id: uuid.UUID) -> Response[str]:
    chats.remove_member(request_context(app), chat_id, user_id)
    return no_content()


lambda_handler = entrypoint(app)
