"""What the friends context publishes (API.md, Events): every `friendship.*` event has the same
data, keyed by the ordered user pair (topic `friendship-events`)."""

from __future__ import annotations

import uuid
from typing import ClassVar

from messenger.kernel.events import Event, registry
from messenger.kernel.fields import Timestamp


class FriendshipChanged(Event):
    """Data of every `friendship.*` event: who acted (`from_user_id`), towards whom, when."""

    from_user_id: uuid.UUID
    to_user_id: uuid.UUID
    at: Timestamp

    def key(self) -> str:
        # The pair in the order Postgres keeps it (uuid order is bytewise in both).
        low, high = sorted((self.from_user_id, self.to_user_id))
        return f"{low}:{high}"


class FriendshipRequested(FriendshipChanged):
    event_type: ClassVar[str] = "friendship.requested"


class FriendshipAccepted(FriendshipChanged):
    event_type: ClassVar[str] = "friendship.accepted"


class FriendshipRejected(FriendshipChanged):
    event_type: ClassVar[str] = "friendship.rejected"


class FriendshipRemoved(FriendshipChanged):
    event_type: ClassVar[str] = "friendship.removed"


FRIENDSHIP_EVENTS: tuple[type[FriendshipChanged], ...] = (
    FriendshipRequested,
    FriendshipAccepted,
    FriendshipRejected,
    FriendshipRemoved,
)


class BlockChanged(Event):
    """Data of `user.blocked` / `user.unblocked`: who blocked (`user_id`) whom, when. Keyed by
    the blocker (topic `user-events`): a user's blocks stay in order."""

    user_id: uuid.UUID
    blocked_user_id: uuid.UUID
    at: Timestamp

    def key(self) -> str:
        return str(self.user_id)


class UserBlocked(BlockChanged):
    event_type: ClassVar[str] = "user.blocked"


class UserUnblocked(BlockChanged):
    event_type: ClassVar[str] = "user.unblocked"


BLOCK_EVENTS: tuple[type[BlockChanged], ...] = (UserBlocked, UserUnblocked)
EVENT_TYPES = registry(*FRIENDSHIP_EVENTS, *BLOCK_EVENTS)
