"""`user.deleted` in the friends context: every friendship, request and block of the user, both
ways, in one transaction, and the cached relations and blocks of everyone they touched.
Idempotent (nothing left the second time).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import uuid


class ErasableFriendships(Protocol):
    def erase_user(self, user: uuid.UUID) -> list[uuid.UUID]:
        """Delete every row of the user (any status); the other users of those rows."""


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
