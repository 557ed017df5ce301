"""The auth side of account deletion (messenger.users.deletion.AccountCredentials): passwords
and sessions through the auth context's own operations (`messenger.auth.api.AuthApi`: the
throttle counts a wrong password as a login would; every session ends through the same hooks
as a logout, so connections close and devices go), and the one statement only a deletion makes:
the account row, with the profile, in the transaction that records `user.deleted`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from messenger.platform import outbox

if TYPE_CHECKING:
    import uuid

    import psycopg

    from messenger.platform.unit_of_work import UnitOfWork


class ProfileErasure(Protocol):
    """The users context's api: remove the profile (freeing the nickname) in this transaction."""

    def erase_profile(self, conn: psycopg.Connection, user_id: uuid.UUID) -> Any: ...

    def forget_erased(self, profile: Any) -> None: ...


class AuthOperations(Protocol):
    """What messenger.auth.api.AuthApi offers a deletion."""

    def has_password(self, user_id: uuid.UUID) -> bool: ...

    def verify_password(self, user_id: uuid.UUID, password: str, client_ip: str = "") -> bool: ...

    def revoke_all_sessions(self, user_id: uuid.UUID) -> None: ...


@dataclass
class PostgresAccountCredentials:
    auth: AuthOperations
    profiles: ProfileErasure

    def has_password(self, user_id: uuid.UUID) -> bool:
        return self.auth.has_password(user_id)

    def verify_password(self, user_id: uuid.UUID, password: str, client_ip: str) -> bool:
        """As a login would: throttled per (email, IP) and per email, a failure counted."""
        return self.auth.verify_password(user_id, password, client_ip)

    def revoke_all_sessions(self, user_id: uuid.UUID) -> None:
        """Every session refused from the next request on (the cache first: Redis down is a
        503 before anything is written), then the session-ended hooks."""
        self.auth.revoke_all_sessions(user_id)

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
