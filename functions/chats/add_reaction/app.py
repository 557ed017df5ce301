"""PUT /v1/chats/{chat_id}/messages/{message_id}/reactions/{emoji}: add my reaction (idempotent)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger.chats.models import Emoji
from messenger.chats.wiring import chats_service
from messenger.platform.observability import logger
from messenger.web.api_docs import problem_responses
from messenger.web.http import caller_id, create_resolver, no_content
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
    chats.react(caller_id(app), chat_id, message_id, emoji, True, logger.get_correlation_id())
    return no_content()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(with_encoded_path(event), context)  # the emoji, decoded or not
