"""The chats context's public queries, for other contexts (realtime)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import uuid

    from messenger.chats.adapters.store import CachedChats


@cache
def _chats() -> CachedChats:
    from messenger.chats.adapters.store import CachedChats

    return CachedChats()


def participants_of(chat_id: uuid.UUID) -> list[uuid.UUID] | None:
    """The chat's participants (cached), or None if there is no such chat."""
    membership = _chats().membership(chat_id)
    return list(membership.participants) if membership else None


def participants_if_may_send(chat_id: uuid.UUID, user: uuid.UUID) -> list[uuid.UUID] | None:
    """The chat's participants when `user` may send a message there (the same rule as sending:
    a participant, and in a direct chat still a friend of the other); else None."""
    from messenger.chats.service import ensure_may_send
    from messenger.friends import queries as friends
    from messenger.kernel.errors import Forbidden

    membership = _chats().membership(chat_id)
    if membership is None:
        return None
    try:
        ensure_may_send(membership, user, friends)
    except Forbidden:
        return None
    return list(membership.participants)
