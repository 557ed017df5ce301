"""Opaque keyset cursors and the page shape of API.md (`{"items": [...], "next_cursor": ...}`).

A cursor is the last item's sort key, JSON-encoded and base64url'd: opaque to clients, stable
across calls, and tamper-evident enough (a cursor that does not decode is a 422, never a 500).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, Field

from messenger.errors import InvalidInput

ItemT = TypeVar("ItemT")

Limit = Annotated[int, Field(ge=1, le=100)]


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None


def encode_cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def invalid_cursor() -> InvalidInput:
    return InvalidInput(
        "validation_failed",
        "The cursor is not one this API issued",
        errors=[{"field": "cursor", "message": "invalid cursor"}],
    )


def decode_cursor(cursor: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise invalid_cursor() from exc
