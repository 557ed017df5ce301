"""The auth side of account deletion (messenger.users.deletion.AccountCredentials) over what
main has today: the accounts and sessions tables, the session cache, the login throttle and the
realtime context's `close_session_connections`. Thin on purpose: at merge each method becomes a
call to messenger.auth.api's operation of the same name (sessions and tokens are reworked there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from messenger.auth.adapters.session_store import REVOKED, _cache_key
from messenger.auth.service import INVALID_CREDENTIALS
from messenger.auth.session import session_id
from messenger.kernel.clock import utcnow
from messenger.kernel.errors import RateLimited
from messenger.platform import outbox, postgres

if TYPE_CHECKING:
    import uuid

    import psycopg

    from messenger.auth.service import LoginThrottle, PasswordHasher
    from messenger.auth.session import SessionConnections
    from messenger.platform.redis import RedisClient
    from messenger.platform.unit_of_work import UnitOfWork


class ProfileErasure(Protocol):
    """The users context's api: remove the profile (freeing the nickname) in this transaction."""

    def erase_profile(self, conn: psycopg.Connection, user_id: uuid.UUID) -> Any: ...

    def forget_erased(self, profile: Any) -> None: ...


@dataclass
class PostgresAccountCredentials:
    passwords: PasswordHasher
    throttle: LoginThrottle
    redis: RedisClient
    connections: SessionConnections
    profiles: ProfileErasure
    cache_ttl_seconds: int

    def _account(self, user_id: uuid.UUID) -> tuple[str, str | None] | None:
        row = (
            postgres.connection()
            .execute(
                "SELECT email, password_hash FROM auth.accounts WHERE user_id = %s", (user_id,)
            )
            .fetchone()
        )
        return (row[0], row[1]) if row else None

    def has_password(self, user_id: uuid.UUID) -> bool:
        account = self._account(user_id)
        return account is not None and account[1] is not None

    def verify_password(self, user_id: uuid.UUID, password: str, client_ip: str) -> bool:
        """As a login would: throttled per (email, IP) and per email, a failure counted."""
        account = self._account(user_id)
        if account is None or account[1] is None:
            return False
        email, password_hash = account[0], account[1]
        wait = self.throttle.retry_after(email, client_ip)
        if wait is not None:
            raise RateLimited(INVALID_CREDENTIALS + "; too many failures, try again later", wait)
        if self.passwords.verify(password_hash, password):
            return True
        self.throttle.record_failure(email, client_ip)
        return False

    def revoke_all_sessions(self, user_id: uuid.UUID) -> None:
        """Tombstone every live session in the cache first (Redis down: nothing written, 503),
        then mark them revoked in Postgres, then close their WebSocket connections."""
        rows = (
            postgres.connection()
            .execute(
                "SELECT token_hash, expires_at FROM auth.sessions"
                " WHERE user_id = %s AND expires_at > now()",
                (user_id,),
            )
            .fetchall()
        )
        now = utcnow()
        if rows:
            pipe = self.redis().pipeline(transaction=False)
            for token_hash, expires_at in rows:
                ttl = max(1, min(int((expires_at - now).total_seconds()), self.cache_ttl_seconds))
                pipe.set(_cache_key(bytes(token_hash)), REVOKED, ex=ttl)
            pipe.execute()
        postgres.connection().execute(
            "UPDATE auth.sessions SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL",
            (user_id,),
        )
        for token_hash, _ in rows:
            self.connections.close_session_connections(user_id, session_id(bytes(token_hash)))

    def erase_account(self, user_id: uuid.UUID, uow: UnitOfWork) -> bool:
        """The account row (its sessions and OAuth identities cascade: the email is free), the
        profile and nickname (users api), and the user's published events kept in the outbox
        (they carry the email and nickname), with `user.deleted`, in one transaction."""
        erased: list[Any] = []

        def work(conn: psycopg.Connection) -> bool:
            if conn.execute("DELETE FROM auth.accounts WHERE user_id = %s", (user_id,)).rowcount:
                profile = self.profiles.erase_profile(conn, user_id)
                conn.execute(
                    "DELETE FROM messaging.outbox WHERE key = %s AND published_at IS NOT NULL",
                    (str(user_id),),
                )
                erased.append(profile or user_id)
                return True
            return False

        done = outbox.transact(uow, work, changed=bool)
        for profile in erased:
            self.profiles.forget_erased(profile)  # best effort; the consumer forgets again
        return done
