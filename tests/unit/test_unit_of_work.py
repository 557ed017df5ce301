"""The unit of work: an event exists exactly when its change committed, and is published right
after; the chats use-cases on it (a retried send, an unmoved read marker: no new event)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import pytest

from messenger.chats.models import Chat, CreateChatRequest, Message, SendMessageRequest
from messenger.chats.service import ChatMembership, ChatsService
from messenger.friends.events import FriendshipAccepted, FriendshipRequested
from messenger.kernel.clock import utcnow
from messenger.kernel.context import RequestContext
from messenger.kernel.errors import Unauthenticated
from messenger.platform.events import OutboundEvent
from messenger.platform.unit_of_work import UnitOfWork
from tests.unit.fakes import FakeOutbox, FakeRateLimiter, in_memory

pytestmark = pytest.mark.unit

T = TypeVar("T")
ANN, BOB = uuid.uuid4(), uuid.uuid4()


def requested(by: uuid.UUID = ANN) -> FriendshipRequested:
    return FriendshipRequested(from_user_id=by, to_user_id=BOB, at=utcnow())


class Refused(Exception):
    """A change the store refuses (a unique index, a lost race)."""


def test_committed_events_are_in_the_outbox_and_published_after_the_block() -> None:
    outbox, broker = [], FakeOutbox()
    with UnitOfWork(broker, correlation_id="c-1") as uow:
        uow.record(requested())
        in_memory(uow, outbox, lambda _: None)
        assert broker.published == []  # not before the use-case is done
    (event,) = outbox
    assert broker.published == [event]
    assert (event.envelope.type, event.correlation_id) == ("friendship.requested", "c-1")
    assert event.key == ":".join(str(u) for u in sorted((ANN, BOB)))


def test_a_failed_transaction_drops_its_events() -> None:
    outbox, broker = [], FakeOutbox()

    def refuse(_: None) -> None:
        raise Refused

    def use_case() -> None:
        with UnitOfWork(broker) as uow:
            uow.record(requested())
            in_memory(uow, outbox, refuse)

    with pytest.raises(Refused):
        use_case()
    assert outbox == []
    assert broker.published == []


def test_a_change_that_did_not_happen_writes_no_event() -> None:
    outbox, broker = [], FakeOutbox()
    with UnitOfWork(broker) as uow:
        uow.record(requested())
        moved = uow.transaction(
            lambda attempt: attempt(None), lambda _, e: outbox.extend(e), lambda _: False, bool
        )
    assert moved is False
    assert outbox == []
    assert broker.published == []


def test_events_no_transaction_took_are_dropped() -> None:
    broker = FakeOutbox()
    with UnitOfWork(broker) as uow:
        uow.record(requested())  # e.g. the pair's chat already existed: nothing was written
    assert broker.published == []


def test_a_retried_attempt_records_its_events_once() -> None:
    outbox, broker, attempts = [], FakeOutbox(), []

    def run_twice(attempt: Callable[[None], T]) -> T:
        """Like pymongo's with_transaction after a TransientTransactionError."""
        try:
            attempt(None)
            raise Refused  # the first attempt's commit failed: rolled back
        except Refused:
            return attempt(None)

    def work(_: None) -> None:
        attempts.append(1)
        uow.record(FriendshipAccepted(from_user_id=BOB, to_user_id=ANN, at=utcnow()))

    with UnitOfWork(broker) as uow:
        uow.record(requested())  # before the transaction: kept across attempts
        uow.transaction(run_twice, lambda _, e: outbox.extend(e), work)
    assert len(attempts) == 2
    types = [e.envelope.type for e in broker.published]
    assert types == ["friendship.requested", "friendship.accepted"]


def test_a_second_transaction_commits_only_its_own_events() -> None:
    """OAuth's sign-up: a refused nickname's attempt, then the next variant."""
    outbox, broker = [], FakeOutbox()

    def refuse(_: None) -> None:
        raise Refused

    with UnitOfWork(broker) as uow:
        uow.record(requested(by=ANN))
        with pytest.raises(Refused):
            in_memory(uow, outbox, refuse)
        uow.record(requested(by=BOB))
        in_memory(uow, outbox, lambda _: None)
    (event,) = broker.published
    assert event.envelope.data["from_user_id"] == str(BOB)
    assert outbox == [event]


def test_committed_events_are_published_even_if_the_use_case_fails_later() -> None:
    outbox, broker = [], FakeOutbox()

    def use_case() -> None:
        with UnitOfWork(broker) as uow:
            uow.record(requested())
            in_memory(uow, outbox, lambda _: None)
            raise RuntimeError("after the commit")

    with pytest.raises(RuntimeError):
        use_case()
    assert broker.published == outbox != []


def test_the_broker_down_leaves_the_committed_events_to_the_relay() -> None:
    outbox, broker = [], FakeOutbox(broker_up=False)
    with UnitOfWork(broker) as uow:
        uow.record(requested())
        in_memory(uow, outbox, lambda _: None)
    assert broker.published == []
    assert len(outbox) == 1  # the relay publishes it


# ------------------------------------------------------------------------------------------------
# The chats use-cases on it
# ------------------------------------------------------------------------------------------------
@dataclass
class FakeChats:
    """The chats store's contract in memory: each write commits its unit's events with it."""

    chats: dict[uuid.UUID, Chat] = field(default_factory=dict)
    messages: dict[tuple[uuid.UUID, uuid.UUID, str], Message] = field(default_factory=dict)
    read_up_to: dict[tuple[uuid.UUID, uuid.UUID], uuid.UUID] = field(default_factory=dict)
    outbox: list[OutboundEvent] = field(default_factory=list)

    def create(self, chat: Chat, direct_key: str | None, uow: UnitOfWork) -> tuple[Chat, bool]:
        for existing in self.chats.values():
            if direct_key and set(existing.participants) == set(chat.participants):
                return existing, False
        in_memory(uow, self.outbox, lambda _: self.chats.update({chat.chat_id: chat}))
        return chat, True

    def membership(self, chat_id: uuid.UUID) -> ChatMembership | None:
        chat = self.chats.get(chat_id)
        return ChatMembership(chat_id, chat.type, tuple(chat.participants)) if chat else None

    def chats_of(self, user: uuid.UUID, limit: int, after: Any) -> list[tuple[Chat, datetime]]:
        raise NotImplementedError

    def send(
        self,
        message: Message,
        membership: ChatMembership,
        dedupe_key: str,
        uow: UnitOfWork,
        attachments: object = None,  # messages with files: tests/unit/test_media_service.py
        uncounted: object = (),
    ) -> tuple[Message, bool]:
        key = (message.chat_id, message.author_id, dedupe_key)

        def insert(_: None) -> None:
            if key in self.messages:
                raise Refused  # the unique index on (chat, author, dedupe key)
            self.messages[key] = message

        try:
            in_memory(uow, self.outbox, insert)
        except Refused:
            return self.messages[key], False
        return message, True

    def history(self, chat_id: uuid.UUID, limit: int, before: str | None) -> list[Message]:
        raise NotImplementedError

    def mark_read(
        self,
        chat_id: uuid.UUID,
        user: uuid.UUID,
        message_id: uuid.UUID,
        uow: UnitOfWork,
        hidden_authors: Collection[uuid.UUID] = (),
    ) -> bool:
        def move(_: None) -> bool:
            current = self.read_up_to.get((chat_id, user))
            if current is not None and current >= message_id:
                return False
            self.read_up_to[chat_id, user] = message_id
            return True

        return uow.transaction(
            lambda attempt: attempt(None), lambda _, e: self.outbox.extend(e), move, bool
        )


class Friends:
    def are_friends(self, a: uuid.UUID, b: uuid.UUID) -> bool:
        return True

    def non_friends_of(self, user: uuid.UUID, candidates: Sequence[uuid.UUID]) -> list[uuid.UUID]:
        return []


@pytest.fixture
def chats() -> ChatsService:
    return ChatsService(FakeChats(), Friends(), FakeOutbox(), FakeRateLimiter())


def ann(correlation_id: str = "c-ann") -> RequestContext:
    return RequestContext(ANN, correlation_id)


def published(service: ChatsService) -> list[str]:
    return [e.envelope.type for e in service.outbox.published]  # type: ignore[attr-defined]


def test_a_send_retried_with_its_client_message_id_publishes_nothing_new(
    chats: ChatsService,
) -> None:
    chat, _ = chats.create(ann(), CreateChatRequest(participants=[BOB]))
    request = SendMessageRequest(content="hello", client_message_id="c-1")
    first, created = chats.send(ann("c-first"), chat.chat_id, request)
    assert created
    again, created = chats.send(ann("c-retry"), chat.chat_id, request)
    assert (again, created) == (first, False)
    assert published(chats) == ["chat.created", "message.sent"]
    sent = chats.outbox.published[-1]  # type: ignore[attr-defined]
    assert sent.correlation_id == "c-first"
    assert sent.envelope.data["participants"] == [str(ANN), str(BOB)]
    assert chats.store.outbox == chats.outbox.published  # type: ignore[attr-defined]


def test_a_direct_chat_created_twice_publishes_once(chats: ChatsService) -> None:
    first, created = chats.create(ann(), CreateChatRequest(participants=[BOB]))
    again, created_again = chats.create(ann(), CreateChatRequest(participants=[BOB]))
    assert (created, created_again, again.chat_id) == (True, False, first.chat_id)
    assert published(chats) == ["chat.created"]


def test_a_read_marker_that_does_not_move_publishes_nothing(chats: ChatsService) -> None:
    chat, _ = chats.create(ann(), CreateChatRequest(participants=[BOB]))
    message, _ = chats.send(ann(), chat.chat_id, SendMessageRequest(content="hi"))
    bob = RequestContext(BOB, "c-bob")
    chats.mark_read(bob, chat.chat_id, message.message_id)
    chats.mark_read(bob, chat.chat_id, message.message_id)
    assert published(chats) == ["chat.created", "message.sent", "chat.read"]
    read = chats.outbox.published[-1]  # type: ignore[attr-defined]
    assert (read.correlation_id, read.envelope.data["user_id"]) == ("c-bob", str(BOB))


def test_a_use_case_refuses_a_request_without_a_caller(chats: ChatsService) -> None:
    with pytest.raises(Unauthenticated):
        chats.create(RequestContext(), CreateChatRequest(participants=[BOB]))
    assert published(chats) == []
