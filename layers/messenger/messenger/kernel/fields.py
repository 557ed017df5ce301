"""Field types shared by the API models of every context.

Every text a client sends goes through `Text` (directly or via the types built on it), so one
rule holds everywhere: a string is Unicode text without NUL. NUL (U+0000) is refused because
Postgres text cannot store it; an unpaired surrogate (`"\\ud800"`, valid JSON escape, not a
character) because it cannot be encoded as UTF-8 for any store. Both are a 422 at the edge,
before anything is read or written.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, StringConstraints

from messenger.kernel.clock import rfc3339

# RFC 3339 UTC with milliseconds on the wire, e.g. 2026-11-26T16:30:31.123Z (API.md).
Timestamp = Annotated[datetime, PlainSerializer(rfc3339, return_type=str, when_used="json")]

# What every text field says in the OpenAPI document (appended to its own description).
TEXT_RULE = "Unicode text: NUL (U+0000) and unpaired surrogates are refused (422)."


def check_text(value: str) -> str:
    """`value` if it is text every store accepts, else ValueError (a 422 in the models)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL (U+0000)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must not contain unpaired surrogates (not Unicode text)") from exc
    return value


def stripped_text(value: object) -> object:
    """A before-validator: a string trimmed and checked (`check_text`); anything else as is."""
    return check_text(value.strip()) if isinstance(value, str) else value


# Any text field, query or path parameter; `StrippedText` trims surrounding whitespace first.
Text = Annotated[str, AfterValidator(check_text)]
StrippedText = Annotated[str, BeforeValidator(stripped_text)]

# API.md: 3 to 32 characters of [A-Za-z0-9_.], unique case-insensitively (the pattern already
# excludes NUL and surrogates).
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
