"""Uploads, attachments and what the media context stores about them (API.md "Media uploads").

Bytes never pass through a function: a client asks for an upload (a presigned POST pinned to a
content type and an exact size), sends the file to the bucket, then names the upload when it
sends a message or sets its avatar. What a message keeps is a `StoredAttachment` (the object's
key, never a URL); the `Attachment` a client reads carries a download URL signed at read time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator, model_validator

from messenger.kernel.events import Event
from messenger.kernel.fields import TEXT_RULE, StrippedText, Timestamp

MiB = 1024 * 1024
MAX_ATTACHMENT_BYTES = 25 * MiB
MAX_AVATAR_BYTES = 5 * MiB
MAX_ATTACHMENTS = 10

AVATAR_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})
# Exact media types, no wildcards: nothing a browser would run (HTML, SVG, scripts) is stored.
ALLOWED_TYPES = AVATAR_TYPES | {
    "image/heic",
    "image/heif",
    "image/avif",
    "video/mp4",
    "video/webm",
    "video/quicktime",
    "video/3gpp",
    "audio/mpeg",
    "audio/mp4",
    "audio/aac",
    "audio/ogg",
    "audio/webm",
    "audio/wav",
    "audio/flac",
    "application/pdf",
    "text/plain",
    "application/zip",
}

Purpose = Literal["attachment", "avatar"]


def _no_control_characters(value: str) -> str:
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise ValueError("must not contain control characters")
    return value


Filename = Annotated[
    StrippedText,
    Field(
        min_length=1,
        max_length=255,
        description="Shown to the other participants; never part of the object's key. "
        f"1 to 255 characters once trimmed, no control characters. {TEXT_RULE}",
    ),
]


class CreateUploadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: Purpose
    content_type: Annotated[
        str,
        Field(
            max_length=100,
            description="One of the allowed media types (images, video, audio, PDF, plain text, "
            "zip); an avatar is image/png, image/jpeg, image/webp or image/gif.",
        ),
    ]
    size: Annotated[
        StrictInt,
        Field(
            ge=1,
            le=MAX_ATTACHMENT_BYTES,
            description="The file's exact size in bytes: at most 25 MiB, an avatar 5 MiB.",
        ),
    ]
    filename: Filename | None = None

    @field_validator("content_type", mode="before")
    @classmethod
    def _allowed_type(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        normalized = value.strip().lower()
        if normalized not in ALLOWED_TYPES:
            raise ValueError(
                "is not an allowed media type (images, video, audio, pdf, text/plain, zip)"
            )
        return normalized

    @field_validator("filename")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        return None if value is None else _no_control_characters(value)

    @model_validator(mode="after")
    def _purpose_limits(self) -> CreateUploadRequest:
        if self.purpose == "avatar":
            if self.content_type not in AVATAR_TYPES:
                raise ValueError("an avatar is image/png, image/jpeg, image/webp or image/gif")
            if self.size > MAX_AVATAR_BYTES:
                raise ValueError(f"an avatar is at most {MAX_AVATAR_BYTES} bytes (5 MiB)")
        return self


class UploadForm(BaseModel):
    """POST `fields` as multipart/form-data to `url`, with the file as the last field `file`."""

    url: str
    fields: dict[str, str]


class CreatedUpload(BaseModel):
    upload_id: uuid.UUID
    upload: UploadForm
    expires_at: Timestamp


class Attachment(BaseModel):
    """A message's file as a client reads it; `url` is signed afresh on every read."""

    attachment_id: uuid.UUID
    content_type: str
    size: int
    filename: str | None
    url: str


@dataclass(frozen=True)
class StoredAttachment:
    """What a message document keeps about one of its files (the key, never a URL)."""

    attachment_id: uuid.UUID
    content_type: str
    size: int
    filename: str | None
    key: str

    def to_doc(self) -> dict[str, Any]:
        return {
            "attachment_id": str(self.attachment_id),
            "content_type": self.content_type,
            "size": self.size,
            "filename": self.filename,
            "key": self.key,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> StoredAttachment:
        return cls(
            attachment_id=uuid.UUID(str(doc["attachment_id"])),
            content_type=str(doc["content_type"]),
            size=int(doc["size"]),
            filename=doc.get("filename"),
            key=str(doc["key"]),
        )


@dataclass(frozen=True)
class Upload:
    """An upload as the uploads collection records it. `used_by` says what consumed it:
    {"kind": "message", "chat_id", "author_id", "dedupe_key", "attachment"} or
    {"kind": "avatar"}; None while unused."""

    upload_id: uuid.UUID
    owner_id: uuid.UUID
    purpose: Purpose
    content_type: str
    size: int
    filename: str | None
    key: str
    created_at: datetime
    expires_at: datetime
    used_by: dict[str, Any] | None = None


@dataclass(frozen=True)
class ObjectInfo:
    """What a HEAD of an object says."""

    size: int
    content_type: str
    etag: str


class DeletedMessage(Event):
    """What RemoveMessageAttachments reads of the chats context's `message.deleted` (a tolerant
    reader: the chat and the message name the prefix of its files; other fields are ignored)."""

    event_type: ClassVar[str] = "message.deleted"

    chat_id: uuid.UUID
    message_id: uuid.UUID

    def key(self) -> str:
        return str(self.chat_id)
