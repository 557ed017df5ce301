"""The auth context's public operations, for other contexts: revoked sessions (realtime's push
path), and for account deletion: ending every session, checking a password."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from messenger.platform.observability import logger
from messenger.platform.redis import REDIS_DOWN

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from messenger.auth.models import Account


class Revocations(Protocol):
    def known_revoked(self, session_ids: Sequence[str]) -> set[str]:
        """Those with a revocation tombstone in the cache (raises REDIS_DOWN errors)."""


class SessionEnder(Protocol):
    def revoke_all_sessions(self, user_id: uuid.UUID) -> list[str]: ...


class PasswordCheck(Protocol):
    def has_password(self, user_id: uuid.UUID) -> bool: ...

    def verify_password(self, user_id: uuid.UUID, password: str, client_ip: str) -> bool: ...


class AccountReader(Protocol):
    def by_id(self, user_id: uuid.UUID) -> Account | None: ...


@dataclass(frozen=True)
class AuthApi:
    sessions: Revocations
    ender: SessionEnder | None = None
    passwords: PasswordCheck | None = None
    accounts: AccountReader | None = None

    def is_email_verified(self, user_id: uuid.UUID) -> bool:
        """Whether the account confirmed its address (one primary-key read)."""
        if self.accounts is None:
            raise RuntimeError("reading accounts needs the account store")
        account = self.accounts.by_id(user_id)
        return account is not None and account.email_verified

    def known_revoked(self, session_ids: Iterable[str]) -> set[str]:
        """Those of these sessions (ids as `SessionService.identify` gives them) known revoked.

        One pipelined Redis round trip over the revocation tombstones, for the push path. Best
        effort: the guarantee is that ending a session closes its connections and `$connect`
        refuses one registered in the race; with Redis down this answers "none" rather than
        stopping pushes.
        """
        ids = list(dict.fromkeys(session_ids))
        if not ids:
            return set()
        try:
            return self.sessions.known_revoked(ids)
        except REDIS_DOWN as exc:
            logger.warning("Session revocations unavailable", extra={"error": repr(exc)})
            return set()

    def revoke_all_sessions(self, user_id: uuid.UUID) -> None:
        """End every session of the user, through the same hooks as a logout (connections
        closed, devices removed)."""
        if self.ender is None:
            raise RuntimeError("ending sessions needs the session service")
        self.ender.revoke_all_sessions(user_id)

    def verify_password(self, user_id: uuid.UUID, password: str, client_ip: str = "") -> bool:
        """Whether `password` is the account's; counts toward the login throttle like a login
        (per the account's email and `client_ip`): raises RateLimited once over. False for an
        unknown account or one without a password."""
        if self.passwords is None:
            raise RuntimeError("checking passwords needs the password service")
        return self.passwords.verify_password(user_id, password, client_ip)

    def has_password(self, user_id: uuid.UUID) -> bool:
        """False for an OAuth-only (or unknown) account."""
        if self.passwords is None:
            raise RuntimeError("checking passwords needs the password service")
        return self.passwords.has_password(user_id)
