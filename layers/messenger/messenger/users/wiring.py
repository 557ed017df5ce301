"""Composition root of the users context."""

from __future__ import annotations

from functools import cache

from messenger.users.profiles import PostgresProfiles
from messenger.users.service import UsersService


@cache
def users_service() -> UsersService:
    return UsersService(profiles=PostgresProfiles())
