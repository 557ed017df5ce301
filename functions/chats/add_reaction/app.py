"""PUT /v1/chats/{chat_id}/messages/{message_id}/reactions/{emoji}: add my reaction (idempotent)."""

from __future__ import annotations

import uuid
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from messenger.bootstrap import chats_service
from messenger.chats.models import Emoji
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, no_content, request_context
from messenger.web.paths import with_encoded_path

app = create_resolver()
chats = chats_service()


@app.put(
    "/v1/chats/<chat_id>/messages/<message_id>/reactions/<emoji>",
    summary="React to a message",
    tags=["chats"],
    responses=problem_responses(
        "chat_not_found",
        "not_participant",
        "message_not_found",
        "message_not_editable",
        "too_many_reactions",
        "validation_failed",
        no_content="Added (or already there)",
        path=True,
    ),
)
def add_reaction(
    chat_id: uuid.UUID, message_id: uuid.UUID, emoji: Annotated[Emoji, Path()]
) -> Response[str]:
    chats.react(request_context(app), chat_id, message_id, emoji, True)
    return no_content()


# The emoji reaches the resolver percent-encoded, whether the gateway decoded the path or not.
lambda_handler = entrypoint(app, prepare=with_encoded_path)
