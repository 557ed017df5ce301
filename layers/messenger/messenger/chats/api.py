"""The chats context's public operations, for other contexts (realtime: typing, pushes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from messenger.chats.service import ChatMembership, FriendDirectory, Markers, ensure_may_send
from messenger.kernel.clock import utcnow
from messenger.kernel.errors import Forbidden, NotFound

if TYPE_CHECKING:
    import uuid
    from collections.abc import Sequence
    from datetime import datetime

    from messenger.chats.models import Chat, Message


class Memberships(Protocol):
    def membership(self, chat_id: uuid.UUID) -> ChatMembership | None: ...

    def chats_of(
        self, user: uuid.UUID, limit: int, after: tuple[datetime, str] | None
    ) -> list[tuple[Chat, datetime]]: ...

    def authored(self, chat_id: uuid.UUID, user: uuid.UUID) -> list[Message]: ...

    def mutes(self, chat_id: uuid.UUID) -> Markers: ...

    def message(
        self, chat_id: uuid.UUID, message_id: uuid.UUID, reader: uuid.UUID
    ) -> Message | None: ...

    def forget(self, chat_id: uuid.UUID) -> None: ...


EXPORT_MAX_CHATS = 10_000


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

    def export_of(self, user: uuid.UUID) -> list[dict[str, Any]]:
        """A data export's chats: every chat the user belongs to and the messages they
        authored there (attachments as freshly signed URLs), as JSON-ready dicts."""
        chats = []
        for chat, _ in self.chats.chats_of(user, EXPORT_MAX_CHATS, None):
            messages = self.chats.authored(chat.chat_id, user)
            chats.append(
                {
                    **chat.model_dump(
                        mode="json", include={"chat_id", "type", "title", "created_at"}
                    ),
                    "participants": [str(p) for p in chat.participants],
                    "messages": [
                        m.model_dump(
                            mode="json",
                            include={
                                "message_id",
                                "content",
                                "created_at",
                                "edited_at",
                                "deleted",
                                "reply_to",
                                "attachments",
                            },
                        )
                        for m in messages
                    ],
                }
            )
        return chats

    def forget(self, chat_id: uuid.UUID) -> None:
        """Drop the cached membership (the InvalidateCaches consumer, after a group change)."""
        self.chats.forget(chat_id)

    def muted_members(self, chat_id: uuid.UUID) -> set[uuid.UUID]:
        """Members whose mute of the chat is in force now (one read): the notifier sends them
        no device notification; unread counts and WebSocket frames are unaffected."""
        return self.chats.mutes(chat_id).muted_members(utcnow())

    def report_snapshot(
        self, reader: uuid.UUID, chat_id: uuid.UUID | None, message_id: uuid.UUID | None
    ) -> tuple[uuid.UUID, dict[str, Any]]:
        """What a participant reports, as it is now (the safety context keeps it as evidence):
        the chat's id and a snapshot of the chat and, if named, the message."""
        if chat_id is None:
            raise ValueError("a chat or a message is reported with its chat_id")
        membership = self.chats.membership(chat_id)
        if membership is None:
            raise NotFound("chat_not_found", "No chat has this id")
        if reader not in membership.participants:
            raise Forbidden("not_participant", "You are not a participant of this chat")
        snapshot: dict[str, Any] = {
            "chat": {
                "chat_id": str(chat_id),
                "type": membership.type,
                "participants": [str(p) for p in membership.participants],
            }
        }
        if message_id is not None:
            message = self.chats.message(chat_id, message_id, reader)
            if message is None:
                raise NotFound("message_not_found", "This chat has no message with this id")
            snapshot["message"] = message.model_dump(mode="json")
        return chat_id, snapshot
