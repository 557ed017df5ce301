"""GET /v1/chats: my chats, most recent activity first, with last message and my unread count."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from messenger.bootstrap import chats_reader
from messenger.chats.models import Chat
from messenger.kernel.pagination import Page
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, request_context, respond

app = create_resolver()
chats = chats_reader()


@app.get(
    "/v1/chats",
    summary="List my chats",
    tags=["chats"],
    responses=problem_responses(
        "validation_failed", ok={200: "My chats, most recent activity first"}
    ),
)
def list_chats(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response[Page[Chat]]:
    return respond(chats.chats(request_context(app), limit, cursor))


lambda_handler = entrypoint(app)
