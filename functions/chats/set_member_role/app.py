"""PATCH /v1/chats/{chat_id}/members/{user_id}: promote or demote (owner only)."""

from __future__ import annotations

import uuid

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import group_service
from messenger.chats.models import ChatDetails, RoleRequest
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, request_context, respond

app = create_resolver()
chats = group_service()


@app.patch(
    "/v1/chats/<chat_id>/members/<user_id>",
    summary="Make a member an admin, or an admin a member",
    tags=["groups"],
    responses=problem_responses(
        "chat_not_found",
        "not_participant",
        "not_admin",
        "direct_chat",
        "not_member",
        ok={200: "The group with its members"},
        body=True,
        path=True,
    ),
)
def set_member_role(
    chat_id: uuid.UUID, user_id: uuid.UUID, body: RoleRequest
) -> Response[ChatDetails]:
    return respond(chats.set_role(request_context(app), chat_id, user_id, body.role))


lambda_handler = entrypoint(app)
