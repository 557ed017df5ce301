"""The chats context's public operations, for other contexts (realtime: typing, pushes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from messenger.chats.service import ChatMembership, FriendDirectory, Markers, ensure_may_send
from messenger.kernel.clock import utcnow
from messenger.kernel.errors import Forbidden

if TYPE_CHECKING:
    import uuid


class Memberships(Protocol):
    def membership(self, chat_id: uuid.UUID) -> ChatMembership | None: ...

    def mutes(self, chat_id: uuid.UUID) -> Markers: ...


@dataclass(frozen=True)
class ChatsApi:
    chats: Memberships
    friends: FriendDirectory

    def participants_of(self, chat_id: uuid.UUID) -> list[uuid.UUID] | None:
        """The chat's participants (cached), or None if there is no such chat."""
        membership = self.chats.membership(chat_id)
        return list(membership.participants) if membership else None

    def participants_if_may_send(
        self, chat_id: uuid.UUID, user: uuid.UUID
    ) -> list[uuid.UUID] | None:
        """The chat's participants when `user` may send a message there (the same rule as sending:
        a participant, and in a direct chat still a friend of the other); else None."""
        membership = self.chats.membership(chat_id)
        if membership is None:
            return None
        try:
            ensure_may_send(membership, user, self.friends)
        except Forbidden:
            return None
        return list(membership.participants)

    def muted_members(self, chat_id: uuid.UUID) -> set[uuid.UUID]:
        """Members whose mute of the chat is in force now (one read): the notifier sends them
        no device notification; unread counts and WebSocket frames are unaffected."""
        return self.chats.mutes(chat_id).muted_members(utcnow())
