"""GET /v1/sync: the frames addressed to the caller after a cursor, from their event stream.

A cursor is an opaque stream position (the `cursor` of every frame but typing and presence). The
stream has no holes (decision 46), so "the frames after n" is exactly positions n+1, n+2...: a
first one missing or expired means the client fell behind retention (410 sync_expired); a
position past the stream's head was never issued (422).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from pydantic import ConfigDict, Field, TypeAdapter

from messenger.kernel.errors import Gone, InvalidInput
from messenger.kernel.pagination import decode_cursor
from messenger.realtime.models import MAX_SYNC_LIMIT, SyncFrame, SyncPage
from messenger.realtime.service import encode_position, epoch

if TYPE_CHECKING:
    from messenger.kernel.context import RequestContext
    from messenger.realtime.service import EventStream

POSITION_KEY: TypeAdapter[int] = TypeAdapter(
    Annotated[int, Field(strict=True, ge=0, lt=2**53)], config=ConfigDict(defer_build=True)
)


def _invalid_since() -> InvalidInput:
    return InvalidInput(
        "validation_failed",
        "The cursor is not one this API issued",
        errors=[{"field": "since", "message": "invalid cursor"}],
    )


def _expired() -> Gone:
    return Gone(
        "sync_expired",
        "Events after this cursor are no longer kept: re-read chats and history, then sync "
        "without a cursor",
    )


@dataclass(frozen=True)
class SyncService:
    stream: EventStream

    def sync(
        self, context: RequestContext, since: str | None, limit: int, now: datetime
    ) -> SyncPage:
        user = context.caller
        if since is None:
            return SyncPage(
                items=[], next_cursor=encode_position(self.stream.head(user)), has_more=False
            )
        try:
            position = decode_cursor(since, POSITION_KEY)
        except InvalidInput as exc:
            raise _invalid_since() from exc
        limit = max(1, min(limit, MAX_SYNC_LIMIT))
        rows = self.stream.after(user, position, limit + 1, epoch(now))
        if not rows:
            head = self.stream.head(user)
            if position > head:
                raise _invalid_since()
            if position == head:
                return SyncPage(items=[], next_cursor=since, has_more=False)
            # Past the cursor now: appended since the query above (look again), or expired and
            # removed (still nothing).
            rows = self.stream.after(user, position, limit + 1, epoch(now))
            if not rows:
                raise _expired()
        first_position, first_frame = rows[0]
        # Positions expire in the order they were written: the first one alive means all are.
        if first_position != position + 1 or first_frame is None:
            raise _expired()
        page = rows[:limit]
        items = [
            SyncFrame(
                type=str(body.get("type")),
                data=dict(body.get("data") or {}),
                cursor=encode_position(p),
            )
            for p, body in page
            if body is not None
        ]
        return SyncPage(
            items=items, next_cursor=encode_position(page[-1][0]), has_more=len(rows) > limit
        )
