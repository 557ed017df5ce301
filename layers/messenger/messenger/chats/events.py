"""What the chats context publishes (API.md, Events), keyed by the chat: topic `chat-events`."""

from __future__ import annotations

import uuid
from typing import ClassVar, Literal

from messenger.chats.models import Message
from messenger.kernel.events import Event, registry
from messenger.kernel.fields import Timestamp


class ChatCreated(Event):
    event_type: ClassVar[str] = "chat.created"

    chat_id: uuid.UUID
    type: Literal["direct", "group"]
    participants: list[uuid.UUID]
    created_by: uuid.UUID
    created_at: Timestamp

    def key(self) -> str:
        return str(self.chat_id)


class MessageSent(Message, Event):
    """The message object plus the chat's participants (so consumers need no lookup)."""

    event_type: ClassVar[str] = "message.sent"

    participants: list[uuid.UUID]

    def key(self) -> str:
        return str(self.chat_id)


class ChatRead(Event):
    """API.md's fields, plus the chat's participants as `message.sent` carries them (the push
    then needs no lookup; an event without them is still valid: the consumer looks them up)."""

    event_type: ClassVar[str] = "chat.read"

    chat_id: uuid.UUID
    user_id: uuid.UUID
    message_id: uuid.UUID
    at: Timestamp
    participants: list[uuid.UUID] = []

    def key(self) -> str:
        return str(self.chat_id)


# -- Edit, delete, reactions, receipts (API.md "Events (Kafka)", issue 13) ---------------------


class MessageEdited(Event):
    event_type: ClassVar[str] = "message.edited"

    chat_id: uuid.UUID
    message_id: uuid.UUID
    author_id: uuid.UUID
    content: str
    edited_at: Timestamp
    participants: list[uuid.UUID] = []

    def key(self) -> str:
        return str(self.chat_id)


class MessageDeleted(Event):
    """A message became a tombstone for everyone. `attachment_ids`: the attachments it held,
    whose objects the media context removes from storage."""

    event_type: ClassVar[str] = "message.deleted"

    chat_id: uuid.UUID
    message_id: uuid.UUID
    author_id: uuid.UUID
    deleted_by: uuid.UUID
    at: Timestamp
    attachment_ids: list[str] = []
    participants: list[uuid.UUID] = []

    def key(self) -> str:
        return str(self.chat_id)


class ReactionChanged(Event):
    """message.reaction_added / message.reaction_removed; `count`: that emoji's count after."""

    chat_id: uuid.UUID
    message_id: uuid.UUID
    user_id: uuid.UUID
    emoji: str
    count: int
    at: Timestamp
    participants: list[uuid.UUID] = []

    def key(self) -> str:
        return str(self.chat_id)


class ReactionAdded(ReactionChanged):
    event_type: ClassVar[str] = "message.reaction_added"


class ReactionRemoved(ReactionChanged):
    event_type: ClassVar[str] = "message.reaction_removed"


class ChatDelivered(Event):
    event_type: ClassVar[str] = "chat.delivered"

    chat_id: uuid.UUID
    user_id: uuid.UUID
    message_id: uuid.UUID
    at: Timestamp
    participants: list[uuid.UUID] = []

    def key(self) -> str:
        return str(self.chat_id)


# -- Groups (API.md "Groups: members, roles, title", issue 14) ---------------------------------


class MembersChanged(Event):
    """API.md's data (`chat_id, user_ids, by, at`) plus the members after the change, so the
    push needs no lookup (the removed get the frame too: they are in `user_ids`)."""

    chat_id: uuid.UUID
    user_ids: list[uuid.UUID]
    by: uuid.UUID
    at: Timestamp
    participants: list[uuid.UUID] = []

    def key(self) -> str:
        return str(self.chat_id)


class ChatMemberAdded(MembersChanged):
    event_type: ClassVar[str] = "chat.member_added"


class ChatMemberRemoved(MembersChanged):
    event_type: ClassVar[str] = "chat.member_removed"


class ChatUpdated(Event):
    """The title or the roles changed (clients re-read GET /v1/chats/{chat_id} for roles)."""

    event_type: ClassVar[str] = "chat.updated"

    chat_id: uuid.UUID
    title: str | None
    by: uuid.UUID
    at: Timestamp
    participants: list[uuid.UUID] = []

    def key(self) -> str:
        return str(self.chat_id)


EVENT_TYPES = registry(
    ChatCreated,
    MessageSent,
    ChatRead,
    MessageEdited,
    MessageDeleted,
    ReactionAdded,
    ReactionRemoved,
    ChatDelivered,
    ChatMemberAdded,
    ChatMemberRemoved,
    ChatUpdated,
)
