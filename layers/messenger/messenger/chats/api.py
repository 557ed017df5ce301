"""The chats context's public operations, for other contexts (realtime: typing, pushes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from messenger.chats.service import ChatMembership, FriendDirectory, ensure_may_send
from messenger.kernel.errors import Forbidden

if TYPE_CHECKING:
    import uuid
    from collections.abc import Sequence


class Memberships(Protocol):
    def membership(self, chat_id: uuid.UUID) -> ChatMembership | None: ...


@dataclass(frozen=True)
class NotificationFacts:
    """What a push notification of a message shows: a group's title, each recipient's badge."""

    group: bool
    title: str | None
    unread_totals: dict[uuid.UUID, int]


class NotificationFactsSource(Protocol):
    def facts(self, chat_id: uuid.UUID, users: Sequence[uuid.UUID]) -> NotificationFacts: ...


@dataclass(frozen=True)
class ChatsApi:
    chats: Memberships
    friends: FriendDirectory
    notification_source: NotificationFactsSource | None = None

    def notification_facts(
        self, chat_id: uuid.UUID, users: Sequence[uuid.UUID]
    ) -> NotificationFacts:
        """The chat's title (groups) and each user's total unread count, for notifications."""
        if self.notification_source is None:
            raise RuntimeError("notification facts need their source (bootstrap)")
        return self.notification_source.facts(chat_id, users)

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
