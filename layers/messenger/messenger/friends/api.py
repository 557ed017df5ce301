"""The friends context's public operations, for other contexts (chats, realtime, the cache
consumer): cached friend sets. messenger.bootstrap gives it the cached friendships store."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence

    from messenger.friends.service import Relations


class FriendRelations(Protocol):
    def relations(self, user: uuid.UUID) -> Relations: ...

    def forget(self, *users: uuid.UUID) -> None: ...


@dataclass(frozen=True)
class FriendsApi:
    friendships: FriendRelations

    def friends_of(self, user: uuid.UUID) -> set[uuid.UUID]:
        return {uuid.UUID(f) for f in self.friendships.relations(user).friends}

    def are_friends(self, a: uuid.UUID, b: uuid.UUID) -> bool:
        """One cached read, no row decoding: every send to a direct chat asks this."""
        return str(b) in self.friendships.relations(a).friends

    def non_friends_of(self, user: uuid.UUID, candidates: Sequence[uuid.UUID]) -> list[uuid.UUID]:
        friends = self.friendships.relations(user).friends
        return [c for c in candidates if str(c) not in friends and c != user]

    def forget(self, *users: uuid.UUID) -> None:
        """Drop cached relations (the InvalidateCaches consumer calls this)."""
        self.friendships.forget(*users)
