"""Auth use-cases: register, log in, log out, authenticate a bearer token.

Pure logic over ports; the adapters live beside this module and are put together in wiring.py.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, NoReturn, Protocol

from messenger.auth.models import (
    Account,
    LoginRequest,
    LoginResponse,
    RegisteredAccount,
    RegisterRequest,
    Session,
    UserRegistered,
)
from messenger.clock import utcnow
from messenger.errors import Conflict, RateLimited, Unauthenticated
from messenger.events import new_event

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from messenger.events import OutboundEvent


class Accounts(Protocol):
    def add(self, account: Account, events: Sequence[OutboundEvent]) -> None:
        """Store the account and its events atomically; raise EmailTaken if the email exists."""

    def by_email(self, email: str) -> Account | None: ...

    def replace_password_hash(self, user_id: uuid.UUID, password_hash: str) -> None: ...


class Sessions(Protocol):
    def create(self, token_hash: bytes, session: Session) -> None: ...

    def find(self, token_hash: bytes) -> Session | None:
        """The live session for the token hash, or None if unknown, revoked or expired."""

    def revoke(self, token_hash: bytes) -> None: ...


class LoginThrottle(Protocol):
    def retry_after(self, email: str) -> int | None:
        """Seconds until this email may try again, or None when it may try now."""

    def record_failure(self, email: str) -> None: ...

    def reset(self, email: str) -> None: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...

    def waste_time(self, password: str) -> None:
        """Spend what a verification costs, so an unknown email answers as slowly as a known one."""


class NicknameDirectory(Protocol):
    """The users context's public query (the replacement of the seed's gRPC call)."""

    def is_nickname_taken(self, nickname: str) -> bool: ...


class EventOutbox(Protocol):
    def publish_now(self, events: Sequence[OutboundEvent]) -> bool: ...


class EmailTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("email_taken", "An account with this email already exists")


INVALID_CREDENTIALS = "Email or password is incorrect"


def hash_token(token: str) -> bytes:
    """Tokens are stored and cached only as their SHA-256: a leaked table holds no credential."""
    return hashlib.sha256(token.encode()).digest()


def normalize_email(email: str) -> str:
    return email.strip().lower()


@dataclass
class SessionService:
    """Open, check and revoke sessions: all the authorizer and logout need (no argon2, no Kafka)."""

    sessions: Sessions
    session_ttl: timedelta

    def open_session(self, user_id: uuid.UUID) -> LoginResponse:
        token = secrets.token_urlsafe(32)
        expires_at: datetime = utcnow() + self.session_ttl
        self.sessions.create(hash_token(token), Session(user_id=user_id, expires_at=expires_at))
        return LoginResponse(
            access_token=token,
            expires_in=int(self.session_ttl.total_seconds()),
            expires_at=expires_at,
            user_id=user_id,
        )

    def logout(self, token: str) -> None:
        self.sessions.revoke(hash_token(token))

    def authenticate(self, token: str) -> uuid.UUID | None:
        session = self.sessions.find(hash_token(token))
        return session.user_id if session else None


@dataclass
class RegistrationService:
    accounts: Accounts
    passwords: PasswordHasher
    nicknames: NicknameDirectory
    outbox: EventOutbox

    def register(
        self, request: RegisterRequest, correlation_id: str | None = None
    ) -> RegisteredAccount:
        if self.nicknames.is_nickname_taken(request.nickname):
            raise Conflict("nickname_taken", "This nickname is already taken")
        if self.accounts.by_email(request.email) is not None:
            raise EmailTaken()  # checked first only to skip hashing; the unique index decides
        now = utcnow()
        account = Account(
            user_id=uuid.uuid4(),
            email=request.email,
            password_hash=self.passwords.hash(request.password),
            created_at=now,
        )
        event = new_event(
            "user.registered",
            key=str(account.user_id),
            data=UserRegistered(
                user_id=account.user_id,
                email=account.email,
                nickname=request.nickname,
                registered_at=now,
            ),
            correlation_id=correlation_id,
        )
        self.accounts.add(account, [event])
        self.outbox.publish_now([event])
        return RegisteredAccount(
            user_id=account.user_id, email=account.email, nickname=request.nickname
        )


@dataclass
class LoginService:
    accounts: Accounts
    sessions: SessionService
    throttle: LoginThrottle
    passwords: PasswordHasher

    def login(self, request: LoginRequest) -> LoginResponse:
        email = normalize_email(request.email)
        wait = self.throttle.retry_after(email)
        if wait is not None:
            raise RateLimited("Too many failed logins for this email; try again later", wait)
        account = self.accounts.by_email(email)
        if account is None or account.password_hash is None:
            self.passwords.waste_time(request.password)
            self._refuse(email)
        if not self.passwords.verify(account.password_hash, request.password):
            self._refuse(email)
        if self.passwords.needs_rehash(account.password_hash):
            self.accounts.replace_password_hash(
                account.user_id, self.passwords.hash(request.password)
            )
        self.throttle.reset(email)
        return self.sessions.open_session(account.user_id)

    def _refuse(self, email: str) -> NoReturn:
        self.throttle.record_failure(email)
        raise Unauthenticated("invalid_credentials", INVALID_CREDENTIALS)
