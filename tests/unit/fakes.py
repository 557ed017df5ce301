"""In-memory stand-ins for the contexts' ports: the domain tests run without any service."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from messenger.auth.models import Account
from messenger.auth.service import EmailTaken, NicknameTaken
from messenger.auth.session import NewTokens, Rotation, Session
from messenger.chats.models import Chat, Message
from messenger.chats.service import ChatMembership, Markers
from messenger.kernel.clock import utcnow
from messenger.kernel.errors import NotFound, RateLimited
from messenger.platform.events import OutboundEvent
from messenger.platform.ratelimit import LimitName
from messenger.platform.unit_of_work import UnitOfWork
from messenger.users.models import OwnProfile

T = TypeVar("T")


def in_memory(
    uow: UnitOfWork,
    outbox: list[OutboundEvent],
    work: Callable[[None], T],
    changed: Callable[[T], bool] = lambda _: True,
) -> T:
    """A fake store's transaction: `work`, then the unit's events appended to `outbox` (unless
    `changed` says nothing changed); an exception from `work` rolls them back (never appended),
    as a store's transaction does."""
    return uow.transaction(
        lambda attempt: attempt(None), lambda _, e: outbox.extend(e), work, changed
    )


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

    def by_id(self, user_id: uuid.UUID) -> Account | None:
        return next((a for a in self.by_mail.values() if a.user_id == user_id), None)

    def replace_password_hash(self, user_id: uuid.UUID, password_hash: str) -> None:
        for email, account in self.by_mail.items():
            if account.user_id == user_id:
                self.by_mail[email] = account.model_copy(update={"password_hash": password_hash})


@dataclass
class FakeLogin:
    user_id: uuid.UUID
    session_id: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    user_agent: str | None
    revoked: bool = False


@dataclass
class FakeSessions:
    """Like CachedSessions: logins, access tokens and refresh tokens (retired, not deleted)."""

    live: dict[bytes, Session] = field(default_factory=dict)  # access tokens not revoked
    logins: dict[str, FakeLogin] = field(default_factory=dict)
    refresh: dict[bytes, tuple[str, datetime, bool]] = field(default_factory=dict)
    owners: dict[bytes, tuple[uuid.UUID, str]] = field(default_factory=dict)

    def _pair(self, user_id: uuid.UUID, session_id: str, tokens: NewTokens) -> None:
        self.live[tokens.access_hash] = Session(user_id, tokens.access_expires_at, session_id)
        self.owners[tokens.access_hash] = (user_id, session_id)
        self.refresh[tokens.refresh_hash] = (session_id, tokens.refresh_expires_at, False)

    def open(self, user_id: uuid.UUID, tokens: NewTokens, user_agent: str | None) -> None:
        now = utcnow()
        self.logins[tokens.session_id] = FakeLogin(
            user_id, tokens.session_id, now, now, tokens.refresh_expires_at, user_agent
        )
        self._pair(user_id, tokens.session_id, tokens)

    def find(self, token_hash: bytes) -> Session | None:
        session = self.live.get(token_hash)
        return session if session and session.expires_at > utcnow() else None

    def rotate(self, refresh_hash: bytes, tokens: NewTokens) -> Rotation:
        found = self.refresh.get(refresh_hash)
        if found is None:
            return Rotation("invalid")
        session_id, expires_at, used = found
        login = self.logins[session_id]
        if login.revoked or expires_at <= utcnow():
            return Rotation("invalid")
        if used:
            return Rotation("reused", login.user_id, session_id)
        self.refresh[refresh_hash] = (session_id, expires_at, True)
        self._pair(login.user_id, session_id, tokens)
        login.last_used_at = utcnow()
        login.expires_at = tokens.refresh_expires_at
        return Rotation("rotated", login.user_id, session_id)

    def session_of(self, token_hash: bytes) -> tuple[uuid.UUID, str] | None:
        return self.owners.get(token_hash)

    def revoke(
        self, user_id: uuid.UUID, session_ids: Sequence[str] | None, keep: str | None
    ) -> list[str]:
        ids = [
            login.session_id
            for login in self.logins.values()
            if login.user_id == user_id
            and not login.revoked
            and (session_ids is None or login.session_id in session_ids)
            and login.session_id != keep
        ]
        for sid in ids:
            self.logins[sid].revoked = True
        for token_hash in [h for h, s in self.live.items() if s.session_id in ids]:
            del self.live[token_hash]
        return ids

    def list_live(
        self, user_id: uuid.UUID, limit: int, after: tuple[datetime, str] | None
    ) -> list[tuple[str, datetime, datetime, str | None]]:
        rows = sorted(
            (
                (x.created_at, x.session_id)
                for x in self.logins.values()
                if x.user_id == user_id and not x.revoked and x.expires_at > utcnow()
            ),
            reverse=True,
        )
        if after is not None:
            rows = [r for r in rows if r < after]
        out = []
        for _, sid in rows[:limit]:
            x = self.logins[sid]
            out.append((sid, x.created_at, x.last_used_at, x.user_agent))
        return out


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

    def clear(self, email: str, client_ip: str) -> None:
        self.failures.pop((email, client_ip), None)
        self.per_email.pop(email, None)


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


@dataclass
class FakeFriends:
    """Friendships as unordered pairs (the chats context's FriendDirectory port)."""

    pairs: set[frozenset[uuid.UUID]] = field(default_factory=set)

    def befriend(self, a: uuid.UUID, b: uuid.UUID) -> None:
        self.pairs.add(frozenset((a, b)))

    def are_friends(self, a: uuid.UUID, b: uuid.UUID) -> bool:
        return frozenset((a, b)) in self.pairs

    def either_blocked(self, a: uuid.UUID, b: uuid.UUID) -> bool:
        return False

    def who_blocked(self, author: uuid.UUID, among: Collection[uuid.UUID]) -> set[uuid.UUID]:
        return set()

    def blocked_by(self, user: uuid.UUID) -> set[uuid.UUID]:
        return set()

    def non_friends_of(self, user: uuid.UUID, candidates: Sequence[uuid.UUID]) -> list[uuid.UUID]:
        return [c for c in candidates if c != user and not self.are_friends(user, c)]


@dataclass
class FakeChats:
    """The chats store in memory, with its outbox: what the unit of work recorded lands in
    `outbox` when a write changed something, as the real store's transaction writes it."""

    chats: dict[uuid.UUID, Chat] = field(default_factory=dict)
    direct: dict[str, uuid.UUID] = field(default_factory=dict)
    activity: dict[uuid.UUID, datetime] = field(default_factory=dict)
    messages: dict[uuid.UUID, list[Message]] = field(default_factory=dict)
    dedupe: dict[tuple[uuid.UUID, uuid.UUID, str], Message] = field(default_factory=dict)
    read_up_to: dict[tuple[uuid.UUID, uuid.UUID], uuid.UUID] = field(default_factory=dict)
    outbox: list[OutboundEvent] = field(default_factory=list)

    def create(self, chat: Chat, direct_key: str | None, uow: UnitOfWork) -> tuple[Chat, bool]:
        def work(_: None) -> tuple[Chat, bool]:
            if direct_key and direct_key in self.direct:
                return self.chats[self.direct[direct_key]], False
            self.chats[chat.chat_id] = chat
            self.activity[chat.chat_id] = chat.created_at
            if direct_key:
                self.direct[direct_key] = chat.chat_id
            return chat, True

        return in_memory(uow, self.outbox, work, lambda result: result[1])

    def membership(self, chat_id: uuid.UUID) -> ChatMembership | None:
        chat = self.chats.get(chat_id)
        if chat is None:
            return None
        return ChatMembership(chat.chat_id, chat.type, tuple(chat.participants))

    def chats_of(
        self, user: uuid.UUID, limit: int, after: tuple[datetime, str] | None
    ) -> list[tuple[Chat, datetime]]:
        mine = sorted(
            ((c, self.activity[c.chat_id]) for c in self.chats.values() if user in c.participants),
            key=lambda pair: (pair[1], str(pair[0].chat_id)),
            reverse=True,
        )
        if after:
            mine = [(c, at) for c, at in mine if (at, str(c.chat_id)) < after]
        return mine[:limit]

    def send(
        self,
        message: Message,
        membership: ChatMembership,
        dedupe_key: str,
        uow: UnitOfWork,
        attachments: object = None,  # messages with files: tests/unit/test_media_service.py
        uncounted: Collection[uuid.UUID] = (),
    ) -> tuple[Message, bool]:
        def work(_: None) -> tuple[Message, bool]:
            key = (message.chat_id, message.author_id, dedupe_key)
            if key in self.dedupe:
                return self.dedupe[key], False
            self.dedupe[key] = message
            self.messages.setdefault(message.chat_id, []).append(message)
            self.activity[message.chat_id] = message.created_at
            return message, True

        return in_memory(uow, self.outbox, work, lambda result: result[1])

    def history(
        self,
        chat_id: uuid.UUID,
        limit: int,
        before: str | None,
        reader: uuid.UUID | None = None,
        hidden_authors: Collection[uuid.UUID] = (),
    ) -> list[Message]:
        newest_first = sorted(
            self.messages.get(chat_id, []), key=lambda m: str(m.message_id), reverse=True
        )
        if before:
            newest_first = [m for m in newest_first if str(m.message_id) < before]
        return newest_first[:limit]

    def mark_read(
        self,
        chat_id: uuid.UUID,
        user: uuid.UUID,
        message_id: uuid.UUID,
        uow: UnitOfWork,
        hidden_authors: Collection[uuid.UUID] = (),
    ) -> bool:
        def work(_: None) -> bool:
            if all(m.message_id != message_id for m in self.messages.get(chat_id, [])):
                raise NotFound("message_not_found", "This chat has no message with this id")
            marker = self.read_up_to.get((chat_id, user))
            if marker is not None and str(marker) >= str(message_id):
                return False
            self.read_up_to[(chat_id, user)] = message_id
            return True

        return in_memory(uow, self.outbox, work, bool)

    def markers(self, chat_id: uuid.UUID) -> Markers:
        """The read markers (the status of a reader's own messages in history)."""
        return Markers(
            read={
                user: str(marker)
                for (chat, user), marker in self.read_up_to.items()
                if chat == chat_id
            }
        )
