"""Auth use-cases: register, log in, change a password, list sessions (SessionService: the
rest of a session's life).

Pure logic over ports; the adapters live in adapters/ and are put together in messenger.bootstrap.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, NoReturn, Protocol

from pydantic import ConfigDict, Field, TypeAdapter

from messenger.auth.events import UserRegistered
from messenger.auth.models import (
    Account,
    ChangePasswordRequest,
    LoginRequest,
    LoginResponse,
    RegisteredAccount,
    RegisterRequest,
    SessionItem,
    SessionPage,
)
from messenger.auth.session import SessionService
from messenger.kernel.clock import utcnow
from messenger.kernel.errors import Conflict, RateLimited, Unauthenticated
from messenger.kernel.pagination import UtcDatetime, decode_cursor, encode_cursor
from messenger.platform.unit_of_work import EventOutbox, UnitOfWork

if TYPE_CHECKING:
    from messenger.kernel.context import RequestContext


class Accounts(Protocol):
    def add(self, account: Account, nickname: str, uow: UnitOfWork) -> None:
        """Store the account and reserve its nickname, with the events recorded in `uow`, in
        one transaction; raise EmailTaken if the email exists, NicknameTaken if another account
        holds the nickname."""

    def by_email(self, email: str) -> Account | None: ...

    def by_id(self, user_id: uuid.UUID) -> Account | None: ...

    def replace_password_hash(self, user_id: uuid.UUID, password_hash: str) -> None: ...


class LoginThrottle(Protocol):
    """Failed logins, counted per (email, client IP) and per email across every IP."""

    def retry_after(self, email: str, client_ip: str) -> int | None:
        """Seconds until this client may try this email again, or None when it may try now."""

    def record_failure(self, email: str, client_ip: str) -> None: ...

    def reset(self, email: str, client_ip: str) -> None:
        """Forget this client's failures for the email (its password was right)."""

    def clear(self, email: str, client_ip: str) -> None:
        """Forget the email's failures (a password reset proved the owner): the per-email count
        and this client's."""


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...

    def waste_time(self, password: str) -> None:
        """Spend what a verification costs, so an unknown email answers as slowly as a known one."""


class NicknameDirectory(Protocol):
    """The users context's public query (the replacement of the seed's gRPC call)."""

    def is_nickname_taken(self, nickname: str) -> bool:
        """Held by a profile or reserved by a registration (a fast check; the reservation in
        the account's transaction decides)."""


class SessionDirectory(Protocol):
    def list_live(
        self, user_id: uuid.UUID, limit: int, after: tuple[datetime, str] | None
    ) -> list[tuple[str, datetime, datetime, str | None]]:
        """The user's live sessions, newest first: (id, created, last used, user agent)."""


class EmailTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("email_taken", "An account with this email already exists")


class NicknameTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("nickname_taken", "This nickname is already taken")


class NoPassword(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "no_password", "This account signs in with a provider only; reset sets a password"
        )


INVALID_CREDENTIALS = "Email or password is incorrect"
WRONG_PASSWORD = "The password is incorrect"


def normalize_email(email: str) -> str:
    return email.strip().lower()


@dataclass
class RegistrationService:
    accounts: Accounts
    passwords: PasswordHasher
    nicknames: NicknameDirectory
    outbox: EventOutbox

    def register(self, ctx: RequestContext, request: RegisterRequest) -> RegisteredAccount:
        # Both checked first only to skip hashing: the account's transaction decides (the email's
        # unique index, the nickname's reservation), so of two racing registrations one wins.
        if self.nicknames.is_nickname_taken(request.nickname):
            raise NicknameTaken()
        if self.accounts.by_email(request.email) is not None:
            raise EmailTaken()
        now = utcnow()
        account = Account(
            user_id=uuid.uuid4(),
            email=request.email,
            password_hash=self.passwords.hash(request.password),
            created_at=now,
        )
        with UnitOfWork(self.outbox, ctx.correlation_id) as uow:
            uow.record(
                UserRegistered(
                    user_id=account.user_id,
                    email=account.email,
                    nickname=request.nickname,
                    registered_at=now,
                )
            )
            self.accounts.add(account, request.nickname, uow)
        return RegisteredAccount(
            user_id=account.user_id, email=account.email, nickname=request.nickname
        )


@dataclass
class LoginService:
    accounts: Accounts
    sessions: SessionService
    throttle: LoginThrottle
    passwords: PasswordHasher

    def login(
        self, request: LoginRequest, client_ip: str, user_agent: str | None = None
    ) -> LoginResponse:
        email = normalize_email(request.email)
        wait = self.throttle.retry_after(email, client_ip)
        if wait is not None:
            raise RateLimited("Too many failed logins for this email; try again later", wait)
        account = self.accounts.by_email(email)
        if account is None or account.password_hash is None:
            self.passwords.waste_time(request.password)
            self._refuse(email, client_ip)
        if not self.passwords.verify(account.password_hash, request.password):
            self._refuse(email, client_ip)
        if self.passwords.needs_rehash(account.password_hash):
            self.accounts.replace_password_hash(
                account.user_id, self.passwords.hash(request.password)
            )
        self.throttle.reset(email, client_ip)
        return LoginResponse.of(self.sessions.open_session(account.user_id, user_agent))

    def _refuse(self, email: str, client_ip: str) -> NoReturn:
        self.throttle.record_failure(email, client_ip)
        raise Unauthenticated("invalid_credentials", INVALID_CREDENTIALS)


@dataclass
class PasswordService:
    """The password of an account someone is signed in to: check it, change it."""

    accounts: Accounts
    sessions: SessionService
    throttle: LoginThrottle
    passwords: PasswordHasher

    def has_password(self, user_id: uuid.UUID) -> bool:
        account = self.accounts.by_id(user_id)
        return account is not None and account.password_hash is not None

    def verify_password(self, user_id: uuid.UUID, password: str, client_ip: str) -> bool:
        """Like a login's check, throttled alike (per the account's email and this client):
        RateLimited once over; a failure counts."""
        account = self.accounts.by_id(user_id)
        if account is None or account.password_hash is None:
            self.passwords.waste_time(password)
            return False
        wait = self.throttle.retry_after(account.email, client_ip)
        if wait is not None:
            raise RateLimited("Too many wrong passwords for this account; try again later", wait)
        if not self.passwords.verify(account.password_hash, password):
            self.throttle.record_failure(account.email, client_ip)
            return False
        self.throttle.reset(account.email, client_ip)
        return True

    def change_password(
        self, ctx: RequestContext, request: ChangePasswordRequest, client_ip: str
    ) -> None:
        """The new password, then every other session ends (the caller's stays)."""
        user_id = ctx.caller
        if not self.has_password(user_id):
            raise NoPassword()
        if not self.verify_password(user_id, request.current_password, client_ip):
            raise Unauthenticated("invalid_credentials", WRONG_PASSWORD)
        self.accounts.replace_password_hash(user_id, self.passwords.hash(request.new_password))
        self.sessions.revoke_other_sessions(user_id, ctx.session_id)


SESSION_KEY: TypeAdapter[tuple[datetime, str]] = TypeAdapter(
    tuple[UtcDatetime, Annotated[str, Field(max_length=64)]], config=ConfigDict(defer_build=True)
)


@dataclass
class SessionListing:
    directory: SessionDirectory

    def list_sessions(self, ctx: RequestContext, limit: int, cursor: str | None) -> SessionPage:
        after = decode_cursor(cursor, SESSION_KEY) if cursor else None
        rows = self.directory.list_live(ctx.caller, limit + 1, after)
        page, more = rows[:limit], len(rows) > limit
        items = [
            SessionItem(
                session_id=sid,
                created_at=created,
                last_used_at=last_used,
                user_agent=agent,
                current=sid == ctx.session_id,
            )
            for sid, created, last_used, agent in page
        ]
        last = page[-1] if more else None
        next_cursor = encode_cursor([last[1].isoformat(), last[0]]) if last else None
        return SessionPage(items=items, next_cursor=next_cursor)
