"""`user.deleted` in the friends context: every friendship and request of the user, both ways,
and the cached relations of everyone they touched. Idempotent (nothing left the second time).

Blocks (on the groups/blocks branch) plug in here: their rows of the user go in the same
`erase_user` transaction.
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
        """How many friendships and requests went."""
        others = self.friendships.erase_user(user)
        self.cache.forget(user, *others)
        return len(others)
