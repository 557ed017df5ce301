"""The friends context's public operations, for other contexts (chats, realtime, the cache
consumer): cached friend sets. messenger.bootstrap gives it the cached friendships store."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from messenger.friends.service import BlockSets, Relations


class FriendRelations(Protocol):
    def relations(self, user: uuid.UUID) -> Relations: ...

    def block_sets(self, user: uuid.UUID) -> BlockSets: ...

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

    def who_blocked(self, author: uuid.UUID, among: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Which of `among` blocked `author` (one cached read of the author's blocks): the
        send path leaves them out of unread counts and frames, the notifier out of pushes."""
        blockers = self.friendships.block_sets(author).blockers
        if not blockers:
            return set()
        return {user for user in among if str(user) in blockers}

    def blocked_by(self, user: uuid.UUID) -> set[uuid.UUID]:
        """Whom `user` blocked (their history leaves those authors out)."""
        return {uuid.UUID(u) for u in self.friendships.block_sets(user).blocked}

    def either_blocked(self, a: uuid.UUID, b: uuid.UUID) -> bool:
        """Whether a blocked b or b blocked a (one cached read)."""
        sets = self.friendships.block_sets(a)
        return str(b) in sets.blocked or str(b) in sets.blockers

    def forget(self, *users: uuid.UUID) -> None:
        """Drop cached relations (the InvalidateCaches consumer calls this)."""
        self.friendships.forget(*users)
