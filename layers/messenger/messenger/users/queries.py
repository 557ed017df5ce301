"""The users context's public queries: what other contexts may ask, in-process.

This replaces the seed's synchronous gRPC calls between services; other contexts never read the
`users` schema themselves.
"""

from __future__ import annotations

from messenger.users.profiles import PostgresProfiles

_profiles = PostgresProfiles()


def is_nickname_taken(nickname: str) -> bool:
    return _profiles.is_nickname_taken(nickname)
