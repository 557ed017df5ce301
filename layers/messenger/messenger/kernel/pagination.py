"""Opaque keyset cursors and the page shape of API.md (`{"items": [...], "next_cursor": ...}`).

A cursor is the last item's sort key, JSON-encoded and base64url'd: opaque to clients, stable
across calls, and tamper-evident enough. Every decoder has one shape: `decode_cursor(cursor,
KEY)` with KEY a pydantic `TypeAdapter` of exactly what the query needs, so a cursor that does not
decode to a usable key (bad base64, not UTF-8, bad or too deep JSON, the wrong type, NUL, a
datetime that overflows in UTC...) is a 422 `validation_failed` on `cursor`, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from messenger.kernel.errors import InvalidInput
from messenger.kernel.fields import Text

ItemT = TypeVar("ItemT")
KeyT = TypeVar("KeyT")

Limit = Annotated[int, Field(ge=1, le=100)]

MAX_CURSOR = 512  # characters; what the handlers' `cursor` query parameters accept


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:  # e.g. 9999-12-31T23:59:59-14:00 is past datetime.max in UTC
        raise ValueError("the datetime is out of range in UTC") from exc


# Cursor key parts: a datetime with an offset that exists in UTC (the stores compare in UTC).
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_in_utc)]

# The keys the API's cursors hold (validators built on first use: nothing added to cold starts).
_LAZY = ConfigDict(defer_build=True)
TEXT_KEY: TypeAdapter[str] = TypeAdapter(
    Annotated[Text, Field(max_length=MAX_CURSOR)], config=_LAZY
)
UUID_KEY: TypeAdapter[uuid.UUID] = TypeAdapter(uuid.UUID, config=_LAZY)
ACTIVITY_KEY: TypeAdapter[tuple[datetime, uuid.UUID]] = TypeAdapter(
    tuple[UtcDatetime, uuid.UUID], config=_LAZY
)


def encode_cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def invalid_cursor() -> InvalidInput:
    return InvalidInput(
        "validation_failed",
        "The cursor is not one this API issued",
        errors=[{"field": "cursor", "message": "invalid cursor"}],
    )


def decode_cursor(cursor: str, key: TypeAdapter[KeyT]) -> KeyT:
    """The key `cursor` holds, validated against `key` (strict base64url, JSON by pydantic)."""
    try:
        raw = base64.b64decode(cursor.encode("ascii"), altchars=b"-_", validate=True)
        return key.validate_json(raw)
    except (ValueError, UnicodeError, binascii.Error) as exc:  # ValidationError is a ValueError
        raise invalid_cursor() from exc
