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


EVENT_TYPES = registry(ChatCreated, MessageSent, ChatRead)
