"""POST /v1/chats/{chat_id}/members: add friends to a group (owner or admin; at most 100
members)."""

from __future__ import annotations

import uuid

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import group_service
from messenger.chats.models import AddMembersRequest, ChatDetails
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, request_context, respond

app = create_resolver()
chats = group_service()


@app.post(
    "/v1/chats/<chat_id>/members",
    summary="Add members to a group",
    tags=["groups"],
    responses=problem_responses(
        "chat_not_found",
        "not_participant",
        "not_admin",
        "direct_chat",
        "not_friends",
        "chat_full",
        ok={200: "The group with its members (existing members ignored)"},
        body=True,
        path=True,
    ),
)
def add_chat_members(chat_id: uuid.UUID, body: AddMembersRequest) -> Response[ChatDetails]:
    return respond(chats.add_members(request_context(app), chat_id, body.user_ids))


lambda_handler = entrypoint(app)
