"""GET /v1/sync: the frames addressed to the caller after `since`, oldest first (API.md,
Catch-up). A client that reconnects calls it with the last cursor it saw and misses nothing."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from messenger.bootstrap import sync_service
from messenger.kernel.clock import utcnow
from messenger.kernel.pagination import MAX_CURSOR
from messenger.realtime.models import DEFAULT_SYNC_LIMIT, MAX_SYNC_LIMIT, SyncPage
from messenger.web.api_docs import problem_responses
from messenger.web.http import create_resolver, entrypoint, request_context, respond

app = create_resolver()
stream = sync_service()


@app.get(
    "/v1/sync",
    summary="Catch up on the frames missed since a cursor",
    description=(
        "Every frame the WebSocket pushes (not typing or presence) carries `cursor`. Keep the "
        "last one; after a reconnect call sync with it and page on with `next_cursor` while "
        "`has_more`. Without `since`: no items and the current cursor (start here after reading "
        "chats and history). Frames are kept 14 days: an older cursor is 410 sync_expired."
    ),
    tags=["realtime"],
    responses=problem_responses(
        "sync_expired", "validation_failed", ok={200: "The frames after `since`, oldest first"}
    ),
)
def sync(
    since: Annotated[str | None, Query(max_length=MAX_CURSOR)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_SYNC_LIMIT)] = DEFAULT_SYNC_LIMIT,
) -> Response[SyncPage]:
    return respond(stream.sync(request_context(app), since, limit, utcnow()))


lambda_handler = entrypoint(app)
