"""Email verification and password reset (decision 49): single-use tokens, stored hashed, sent in
a mail whose link carries `token=<token>`.

Neither answer reveals whether an account exists: a reset request answers 202 for any address,
after at least `reset_min_seconds` (the time a real send takes is hidden under that floor), and
verification refuses every bad token alike.
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from typing import TYPE_CHECKING, Literal, Protocol
from urllib.parse import urlencode

from messenger.auth.session import hash_token
from messenger.kernel.clock import utcnow
from messenger.kernel.errors import BadRequest, RateLimited
from messenger.platform.observability import logger

if TYPE_CHECKING:
    from collections.abc import Callable

    from messenger.auth.models import Account
    from messenger.auth.service import LoginThrottle, PasswordHasher
    from messenger.auth.session import SessionService
    from messenger.kernel.context import RequestContext

Purpose = Literal["verify_email", "reset_password"]


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str


class Mailer(Protocol):
    def send(self, mail: Mail) -> None: ...


class MailAccounts(Protocol):
    def by_id(self, user_id: uuid.UUID) -> Account | None: ...

    def by_email(self, email: str) -> Account | None: ...


class EmailTokens(Protocol):
    def issue(
        self,
        token_hash: bytes,
        user_id: uuid.UUID,
        purpose: Purpose,
        email: str,
        expires_at: datetime,
    ) -> None: ...

    def verify_email(self, token_hash: bytes) -> uuid.UUID | None:
        """Use a live verification token (once) and mark its address verified, in one
        transaction; the account, or None for an unknown, expired, used or stale token."""

    def reset_password(self, token_hash: bytes, password_hash: str) -> tuple[uuid.UUID, str] | None:
        """Use a live reset token (once) and set the password (the address is verified too: the
        mail reached its owner), in one transaction; (account, email) or None."""

    def once(self, consumer: str, event_id: uuid.UUID, work: Callable[[], object]) -> bool:
        """Run `work` in one transaction with the consumer's inbox claim of the event: False,
        doing nothing, for a redelivery; an exception from `work` rolls the claim back."""


class MailQuota(Protocol):
    def wait_before(self, key: str, interval_seconds: int) -> int | None:
        """Take the key's one slot per interval: None if taken now, else the seconds left."""

    def within(self, key: str, limit: int, window_seconds: int) -> bool:
        """Count one use of the key; whether it stays within `limit` per window."""


class InvalidEmailToken(BadRequest):
    def __init__(self) -> None:
        super().__init__("invalid_token", "The link is unknown, expired or already used")


def _digest_key(prefix: str, value: str) -> str:
    return f"{prefix}:{hash_token(value).hex()}"


@dataclass
class EmailService:
    accounts: MailAccounts
    tokens: EmailTokens
    mailer: Mailer
    quota: MailQuota
    link_base_url: str
    verify_ttl: timedelta = timedelta(hours=24)
    reset_ttl: timedelta = timedelta(minutes=30)
    resend_interval_seconds: int = 60
    reset_max_mails: int = 3
    reset_window_seconds: int = 15 * 60
    reset_min_seconds: float = 0.3
    passwords: PasswordHasher | None = None
    sessions: SessionService | None = None
    throttle: LoginThrottle | None = None

    def _link(self, path: str, token: str) -> str:
        return f"{self.link_base_url.rstrip('/')}/{path}?{urlencode({'token': token})}"

    def _issue(self, account: Account, purpose: Purpose, ttl: timedelta) -> str:
        token = secrets.token_urlsafe(32)
        self.tokens.issue(
            hash_token(token), account.user_id, purpose, account.email, utcnow() + ttl
        )
        return token

    # -- verification --------------------------------------------------------------------------

    def send_verification(self, user_id: uuid.UUID) -> bool:
        """A verification mail to the account's address, unless it is verified (or gone)."""
        account = self.accounts.by_id(user_id)
        if account is None or account.email_verified:
            return False
        link = self._link("verify-email", self._issue(account, "verify_email", self.verify_ttl))
        hours = int(self.verify_ttl.total_seconds() // 3600)
        self.mailer.send(
            Mail(
                to=account.email,
                subject="Confirm your email address",
                text=(
                    "Confirm the address of your Messenger account by opening this link"
                    f" (valid {hours} hours):\n\n{link}\n\n"
                    "If you did not sign up, ignore this mail."
                ),
                html=(
                    "<p>Confirm the address of your Messenger account"
                    f' (the link is valid {hours} hours):</p><p><a href="{escape(link)}">'
                    "Confirm my address</a></p><p>If you did not sign up, ignore this mail.</p>"
                ),
            )
        )
        return True

    def on_registered(self, event_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        """The verification mail of a new account, once per `user.registered` event: sent inside
        the claim's transaction, so a failed send is retried (and a crash after the send but
        before the commit sends it twice: at least once, never lost)."""
        return self.tokens.once(
            "auth-verification-mail", event_id, lambda: self.send_verification(user_id)
        )

    def resend_verification(self, ctx: RequestContext) -> None:
        """At most one mail a minute per account (429 with Retry-After); nothing to send for a
        verified address (still 202: the client just asked to be sure)."""
        user_id = ctx.caller
        wait = self.quota.wait_before(f"verify-resend:{user_id}", self.resend_interval_seconds)
        if wait is not None:
            raise RateLimited("A verification mail was sent less than a minute ago", wait)
        self.send_verification(user_id)

    def verify(self, token: str) -> uuid.UUID:
        user_id = self.tokens.verify_email(hash_token(token))
        if user_id is None:
            raise InvalidEmailToken()
        return user_id

    # -- reset ---------------------------------------------------------------------------------

    def request_reset(self, email: str) -> None:
        """Mail a reset link to an existing address, at most `reset_max_mails` a window per
        address (silently dropped beyond); answers no sooner than `reset_min_seconds` after
        the call either way, so the time does not tell whether the address has an account."""
        started = time.monotonic()
        try:
            self._request_reset(email.strip().lower())
        finally:
            left = self.reset_min_seconds - (time.monotonic() - started)
            if left > 0:
                time.sleep(left)

    def _request_reset(self, email: str) -> None:
        # Counted for unknown addresses too: the quota's answer must not depend on the account.
        if not self.quota.within(
            _digest_key("reset-mails", email), self.reset_max_mails, self.reset_window_seconds
        ):
            logger.info("Password reset mail dropped: over the address's quota")
            return
        account = self.accounts.by_email(email)
        if account is None:
            return
        link = self._link("reset-password", self._issue(account, "reset_password", self.reset_ttl))
        minutes = int(self.reset_ttl.total_seconds() // 60)
        self.mailer.send(
            Mail(
                to=account.email,
                subject="Reset your password",
                text=(
                    "Someone asked to reset the password of your Messenger account. Choose a new"
                    f" one with this link (valid {minutes} minutes):\n\n{link}\n\n"
                    "If it was not you, ignore this mail: your password stays as it is."
                ),
                html=(
                    "<p>Someone asked to reset the password of your Messenger account.</p>"
                    f'<p><a href="{escape(link)}">Choose a new password</a>'
                    f" (valid {minutes} minutes)</p><p>If it was not you, ignore this mail:"
                    " your password stays as it is.</p>"
                ),
            )
        )

    def confirm_reset(self, token: str, new_password: str, client_ip: str) -> None:
        """The new password; then every session ends and the email's login throttle is cleared
        (an OAuth-only account gets its first password this way)."""
        if self.passwords is None or self.sessions is None or self.throttle is None:
            raise RuntimeError("confirming a reset needs passwords, sessions and the throttle")
        # Hashed first, token or not: a bad token costs the same time as a good one.
        password_hash = self.passwords.hash(new_password)
        redeemed = self.tokens.reset_password(hash_token(token), password_hash)
        if redeemed is None:
            raise InvalidEmailToken()
        user_id, email = redeemed
        self.sessions.revoke_all_sessions(user_id)
        self.throttle.clear(email, client_ip)
