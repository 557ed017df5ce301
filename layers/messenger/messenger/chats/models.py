"""Requests and responses of the chats context (its events: messenger.chats.events)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal
from urllib.parse import unquote_to_bytes

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from messenger.kernel.fields import TEXT_RULE, StrippedText, Text, Timestamp, check_text
from messenger.media.api import MAX_ATTACHMENTS, Attachment

MAX_OTHER_PARTICIPANTS = 100
MAX_CONTENT = 4096
MAX_EMOJI = 16  # characters, after URL-decoding
MAX_DISTINCT_REACTIONS = 20  # distinct emoji per message

MessageKind = Literal["text", "system"]
MessageStatus = Literal["sent", "delivered", "read"]


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


class Reaction(BaseModel):
    emoji: str
    count: int
    me: bool = Field(description="Whether the reader is one of those who reacted")


class SystemInfo(BaseModel):
    """What a system message records (API.md); `role`: the new role of a role_changed."""

    event: Literal["member_added", "member_removed", "member_left", "title_changed", "role_changed"]
    user_ids: list[uuid.UUID]
    title: str | None = Field(default=None, exclude_if=lambda title: title is None)
    role: Literal["owner", "admin", "member"] | None = Field(
        default=None, exclude_if=lambda role: role is None
    )


class Message(BaseModel):
    """A message as one reader sees it (`reactions[].me` and `status` are the reader's).

    Documents stored before edits, replies and reactions existed read with the defaults."""

    message_id: uuid.UUID
    chat_id: uuid.UUID
    author_id: uuid.UUID
    content: str | None = Field(description="null for a deleted message and a system message")
    created_at: Timestamp
    client_message_id: str | None
    kind: MessageKind = "text"
    edited_at: Timestamp | None = None
    deleted: bool = False
    reply_to: uuid.UUID | None = None
    reactions: list[Reaction] = Field(default_factory=list)
    attachments: list[Attachment] = Field(default_factory=list)
    status: MessageStatus | None = Field(
        default=None,
        exclude_if=lambda status: status is None,
        description="Only on the reader's own messages, where the chat's markers were read:"
        " delivered/read once every other member's marker has passed it",
    )
    system: SystemInfo | None = Field(
        default=None,
        exclude_if=lambda system: system is None,
        description="Only on system messages (kind: system): what changed",
    )


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
    reply_to: uuid.UUID | None = Field(
        default=None, description="A message of the same chat (else 422 invalid_reply)"
    )

    @field_validator("content")
    @classmethod
    def _content_or_attachments(cls, content: str, info: ValidationInfo) -> str:
        if not content and not info.data.get("attachment_ids"):
            raise ValueError("a message has content (1 to 4096 characters) or attachments")
        return content


class MarkReadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message_id: uuid.UUID


# -- Edit, delete, reactions, receipts, one chat (API.md "Messages: edit, delete, ...") --------


class EditMessageRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: Annotated[
        StrippedText,
        Field(
            min_length=1,
            max_length=MAX_CONTENT,
            description=f"1 to {MAX_CONTENT} characters once trimmed. {TEXT_RULE}",
        ),
    ]


class MarkDeliveredRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message_id: uuid.UUID


DeleteScope = Literal["everyone", "me"]


def _url_decoded(value: object) -> object:
    """The handler sees the path as the client encoded it (API Gateway's rawPath, which
    Powertools routes on): percent-escapes are decoded here, strictly as UTF-8 (else 422)."""
    if isinstance(value, str):
        return unquote_to_bytes(value).decode("utf-8")  # UnicodeDecodeError: a ValueError
    return value


Emoji = Annotated[
    str,
    BeforeValidator(_url_decoded),
    Field(
        min_length=1,
        max_length=MAX_EMOJI,
        description=f"URL-encoded; 1 to {MAX_EMOJI} characters once decoded. {TEXT_RULE}",
    ),
    AfterValidator(check_text),
]


class Member(BaseModel):
    user_id: uuid.UUID
    role: Literal["owner", "admin", "member"]
    joined_at: Timestamp
    read_up_to: uuid.UUID | None
    delivered_up_to: uuid.UUID | None = Field(description="Never behind read_up_to")


class ChatDetails(Chat):
    """GET /v1/chats/{chat_id}: the chat object plus its members and the caller's mute."""

    members: list[Member]
    muted_until: Timestamp | None = Field(
        description="The end of the caller's mute in force; null when not muted or muted until"
        " unmuted (see `muted`)"
    )
    muted: bool = Field(default=False, description="Whether the caller's mute is in force now")


class MuteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    until: Timestamp | None = Field(
        description="When the mute ends (in the future); null: until unmuted"
    )


# -- Groups: members, roles, title (API.md) ------------------------------------------------------


class RenameRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[
        StrippedText,
        Field(
            min_length=1,
            max_length=100,
            description=f"1 to 100 characters once trimmed. {TEXT_RULE}",
        ),
    ]


class AddMembersRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_ids: Annotated[
        list[uuid.UUID],
        Field(min_length=1, max_length=MAX_OTHER_PARTICIPANTS),
        AfterValidator(_no_duplicates),
    ]


class RoleRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["admin", "member"]


class OwnerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: uuid.UUID
