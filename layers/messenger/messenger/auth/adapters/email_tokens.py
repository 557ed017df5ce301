"""Verification and reset tokens in Postgres (`auth.email_tokens`, by SHA-256): used once, in
the same transaction as what they allow (the address verified, the password set)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from messenger.platform import inbox, postgres

if TYPE_CHECKING:
    import uuid
    from collections.abc import Callable
    from datetime import datetime

    import psycopg

    from messenger.auth.email import Purpose

# A live token of this purpose, for the address the account still has; taken (used) at once.
_TAKE = (
    "UPDATE auth.email_tokens t SET used_at = now() FROM auth.accounts a"
    " WHERE t.token_hash = %s AND t.purpose = %s AND t.used_at IS NULL AND t.expires_at > now()"
    " AND a.user_id = t.user_id AND a.email = t.email RETURNING t.user_id, t.email"
)


class PostgresEmailTokens:
    def issue(
        self,
        token_hash: bytes,
        user_id: uuid.UUID,
        purpose: Purpose,
        email: str,
        expires_at: datetime,
    ) -> None:
        postgres.connection().execute(
            "INSERT INTO auth.email_tokens (token_hash, user_id, purpose, email, expires_at)"
            " VALUES (%s, %s, %s, %s, %s)",
            (token_hash, user_id, purpose, email, expires_at),
        )

    def verify_email(self, token_hash: bytes) -> uuid.UUID | None:
        def work(conn: psycopg.Connection[Any]) -> uuid.UUID | None:
            row = conn.execute(_TAKE, (token_hash, "verify_email")).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE auth.accounts SET email_verified_at = coalesce(email_verified_at, now())"
                " WHERE user_id = %s",
                (row[0],),
            )
            user_id: uuid.UUID = row[0]
            return user_id

        result: uuid.UUID | None = postgres.transact(work)
        return result

    def reset_password(self, token_hash: bytes, password_hash: str) -> tuple[uuid.UUID, str] | None:
        def work(conn: psycopg.Connection[Any]) -> tuple[uuid.UUID, str] | None:
            row = conn.execute(_TAKE, (token_hash, "reset_password")).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE auth.accounts SET password_hash = %s,"
                " email_verified_at = coalesce(email_verified_at, now()) WHERE user_id = %s",
                (password_hash, row[0]),
            )
            # Every other reset link of the account dies with this one.
            conn.execute(
                "UPDATE auth.email_tokens SET used_at = now()"
                " WHERE user_id = %s AND purpose = 'reset_password' AND used_at IS NULL",
                (row[0],),
            )
            return row[0], row[1]

        result: tuple[uuid.UUID, str] | None = postgres.transact(work)
        return result

    def once(self, consumer: str, event_id: uuid.UUID, work: Callable[[], object]) -> bool:
        # `work` issues its token on this same connection (postgres.connection() is one per
        # environment), so the token, the claim and the send's outcome commit together.
        def claimed(conn: psycopg.Connection[Any]) -> bool:
            if not inbox.claim(conn, consumer, event_id):
                return False
            work()
            return True

        done: bool = postgres.transact(claimed)
        return done
