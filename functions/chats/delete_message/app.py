"""DELETE /v1/chats/{chat_id}/messages/{message_id}?for=everyone|me: a tombstone for everyone
(the author), or hidden from the caller's own history (any participant)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger.chats.models import DeleteScope
from messenger.chats.wiring import chats_service
from messenger.platform.observability import logger
from messenger.web.api_docs import problem_responses
from messenger.web.http import caller_id, create_resolver, no_content

app = create_resolver()
chats = chats_service()


@app.delete(
    "/v1/chats/<chat_id>/messages/<message_id>",
    summary="Delete a message (for everyone, or for me)",
    tags=["chats"],
    responses=problem_responses(
        "chat_not_found",
        "not_participant",
        "message_not_found",
        "not_author",
        "validation_failed",
        no_content="Deleted",
        path=True,
    ),
)
def delete_message(
    chat_id: uuid.UUID,
    message_id: uuid.UUID,
    scope: Annotated[
        DeleteScope,
        Query(alias="for", description="everyone: a tombstone for all; me: hidden for me"),
    ],
) -> Response[str]:
    chats.delete(caller_id(app), chat_id, message_id, scope, logger.get_correlation_id())
    return no_content()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
