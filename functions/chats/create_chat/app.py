"""POST /v1/chats: a direct chat with one friend (the same one if it exists) or a group chat."""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import chats_service
from messenger.chats.models import Chat, CreateChatRequest
from messenger.platform.observability import MetricUnit, metrics
from messenger.web.api_docs import NOT_FRIENDS_LISTED, problem_responses
from messenger.web.http import create_resolver, entrypoint, request_context, respond

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
    chat, created = chats.create(request_context(app), body)
    if created:
        metrics.add_metric(name="ChatsCreated", unit=MetricUnit.Count, value=1)
    return respond(chat, HTTPStatus.CREATED if created else HTTPStatus.OK)


lambda_handler = entrypoint(app, flush_metrics=True)
