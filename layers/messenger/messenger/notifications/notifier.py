"""Push notifications of `message.sent` to the recipients' devices (API.md, Catch-up and
notifications), through SNS mobile push.

Recipients: every participant but the author, less those who muted the chat and those who blocked
the author (two ports: on main nobody mutes or blocks yet; at merge they are wired to
ChatsApi.muted_members and FriendsApi.who_blocked). Each device is notified at most once per
message: a claim (message, device) is written before the publish and released if the publish
fails, so a redelivered record skips what was sent and retries what failed. An endpoint SNS
reports disabled (the app was uninstalled, the token expired) removes its device.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol

from messenger.platform.observability import logger

if TYPE_CHECKING:
    from messenger.chats.api import NotificationFacts
    from messenger.chats.events import MessageSent
    from messenger.notifications.service import DevicesService, StoredDevice

BODY_CHARACTERS = 100
MAX_CONCURRENT_PUBLISHES = 16


class MutedRecipients(Protocol):
    def who_muted(self, chat_id: uuid.UUID, among: set[uuid.UUID]) -> set[uuid.UUID]:
        """Those of `among` who muted this chat (now)."""


class BlockingRecipients(Protocol):
    def who_blocked(self, author: uuid.UUID, among: set[uuid.UUID]) -> set[uuid.UUID]:
        """Those of `among` who blocked the author."""


class ChatFacts(Protocol):
    def notification_facts(
        self, chat_id: uuid.UUID, users: Sequence[uuid.UUID]
    ) -> NotificationFacts: ...


class Nicknames(Protocol):
    def nickname_of(self, user: uuid.UUID) -> str | None: ...


class SentLog(Protocol):
    def claim(self, message_id: uuid.UUID, device_id: uuid.UUID) -> bool:
        """True if this (message, device) was not claimed yet (now it is)."""

    def release(self, message_id: uuid.UUID, device_id: uuid.UUID) -> None: ...


class Published(Enum):
    SENT = "sent"
    DISABLED = "disabled"  # the endpoint is disabled: the token is dead, forget the device


class Publisher(Protocol):
    def publish(self, device: StoredDevice, notification: Notification) -> Published: ...


@dataclass(frozen=True)
class Notification:
    title: str
    body: str
    badge: int
    data: dict[str, str] = field(default_factory=dict)


class NotifyIncompleteError(RuntimeError):
    """Some publishes failed: the record is retried (what was sent is not sent again)."""


def body_of(message: MessageSent) -> str:
    if message.content:
        text = message.content
        return text if len(text) <= BODY_CHARACTERS else text[: BODY_CHARACTERS - 1] + "…"
    if message.attachments and all(
        a.content_type.startswith("image/") for a in message.attachments
    ):
        return "Photo"
    return "File"


@dataclass
class Notifier:
    devices: DevicesService
    chats: ChatFacts
    nicknames: Nicknames
    log: SentLog
    publisher: Publisher
    muted: MutedRecipients  # the chats context's mutes (ChatsApi.muted_members)
    blocking: BlockingRecipients  # the friends context's blocks (FriendsApi.who_blocked)

    def recipients(self, message: MessageSent) -> set[uuid.UUID]:
        others = {p for p in message.participants if p != message.author_id}
        if not others:
            return set()
        others -= self.muted.who_muted(message.chat_id, set(others))
        if others:
            others -= self.blocking.who_blocked(message.author_id, set(others))
        return others

    def notify(self, message: MessageSent, now: datetime) -> int:
        """Notify the recipients' devices; how many were sent now.

        Each recipient is one pipeline (their devices' Query, then each device's claim and
        publish), 16 at a time: a group's first devices are notified while the last devices are
        still being looked up, rather than after every lookup. The chat's facts (title, unread
        totals) are read once, by the first recipient found to have a device."""
        recipients = self.recipients(message)
        if not recipients:
            return 0
        lock = threading.Lock()
        shared: _Context | None = None

        def context() -> _Context:
            nonlocal shared
            with lock:
                if shared is None:
                    facts = self.chats.notification_facts(message.chat_id, sorted(recipients))
                    author = self.nicknames.nickname_of(message.author_id) or "New message"
                    title = (facts.title or author) if facts.group else author
                    data = {"chat_id": str(message.chat_id), "message_id": str(message.message_id)}
                    shared = _Context(facts, title, body_of(message), data)
                return shared

        def one(device: StoredDevice) -> bool | None:
            """True sent, None skipped (sent before), False failed."""
            common = context()  # before the claim: a claim stands for a publish under way
            if not self.log.claim(message.message_id, device.device_id):
                return None
            notification = Notification(
                common.title,
                common.body,
                common.facts.unread_totals.get(device.user_id, 0),
                common.data,
            )
            try:
                outcome = self.publisher.publish(device, notification)
            except Exception as exc:
                self.log.release(message.message_id, device.device_id)
                logger.warning("Notification failed", extra={"error": repr(exc)})
                return False
            if outcome is Published.DISABLED:
                self.devices.store.delete(device.user_id, device.device_id)
                self.devices.endpoints.delete(device.endpoint_arn)
                return None
            return True

        def recipient(user: uuid.UUID) -> list[bool | None]:
            return [one(device) for device in self.devices.store.of_user(user)]

        results = [r for found in _concurrently(recipient, sorted(recipients)) for r in found]
        failed = sum(1 for r in results if r is False)
        if failed:
            raise NotifyIncompleteError(f"{failed} of {len(results)} notifications failed")
        return sum(1 for r in results if r)


@dataclass(frozen=True)
class _Context:
    """What every notification of one message shares."""

    facts: NotificationFacts
    title: str
    body: str
    data: dict[str, str]


def _concurrently(work: Any, items: Iterable[Any]) -> list[Any]:
    """`work` over the items, in order; the first one here (it creates the clients the others
    share: botocore's are thread-safe once created, not while), the rest concurrently."""
    items = list(items)
    if len(items) <= 1:
        return [work(i) for i in items]
    first = work(items[0])
    with ThreadPoolExecutor(min(len(items) - 1, MAX_CONCURRENT_PUBLISHES)) as pool:
        return [first, *pool.map(work, items[1:])]
