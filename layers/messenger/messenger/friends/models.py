"""Requests and responses of the friends context (its events: messenger.friends.events)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from messenger.kernel.fields import TEXT_RULE, Text, Timestamp

DEFAULT_PAGE = 100
MAX_PAGE = 500  # friends per page of GET /v1/friends


class FriendRequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nickname: Annotated[
        Text, Field(min_length=1, max_length=64, description=f"Whom to befriend. {TEXT_RULE}")
    ]


class FriendshipStatus(BaseModel):
    status: Literal["requested", "accepted", "rejected"]


class Friend(BaseModel):
    user_id: uuid.UUID
    nickname: str
    avatar_url: str | None
    since: Timestamp
    # Holds at least one live WebSocket connection (the realtime context's presence).
    online: bool = False


class FriendRequest(BaseModel):
    user_id: uuid.UUID
    nickname: str
    avatar_url: str | None
    requested_at: Timestamp


class FriendsOverview(BaseModel):
    """A page of friends by nickname; the requests come complete (capped) on the first page."""

    friends: list[Friend]
    incoming: list[FriendRequest]
    outgoing: list[FriendRequest]
    next_cursor: str | None = None


class BlockedUser(BaseModel):
    user_id: uuid.UUID
    nickname: str | None = Field(description="null once the account is gone")
    blocked_at: Timestamp
