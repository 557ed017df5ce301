"""POST /v1/chats/{chat_id}/delivered: my device got everything up to message_id."""

from __future__ import annotations

import uuid
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger.chats.models import MarkDeliveredRequest
from messenger.chats.wiring import chats_service
from messenger.platform.observability import logger
from messenger.web.api_docs import problem_responses
from messenger.web.http import caller_id, create_resolver, no_content

app = create_resolver()
chats = chats_service()


@app.post(
    "/v1/chats/<chat_id>/delivered",
    summary="Mark a chat delivered",
    tags=["chats"],
    responses=problem_responses(
        "chat_not_found",
        "not_participant",
        "message_not_found",
        no_content="Marked delivered (markers only move forward)",
        body=True,
        path=True,
    ),
)
def mark_chat_delivered(chat_id: uuid.UUID, body: MarkDeliveredRequest) -> Response[str]:
    chats.mark_delivered(
        caller_id(app), chat_id, body.message_id, correlation_id=logger.get_correlation_id()
    )
    return no_content()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
