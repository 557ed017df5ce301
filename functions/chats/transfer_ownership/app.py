"""POST /v1/chats/{chat_id}/owner: the owner hands ownership to a member and stays an admin."""

from __future__ import annotations

import uuid

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import group_service
from messenger.chats.models import ChatDetails, OwnerRequest
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, request_context, respond

app = create_resolver()
chats = group_service()


@app.post(
    "/v1/chats/<chat_id>/owner",
    summary="Hand ownership on",
    tags=["groups"],
    responses=problem_responses(
        "chat_not_found",
        "not_participant",
        "not_admin",
        "direct_chat",
        "not_member",
        ok={200: "The group with its members (the former owner is an admin)"},
        body=True,
        path=True,
    ),
)
def transfer_ownership(chat_id: uuid.UUID, body: OwnerRequest) -> Response[ChatDetails]:
    return respond(chats.hand_over(request_context(app), chat_id, body.user_id))


lambda_handler = entrypoint(app)
