"""DELETE /v1/chats/{chat_id}/messages/{message_id}/reactions/{emoji}: remove my reaction."""

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


@app.delete(
    "/v1/chats/<chat_id>/messages/<message_id>/reactions/<emoji>",
    summary="Take back a reaction",
    tags=["chats"],
    responses=problem_responses(
        "chat_not_found",
        "not_participant",
        "message_not_found",
        "validation_failed",
        no_content="Removed (or was not there)",
        path=True,
    ),
)
def remove_reaction(
    chat_id: uuid.UUID, message_id: uuid.UUID, emoji: Annotated[Emoji, Path()]
) -> Response[str]:
    chats.react(request_context(app), chat_id, message_id, emoji, False)
    return no_content()


# The emoji reaches the resolver percent-encoded, whether the gateway decoded the path or not.
lambda_handler = entrypoint(app, prepare=with_encoded_path)
