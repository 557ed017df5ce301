"""POST /v1/chats/{chat_id}/messages: send; a retry with the same client_message_id is a no-op."""

from __future__ import annotations

import uuid
from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response

from messenger.bootstrap import chats_service
from messenger.chats.models import Message, SendMessageRequest
from messenger.platform.observability import MetricUnit, metrics
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, request_context, respond

app = create_resolver()
chats = chats_service()


@app.post(
    "/v1/chats/<chat_id>/messages",
    summary="Send a message",
    tags=["chats"],
    responses=problem_responses(
        "chat_not_found",
        "not_participant",
        "not_friends",
        "blocked",
        "upload_not_found",
        "upload_incomplete",
        "upload_used",
        "rate_limited",
        "invalid_reply",
        ok={201: "Sent", 200: "Already sent with this client_message_id: the original"},
        body=True,
        path=True,
    ),
)
def send_message(chat_id: uuid.UUID, body: SendMessageRequest) -> Response[Message]:
    message, created = chats.send(request_context(app), chat_id, body)
    if created:
        metrics.add_metric(name="MessagesSent", unit=MetricUnit.Count, value=1)
    return respond(message, HTTPStatus.CREATED if created else HTTPStatus.OK)


lambda_handler = entrypoint(app, flush_metrics=True)
