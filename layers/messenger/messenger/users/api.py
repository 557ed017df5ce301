"""The users context's public operations: what other contexts may ask it, in-process.

This replaces the seed's synchronous gRPC calls between services; other contexts never read the
`users` schema themselves. messenger.bootstrap builds it from the profile cache (lookups that may
be an instant stale) and the Postgres profiles (what must be current: nickname checks, pages in
the database's order, the profile whose cached keys a change makes stale).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from messenger.users.models import OwnProfile, Profile

if TYPE_CHECKING:
    import uuid
    from collections.abc import Sequence
    from datetime import datetime

    import psycopg

__all__ = ["Profile", "ProfileCache", "ProfileRecords", "UsersApi"]


class ProfileCache(Protocol):
    def by_nickname(self, nickname: str) -> OwnProfile | None: ...

    def many(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, OwnProfile]: ...

    def forget(self, *profiles: OwnProfile | uuid.UUID) -> None: ...


class ProfileRecords(Protocol):
    def by_id(self, user_id: uuid.UUID) -> OwnProfile | None: ...

    def is_nickname_taken(self, nickname: str) -> bool: ...

    def reserve_nickname(self, conn: psycopg.Connection, user_id: uuid.UUID, nickname: str) -> bool:
        """Inside the caller's transaction (`conn`): False if another account holds it."""

    def sort_keys(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, tuple[str, datetime]]: ...

    def erase_profile(self, conn: psycopg.Connection, user_id: uuid.UUID) -> OwnProfile | None: ...


@dataclass(frozen=True)
class UsersApi:
    cache: ProfileCache
    records: ProfileRecords

    def is_nickname_taken(self, nickname: str) -> bool:
        """Held by a profile or reserved by a registration whose profile is not created yet."""
        return self.records.is_nickname_taken(nickname)

    def reserve_nickname(self, conn: psycopg.Connection, user_id: uuid.UUID, nickname: str) -> bool:
        """Reserve the nickname for a new account, inside the account's own transaction (`conn`);
        False if another account holds it. The profile's creation releases the reservation."""
        return self.records.reserve_nickname(conn, user_id, nickname)

    def profile_by_nickname(self, nickname: str) -> Profile | None:
        from messenger.users.service import public_profile

        found = self.cache.by_nickname(nickname)
        return public_profile(found) if found else None

    def profiles_by_ids(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Profile]:
        """Current public profiles in one batch (cache first, then one query for the rest)."""
        from messenger.users.service import public_profile

        return {uid: public_profile(p) for uid, p in self.cache.many(user_ids).items()}

    def nickname_sort_keys(
        self, user_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[str, datetime]]:
        """Each user's lower(nickname) as of now, with the profile's version (the `updated_at`
        that `user.profile_updated` carries); a registration's reserved nickname, at version
        -infinity, until its profile exists. Postgres, not the cache: another context stores it."""
        return self.records.sort_keys(user_ids)

    def erase_profile(self, conn: psycopg.Connection, user_id: uuid.UUID) -> OwnProfile | None:
        """Account deletion, inside the account's transaction (`conn`): the profile and the
        nickname's reservations go, so the nickname is free (and the user unknown) once it
        commits. The profile removed (its cached copies: `forget_erased`), or None."""
        return self.records.erase_profile(conn, user_id)

    def forget_erased(self, profile: OwnProfile | uuid.UUID) -> None:
        """Drop the cached copies of a profile `erase_profile` removed (by id and nickname)."""
        self.cache.forget(profile)

    def forget_profile(self, user_id: uuid.UUID) -> None:
        """Drop a user's cached profile (the InvalidateCaches consumer calls this)."""
        profile = self.records.by_id(user_id)
        self.cache.forget(*(profile, user_id) if profile else (user_id,))
