"""The per-user event stream with fakes: cursors on frames, idempotent appends, GET /v1/sync."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import pytest

from messenger.kernel.context import RequestContext
from messenger.kernel.errors import Gone, InvalidInput
from messenger.realtime.service import (
    Connection,
    RealtimeService,
    StreamedFrame,
    encode_position,
    epoch,
)
from messenger.realtime.sync import SyncService
from tests.unit.realtime_fakes import (
    ANN,
    BOB,
    CAT,
    NOW,
    Directory,
    FakeConnections,
    FakeDeliveries,
    FakePusher,
    envelope,
    message,
)

pytestmark = pytest.mark.unit

RETENTION = 14 * 86400


class FakeStream:
    """Positions 1, 2, 3... per user; one marker per (user, event) as the DynamoDB one keeps."""

    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, dict[int, tuple[dict[str, Any], int]]] = {}
        self.heads: dict[uuid.UUID, int] = {}
        self.markers: dict[tuple[uuid.UUID, str], int] = {}

    def append(
        self,
        event_id: str,
        frames: Mapping[uuid.UUID, StreamedFrame],
        now: int,
        appended: Callable[[uuid.UUID, int], object] | None = None,
    ) -> dict[uuid.UUID, int]:
        positions = {}
        for user, streamed in frames.items():
            if (user, event_id) not in self.markers:
                head = self.heads.get(user, 0) + 1
                self.heads[user] = head
                self.rows.setdefault(user, {})[head] = (streamed.body(), now + RETENTION)
                self.markers[user, event_id] = head
            positions[user] = self.markers[user, event_id]
            if appended is not None:
                appended(user, positions[user])
        return positions

    def head(self, user: uuid.UUID) -> int:
        return self.heads.get(user, 0)

    def after(
        self, user: uuid.UUID, since: int, limit: int, now: int
    ) -> list[tuple[int, dict[str, Any] | None]]:
        rows = sorted((p, r) for p, r in self.rows.get(user, {}).items() if p > since)
        return [(p, body if expires > now else None) for p, (body, expires) in rows[:limit]]

    def remove_expired(self, now: int) -> None:
        """What DynamoDB's TTL does, eventually."""
        for rows in self.rows.values():
            for position in [p for p, (_, expires) in rows.items() if expires <= now]:
                del rows[position]


@pytest.fixture
def world() -> tuple[RealtimeService, FakeConnections, FakePusher, FakeStream]:
    connections, pusher, directory, stream = (
        FakeConnections(),
        FakePusher(),
        Directory(),
        FakeStream(),
    )
    service = RealtimeService(
        connections=connections,
        pusher=pusher,
        friends=directory,
        connection_ttl=timedelta(hours=2),
        sessions=directory,
        chats=directory,
        deliveries=FakeDeliveries(),
        revocations=directory,
        stream=stream,
    )
    for cid, user in (("a1", ANN), ("b1", BOB), ("b2", BOB)):
        connections.by_id[cid] = Connection(cid, user, epoch(NOW) + 3600)
    return service, connections, pusher, stream


def as_user(user: uuid.UUID) -> RequestContext:
    return RequestContext(user)


def test_every_frame_carries_the_recipients_own_cursor(world: Any) -> None:
    service, _, pusher, stream = world
    chat = uuid.uuid4()
    service.push_event(message(chat, BOB, CAT), NOW)  # Bob's stream: 1
    service.push_event(message(chat, ANN, BOB), NOW)  # Ann: 1, Bob: 2
    assert pusher.to("a1")[0]["cursor"] == encode_position(1)
    assert [f["cursor"] for f in pusher.to("b1")] == [encode_position(1), encode_position(2)]
    assert pusher.to("b2") == pusher.to("b1")  # one cursor per user, whichever device
    assert stream.head(CAT) == 1  # offline users are appended too


def test_a_redelivered_event_appends_nothing_and_keeps_its_cursor(world: Any) -> None:
    service, _, pusher, stream = world
    event = message(uuid.uuid4(), ANN, BOB)
    service.push_event(event, NOW)
    service.push_event(event, NOW)  # Kafka redelivers the record
    assert stream.head(ANN) == 1
    assert stream.head(BOB) == 1
    assert {f["cursor"] for f in pusher.to("a1")} == {encode_position(1)}


def test_typing_and_presence_are_not_streamed_and_carry_no_cursor(world: Any) -> None:
    service, _, pusher, stream = world
    chat = uuid.uuid4()
    service.chats.chats[chat] = [ANN, BOB]
    assert service.typing("a1", chat, NOW)
    service.disconnect("a1", NOW)
    frames = pusher.to("b1")
    assert {f["type"] for f in frames} == {"typing", "presence.changed"}
    assert all("cursor" not in f for f in frames)
    assert stream.heads == {}


def test_sync_returns_what_came_after_the_cursor_oldest_first(world: Any) -> None:
    service, _, pusher, stream = world
    chat = uuid.uuid4()
    kinds = []
    for i in range(5):
        service.push_event(message(chat, ANN, BOB), NOW)
        kinds.append("message.sent")
        if i % 2:
            service.push_event(
                envelope("friendship.removed", from_user_id=str(ANN), to_user_id=str(BOB), at=NOW),
                NOW,
            )
            kinds.append("friendship.removed")
    sync = SyncService(stream)
    page = sync.sync(as_user(BOB), encode_position(0), 100, NOW)
    assert [f.type for f in page.items] == kinds
    assert [f.cursor for f in page.items] == [encode_position(p) for p in range(1, 8)]
    assert page.has_more is False
    assert page.next_cursor == encode_position(7)
    # The frames are the ones pushed, field for field.
    assert [f.model_dump() for f in page.items] == pusher.to("b1")


def test_sync_pages_with_no_gap_and_no_repeat(world: Any) -> None:
    service, _, _, stream = world
    chat = uuid.uuid4()
    for _ in range(7):
        service.push_event(message(chat, ANN, BOB), NOW)
    sync = SyncService(stream)
    seen: list[str] = []
    cursor = encode_position(0)
    while True:
        page = sync.sync(as_user(ANN), cursor, 3, NOW)
        seen.extend(f.data["message_id"] for f in page.items)
        cursor = page.next_cursor
        if not page.has_more:
            break
    assert len(seen) == len(set(seen)) == 7
    assert sync.sync(as_user(ANN), cursor, 3, NOW).items == []


def test_sync_without_since_answers_the_current_cursor_only(world: Any) -> None:
    service, _, _, stream = world
    sync = SyncService(stream)
    assert sync.sync(as_user(ANN), None, 100, NOW).next_cursor == encode_position(0)
    service.push_event(message(uuid.uuid4(), ANN, BOB), NOW)
    page = sync.sync(as_user(ANN), None, 100, NOW)
    assert page.items == []
    assert page.has_more is False
    assert page.next_cursor == encode_position(1)


def test_a_cursor_older_than_retention_is_gone(world: Any) -> None:
    service, _, _, stream = world
    chat = uuid.uuid4()
    service.push_event(message(chat, ANN, BOB), NOW)
    later = NOW + timedelta(days=15)
    service.push_event(message(chat, ANN, BOB), later)
    sync = SyncService(stream)
    # Expired but not yet removed by the TTL, then removed: both 410.
    with pytest.raises(Gone) as caught:
        sync.sync(as_user(ANN), encode_position(0), 100, later)
    assert caught.value.code == "sync_expired"
    stream.remove_expired(epoch(later))
    with pytest.raises(Gone):
        sync.sync(as_user(ANN), encode_position(0), 100, later)
    # From the first position still kept: fine.
    assert len(sync.sync(as_user(ANN), encode_position(1), 100, later).items) == 1


def test_a_cursor_whose_followers_all_expired_and_were_removed_is_gone(world: Any) -> None:
    service, _, _, stream = world
    service.push_event(message(uuid.uuid4(), ANN, BOB), NOW)
    later = NOW + timedelta(days=15)
    stream.remove_expired(epoch(later))
    with pytest.raises(Gone):
        SyncService(stream).sync(as_user(ANN), encode_position(0), 100, later)


@pytest.mark.parametrize(
    "since",
    [
        "garbage!",
        "",
        base64.urlsafe_b64encode(b'"7"').decode(),  # a string, not a position
        base64.urlsafe_b64encode(b"-1").decode(),
        base64.urlsafe_b64encode(b"1.5").decode(),
        encode_position(2**53),
        encode_position(5),  # never issued: past the head
    ],
)
def test_a_cursor_not_issued_is_a_validation_error(world: Any, since: str) -> None:
    service, _, _, stream = world
    service.push_event(message(uuid.uuid4(), ANN, BOB), NOW)
    with pytest.raises(InvalidInput) as caught:
        SyncService(stream).sync(as_user(ANN), since, 100, NOW)
    assert caught.value.extra["errors"][0]["field"] == "since"


def test_each_user_reads_only_their_own_stream(world: Any) -> None:
    service, _, _, stream = world
    service.push_event(message(uuid.uuid4(), BOB, CAT), NOW)
    page = SyncService(stream).sync(as_user(ANN), encode_position(0), 100, NOW)
    assert page.items == []
    assert page.next_cursor == encode_position(0)


def test_an_append_between_the_query_and_the_head_is_returned_not_gone(world: Any) -> None:
    """The stream grew after the first query found nothing: a second look, not a 410."""
    service, _, _, stream = world
    sync = SyncService(stream)
    since = sync.sync(as_user(ANN), None, 100, NOW).next_cursor
    real_after = stream.after
    calls = []

    def racing_after(*args: Any) -> list[tuple[int, dict[str, Any] | None]]:
        calls.append(args)
        if len(calls) == 1:
            found = real_after(*args)
            service.push_event(message(uuid.uuid4(), ANN, BOB), NOW)  # lands right after
            return found
        return real_after(*args)

    stream.after = racing_after
    page = sync.sync(as_user(ANN), since, 100, NOW)
    assert [f.cursor for f in page.items] == [encode_position(1)]


class StreamFailingFor(FakeStream):
    """Stores every frame but `doomed`'s, in order: the ones before it are stored (and told)."""

    def __init__(self, doomed: uuid.UUID, order: list[uuid.UUID]) -> None:
        super().__init__()
        self.doomed, self.order = doomed, order

    def append(
        self,
        event_id: str,
        frames: Mapping[uuid.UUID, StreamedFrame],
        now: int,
        appended: Callable[[uuid.UUID, int], object] | None = None,
    ) -> dict[uuid.UUID, int]:
        for user in self.order:
            if user == self.doomed:
                raise RuntimeError("DynamoDB unavailable")
            super().append(event_id, {user: frames[user]}, now, appended)
        return {}


def test_a_recipients_frame_is_posted_once_their_own_append_is_stored(world: Any) -> None:
    service, connections, pusher, stream = world
    log: list[tuple[str, uuid.UUID]] = []
    original = stream.append

    def append(event_id: str, frames: Any, now: int, appended: Any = None) -> Any:
        def told(user: uuid.UUID, position: int) -> None:
            log.append(("stored", user))
            before = len(pusher.frames)
            appended(user, position)
            log.extend(("posted", connections.by_id[c].user_id) for c, _ in pusher.frames[before:])

        return original(event_id, frames, now, told)

    stream.append = append
    service.push_event(message(uuid.uuid4(), ANN, BOB, CAT), NOW)
    for user in (ANN, BOB):  # never posted before stored
        assert log.index(("stored", user)) < log.index(("posted", user))
    # ... and not held back for the others: the first post precedes the last append.
    first_post = next(i for i, (what, _) in enumerate(log) if what == "posted")
    last_store = max(i for i, (what, _) in enumerate(log) if what == "stored")
    assert first_post < last_store


def test_an_append_that_fails_leaves_the_served_connections_remembered(world: Any) -> None:
    service, _, pusher, _ = world
    deliveries = service.deliveries
    service.stream = StreamFailingFor(doomed=CAT, order=[ANN, CAT, BOB])
    event = message(uuid.uuid4(), ANN, BOB, CAT)
    with pytest.raises(RuntimeError):
        service.push_event(event, NOW)
    assert [cid for cid, _ in pusher.frames] == ["a1"]  # stored, so posted
    assert deliveries.served(str(event.id)) == {"a1"}  # the retry skips it
