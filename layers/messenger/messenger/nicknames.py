"""The nickname rule shared by registration and profiles (API.md: 3-32 chars of [A-Za-z0-9_.])."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

NICKNAME_PATTERN = r"^[A-Za-z0-9_.]{3,32}$"
NICKNAME_MAX = 32

Nickname = Annotated[str, StringConstraints(pattern=NICKNAME_PATTERN)]
