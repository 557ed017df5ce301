"""PATCH /v1/chats/{chat_id}: a group's new title (owner or admin)."""

from __future__ import annotations

import uuid

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import group_service
from messenger.chats.models import ChatDetails, RenameRequest
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, request_context, respond

app = create_resolver()
chats = group_service()


@app.patch(
    "/v1/chats/<chat_id>",
    summary="Rename a group",
    tags=["groups"],
    responses=problem_responses(
        "chat_not_found",
        "not_participant",
        "not_admin",
        "direct_chat",
        ok={200: "The group, renamed"},
        body=True,
        path=True,
    ),
)
def rename_chat(chat_id: uuid.UUID, body: RenameRequest) -> Response[ChatDetails]:
    return respond(chats.rename(request_context(app), chat_id, body.title))


lambda_handler = entrypoint(app)
