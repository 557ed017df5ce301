"""The friends context's public queries, for other contexts (chats): cached friend sets.

The store is imported with this module (a caller's init, snapshotted by SnapStart): it costs
Redis only, which its callers load anyway; psycopg comes on a cache miss.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from messenger.friends.store import CachedFriendships

if TYPE_CHECKING:
    import uuid
    from collections.abc import Sequence


@cache
def _friendships() -> CachedFriendships:
    return CachedFriendships()


def friends_of(user: uuid.UUID) -> set[uuid.UUID]:
    return {row.other(user) for row in _friendships().of_user(user) if row.status == "accepted"}


def are_friends(a: uuid.UUID, b: uuid.UUID) -> bool:
    return b in friends_of(a)


def non_friends_of(user: uuid.UUID, candidates: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    friends = friends_of(user)
    return [c for c in candidates if c not in friends and c != user]


def forget(*users: uuid.UUID) -> None:
    """Drop cached relations (the InvalidateCaches consumer calls this)."""
    _friendships().forget(*users)
