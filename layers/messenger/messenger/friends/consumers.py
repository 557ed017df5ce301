"""What the friends context's consumers do: with the users context's events (topic
`user-events`) and with its own `friendship.*`.

`user.deleted`: every friendship, request and block of the user, both ways, and their rows in
everyone's friend lists, in one transaction; then the cached relations and blocks of everyone
they touched. Idempotent (nothing left the second time).

`user.profile_updated`: the user's new sort key in every friend list that holds them (decision
62). Versioned by the profile's `updated_at`, so a redelivery or an older event changes nothing.

Both arrive through one consumer, in the partition's order (the user's id is the key): a rename
read after the erasure would otherwise put the nickname back.

`friendship.*` (topic `friendship-events`, another consumer): the pair's rows in both friend
lists, reconciled with its friendship row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import uuid
    from collections.abc import Sequence
    from datetime import datetime

    from messenger.friends.service import SortKeys


class ErasableFriendships(Protocol):
    def erase_user(self, user: uuid.UUID) -> list[uuid.UUID]:
        """Delete every row of the user (any status); the other users of those rows."""

    def follow_nickname(self, user: uuid.UUID, sort_key: str, version: datetime) -> int | None:
        """The sort key in every friend list holding the user; None if not a newer version."""

    def reconcile_pair(self, a: uuid.UUID, b: uuid.UUID, sort_keys: SortKeys) -> bool:
        """Both friend lists as the pair's friendship row says; True if they are friends."""


class SortKeySource(Protocol):
    def nickname_sort_keys(
        self, user_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[str, datetime]]: ...


class RelationsCache(Protocol):
    def forget(self, *users: uuid.UUID) -> None: ...


@dataclass
class FriendsConsumers:
    friendships: ErasableFriendships
    cache: RelationsCache
    users: SortKeySource

    def erase_user(self, user: uuid.UUID) -> int:
        """How many other users lost a friendship, request or block with the user."""
        others = self.friendships.erase_user(user)
        self.cache.forget(user, *others)
        return len(others)

    def follow_nickname(self, user: uuid.UUID, nickname: str, version: datetime) -> int | None:
        """How many friend lists moved the user (None: this version was applied already)."""
        return self.friendships.follow_nickname(user, nickname.lower(), version)

    def reconcile_pair(self, a: uuid.UUID, b: uuid.UUID) -> bool:
        """`friendship.*`: the pair's rows in both friend lists as its friendship row says now.
        The request path writes them in its own transaction; this is for any writer that did
        not (a version from before the lists, still serving during a canary)."""
        return self.friendships.reconcile_pair(a, b, lambda: self.users.nickname_sort_keys([a, b]))
