"""The message.sent notifier with fakes: who is notified, what they see, once per device."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from messenger.chats.api import NotificationFacts
from messenger.chats.events import MessageSent
from messenger.notifications.models import DeviceIn
from messenger.notifications.notifier import (
    Notification,
    Notifier,
    NotifyIncompleteError,
    Published,
    body_of,
)
from messenger.notifications.service import DevicesService, StoredDevice
from tests.unit.notification_fakes import FakeDevices, FakeSns, ctx

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
ANN, BOB, CAT, DAN = (uuid.uuid4() for _ in range(4))
CHAT = uuid.uuid4()


class Facts:
    def __init__(self, group: bool = False, title: str | None = None) -> None:
        self.group, self.title = group, title

    def notification_facts(self, chat_id: uuid.UUID, users: Any) -> NotificationFacts:
        return NotificationFacts(self.group, self.title, {u: 3 for u in users})


class Names:
    def nickname_of(self, user: uuid.UUID) -> str | None:
        return {ANN: "ann", BOB: "bob"}.get(user)


class Log:
    def __init__(self) -> None:
        self.claimed: set[tuple[uuid.UUID, uuid.UUID]] = set()

    def claim(self, message_id: uuid.UUID, device_id: uuid.UUID) -> bool:
        if (message_id, device_id) in self.claimed:
            return False
        self.claimed.add((message_id, device_id))
        return True

    def release(self, message_id: uuid.UUID, device_id: uuid.UUID) -> None:
        self.claimed.discard((message_id, device_id))


class Phones:
    def __init__(self) -> None:
        self.sent: list[tuple[StoredDevice, Notification]] = []
        self.disabled: set[str] = set()
        self.failing: set[str] = set()

    def publish(self, device: StoredDevice, notification: Notification) -> Published:
        if device.token in self.failing:
            raise ConnectionError("SNS timed out")
        if device.token in self.disabled:
            return Published.DISABLED
        self.sent.append((device, notification))
        return Published.SENT

    def to(self, user: uuid.UUID) -> list[Notification]:
        return [n for d, n in self.sent if d.user_id == user]


class Muted:
    def __init__(self, *users: uuid.UUID) -> None:
        self.users = set(users)

    def who_muted(self, chat_id: uuid.UUID, among: set[uuid.UUID]) -> set[uuid.UUID]:
        return self.users & among


class Blocks:
    def __init__(self, pairs: set[tuple[uuid.UUID, uuid.UUID]]) -> None:
        self.pairs = pairs  # (blocker, blocked)

    def who_blocked(self, author: uuid.UUID, among: set[uuid.UUID]) -> set[uuid.UUID]:
        return {u for u in among if (u, author) in self.pairs}


def world(**kwargs: Any) -> tuple[Notifier, Phones, DevicesService]:
    devices = DevicesService(FakeDevices(), FakeSns())
    for user, token in ((ANN, "ann-phone"), (BOB, "bob-phone"), (BOB, "bob-tablet"), (CAT, "cat")):
        devices.register(ctx(user), DeviceIn(platform="fcm", token=token), NOW)
    phones = Phones()
    notifier = Notifier(
        devices=devices,
        chats=kwargs.pop("facts", Facts()),
        nicknames=Names(),
        log=Log(),
        publisher=phones,
        muted=kwargs.pop("muted", Muted()),
        blocking=kwargs.pop("blocking", Blocks(set())),
        **kwargs,
    )
    return notifier, phones, devices


def sent(content: str = "hello", *participants: uuid.UUID, **extra: Any) -> MessageSent:
    return MessageSent.model_validate(
        {
            "message_id": str(uuid.uuid4()),
            "chat_id": str(CHAT),
            "author_id": str(ANN),
            "content": content,
            "created_at": "2026-12-01T17:00:00.000Z",
            "client_message_id": None,
            "participants": [str(p) for p in (participants or (ANN, BOB, CAT))],
            **extra,
        }
    )


def test_every_recipients_device_is_notified_but_the_authors() -> None:
    notifier, phones, _ = world()
    message = sent("hello")
    assert notifier.notify(message, NOW) == 3
    assert phones.to(ANN) == []
    (one, _) = phones.to(BOB)
    assert one.title == "ann"
    assert one.body == "hello"
    assert one.badge == 3
    assert one.data == {"chat_id": str(CHAT), "message_id": str(message.message_id)}
    assert len(phones.to(CAT)) == 1


def test_a_group_notification_is_titled_with_the_group() -> None:
    notifier, phones, _ = world(facts=Facts(group=True, title="Climbing"))
    notifier.notify(sent("hi all"), NOW)
    assert {n.title for _, n in phones.sent} == {"Climbing"}


def test_muted_and_blocking_recipients_are_left_out() -> None:
    notifier, phones, _ = world(muted=Muted(BOB), blocking=Blocks({(CAT, ANN)}))
    assert notifier.notify(sent(), NOW) == 0
    assert phones.sent == []
    # A block of someone else, a mute by the author: no effect on the others.
    notifier, phones, _ = world(muted=Muted(ANN), blocking=Blocks({(CAT, BOB)}))
    assert notifier.notify(sent(), NOW) == 3


def test_a_redelivered_message_is_not_notified_twice() -> None:
    notifier, phones, _ = world()
    message = sent()
    notifier.notify(message, NOW)
    assert notifier.notify(message, NOW) == 0
    assert len(phones.sent) == 3


def test_a_failed_publish_is_retried_for_that_device_only() -> None:
    notifier, phones, _ = world()
    phones.failing.add("bob-tablet")
    message = sent()
    with pytest.raises(NotifyIncompleteError):
        notifier.notify(message, NOW)
    assert len(phones.sent) == 2
    phones.failing.clear()
    assert notifier.notify(message, NOW) == 1  # the retry
    assert [d.token for d, _ in phones.sent][-1] == "bob-tablet"


def test_a_disabled_endpoint_removes_its_device() -> None:
    notifier, phones, devices = world()
    phones.disabled.add("bob-tablet")
    assert notifier.notify(sent(), NOW) == 2
    assert len(devices.list(ctx(BOB)).items) == 1
    assert len(devices.store.of_user(BOB)) == 1


def test_bodies_are_cut_to_100_characters_or_name_the_attachment() -> None:
    assert len(body_of(sent("x" * 300))) == 100
    assert body_of(sent("x" * 100)) == "x" * 100
    photo = {"attachment_id": str(uuid.uuid4()), "size": 1, "filename": "a.png", "url": "u"}
    image = sent("", attachments=[{**photo, "content_type": "image/png"}])
    assert body_of(image) == "Photo"
    pdf = sent("", attachments=[{**photo, "content_type": "application/pdf"}])
    assert body_of(pdf) == "File"


def test_a_chat_with_nobody_else_notifies_nobody() -> None:
    notifier, _, _ = world()
    assert notifier.notify(sent("note to self", ANN), NOW) == 0


class CountedFacts(Facts):
    def __init__(self, failing: bool = False) -> None:
        super().__init__()
        self.reads, self.failing = 0, failing

    def notification_facts(self, chat_id: uuid.UUID, users: Any) -> NotificationFacts:
        self.reads += 1
        if self.failing:
            raise ConnectionError("the chats store is down")
        return super().notification_facts(chat_id, users)


def test_the_chat_facts_are_read_once_and_only_when_someone_has_a_device() -> None:
    facts = CountedFacts()
    notifier, _, _ = world(facts=facts)
    assert notifier.notify(sent(), NOW) == 3  # bob's two devices and cat's, 16 at a time
    assert facts.reads == 1
    nobody = uuid.uuid4()  # a participant without a device
    assert notifier.notify(sent("hi", ANN, nobody), NOW) == 0
    assert facts.reads == 1


def test_facts_that_cannot_be_read_leave_no_claim_behind() -> None:
    """A claim stands for a publish under way: one taken before a failed read would make the
    redelivered record skip that device for good."""
    facts = CountedFacts(failing=True)
    notifier, phones, _ = world(facts=facts)
    message = sent()
    with pytest.raises(ConnectionError):
        notifier.notify(message, NOW)
    facts.failing = False
    assert notifier.notify(message, NOW) == 3
    assert len(phones.sent) == 3
