"""The friends context's public queries, for other contexts (chats): cached friend sets.

The store is imported with this module (a caller's init, snapshotted by SnapStart): it costs
Redis only, which its callers load anyway; psycopg comes on a cache miss.
"""

from __future__ import annotations

import uuid
from functools import cache
from typing import TYPE_CHECKING

from messenger.friends.adapters.store import CachedFriendships

if TYPE_CHECKING:
    from collections.abc import Sequence


@cache
def _friendships() -> CachedFriendships:
    return CachedFriendships()


def friends_of(user: uuid.UUID) -> set[uuid.UUID]:
    return {uuid.UUID(f) for f in _friendships().relations(user).friends}


def are_friends(a: uuid.UUID, b: uuid.UUID) -> bool:
    """One cached read, no row decoding: every send to a direct chat asks this."""
    return str(b) in _friendships().relations(a).friends


def non_friends_of(user: uuid.UUID, candidates: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    friends = _friendships().relations(user).friends
    return [c for c in candidates if str(c) not in friends and c != user]


def forget(*users: uuid.UUID) -> None:
    """Drop cached relations (the InvalidateCaches consumer calls this)."""
    _friendships().forget(*users)
