"""In-memory stand-ins for the auth and users ports: the domain tests run without any service."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from messenger.auth.models import Account
from messenger.auth.service import EmailTaken, NicknameTaken
from messenger.auth.session import Session
from messenger.kernel.clock import utcnow
from messenger.kernel.errors import RateLimited
from messenger.platform.events import OutboundEvent
from messenger.platform.ratelimit import LimitName
from messenger.platform.unit_of_work import UnitOfWork
from messenger.users.models import OwnProfile

T = TypeVar("T")


def in_memory(uow: UnitOfWork, outbox: list[OutboundEvent], work: Callable[[None], T]) -> T:
    """A fake store's transaction: `work`, then the unit's events appended to `outbox`; an
    exception from `work` rolls them back (never appended), as a store's transaction does."""
    return uow.transaction(lambda attempt: attempt(None), lambda _, e: outbox.extend(e), work)


@dataclass
class FakeNicknames:
    """Nicknames held (profiles or reservations), lower-cased."""

    taken: set[str] = field(default_factory=set)

    def is_nickname_taken(self, nickname: str) -> bool:
        return nickname.lower() in self.taken


@dataclass
class FakeAccounts:
    by_mail: dict[str, Account] = field(default_factory=dict)
    events: list[OutboundEvent] = field(default_factory=list)
    nicknames: FakeNicknames = field(default_factory=FakeNicknames)

    def add(self, account: Account, nickname: str, uow: UnitOfWork) -> None:
        def insert(_: None) -> None:
            if account.email in self.by_mail:
                raise EmailTaken()
            if nickname.lower() in self.nicknames.taken:
                raise NicknameTaken()
            self.nicknames.taken.add(nickname.lower())
            self.by_mail[account.email] = account

        in_memory(uow, self.events, insert)

    def by_email(self, email: str) -> Account | None:
        return self.by_mail.get(email)

    def replace_password_hash(self, user_id: uuid.UUID, password_hash: str) -> None:
        for email, account in self.by_mail.items():
            if account.user_id == user_id:
                self.by_mail[email] = account.model_copy(update={"password_hash": password_hash})


@dataclass
class FakeSessions:
    live: dict[bytes, Session] = field(default_factory=dict)

    def create(self, token_hash: bytes, session: Session) -> None:
        self.live[token_hash] = session

    def find(self, token_hash: bytes) -> Session | None:
        session = self.live.get(token_hash)
        return session if session and session.expires_at > utcnow() else None

    def revoke(self, token_hash: bytes) -> uuid.UUID | None:
        session = self.live.pop(token_hash, None)
        return session.user_id if session else None


@dataclass
class FakeThrottle:
    """Counts like RedisLoginThrottle (per (email, IP) and per email), without windows."""

    max_failures: int = 5
    max_failures_per_email: int = 100
    failures: dict[tuple[str, str], int] = field(default_factory=dict)
    per_email: dict[str, int] = field(default_factory=dict)

    def retry_after(self, email: str, client_ip: str) -> int | None:
        over_client = self.failures.get((email, client_ip), 0) >= self.max_failures
        over_email = self.per_email.get(email, 0) >= self.max_failures_per_email
        return 900 if over_client or over_email else None

    def record_failure(self, email: str, client_ip: str) -> None:
        self.failures[(email, client_ip)] = self.failures.get((email, client_ip), 0) + 1
        self.per_email[email] = self.per_email.get(email, 0) + 1

    def reset(self, email: str, client_ip: str) -> None:
        self.failures.pop((email, client_ip), None)


@dataclass
class FakeRateLimiter:
    """Allows `allowance[name]` actions per subject (unlimited when absent), then refuses."""

    allowance: dict[LimitName, int] = field(default_factory=dict)
    counted: dict[tuple[LimitName, str], int] = field(default_factory=dict)

    def acquire(self, name: LimitName, subject: str) -> None:
        used = self.counted.get((name, subject), 0)
        if name in self.allowance and used >= self.allowance[name]:
            raise RateLimited(f"over {name}", 3)
        self.counted[(name, subject)] = used + 1


@dataclass
class FakePasswords:
    """Reversible 'hashes' tagged with a version, so rehash-on-login is observable."""

    version: str = "v2"
    wasted: int = 0

    def hash(self, password: str) -> str:
        return f"{self.version}:{password}"

    def verify(self, password_hash: str, password: str) -> bool:
        return password_hash.split(":", 1)[1] == password

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.startswith(self.version + ":")

    def waste_time(self, password: str) -> None:
        self.wasted += 1


@dataclass
class FakeOutbox:
    published: list[OutboundEvent] = field(default_factory=list)
    broker_up: bool = True

    def publish_now(self, events: Sequence[OutboundEvent]) -> bool:
        if self.broker_up:
            self.published.extend(events)
        return self.broker_up


@dataclass
class FakeProfiles:
    rows: dict[uuid.UUID, OwnProfile] = field(default_factory=dict)
    seen_events: set[uuid.UUID] = field(default_factory=set)

    def by_id(self, user_id: uuid.UUID) -> OwnProfile | None:
        return self.rows.get(user_id)

    def by_nickname(self, nickname: str) -> OwnProfile | None:
        return next((p for p in self.rows.values() if p.nickname.lower() == nickname.lower()), None)

    def create_once(
        self, event_id: uuid.UUID, profile: OwnProfile, nickname_candidates: Iterator[str]
    ) -> OwnProfile | None:
        if event_id in self.seen_events or profile.user_id in self.rows:
            return None
        self.seen_events.add(event_id)
        for nickname in nickname_candidates:
            if self.by_nickname(nickname) is None:
                created = profile.model_copy(update={"nickname": nickname})
                self.rows[created.user_id] = created
                return created
        raise AssertionError("unreachable")
