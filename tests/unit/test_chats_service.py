"""ChatsService over in-memory ports: who may create and send, idempotent retries, read markers,
history pages, and which events each change stores and publishes."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from messenger.chats.models import CreateChatRequest, SendMessageRequest
from messenger.chats.service import ChatsService
from messenger.kernel.clock import utcnow
from messenger.kernel.context import RequestContext
from messenger.kernel.errors import Forbidden, InvalidInput, NotFound, RateLimited
from messenger.platform.ratelimit import CREATE_CHAT
from tests.unit.fakes import FakeChats, FakeFriends, FakeOutbox, FakeRateLimiter


def ctx(user: uuid.UUID, correlation_id: str | None = None) -> RequestContext:
    return RequestContext(user_id=user, correlation_id=correlation_id)


pytestmark = pytest.mark.unit

ANN, BOB, CAT, DAN = (uuid.uuid4() for _ in range(4))


@pytest.fixture
def friends() -> FakeFriends:
    directory = FakeFriends()
    for a, b in ((ANN, BOB), (ANN, CAT), (BOB, CAT)):
        directory.befriend(a, b)
    return directory


@pytest.fixture
def service(friends: FakeFriends) -> ChatsService:
    return ChatsService(
        store=FakeChats(), friends=friends, outbox=FakeOutbox(), limiter=FakeRateLimiter()
    )


def store(service: ChatsService) -> FakeChats:
    assert isinstance(service.store, FakeChats)
    return service.store


def published(service: ChatsService) -> list[str]:
    assert isinstance(service.outbox, FakeOutbox)
    return [e.envelope.type for e in service.outbox.published]


def direct(service: ChatsService, a: uuid.UUID = ANN, b: uuid.UUID = BOB) -> uuid.UUID:
    chat, _ = service.create(ctx(a), CreateChatRequest(participants=[b]))
    return chat.chat_id


def say(service: ChatsService, chat_id: uuid.UUID, text: str, key: str | None = None) -> uuid.UUID:
    request = SendMessageRequest(content=text, client_message_id=key)
    message, _ = service.send(ctx(ANN), chat_id, request)
    return message.message_id


def test_a_direct_chat_is_created_once_per_pair(service: ChatsService) -> None:
    chat, created = service.create(ctx(ANN, "corr-1"), CreateChatRequest(participants=[BOB]))
    again, created_again = service.create(ctx(BOB), CreateChatRequest(participants=[ANN]))

    assert (chat.type, chat.participants, chat.created_by, created) == (
        "direct",
        [ANN, BOB],
        ANN,
        True,
    )
    assert chat.title is None
    assert (again.chat_id, created_again) == (chat.chat_id, False)
    assert [e.envelope.type for e in store(service).outbox] == ["chat.created"]
    assert store(service).outbox[0].correlation_id == "corr-1"
    assert published(service) == ["chat.created"]  # once: the existing chat publishes nothing


def test_a_group_chat_keeps_its_title(service: ChatsService) -> None:
    request = CreateChatRequest(participants=[BOB, CAT], title="  Trip  ")
    chat, created = service.create(ctx(ANN), request)
    assert (chat.type, chat.title, created) == ("group", "Trip", True)
    assert chat.participants == [ANN, BOB, CAT]
    assert chat.created_by == ANN
    # Two group chats with the same people are two chats.
    assert service.create(ctx(ANN), request)[0].chat_id != chat.chat_id


def test_a_chat_with_non_friends_is_refused_naming_them(service: ChatsService) -> None:
    with pytest.raises(Forbidden) as refused:
        service.create(ctx(ANN), CreateChatRequest(participants=[BOB, DAN]))
    assert refused.value.code == "not_friends"
    assert refused.value.extra["non_friends"] == [str(DAN)]
    assert store(service).chats == {}


def test_a_chat_with_only_oneself_is_invalid(service: ChatsService) -> None:
    with pytest.raises(InvalidInput):
        service.create(ctx(ANN), CreateChatRequest(participants=[ANN]))


def test_creating_is_rate_limited(friends: FakeFriends) -> None:
    limited = ChatsService(
        store=FakeChats(),
        friends=friends,
        outbox=FakeOutbox(),
        limiter=FakeRateLimiter(allowance={CREATE_CHAT: 1}),
    )
    direct(limited)
    with pytest.raises(RateLimited):
        direct(limited, ANN, CAT)


def test_send_stores_and_publishes_the_message_with_its_participants(
    service: ChatsService,
) -> None:
    chat_id = direct(service)
    request = SendMessageRequest(content="  hello  ", client_message_id="m-1")
    message, created = service.send(ctx(ANN, "corr-2"), chat_id, request)

    assert (message.content, message.author_id, message.chat_id, created) == (
        "hello",
        ANN,
        chat_id,
        True,
    )
    event = store(service).outbox[-1]
    assert (event.envelope.type, event.key, event.correlation_id) == (
        "message.sent",
        str(chat_id),
        "corr-2",
    )
    assert event.envelope.data["participants"] == [str(ANN), str(BOB)]
    assert published(service) == ["chat.created", "message.sent"]


def test_a_retried_send_returns_the_original_and_publishes_nothing(service: ChatsService) -> None:
    chat_id = direct(service)
    request = SendMessageRequest(content="once", client_message_id="retry-me")
    first, created = service.send(ctx(ANN), chat_id, request)
    retried, created_again = service.send(ctx(ANN), chat_id, request)

    assert (created, created_again) == (True, False)
    assert retried.message_id == first.message_id
    assert len(store(service).messages[chat_id]) == 1
    assert published(service).count("message.sent") == 1


def test_sends_without_a_client_id_are_distinct(service: ChatsService) -> None:
    chat_id = direct(service)
    assert say(service, chat_id, "a") != say(service, chat_id, "a")
    assert len(store(service).messages[chat_id]) == 2


def test_a_former_friend_can_no_longer_send_in_the_direct_chat(
    service: ChatsService, friends: FakeFriends
) -> None:
    chat_id = direct(service)
    friends.pairs.discard(frozenset((ANN, BOB)))
    with pytest.raises(Forbidden) as refused:
        service.send(ctx(ANN), chat_id, SendMessageRequest(content="still there?"))
    assert refused.value.code == "not_friends"
    assert chat_id not in store(service).messages


def test_a_group_does_not_ask_for_friendship_to_send(
    service: ChatsService, friends: FakeFriends
) -> None:
    chat, _ = service.create(ctx(ANN), CreateChatRequest(participants=[BOB, CAT]))
    friends.pairs.clear()
    message, created = service.send(ctx(BOB), chat.chat_id, SendMessageRequest(content="hi all"))
    assert created
    assert message.author_id == BOB


def test_non_participants_can_neither_read_nor_write(service: ChatsService) -> None:
    chat_id = direct(service)
    message_id = say(service, chat_id, "private")
    for attempt in (
        lambda: service.send(ctx(CAT), chat_id, SendMessageRequest(content="hey")),
        lambda: service.history(ctx(CAT), chat_id, 10, None),
        lambda: service.mark_read(ctx(CAT), chat_id, message_id),
    ):
        with pytest.raises(Forbidden) as refused:
            attempt()
        assert refused.value.code == "not_participant"


def test_an_unknown_chat_is_not_found(service: ChatsService) -> None:
    with pytest.raises(NotFound) as missing:
        service.history(ctx(ANN), uuid.uuid4(), 10, None)
    assert missing.value.code == "chat_not_found"


def test_marking_read_moves_forward_only_and_publishes_each_move(service: ChatsService) -> None:
    chat_id = direct(service)
    first, second = say(service, chat_id, "one"), say(service, chat_id, "two")

    service.mark_read(ctx(BOB, "corr-3"), chat_id, second)
    service.mark_read(ctx(BOB), chat_id, first)  # behind the marker: no change, no event

    reads = [e for e in store(service).outbox if e.envelope.type == "chat.read"]
    assert len(reads) == 1
    assert reads[0].envelope.data["message_id"] == str(second)
    assert reads[0].envelope.data["user_id"] == str(BOB)
    assert reads[0].correlation_id == "corr-3"
    assert published(service).count("chat.read") == 1


def test_marking_an_unknown_message_read_is_not_found(service: ChatsService) -> None:
    chat_id = direct(service)
    with pytest.raises(NotFound) as missing:
        service.mark_read(ctx(BOB), chat_id, uuid.uuid4())
    assert missing.value.code == "message_not_found"


def test_history_pages_newest_first_without_gaps_or_repeats(service: ChatsService) -> None:
    chat_id = direct(service)
    sent = [say(service, chat_id, f"m{i}") for i in range(7)]

    seen: list[uuid.UUID] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = service.history(ctx(BOB), chat_id, 3, cursor)
        seen += [m.message_id for m in page.items]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == list(reversed(sent))
    assert pages == 3  # 3 + 3 + 1


def test_my_chats_page_by_recent_activity(service: ChatsService) -> None:
    older, newer = direct(service, ANN, BOB), direct(service, ANN, CAT)
    an_hour_ago = utcnow() - timedelta(hours=1)  # created a minute apart, an hour ago
    store(service).activity.update({older: an_hour_ago, newer: an_hour_ago + timedelta(minutes=1)})
    say(service, older, "bump")  # the older chat now has the latest activity

    first = service.chats(ctx(ANN), 1, None)
    assert [c.chat_id for c in first.items] == [older]
    assert first.next_cursor is not None
    second = service.chats(ctx(ANN), 1, first.next_cursor)
    assert [c.chat_id for c in second.items] == [newer]
    assert second.next_cursor is None


def test_a_broker_outage_leaves_the_events_in_the_outbox(friends: FakeFriends) -> None:
    outbox = FakeOutbox(broker_up=False)
    service = ChatsService(
        store=FakeChats(), friends=friends, outbox=outbox, limiter=FakeRateLimiter()
    )
    chat_id = direct(service)
    say(service, chat_id, "queued")
    assert outbox.published == []
    assert [e.envelope.type for e in store(service).outbox] == ["chat.created", "message.sent"]
