"""What the friends context does with the users context's events (topic `user-events`).

`user.deleted`: every friendship, request and block of the user, both ways, and their rows in
everyone's friend lists, in one transaction; then the cached relations and blocks of everyone
they touched. Idempotent (nothing left the second time).

`user.profile_updated`: the user's new sort key in every friend list that holds them (decision
62). Versioned by the profile's `updated_at`, so a redelivery or an older event changes nothing.

Both arrive through one consumer, in the partition's order (the user's id is the key): a rename
read after the erasure would otherwise put the nickname back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import uuid
    from datetime import datetime


class ErasableFriendships(Protocol):
    def erase_user(self, user: uuid.UUID) -> list[uuid.UUID]:
        """Delete every row of the user (any status); the other users of those rows."""

    def follow_nickname(self, user: uuid.UUID, sort_key: str, version: datetime) -> int | None:
        """The sort key in every friend list holding the user; None if not a newer version."""


class RelationsCache(Protocol):
    def forget(self, *users: uuid.UUID) -> None: ...


@dataclass
class FriendsErasure:
    friendships: ErasableFriendships
    cache: RelationsCache

    def erase_user(self, user: uuid.UUID) -> int:
        """How many other users lost a friendship, request or block with the user."""
        others = self.friendships.erase_user(user)
        self.cache.forget(user, *others)
        return len(others)

    def follow_nickname(self, user: uuid.UUID, nickname: str, version: datetime) -> int | None:
        """How many friend lists moved the user (None: this version was applied already)."""
        return self.friendships.follow_nickname(user, nickname.lower(), version)
