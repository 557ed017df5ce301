"""The floors of the session RPCs (mixed into tests/perf/floors.py's Floors): the Postgres and
Redis calls a refresh and a session listing make, made directly."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import Any

from tests.perf.pacing import Samples, timed


def _token_hash() -> bytes:
    return hashlib.sha256(secrets.token_urlsafe(32).encode()).digest()


class SessionFloors:
    pg: Any
    redis: Any
    user_id: uuid.UUID

    def _email_verified(self) -> None:
        self.pg.execute(
            "SELECT user_id, email, password_hash, created_at, email_verified_at IS NOT NULL"
            " FROM auth.accounts WHERE user_id = %s",
            (self.user_id,),
        ).fetchone()

    def refresh(self, n: int) -> Samples:
        """One transaction (the token locked, retired, the new pair, the login's last use),
        then the new access token cached."""
        session_id = str(uuid.uuid4())
        current = _token_hash()
        with self.pg.transaction():
            self.pg.execute(
                "INSERT INTO auth.logins (session_id, user_id, expires_at)"
                " VALUES (%s, %s, now() + interval '60 days')",
                (session_id, self.user_id),
            )
            self.pg.execute(
                "INSERT INTO auth.refresh_tokens (token_hash, session_id, expires_at)"
                " VALUES (%s, %s, now() + interval '60 days')",
                (current, session_id),
            )

        def once(_: int) -> None:
            nonlocal current
            access, fresh = _token_hash(), _token_hash()
            with self.pg.transaction():
                row = self.pg.execute(
                    "SELECT r.session_id, l.user_id, r.used_at IS NOT NULL,"
                    " r.expires_at > now() AND l.revoked_at IS NULL"
                    " FROM auth.refresh_tokens r JOIN auth.logins l USING (session_id)"
                    " WHERE r.token_hash = %s FOR UPDATE OF r, l",
                    (current,),
                ).fetchone()
                assert row is not None
                self.pg.execute(
                    "UPDATE auth.refresh_tokens SET used_at = now() WHERE token_hash = %s",
                    (current,),
                )
                self.pg.execute(
                    "INSERT INTO auth.sessions (token_hash, user_id, expires_at, session_id)"
                    " VALUES (%s, %s, now() + interval '1 hour', %s)",
                    (access, self.user_id, session_id),
                )
                self.pg.execute(
                    "INSERT INTO auth.refresh_tokens (token_hash, session_id, expires_at)"
                    " VALUES (%s, %s, now() + interval '60 days')",
                    (fresh, session_id),
                )
                self.pg.execute(
                    "UPDATE auth.logins SET last_used_at = now(),"
                    " expires_at = now() + interval '60 days' WHERE session_id = %s",
                    (session_id,),
                )
            self.redis.set(f"session:{access.hex()}", f"{self.user_id} 0 {session_id}", ex=3600)
            current = fresh

        return timed(n, once)

    def list_sessions(self, n: int, user: str, limit: int = 51) -> Samples:
        """The user's live sessions, newest first (one index range)."""
        return timed(
            n,
            lambda _: self.pg.execute(
                "SELECT session_id, created_at, last_used_at, user_agent FROM auth.logins"
                " WHERE user_id = %s AND revoked_at IS NULL AND expires_at > now()"
                " AND (%s::timestamptz IS NULL OR (created_at, session_id) < (%s, %s))"
                " ORDER BY created_at DESC, session_id DESC LIMIT %s",
                (user, None, None, None, limit),
            ).fetchall(),
        )
