"""Composition root of the users context (called at module scope by each function)."""

from __future__ import annotations

from messenger.users.profiles import PostgresProfiles
from messenger.users.service import UsersService


def users_service() -> UsersService:
    return UsersService(profiles=PostgresProfiles())
