"""The users context's public queries: what other contexts may ask, in-process.

This replaces the seed's synchronous gRPC calls between services; other contexts never read the
`users` schema themselves. Lookups go through the profile cache.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from messenger.users.wiring import cached_profiles

if TYPE_CHECKING:
    import uuid
    from collections.abc import Sequence

    import psycopg

    from messenger.users.adapters.profile_cache import CachedProfiles
    from messenger.users.models import Profile


@cache
def _profiles() -> CachedProfiles:
    return cached_profiles()


def is_nickname_taken(nickname: str) -> bool:
    """Held by a profile or reserved by a registration whose profile is not created yet."""
    return _profiles().inner.is_nickname_taken(nickname)


def reserve_nickname(conn: psycopg.Connection, user_id: uuid.UUID, nickname: str) -> bool:
    """Reserve the nickname for a new account, inside the account's own transaction (`conn`);
    False if another account holds it. The profile's creation releases the reservation."""
    from messenger.users.adapters.profiles import reserve_nickname as reserve

    return reserve(conn, user_id, nickname)


def profile_by_nickname(nickname: str) -> Profile | None:
    from messenger.users.service import public_profile

    found = _profiles().by_nickname(nickname)
    return public_profile(found) if found else None


def profiles_by_ids(user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Profile]:
    """Current public profiles in one batch (cache first, then one query for the rest)."""
    from messenger.users.service import public_profile

    return {uid: public_profile(p) for uid, p in _profiles().many(user_ids).items()}


def profiles_ordered_among(
    user_ids: Sequence[str], after: tuple[str, uuid.UUID] | None, limit: int
) -> list[Profile]:
    """A page of these users' current profiles in (lower(nickname), user_id) order, after the
    key: one Postgres query (no cache: the page's order is the database's)."""
    return _profiles().inner.ordered_among(user_ids, after, limit)


def forget_profile(user_id: uuid.UUID) -> None:
    """Drop a user's cached profile (the InvalidateCaches consumer calls this)."""
    profile = _profiles().inner.by_id(user_id)
    _profiles().forget(*(profile, user_id) if profile else (user_id,))
