"""Requests and responses of the chats context (its events: messenger.chats.events)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from messenger.kernel.fields import TEXT_RULE, StrippedText, Text, Timestamp
from messenger.media.api import MAX_ATTACHMENTS, Attachment

MAX_OTHER_PARTICIPANTS = 100
MAX_CONTENT = 4096


def _no_duplicates(ids: list[uuid.UUID]) -> list[uuid.UUID]:
    if len(set(ids)) != len(ids):
        raise ValueError("participants must not repeat")
    return ids


def _distinct_uploads(ids: list[uuid.UUID]) -> list[uuid.UUID]:
    if len(set(ids)) != len(ids):
        raise ValueError("attachment_ids must not repeat")
    return ids


class CreateChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    participants: Annotated[
        list[uuid.UUID],
        Field(min_length=1, max_length=MAX_OTHER_PARTICIPANTS),
        AfterValidator(_no_duplicates),
    ]
    title: (
        Annotated[
            StrippedText,
            Field(
                min_length=1,
                max_length=100,
                description=f"A group's title, 1 to 100 characters once trimmed. {TEXT_RULE}",
            ),
        ]
        | None
    ) = None


class Message(BaseModel):
    message_id: uuid.UUID
    chat_id: uuid.UUID
    author_id: uuid.UUID
    content: str
    created_at: Timestamp
    client_message_id: str | None
    attachments: list[Attachment] = Field(default_factory=list)


class Chat(BaseModel):
    chat_id: uuid.UUID
    type: Literal["direct", "group"]
    title: str | None
    participants: list[uuid.UUID]
    created_by: uuid.UUID
    created_at: Timestamp
    last_message: Message | None
    unread_count: int


class SendMessageRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Before `content`: content's rule reads it.
    attachment_ids: Annotated[
        list[uuid.UUID],
        Field(
            max_length=MAX_ATTACHMENTS,
            description=f"Up to {MAX_ATTACHMENTS} distinct uploads of purpose attachment "
            "(POST /v1/uploads), each used once.",
            default_factory=list,
        ),
        AfterValidator(_distinct_uploads),
    ]
    content: Annotated[
        StrippedText,
        Field(
            max_length=MAX_CONTENT,
            description=f"1 to {MAX_CONTENT} characters once trimmed; may be empty (or absent) "
            f"when the message has attachments. {TEXT_RULE}",
            validate_default=True,
        ),
    ] = ""
    client_message_id: (
        Annotated[
            Text,
            Field(
                min_length=1,
                max_length=64,
                description=f"The client's id for retries (idempotency key). {TEXT_RULE}",
            ),
        ]
        | None
    ) = None

    @field_validator("content")
    @classmethod
    def _content_or_attachments(cls, content: str, info: ValidationInfo) -> str:
        if not content and not info.data.get("attachment_ids"):
            raise ValueError("a message has content (1 to 4096 characters) or attachments")
        return content


class MarkReadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message_id: uuid.UUID
