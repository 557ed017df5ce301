"""POST /v1/chats: a direct chat with one friend (the same one if it exists) or a group chat."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from messenger.bootstrap import chats_service
from messenger.chats.models import Chat, CreateChatRequest
from messenger.platform.observability import MetricUnit, logger, metrics
from messenger.web.api_docs import NOT_FRIENDS_LISTED, problem_responses
from messenger.web.http import caller_id, create_resolver, respond

app = create_resolver()
chats = chats_service()


@app.post(
    "/v1/chats",
    summary="Create a chat",
    tags=["chats"],
    responses=problem_responses(
        NOT_FRIENDS_LISTED,
        "rate_limited",
        ok={201: "Chat created", 200: "The direct chat the pair already has"},
        body=True,
    ),
)
def create_chat(body: CreateChatRequest) -> Response[Chat]:
    chat, created = chats.create(caller_id(app), body, correlation_id=logger.get_correlation_id())
    if created:
        metrics.add_metric(name="ChatsCreated", unit=MetricUnit.Count, value=1)
    return respond(chat, HTTPStatus.CREATED if created else HTTPStatus.OK)


@metrics.log_metrics  # EMF to stdout; empty when the request added none
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
