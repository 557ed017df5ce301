"""The chats context's public queries, for other contexts (realtime)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import uuid

    from messenger.chats.store import CachedChats


@cache
def _chats() -> CachedChats:
    from messenger.chats.store import CachedChats

    return CachedChats()


def participants_of(chat_id: uuid.UUID) -> list[uuid.UUID] | None:
    """The chat's participants (cached), or None if there is no such chat."""
    membership = _chats().membership(chat_id)
    return list(membership.participants) if membership else None
