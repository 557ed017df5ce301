"""What the realtime context answers over HTTP: a page of GET /v1/sync (API.md, Catch-up)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

DEFAULT_SYNC_LIMIT = 100
MAX_SYNC_LIMIT = 500


class SyncFrame(BaseModel):
    """A frame exactly as the WebSocket pushed it: {"type", "data", "cursor"}."""

    type: str
    data: dict[str, Any]
    cursor: str


class SyncPage(BaseModel):
    items: list[SyncFrame]
    next_cursor: str = Field(description="Where the next sync resumes (the last item's cursor)")
    has_more: bool
