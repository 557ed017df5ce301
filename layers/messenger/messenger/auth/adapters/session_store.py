"""Sessions: Postgres is the record, Redis the cache the authorizer reads (one round trip warm).

Cache entries are `<user_id> <expires_epoch>`; a logout overwrites the entry with a tombstone
rather than deleting it, and the authorizer fills the cache only with SET NX, so a lookup that
raced the logout can never resurrect the session.

Redis unreachable: `find` reads Postgres (the record, revocations included) and skips the cache
write, so the authorizer survives a Redis outage; only when Postgres is unreachable too does it
raise (a driver error `messenger.kernel.errors.is_unavailable` recognises).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from messenger.auth.session import Session
from messenger.kernel.clock import utcnow
from messenger.platform.observability import logger
from messenger.platform.redis import REDIS_DOWN, get_many

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import timedelta

    import psycopg

    from messenger.platform.redis import RedisClient


def _postgres() -> psycopg.Connection:
    """Postgres is needed only on a cache miss, a login or a logout: the authorizer's warm path
    and most of its cold starts never touch it, so the driver is loaded on first need."""
    from messenger.platform import postgres

    return postgres.connection()


REVOKED = "revoked"


def _cache_key(token_hash: bytes) -> str:
    return f"session:{token_hash.hex()}"


class CachedSessions:
    def __init__(self, cache_ttl: timedelta, redis: RedisClient) -> None:
        self.cache_ttl_seconds = int(cache_ttl.total_seconds())
        self.redis = redis

    def _ttl(self, expires_at: datetime) -> int:
        remaining = int((expires_at - utcnow()).total_seconds())
        return max(1, min(remaining, self.cache_ttl_seconds))

    def create(self, token_hash: bytes, session: Session) -> None:
        _postgres().execute(
            "INSERT INTO auth.sessions (token_hash, user_id, expires_at) VALUES (%s, %s, %s)",
            (token_hash, session.user_id, session.expires_at),
        )
        self.redis().set(
            _cache_key(token_hash),
            f"{session.user_id} {session.expires_at.timestamp()}",
            ex=self._ttl(session.expires_at),
        )

    def find(self, token_hash: bytes) -> Session | None:
        try:
            cached = self.redis().get(_cache_key(token_hash))
            cache_up = True
        except REDIS_DOWN as exc:
            logger.warning("Redis unreachable; reading the session from Postgres", exc_info=exc)
            cached, cache_up = None, False
        if cached == REVOKED:
            return None
        if cached:
            user_id, expires = str(cached).split(" ")
            session = Session(
                user_id=uuid.UUID(user_id), expires_at=datetime.fromtimestamp(float(expires), UTC)
            )
        else:
            row = (
                _postgres()
                .execute(
                    "SELECT user_id, expires_at FROM auth.sessions"
                    " WHERE token_hash = %s AND revoked_at IS NULL",
                    (token_hash,),
                )
                .fetchone()
            )
            if row is None:
                return None
            session = Session(user_id=row[0], expires_at=row[1])
            if cache_up:
                self._fill(token_hash, session)
        return session if session.expires_at > utcnow() else None

    def _fill(self, token_hash: bytes, session: Session) -> None:
        """Cache a session read from Postgres; a failure only costs the next lookup a query."""
        try:
            self.redis().set(
                _cache_key(token_hash),
                f"{session.user_id} {session.expires_at.timestamp()}",
                ex=self._ttl(session.expires_at),
                nx=True,
            )
        except REDIS_DOWN as exc:
            logger.warning("Redis unreachable; session not cached", exc_info=exc)

    def revoke(self, token_hash: bytes) -> uuid.UUID | None:
        row = (
            _postgres()
            .execute(
                "UPDATE auth.sessions SET revoked_at = now()"
                " WHERE token_hash = %s AND revoked_at IS NULL RETURNING user_id, expires_at",
                (token_hash,),
            )
            .fetchone()
        )
        if row is None:
            return None
        # The tombstone must outlive any cached copy of the session: the cache TTL bounds that.
        self.redis().set(_cache_key(token_hash), REVOKED, ex=self._ttl(row[1]))
        user_id: uuid.UUID = row[0]
        return user_id

    def known_revoked(self, token_hashes: Sequence[bytes]) -> set[bytes]:
        """Those with a revocation tombstone in the cache: one pipelined round trip."""
        values = get_many(self.redis(), [_cache_key(h) for h in token_hashes])
        return {h for h, value in zip(token_hashes, values, strict=True) if value == REVOKED}
