"""Field types shared by the API models of every context."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from pydantic import PlainSerializer, StringConstraints

from messenger.clock import rfc3339

# RFC 3339 UTC with milliseconds on the wire, e.g. 2026-11-26T16:30:31.123Z (API.md).
Timestamp = Annotated[datetime, PlainSerializer(rfc3339, return_type=str, when_used="json")]

# API.md: 3 to 32 characters of [A-Za-z0-9_.], unique case-insensitively.
NICKNAME_PATTERN = r"^[A-Za-z0-9_.]{3,32}$"
NICKNAME_MAX = 32
Nickname = Annotated[str, StringConstraints(pattern=NICKNAME_PATTERN)]


def nickname_variants(nickname: str) -> Iterator[str]:
    """The nickname, then `name_2`..`name_9`, then random suffixes; always a valid nickname."""
    yield nickname
    for n in range(2, 10):
        suffix = f"_{n}"
        yield nickname[: NICKNAME_MAX - len(suffix)] + suffix
    while True:
        suffix = "_" + secrets.token_hex(3)
        yield nickname[: NICKNAME_MAX - len(suffix)] + suffix
