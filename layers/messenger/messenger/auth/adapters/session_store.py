"""Sessions: Postgres is the record, Redis the cache the authorizer reads (one round trip warm).

Tables (migration 0008): `auth.logins` (one row per session, its stable id), `auth.sessions`
(access tokens, by hash) and `auth.refresh_tokens` (by hash, retired by `used_at`).

Cache entries are `<user_id> <expires_epoch> <session_id>` per access token; revoking a session
overwrites each of its access tokens' entries with a tombstone rather than deleting it, and the
authorizer fills the cache only with SET NX, so a lookup that raced the revocation can never
resurrect the session. A second tombstone per session (`revoked-session:<id>`) is what the push
path reads (decision 27), by the stable id the connections hold.

Redis unreachable: `find` reads Postgres (the record, revocations included) and skips the cache
write, so the authorizer survives a Redis outage; only when Postgres is unreachable too does it
raise (a driver error `messenger.kernel.errors.is_unavailable` recognises).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from messenger.auth.session import NewTokens, Rotation, Session
from messenger.kernel.clock import utcnow
from messenger.platform.observability import logger
from messenger.platform.redis import REDIS_DOWN, get_many

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import timedelta

    import psycopg

    from messenger.platform.redis import RedisClient


def _postgres() -> psycopg.Connection[Any]:
    """Postgres is needed only on a cache miss, a login or a logout: the authorizer's warm path
    and most of its cold starts never touch it, so the driver is loaded on first need."""
    from messenger.platform import postgres

    return postgres.connection()


def _transact(work: Callable[[psycopg.Connection[Any]], Any]) -> Any:
    from messenger.platform import postgres

    return postgres.transact(work)


REVOKED = "revoked"


def _cache_key(token_hash: bytes) -> str:
    return f"session:{token_hash.hex()}"


def _revoked_key(session_id: str) -> str:
    return f"revoked-session:{session_id}"


def _parse(token_hash: bytes, cached: str) -> Session:
    parts = cached.split(" ")
    # Entries cached before sessions had ids name the session by the token hash (migration 0008).
    sid = parts[2] if len(parts) > 2 else token_hash.hex()
    return Session(
        user_id=uuid.UUID(parts[0]),
        expires_at=datetime.fromtimestamp(float(parts[1]), UTC),
        session_id=sid,
    )


class CachedSessions:
    def __init__(self, cache_ttl: timedelta, redis: RedisClient) -> None:
        self.cache_ttl_seconds = int(cache_ttl.total_seconds())
        self.redis = redis

    def _ttl(self, expires_at: datetime) -> int:
        remaining = int((expires_at - utcnow()).total_seconds())
        return max(1, min(remaining, self.cache_ttl_seconds))

    @staticmethod
    def _entry(session: Session) -> str:
        return f"{session.user_id} {session.expires_at.timestamp()} {session.session_id}"

    def _cache_new(self, token_hash: bytes, session: Session) -> None:
        """A fresh token cannot have a tombstone: a plain SET; Redis down costs a later query."""
        try:
            self.redis().set(
                _cache_key(token_hash), self._entry(session), ex=self._ttl(session.expires_at)
            )
        except REDIS_DOWN as exc:
            logger.warning("Redis unreachable; session not cached", exc_info=exc)

    def open(self, user_id: uuid.UUID, tokens: NewTokens, user_agent: str | None) -> None:
        def work(conn: psycopg.Connection[Any]) -> None:
            conn.execute(
                "INSERT INTO auth.logins (session_id, user_id, expires_at, user_agent)"
                " VALUES (%s, %s, %s, %s)",
                (tokens.session_id, user_id, tokens.refresh_expires_at, user_agent),
            )
            self._insert_pair(conn, user_id, tokens.session_id, tokens)

        _transact(work)
        self._cache_new(
            tokens.access_hash, Session(user_id, tokens.access_expires_at, tokens.session_id)
        )

    @staticmethod
    def _insert_pair(
        conn: psycopg.Connection[Any], user_id: uuid.UUID, session_id: str, tokens: NewTokens
    ) -> None:
        conn.execute(
            "INSERT INTO auth.sessions (token_hash, user_id, expires_at, session_id)"
            " VALUES (%s, %s, %s, %s)",
            (tokens.access_hash, user_id, tokens.access_expires_at, session_id),
        )
        conn.execute(
            "INSERT INTO auth.refresh_tokens (token_hash, session_id, expires_at)"
            " VALUES (%s, %s, %s)",
            (tokens.refresh_hash, session_id, tokens.refresh_expires_at),
        )

    def rotate(self, refresh_hash: bytes, tokens: NewTokens) -> Rotation:
        def work(conn: psycopg.Connection[Any]) -> Rotation:
            # FOR UPDATE: of two refreshes with one token, the second waits, then sees it used.
            row = conn.execute(
                "SELECT r.session_id, l.user_id, r.used_at IS NOT NULL,"
                " r.expires_at > now() AND l.revoked_at IS NULL"
                " FROM auth.refresh_tokens r JOIN auth.logins l USING (session_id)"
                " WHERE r.token_hash = %s FOR UPDATE OF r, l",
                (refresh_hash,),
            ).fetchone()
            if row is None:
                return Rotation("invalid")
            session_id, user_id, used, live = row
            if not live:
                return Rotation("invalid")
            if used:
                return Rotation("reused", user_id, session_id)
            conn.execute(
                "UPDATE auth.refresh_tokens SET used_at = now() WHERE token_hash = %s",
                (refresh_hash,),
            )
            self._insert_pair(conn, user_id, session_id, tokens)
            conn.execute(
                "UPDATE auth.logins SET last_used_at = now(), expires_at = %s"
                " WHERE session_id = %s",
                (tokens.refresh_expires_at, session_id),
            )
            return Rotation("rotated", user_id, session_id)

        rotation: Rotation = _transact(work)
        if rotation.outcome == "rotated" and rotation.user_id and rotation.session_id:
            self._cache_new(
                tokens.access_hash,
                Session(rotation.user_id, tokens.access_expires_at, rotation.session_id),
            )
        return rotation

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
            session = _parse(token_hash, str(cached))
        else:
            row = (
                _postgres()
                .execute(
                    "SELECT user_id, expires_at, session_id FROM auth.sessions"
                    " WHERE token_hash = %s AND revoked_at IS NULL",
                    (token_hash,),
                )
                .fetchone()
            )
            if row is None:
                return None
            session = Session(user_id=row[0], expires_at=row[1], session_id=row[2])
            if cache_up:
                self._fill(token_hash, session)
        return session if session.expires_at > utcnow() else None

    def _fill(self, token_hash: bytes, session: Session) -> None:
        """Cache a session read from Postgres; a failure only costs the next lookup a query."""
        try:
            self.redis().set(
                _cache_key(token_hash),
                self._entry(session),
                ex=self._ttl(session.expires_at),
                nx=True,
            )
        except REDIS_DOWN as exc:
            logger.warning("Redis unreachable; session not cached", exc_info=exc)

    def session_of(self, token_hash: bytes) -> tuple[uuid.UUID, str] | None:
        row = (
            _postgres()
            .execute(
                "SELECT user_id, session_id FROM auth.sessions WHERE token_hash = %s",
                (token_hash,),
            )
            .fetchone()
        )
        return (row[0], row[1]) if row else None

    def revoke(
        self, user_id: uuid.UUID, session_ids: Sequence[str] | None, keep: str | None
    ) -> list[str]:
        def work(conn: psycopg.Connection[Any]) -> list[str]:
            revoked = conn.execute(
                "UPDATE auth.logins SET revoked_at = now()"
                " WHERE user_id = %s AND revoked_at IS NULL"
                " AND (%s::text[] IS NULL OR session_id = ANY(%s::text[]))"
                " AND (%s::text IS NULL OR session_id <> %s::text)"
                " RETURNING session_id",
                (user_id, session_ids, session_ids, keep, keep),
            ).fetchall()
            ids = [r[0] for r in revoked]
            if not ids:
                return []
            tokens = conn.execute(
                "UPDATE auth.sessions SET revoked_at = now()"
                " WHERE session_id = ANY(%s) AND revoked_at IS NULL AND expires_at > now()"
                " RETURNING token_hash, expires_at",
                (ids,),
            ).fetchall()
            # The tombstones go before the commit, inside the transaction: with Redis down the
            # revocation rolls back (503, retryable with the same token) rather than commit in
            # Postgres and leave cached copies of the tokens valid once Redis is back. They
            # must outlive any cached copy of the tokens: the cache TTL bounds it.
            pipe = self.redis().pipeline(transaction=False)
            for token_hash, expires_at in tokens:
                pipe.set(_cache_key(bytes(token_hash)), REVOKED, ex=self._ttl(expires_at))
            for sid in ids:
                pipe.set(_revoked_key(sid), REVOKED, ex=self.cache_ttl_seconds)
            pipe.execute()
            return ids

        return _transact(work)

    def known_revoked(self, session_ids: Sequence[str]) -> set[str]:
        """Those with a revocation tombstone in the cache: one pipelined round trip."""
        values = get_many(self.redis(), [_revoked_key(s) for s in session_ids])
        return {s for s, value in zip(session_ids, values, strict=True) if value == REVOKED}

    def list_live(
        self, user_id: uuid.UUID, limit: int, after: tuple[datetime, str] | None
    ) -> list[tuple[str, datetime, datetime, str | None]]:
        """The user's live sessions, newest first: (id, created, last used, user agent)."""
        rows = (
            _postgres()
            .execute(
                "SELECT session_id, created_at, last_used_at, user_agent FROM auth.logins"
                " WHERE user_id = %s AND revoked_at IS NULL AND expires_at > now()"
                " AND (%s::timestamptz IS NULL OR (created_at, session_id) < (%s, %s))"
                " ORDER BY created_at DESC, session_id DESC LIMIT %s",
                (
                    user_id,
                    after[0] if after else None,
                    after[0] if after else None,
                    after[1] if after else None,
                    limit,
                ),
            )
            .fetchall()
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]
